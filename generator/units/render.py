"""The model in, a Plan out: how the config becomes unit files, drop-ins and links.

docs/units.md is the human version of this module; keep them in step.  Each
item (a unit, a script, one of ccgen's own units) is rendered on its own: a
failure in one is reported at its position and costs only that item.
"""

from __future__ import annotations

from ccgen.base import names, unitfile, unittext
from ccgen.base.diag import Diagnostics, Span
from ccgen.bootpath.plan import File, Link, Plan
from ccgen.lang import model, schema
from ccgen.read.system import UNIT_PATHS, InstalledUnits

from . import internal, services
from .install import Enabler
from .ordering import Graph

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from ccgen.base.diag import Diagnostic
    from ccgen.providers.base import Provider


class Settings:
    """What rendering needs besides the config."""

    def __init__(
        self,
        installed: InstalledUnits,
        *,
        ccgen: str = names.CCGEN,
        instance: str = "",
        fetch: list[tuple[Provider, str | None]] | None = None,
        blocking_fetch: bool = True,
        inputs_digest: str | None = None,
        apply_conditions: list[str] | None = None,
        errors: dict[str, list[Diagnostic]] | None = None,
    ) -> None:
        self.installed = installed
        self.ccgen = ccgen
        self.instance = instance
        self.fetch = fetch or []  # (provider, endpoint override)
        self.blocking_fetch = blocking_fetch
        self.inputs_digest = inputs_digest  # None: no ccgen-inputs.service
        self.apply_conditions = apply_conditions or []
        self.errors = errors or {}  # input path -> its errors


def units_written_by(config: model.CloudConfig) -> frozenset[str]:
    """Units whose file or drop-in write_files puts into a unit directory at run time."""
    out = set()
    for f in config.write_files:
        for d in UNIT_PATHS:
            if f.path.value.startswith(d + "/"):
                first = f.path.value[len(d) + 1 :].split("/")[0]
                out.add(first[:-2] if first.endswith(".d") else first)
    return frozenset(out)


