"""The hand-written scanners on the boot path agree with the regexes they replace."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from ccgen.lang import schema, subst
from ccgen.read import yaml11

INT = re.compile(r"[-+]?(?:0b[01_]+|0x[0-9a-fA-F_]+|0[0-7_]+|0|[1-9][0-9_]*)\Z")
FLOAT = re.compile(
    r"[-+]?(?:(?:[0-9][0-9_]*)?\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[0-9][0-9_]*[eE][-+]?[0-9]+|\.(?:inf|Inf|INF))\Z"
    r"|\.(?:nan|NaN|NAN)\Z"
)
SUBST = re.compile(r"(\\?)\$(" + "|".join(subst.VARIABLES) + ")")
numberish = st.text(alphabet="0123456789._eE+-bxaF", max_size=8)


@settings(max_examples=3000)
@given(numberish)
def test_int_and_float(text: str) -> None:
    bare = text.lstrip("+-")
    # Deliberate: 0b and 0x with no digit have no value (int("", 2) raises).
    expect_int = bool(INT.match(text)) and not (bare[:2] in ("0b", "0x") and not bare[2:].replace("_", ""))
    assert yaml11.is_int(text) == expect_int
    mantissa = re.split("[eE]", bare)[0]
    named = bare in (".inf", ".Inf", ".INF") or text in (".nan", ".NaN", ".NAN")
    # Deliberate: the mantissa needs a digit (".e5" has no value).
    assert yaml11.is_float(text) == (
        bool(FLOAT.match(text)) and (named or any(c.isdigit() for c in mantissa))
    )
    if yaml11.is_int(text):
        yaml11.to_int(text)
    elif yaml11.is_float(text):
        yaml11.to_float(text)


@settings(max_examples=3000)
@given(st.text(alphabet="ab$\\_ipv46 publicrvate", max_size=30))
def test_substitution(text: str) -> None:
    values = {"public_ipv4": "P4", "private_ipv4": "", "public_ipv6": "P6", "private_ipv6": "Q6"}

    def repl(m: re.Match[str]) -> str:
        return "$" + m.group(2) if m.group(1) else values[m.group(2)]

    assert subst.substitute(text, values) == SUBST.sub(repl, text)


@settings(max_examples=2000)
@given(st.text(alphabet="0123456789x+-", max_size=6))
def test_mode_predicate(text: str) -> None:
    key = (schema.KEYS.child("write_files") or schema.KEYS).child("permissions")
    assert key is not None and key.check is not None and key.pattern is not None
    assert key.check(text) == bool(re.match(key.pattern, text))


def test_choice_predicates_match_their_patterns() -> None:
    for path, key in schema.walk():
        if key.check is None or key.pattern is None:
            continue
        for probe in ("start", "stop", "b64", "gz+b64", "off", "on", "readonly", "etcd-lock", "x", ""):
            assert key.check(probe) == bool(re.match(key.pattern, probe)), (path, probe)


@settings(max_examples=4000)
@given(st.text(alphabet="0123456789: MonTUEsatwedx", max_size=10))
def test_window_start_predicate(text: str) -> None:
    key = (schema.KEYS.child("coreos") or schema.KEYS).child("locksmith")
    rule = key.child("window_start") if key else None
    assert rule is not None and rule.check is not None and rule.pattern is not None
    assert rule.check(text) == bool(re.match(rule.pattern, text))


@settings(max_examples=4000)
@given(st.text(alphabet="0123456789.hms+-Hx", max_size=10))
def test_window_length_predicate(text: str) -> None:
    key = (schema.KEYS.child("coreos") or schema.KEYS).child("locksmith")
    rule = key.child("window_length") if key else None
    assert rule is not None and rule.check is not None and rule.pattern is not None
    assert rule.check(text) == bool(re.match(rule.pattern, text))


@settings(max_examples=2000)
@given(st.text(alphabet="09-/Aa_.+@:\n", max_size=12))
def test_cloud_init_value_predicates(text: str) -> None:
    """timezone, locale and users[].expiredate: each predicate is its key's pattern."""
    users = schema.KEYS.child("users")
    assert users is not None
    for key in (schema.KEYS.child("timezone"), schema.KEYS.child("locale"), users.child("expiredate")):
        assert key is not None and key.check is not None and key.pattern is not None
        assert key.check(text) == bool(re.fullmatch(key.pattern, text)), (key.name, text)
