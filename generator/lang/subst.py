"""$public_ipv4 and friends, replaced in string values after parsing.

The original replaced them in the raw text before YAML parsing, so an escape
inside a double-quoted string could break the document.  ccgen replaces them
in each parsed string value instead: positions stay right and the YAML is
never altered.  The rules are otherwise the original's: a backslash right
before the `$` keeps the variable literally (and is removed), there is no
word boundary, and an unknown value is the empty string.  Two adjacent
variables are both replaced (the original replaced only the first).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ccgen.base.cache import Metadata

# variable -> (Metadata attribute, /etc/environment fallback)
VARIABLES = {
    "public_ipv4": ("public_ipv4", "COREOS_PUBLIC_IPV4"),
    "private_ipv4": ("local_ipv4", "COREOS_PRIVATE_IPV4"),
    "public_ipv6": ("public_ipv6", "COREOS_PUBLIC_IPV6"),
    "private_ipv6": ("local_ipv6", "COREOS_PRIVATE_IPV6"),
}


def known_values(metadata: Metadata, environment: dict[str, str]) -> dict[str, str]:
    """Metadata's values are checked (cache.Metadata); /etc/environment's by the same rules."""
    from ccgen.base.metavalues import valid

    out = {}
    for var, (attr, env) in VARIABLES.items():
        value = getattr(metadata, attr) or environment.get(env, "")
        out[var] = value if valid(attr, value) else ""
    return out


def has_variable(text: str) -> bool:
    """Whether the text names one of the variables: its value is known only on the machine."""
    return "$" in text and any("$" + v in text for v in VARIABLES)


def all_known(text: str, values: dict[str, str]) -> bool:
    """Whether every variable the text names has a value."""
    return all(values.get(v) for v in VARIABLES if "$" + v in text)


def substitute(text: str, values: dict[str, str]) -> str:
    if "$" not in text:
        return text
    out: list[str] = []
    i = 0
    while True:
        j = text.find("$", i)
        if j < 0:
            out.append(text[i:])
            return "".join(out)
        name = next((v for v in VARIABLES if text.startswith(v, j + 1)), None)
        if name is None:
            out.append(text[i : j + 1])
        elif j - 1 >= i and text[j - 1] == "\\":
            # \$name keeps the variable literally; the backslash goes.
            out.append(text[i : j - 1] + "$" + name)
        else:
            out.append(text[i:j] + values.get(name, ""))
        i = j + 1 + (len(name) if name else 0)
