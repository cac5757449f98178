"""The hand-written scanners on the boot path agree with the regexes they replace."""

from __future__ import annotations

import re

import pytest
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


# hostnamectl's cleaning, the placeholders, /etc/hosts and /etc/machine-info (issue 23)

from ccgen.apply import etc  # noqa: E402
from ccgen.base import rules  # noqa: E402
from ccgen.lang import validate  # noqa: E402

STATIC = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")


@settings(max_examples=2000)
@given(st.text(max_size=300))
def test_static_hostname_is_always_valid_or_empty(text: str) -> None:
    static = rules.static_hostname(text)
    assert static == "" or (len(static) <= 64 and STATIC.match(static) and rules.is_hostname(static)), static
    assert rules.static_hostname(static) == static  # cleaning a clean name changes nothing
    _, pretty = rules.host_names(text)
    assert pretty == "" or pretty == text


def test_static_hostname_examples() -> None:
    assert rules.static_hostname("coreos_001") == "coreos001"
    assert rules.static_hostname("$hostname") == "hostname"
    assert rules.static_hostname("${hostname}") == "hostname"
    assert rules.static_hostname("<HOSTNAME>") == "hostname"
    assert rules.static_hostname("{{ node.name }}") == "node.name"
    assert rules.static_hostname("--a..b--.c-") == "a.b--c"  # no "." after "-", as systemd
    assert rules.static_hostname("..\0\n\r\t") == ""
    assert rules.static_hostname("ä" * 10 + "x" * 100) == "x" * 64
    assert rules.host_names("Web-1.Example.com.") == ("Web-1.Example.com", "")


@pytest.mark.parametrize(
    ("text", "placeholder"),
    [
        ("$hostname", True), ("${HOSTNAME}", True), ("<HOSTNAME>", True), ("{{ name }}", True),
        ("node-$private_ipv4", True), ("coreos_001", False), ("a<b", False), ("<>", False),
        ("$", False), ("$1", False), ("{{", False), ("${", False),
    ],
)  # fmt: skip
def test_template_placeholders(text: str, placeholder: bool) -> None:
    assert rules.template_placeholder(text) == placeholder


@pytest.mark.parametrize(
    "old",
    [None, "", "127.0.0.1 localhost", "127.0.0.1 localhost\r\n", "\0\0garbage\n", "127.0.1.1 other\n" * 1000],
)
def test_hosts_localhost_hostile(old: str | None) -> None:
    new = etc.hosts_with_localhost(old, "web1.example.com")
    assert new.endswith("127.0.1.1 web1.example.com web1\n")
    assert old is None or new.startswith(old)
    assert etc.hosts_with_localhost(new, "web1.example.com") == new  # once only


def test_machine_info_keeps_other_lines_and_quotes() -> None:
    old = 'CHASSIS=vm\nPRETTY_HOSTNAME="old"\n  PRETTY_HOSTNAME=older\nDEPLOYMENT=prod'
    new = etc.machine_info(old, 'a "b" $c `d` \\e')
    assert new == 'CHASSIS=vm\nDEPLOYMENT=prod\nPRETTY_HOSTNAME="a \\"b\\" \\$c \\`d\\` \\\\e"\n'
    assert etc.machine_info(new, "") == "CHASSIS=vm\nDEPLOYMENT=prod\n"


@pytest.mark.parametrize(
    ("name", "near"),
    [
        ("groupz", "groups"), ("homedri", "homedir"), ("shel", "shell"), ("gecos", "gecos"),
        ("x", None), ("", None), ("zzzzzzzzzzzzzzzz", None), ("a" * 10_000, None), ("nme", "name"),
    ],
)  # fmt: skip
def test_nearest_key(name: str, near: str | None) -> None:
    known = [k.name for k in schema.USER]
    assert validate.nearest(name, known) == near


@settings(max_examples=2000)
@given(st.text(alphabet="09-/Aa_.+@:\n", max_size=12))
def test_cloud_init_value_predicates(text: str) -> None:
    """timezone, locale and users[].expiredate: each predicate is its key's pattern."""
    users = schema.KEYS.child("users")
    assert users is not None
    for key in (schema.KEYS.child("timezone"), schema.KEYS.child("locale"), users.child("expiredate")):
        assert key is not None and key.check is not None and key.pattern is not None
        assert key.check(text) == bool(re.fullmatch(key.pattern, text)), (key.name, text)
