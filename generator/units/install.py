"""`enable: true`: the links a unit's [Install] section names, as `systemctl enable` makes them.

systemd ignores [Install] at run time, so a generator makes the links itself
(quadlet's enableServiceFile does the same).
"""

from __future__ import annotations

from ccgen.base import names, unitfile, unittext
from ccgen.base.diag import Diagnostics, Span
from ccgen.bootpath.plan import Link

INSTALL_DIRS = (("WantedBy", "wants"), ("RequiredBy", "requires"), ("UpheldBy", "upholds"))

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable


class Enabler:
    def __init__(
        self,
        source: Callable[[str], str | None],
        link_target: Callable[[str, Span, str], str],
        diags: Diagnostics,
    ) -> None:
        self.source = source  # a unit's text, from the config or the system
        self.link_target = link_target
        self.diags = diags

    def links(self, name: str, span: Span) -> list[Link]:
        out: list[Link] = []
        self._enable(name, span, set(), out)
        return out

    def _enable(self, name: str, span: Span, seen: set[str], out: list[Link]) -> None:
        if name in seen:
            return
        seen.add(name)
        text = self.source(name)
        if text is None:
            self.diags.warning(
                span, "enable", f"cannot enable {name}", "no unit file in the config or on the system"
            )
            return
        install = unittext.parse(text)

        def words(key: str) -> list[str]:
            return install.words("Install", key)

        if not any(words(k) for k in ("WantedBy", "RequiredBy", "UpheldBy", "Alias", "Also")):
            self.diags.warning(span, "enable", f"{name} has no [Install] section, so enable does nothing")
            return
        link_name = name
        if unitfile.is_template(name):
            default = (install.values("Install", "DefaultInstance") or [""])[-1]
            if not default:
                self.diags.warning(
                    span, "enable", f"template {name} has no DefaultInstance=, so it is not enabled"
                )
                return
            link_name = name.replace("@.", f"@{default}.", 1)
            problem = unitfile.name_problem(link_name)
            if problem is not None:
                self.diags.warning(
                    span, "install", f"DefaultInstance={default} of {name}: {problem}", "not enabled"
                )
                return
        for key, kind in INSTALL_DIRS:
            for word in words(key):
                owner = self.word(word, link_name, span)
                if owner is not None:
                    out.append(Link(f"{owner}.{kind}/{link_name}", self.link_target(name, span, "../")))
        for word in words("Alias"):
            alias = self.word(word, link_name, span)
            if alias is not None:
                out.append(Link(alias, self.link_target(name, span, "")))
        for word in words("Also"):
            also = self.word(word, link_name, span)
            if also is not None:
                self._enable(also, span, seen, out)

    def word(self, word: str, name: str, span: Span) -> str | None:
        value = unitfile.expand_specifiers(word, name)
        problem = unitfile.name_problem(value) if value is not None else "an unsupported % specifier"
        if problem is None and value is not None and names.is_reserved(value):
            problem = "ccgen's own units cannot be aliased or extended"
        if value is None or problem is not None:
            self.diags.warning(span, "install", f'[Install] of {name} names "{word}": {problem}', "skipped")
            return None
        return value