class _Renderer:
    def __init__(self, config: model.CloudConfig, settings: Settings, diags: Diagnostics) -> None:
        self.config = config
        self.s = settings
        self.diags = diags
        self.units = {u.name: u for u in config.units}
        self.plan = Plan()
        self.graph = Graph(self.units, settings.installed, units_written_by(config))
        self.conflicts: list[str] = []
        self.deferred: list[str] = []
        self.enabler = Enabler(self.unit_source, self.link_target, diags)

    def add(self, entry: File | Link, span: Span | None) -> None:
        problem = self.plan.add(entry)
        if problem is not None:
            code, why = problem
            self.diags.warning(span or Span("ccgen", 1, 1), code, why, "this one is skipped")

    def item(self, span: Span | None, what: str, render: Callable[..., None], *args: object) -> None:
        """Render one item; on any failure roll it back, report it, and go on with the rest."""
        self.plan.begin()
        try:
            render(*args)
        except Exception as e:  # one bad item must not cost the boot every other unit
            self.plan.rollback()
            self.diags.error(
                span or Span("ccgen", 1, 1),
                "internal",
                f"{what} could not be generated",
                f"{type(e).__name__}: {e}; skipped",
            )
        else:
            self.plan.commit()

    # Lookups

    def plan_has(self, prefix: str) -> bool:
        return any(e.path.startswith(prefix) for e in self.plan.entries())

    def generated(self, name: str) -> bool:
        unit = self.units.get(name)
        return unit is not None and unit.content is not None and not unit.masked

    def link_target(self, name: str, span: Span, rel: str) -> str:
        """Where a link to `name` points: our own file, else the installed one."""
        if self.generated(name):
            return rel + name
        template = unitfile.template_of(name)
        if template is not None and self.generated(template):
            return rel + template
        for candidate in (name, template):
            if candidate is not None:
                found = self.s.installed.find(candidate)
                if found is not None:
                    return found[0]
        if name not in self.graph.written:
            self.diags.info(
                span, "unit-unknown", f"{name} is neither in the config nor installed on this system"
            )
        return rel + name

    def unit_source(self, name: str) -> str | None:
        for candidate in (name, unitfile.template_of(name)):
            if candidate is None:
                continue
            unit = self.units.get(candidate)
            if unit is not None and unit.content is not None:
                return unit.content.value
            found = self.s.installed.find(candidate)
            if found is not None:
                return found[1]
        return None

    # One unit of the config

    def unit(self, unit: model.Unit) -> None:
        name = unit.name
        if unitfile.is_network(name):
            return  # networkd reads these from /run/systemd/network; ccgen apply puts them there
        if unit.masked:
            self.add(Link(name, "/dev/null"), unit.span)
            if unit.content is not None:
                self.diags.warning(
                    unit.content.span, "masked", f"{name} is masked, so its content is not used"
                )
        else:
            if unit.content is not None:
                self.shadow_check(unit)
                self.add(File(name, unittext.user_unit(unit.content.value, unit.content.span)), unit.span)
            where = name + ".d"
            if unit.drop_ins and self.s.installed.started_at_boot(name):
                why = self.graph.cycle(name)
                if why is not None:
                    # As in the original, they take effect after the boot transaction was built.
                    where = f"{names.RUNTIME_DROPINS}/{name}.d"
                    self.diags.warning(
                        unit.drop_ins[0].span,
                        "runtime-dropin",
                        f"the drop-ins of {name} take effect only once ccgen-apply has run",
                        f"the image starts {name} at boot, and with them the boot would be cyclic: {why}",
                    )
            for d in unit.drop_ins:
                self.add(File(f"{where}/{d.name}", unittext.user_dropin(d.content, d.span)), d.span)
            self.service_settings(unit)
            if self.graph.early(name) is None:
                # Files, users and keys must be in place before anything the config runs.
                order = unittext.UnitText(unit.span).add("Unit", "After", names.APPLY)
                self.add(File(f"{name}.d/{names.ORDER_DROPIN}", order.text()), unit.span)
        if unit.enabled and not unit.masked:
            self.enable(unit)
        if unit.command is not None:
            meaning = schema.COMMANDS[unit.command.value]
            if meaning == schema.START and not unit.masked:
                self.start(name, unit.command.span)
            elif meaning == schema.STOP:
                # Masked or not: a running unit (after a re-run) must still be stopped.
                self.conflicts.append(name)

    def service_settings(self, unit: model.Unit) -> None:
        for key in schema.SERVICE_SECTIONS:
            if key.unit != unit.name:
                continue
            settings = self.config.section(key.name)
            if settings is not None:
                text = services.dropin(unit.name, settings, settings.span)
                self.add(File(f"{unit.name}.d/{names.SERVICE_DROPIN}", text), settings.span)

    def start(self, name: str, span: Span) -> None:
        why = self.graph.defer_reason(name)
        if why is None:
            self.add(Link(f"{names.TARGET}.wants/{name}", self.link_target(name, span, "../")), span)
            return
        self.diags.info(
            span,
            "deferred",
            f"{name} starts after ccgen-apply, as a job of its own",
            f"as the original started it; {why}",
        )
        self.add(Link(f"{names.DEFERRED_TARGET}.wants/{name}", self.link_target(name, span, "../")), span)
        self.deferred.append(name)

    def enable(self, unit: model.Unit) -> None:
        span = unit.enable.span if unit.enable is not None else unit.span
        links = self.enabler.links(unit.name, span)
        why = self.graph.cycle(unit.name)
        if why is None:
            kept = []
            for link in links:
                # A target waits for what it wants (default dependencies): wanting a unit
                # that itself runs after the target is a cycle.
                owner = link.path.split("/")[0].rpartition(".")[0] if "/" in link.path else ""
                linked = link.path.rpartition("/")[2]
                if owner in self.graph.runs_after(linked):
                    why = f"{owner} would wait for {linked}, which starts after {owner}"
                    continue
                kept.append(link)
            if why is None:
                for link in kept:
                    self.add(link, span)
                return
        self.diags.warning(
            span,
            "boot-cycle",
            f"enabling {unit.name} would make every boot cyclic",
            f"{why}; it is not enabled, but started after ccgen-apply instead",
        )
        self.add(
            Link(f"{names.DEFERRED_TARGET}.wants/{unit.name}", self.link_target(unit.name, span, "../")), span
        )
        self.deferred.append(unit.name)

    def shadow_check(self, unit: model.Unit) -> None:
        found = self.s.installed.find(unit.name)
        if found is None:
            return
        path = found[0]
        if self.s.installed.is_admin(path):
            self.diags.warning(
                unit.span,
                "unit-shadowed",
                f"{path} takes precedence over generated units",
                "so this content has no effect",
            )
        else:
            self.diags.warning(
                unit.span, "unit-replaces", f"{unit.name} replaces the unit installed at {path}"
            )

    # ccgen's own units

    def script(self, s: model.Script, after: str | None) -> None:
        name, text = internal.script(s, self.s.ccgen, self.s.instance, after)
        self.add(File(name, text), s.span)
        self.add(Link(f"{names.TARGET}.wants/{name}", "../" + name), s.span)

    def own(self) -> None:
        """ccgen.target, ccgen-apply.service and, when needed, the deferred start."""
        self.add(File(names.TARGET, internal.target(self.conflicts)), None)
        self.add(Link(f"multi-user.target.wants/{names.TARGET}", f"../{names.TARGET}"), None)
        # Work to do at every boot (files in /run, held-back drop-ins) means no skipping.
        per_boot = self.config.per_boot or self.plan_has(names.RUNTIME_DROPINS + "/")
        conditions = [] if per_boot else self.s.apply_conditions
        self.add(File(names.APPLY, internal.apply(self.s.ccgen, conditions)), None)
        self.add(Link(f"multi-user.target.wants/{names.APPLY}", f"../{names.APPLY}"), None)
        if self.deferred:
            self.add(File(names.DEFERRED_TARGET, internal.deferred_target()), None)
            self.add(File(names.DEFERRED_START, internal.deferred_start()), None)
            self.add(
                Link(f"multi-user.target.wants/{names.DEFERRED_START}", f"../{names.DEFERRED_START}"), None
            )

    def machinery(self) -> None:
        """Fetch units, the late-input check and error units: written even without a config."""
        for provider, endpoint in self.s.fetch:
            self.item(None, names.fetch_unit(provider.name), self.fetch_unit, provider, endpoint)
        if self.s.inputs_digest is not None:
            self.item(None, names.INPUTS, self.inputs_unit, self.s.inputs_digest)
        for path, found in sorted(self.s.errors.items()):
            self.item(Span(path, 1, 1), f"the error unit of {path}", self.error_unit, path, found)

    def fetch_unit(self, provider: Provider, endpoint: str | None) -> None:
        name = names.fetch_unit(provider.name)
        # Several providers for one machine take turns, by their order, so that the first to
        # answer is always the same one; only within one kind: a network fetch runs after
        # ccgen-apply and a device fetch before it, so that order is already fixed.
        earlier = sorted(
            names.fetch_unit(q.name)
            for q, _ in self.s.fetch
            if q.network == provider.network and (q.order, q.name) < (provider.order, provider.name)
        )
        unit = internal.fetch(provider, self.s.ccgen, endpoint, self.s.blocking_fetch, earlier)
        self.add(File(name, unit), None)
        self.add(Link(f"multi-user.target.wants/{name}", f"../{name}"), None)

    def inputs_unit(self, digest: str) -> None:
        self.add(File(names.INPUTS, internal.inputs(self.s.ccgen, digest)), None)
        self.add(Link(f"multi-user.target.wants/{names.INPUTS}", f"../{names.INPUTS}"), None)

    def error_unit(self, path: str, found: list[Diagnostic]) -> None:
        name, text = internal.error_unit(path, found)
        self.add(File(name, text), None)
        self.add(Link(f"multi-user.target.wants/{name}", f"../{name}"), None)


def render(config: model.CloudConfig | None, settings: Settings, diags: Diagnostics) -> Plan:
    r = _Renderer(config or model.CloudConfig(()), settings, diags)
    if config is not None:
        for unit in config.units:
            r.item(unit.span, unit.name, r.unit, unit)
        after = None
        seen: set[str] = set()
        for s in config.scripts:
            name = internal.script_name(s)
            if name in seen:
                continue  # the same script in two inputs: it runs once
            seen.add(name)
            r.item(s.span, f"the script unit of {s.path}", r.script, s, after)
            after = name
        if config.cloudinit is not None or any(f.defer for f in config.write_files):
            # cloud-init's modules: imported only for a config that uses them.
            from . import cloudinit

            cloudinit.render(r, config)
    # Also when an input was there but none could be used (it has errors): ccgen-apply keeps
    # the plan and applies what the platform gave, and nothing a user sends may cost the boot
    # the units that can fetch and apply a good config next time.  With no input at all,
    # there is nothing to do and nothing is written.
    if config is not None or diags.has_errors():
        r.item(None, "ccgen's own units", r.own)
    r.machinery()
    return r.plan
