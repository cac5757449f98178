"""Metadata values (issue 22, finding 5): one strict syntax per kind for every value that a
shell sources (/run/metadata/ccgen, /etc/environment) or `$public_ipv4` & co. put into a
unit or a script.  A value that fails is dropped with a warning, never written."""

from __future__ import annotations

import ipaddress
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccgen import compile
from ccgen.base import cache, metavalues
from ccgen.base.diag import Diagnostics
from ccgen.lang import subst
from ccgen.providers import values
from ccgen.read import inputs

from . import helpers, platforms
from .fakemeta import FakeMeta
from .fetchrun import fetch

HOSTILE_HOSTS = [
    "x;>FILE",
    "a b",
    "a$(id)",
    "a`id`",
    "a|b",
    "a&b",
    "a'b",
    'a"b',
    "a\\b",
    "-" * 64 + ".x",
    "é.x",
]
HOSTILE_V6 = [
    "2001:db8::1%;>FILE;",
    "2001:db8::1%eth0",
    "fe80::1%25eth0",
    "2001:db8::1;",
    "::1::2",
    "1:2:3:4:5:6:7:8:9",
]
HOSTILE_V4 = ["10.0.0.1;>FILE", "10.0.0.01", "10.0.0", "256.1.1.1", "10.0.0.1 x", "1e1.0.0.1", "\u0661.1.1.1"]


@pytest.mark.parametrize("value", HOSTILE_HOSTS)
def test_a_hostname_with_shell_syntax_is_dropped(value: str) -> None:
    values.take_dropped()
    assert values.hostname(value) == ""
    assert not metavalues.valid("hostname", value)
    assert cache.Metadata(hostname=value).hostname == ""
    assert any("dropped" in d for d in values.take_dropped())


@pytest.mark.parametrize("value", HOSTILE_V6)
def test_an_ipv6_address_with_a_zone_or_junk_is_dropped(value: str) -> None:
    assert values.ipv6(value) == "" and not values.is_ipv6(value)
    assert cache.Metadata(public_ipv6=value).public_ipv6 == ""


@pytest.mark.parametrize("value", HOSTILE_V4)
def test_a_bad_ipv4_address_is_dropped(value: str) -> None:
    assert values.ipv4(value) == "" and not values.is_ipv4(value)
    assert cache.Metadata(local_ipv4=value).local_ipv4 == ""


@pytest.mark.parametrize("value", ["gce-node.c.my-project.internal", "sample-droplet", "a_b", "x1"])
def test_real_hostnames_pass(value: str) -> None:
    assert values.hostname(value) == value and cache.Metadata(hostname=value).hostname == value


@settings(max_examples=400)
@given(st.ip_addresses())
def test_every_real_address_passes_and_matches_ipaddress(
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> None:
    for text in {str(ip), ip.exploded}:
        assert (values.is_ipv4 if ip.version == 4 else values.is_ipv6)(text), text
        assert (values.ipv4 if ip.version == 4 else values.ipv6)(text) == str(ip)


@settings(max_examples=400)
@given(st.text(alphabet=st.sampled_from("0123456789abcdef:.%;> "), max_size=45))
def test_the_ipv6_syntax_agrees_with_ipaddress_and_never_has_a_zone(text: str) -> None:
    try:
        ok = ipaddress.IPv6Address(text) is not None and "%" not in text
    except ValueError:
        ok = False
    assert values.is_ipv6(text) == ok, text


@settings(max_examples=300)
@given(st.text(max_size=40))
def test_no_accepted_value_means_anything_to_a_shell(text: str) -> None:
    for attr in ("hostname", "instance_id", "public_ipv4", "public_ipv6", "region"):
        if text and metavalues.valid(attr, text):
            assert not set(text) & set(" \t\n;&|<>$`'\"\\(){}*?[]#~=%!"), (attr, text)


def test_a_cache_with_bad_values_substitutes_nothing_bad() -> None:
    """A cache written before the rules: its values never reach a unit or a script."""
    meta = cache.Metadata.from_env({"PUBLIC_IPV6": "2001:db8::1%;>FILE;", "PUBLIC_IPV4": "1.2.3.4;x"})
    env = {"COREOS_PRIVATE_IPV4": "10.0.0.1$(reboot)", "COREOS_PRIVATE_IPV6": "fd00::1"}
    assert subst.known_values(meta, env) == {
        "public_ipv4": "",
        "private_ipv4": "",
        "public_ipv6": "",
        "private_ipv6": "fd00::1",
    }


def test_a_cache_with_bad_values_never_reaches_the_units(tmp_path: Path) -> None:
    root = helpers.make_root(
        tmp_path / "root",
        {
            cache.METADATA: "PROVIDER=digitalocean\nSTATE=present\nPUBLIC_IPV6='2001:db8::1%;>FILE;'\n"
            "HOSTNAME='x;>FILE'\n",
            "/var/lib/ccgen/user-data": "#cloud-config\ncoreos:\n  units:\n  - name: a.service\n"
            "    command: start\n    content: \"[Service]\\nExecStart=/bin/sh -c 'echo $public_ipv6'\\n\"\n",
        },
    )
    diags = Diagnostics()
    compiled = compile.compile_boot(inputs.Reader(str(root), {}), diags)
    text = next(e.text for e in compiled.plan.entries() if e.path == "a.service")  # type: ignore[union-attr]
    assert "FILE" not in text and "echo '" in text


def test_a_provider_value_that_fails_is_dropped_with_a_warning(tmp_path: Path) -> None:
    doc = platforms.digitalocean_doc()
    doc["hostname"] = "x;>FILE"
    doc["interfaces"]["public"][0]["ipv6"]["ip_address"] = "2001:db8::1%;>FILE;"  # type: ignore[index]
    with FakeMeta(platforms.digitalocean(doc=doc)) as server:
        r = fetch("digitalocean", tmp_path, "--endpoint", server.url)
    assert r.status == 0, r.stderr
    assert "dropped" in r.stderr and "x;>FILE" in r.stderr, r.stderr
    assert "FILE" not in (tmp_path / "root/var/lib/ccgen/metadata").read_text()
    attributes = r.attributes_file.read_text()
    assert "FILE" not in attributes and "CCGEN_IPV4_PUBLIC=104.131.20.105" in attributes
    # Sourced by a shell, the file runs nothing and creates nothing.
    proc = subprocess.run(["sh", "-c", f". {r.attributes_file}"], cwd=tmp_path, capture_output=True)
    assert proc.returncode == 0 and not (tmp_path / "FILE").exists()
