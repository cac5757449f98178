"""ccgen fetch for the providers that need no metadata service: NoCloud seed trees, VMware
guestinfo through a fake vmware-rpctool and OVF environments, CloudSigma over a pty."""

from __future__ import annotations

import base64
import gzip
import json
import os
import time
from pathlib import Path

import pytest

from .fakemeta import Behaviour, FakeMeta
from .fakeserial import serial_port
from .fetchrun import Run, fetch
from .platforms import KEY_A, KEY_B, USER_DATA

# NoCloud: a cidata tree


def seed(tmp: Path, meta_data: str | None, user_data: bytes | None = USER_DATA) -> Path:
    tree = tmp / "seed"
    tree.mkdir(parents=True, exist_ok=True)
    for name, data in (
        ("meta-data", meta_data.encode() if meta_data is not None else None),
        ("user-data", user_data),
    ):
        if data is None:
            (tree / name).unlink(missing_ok=True)
        else:
            (tree / name).write_bytes(data)
    return tree


def nocloud(tmp: Path, tree: Path, cmdline: str = "") -> Run:
    return fetch("nocloud", tmp, "--source", str(tree), cmdline=cmdline)


def test_nocloud_seed(tmp_path: Path) -> None:
    meta = f"instance-id: iid-local01\nlocal-hostname: nc-node1\npublic-keys:\n  - {KEY_A}\n  - {KEY_B}\n"
    r = nocloud(tmp_path, seed(tmp_path, meta))
    assert r.status == 0, r.stderr
    assert r.user_data() == USER_DATA
    assert r.meta() == {
        "PROVIDER": "nocloud",
        "STATE": "present",
        "INSTANCE_ID": "iid-local01",
        "HOSTNAME": "nc-node1",
    }
    assert r.keys() == [KEY_A, KEY_B]
    assert r.attributes() == {
        "CCGEN_PROVIDER": "nocloud",
        "CCGEN_INSTANCE_ID": "iid-local01",
        "CCGEN_HOSTNAME": "nc-node1",
    }


@pytest.mark.parametrize(
    "keys",
    [
        f'"{KEY_A}"',
        f"[{KEY_A!r}]",
        f"{{mine: {KEY_A!r}, other: [{KEY_B!r}]}}",
    ],
    ids=["string", "list", "mapping"],
)
def test_nocloud_public_keys_forms(tmp_path: Path, keys: str) -> None:
    r = nocloud(tmp_path, seed(tmp_path, f"instance-id: i\npublic-keys: {keys}\n"))
    assert r.status == 0, r.stderr
    assert r.keys() == ([KEY_A, KEY_B] if "other" in keys else [KEY_A])


def test_nocloud_without_user_data_and_with_empty_meta_data(tmp_path: Path) -> None:
    r = nocloud(tmp_path, seed(tmp_path, "", user_data=None))
    assert r.status == 0, r.stderr
    assert r.meta() == {"PROVIDER": "nocloud", "STATE": "absent"}


def test_nocloud_command_line_overrides_meta_data(tmp_path: Path) -> None:
    r = nocloud(
        tmp_path,
        seed(tmp_path, "instance-id: a\nlocal-hostname: b\n"),
        cmdline="ds=nocloud;i=iid-cmd;h=host-cmd",
    )
    assert r.status == 0, r.stderr
    assert r.meta()["INSTANCE_ID"] == "iid-cmd" and r.meta()["HOSTNAME"] == "host-cmd"


def test_nocloud_without_meta_data_is_not_a_seed(tmp_path: Path) -> None:
    r = nocloud(tmp_path, seed(tmp_path, None))
    assert r.status == 1 and "not a NoCloud seed" in r.stderr


@pytest.mark.parametrize(
    ("meta", "why"), [("instance-id: [unclosed\n", "not valid YAML"), ("- a\n- b\n", "not a YAML mapping")]
)
def test_nocloud_bad_meta_data_keeps_the_cache(tmp_path: Path, meta: str, why: str) -> None:
    assert nocloud(tmp_path, seed(tmp_path, "instance-id: good\n")).status == 0
    r = nocloud(tmp_path, seed(tmp_path, meta, b"#cloud-config\nnew: 1\n"))
    assert r.status == 1 and why in r.stderr, r.stderr
    assert r.meta()["INSTANCE_ID"] == "good" and r.user_data() == USER_DATA


def test_nocloud_without_a_disk_keeps_the_cache(tmp_path: Path) -> None:
    assert nocloud(tmp_path, seed(tmp_path, "instance-id: good\n")).status == 0
    (tmp_path / "root/run/metadata/ccgen").unlink()
    r = fetch("nocloud", tmp_path, "--device-timeout", "0.1")
    assert r.status == 0 and "no device labelled cidata or CIDATA" in r.stderr, r.stderr
    assert r.attributes()["CCGEN_INSTANCE_ID"] == "good"
    # ccgen status sees what this boot's fetch did, though no mounted run recorded it.
    record = json.loads((tmp_path / "root/run/ccgen/fetch.json").read_text())
    assert (record["provider"], record["result"]) == ("nocloud", "unavailable"), record
    assert record["detail"] == "no device labelled cidata or CIDATA"


def test_nocloud_is_chosen_by_the_command_line(tmp_path: Path) -> None:
    from ccgen.providers import registry
    from ccgen.read.inputs import Reader

    def chosen(cmdline: str, oem: str = "") -> list[tuple[str, bool]]:
        kernel = {k: v for k, _, v in (w.partition("=") for w in cmdline.split())}
        reader = Reader(str(tmp_path), {"SYSTEMD_VIRTUALIZATION": "vm:kvm"})
        return [(p.name, p.network) for p in registry.choose(reader, kernel, oem)]

    assert chosen("ds=nocloud") == [("nocloud", False)]
    assert chosen("ds=nocloud;s=http://10.0.2.2/seed/") == [("nocloud", True)]
    assert chosen("ds=nocloud-net;s=https://example.test/") == [("nocloud", True)]
    assert chosen("ds=nocloudx") == []
    assert chosen("", "qemu") == [("nocloud", False)]
    assert chosen("cloud-config-url=http://x/", "qemu") == [("nocloud", False), ("url", True)]
    assert chosen("", "proxmoxve") == [("configdrive", False), ("nocloud", False)]
    assert chosen("", "ec2-compat") == [("configdrive", False), ("ec2", True)]


# VMware: a fake vmware-rpctool


RPCTOOL = """#!/bin/sh
echo "$1" >> "{log}"
key="${{1#info-get guestinfo.}}"
[ -f "{values}/fail" ] && {{ echo "Permission denied" >&2; exit 2; }}
if [ -f "{values}/$key" ]; then cat "{values}/$key"; echo; exit 0; fi
echo "No value found" >&2
exit 1
"""


def guestinfo(tmp: Path, values: dict[str, str]) -> dict[str, str]:
    """PATH with a vmware-rpctool that answers `values`; every call is logged."""
    bindir, store = tmp / "bin", tmp / "guestinfo"
    bindir.mkdir(exist_ok=True)
    store.mkdir(exist_ok=True)
    for key, value in values.items():
        (store / key).write_text(value)
    tool = bindir / "vmware-rpctool"
    tool.write_text(RPCTOOL.format(log=tmp / "rpctool.log", values=store))
    tool.chmod(0o755)
    return {"PATH": f"{bindir}:{os.environ['PATH']}"}


DMI: dict[str, bytes | str] = {"/sys/class/dmi/id/product_uuid": "4221B4D5-0E2D-4E3E-8C5F-123456789ABC\n"}


@pytest.mark.parametrize(
    ("encoding", "data"),
    [
        ("", "test config"),
        ("base64", "dGVzdCBjb25maWc="),
        ("gzip+base64", "H4sIABaoWlUAAytJLS5RSM7PS8tMBwCQiHNZCwAAAA=="),
        ("gz+b64", "H4sIABaoWlUAAytJLS5RSM7PS8tMBwCQiHNZCwAAAA=="),
    ],
)
def test_vmware_guestinfo_encodings(tmp_path: Path, encoding: str, data: str) -> None:
    values = {"coreos.config.data": data, "hostname": "vm-node1"}
    if encoding:
        values["coreos.config.data.encoding"] = encoding
    r = fetch("vmware", tmp_path, env=guestinfo(tmp_path, values), files=DMI)
    assert r.status == 0, r.stderr
    assert r.user_data() == b"test config"
    assert r.meta()["HOSTNAME"] == "vm-node1"
    assert r.meta()["INSTANCE_ID"] == "4221b4d5-0e2d-4e3e-8c5f-123456789abc"
    assert "info-get guestinfo.coreos.config.data" in (tmp_path / "rpctool.log").read_text()


def test_vmware_unsupported_encoding(tmp_path: Path) -> None:
    values = {"coreos.config.data": "x", "coreos.config.data.encoding": "rot13"}
    r = fetch("vmware", tmp_path, env=guestinfo(tmp_path, values))
    assert r.status == 1 and "unsupported encoding 'rot13'" in r.stderr


def test_vmware_interfaces(tmp_path: Path) -> None:
    values = {
        "interface.0.name": "ens192",
        "interface.0.role": "private",
        "interface.0.ip.0.address": "10.0.0.100/24",
        "interface.1.role": "public",
        "interface.1.ip.0.address": "203.0.113.7/24",
        "interface.1.ip.1.address": "2001:db8::7/64",
        "interface.1.ip.2.address": "nonsense",
        "interface.2.role": "dmz",
        "interface.2.ip.0.address": "192.0.2.9/24",
        "interface.4.role": "public",  # after a gap: not read
        "interface.4.ip.0.address": "198.51.100.1/24",
    }
    r = fetch("vmware", tmp_path, env=guestinfo(tmp_path, values))
    assert r.status == 0, r.stderr
    assert r.meta() == {
        "PROVIDER": "vmware",
        "STATE": "absent",
        "LOCAL_IPV4": "10.0.0.100",
        "PUBLIC_IPV4": "203.0.113.7",
        "PUBLIC_IPV6": "2001:db8::7",
    }
    assert "unknown role 'dmz'" in r.stderr and "'nonsense' is not an address" in r.stderr


def test_vmware_config_url(tmp_path: Path) -> None:
    with FakeMeta(Behaviour(routes={"/vm.yml": USER_DATA})) as server:
        r = fetch("vmware", tmp_path, env=guestinfo(tmp_path, {"coreos.config.url": server.url + "/vm.yml"}))
    assert r.status == 0, r.stderr
    assert r.user_data() == USER_DATA
    with FakeMeta(Behaviour()) as server:
        r = fetch("vmware", tmp_path, env=guestinfo(tmp_path, {"coreos.config.url": server.url + "/vm.yml"}))
    assert r.status == 1 and "HTTP 404" in r.stderr
    assert r.user_data() == USER_DATA


def test_vmware_blank_values_are_missing(tmp_path: Path) -> None:
    r = fetch("vmware", tmp_path, env=guestinfo(tmp_path, {"coreos.config.data": " ", "hostname": "---"}))
    assert r.status == 0, r.stderr
    assert r.meta() == {"PROVIDER": "vmware", "STATE": "absent"}


def test_vmware_tool_failure_is_an_error(tmp_path: Path) -> None:
    r = fetch("vmware", tmp_path, env=guestinfo(tmp_path, {"fail": ""}))
    assert r.status == 1 and "Permission denied" in r.stderr


def test_vmware_without_tool_or_ovf(tmp_path: Path) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    r = fetch("vmware", tmp_path, env={"PATH": str(empty)})
    assert r.status == 0 and "no OVF environment and no vmware-rpctool" in r.stderr


OVF = """<?xml version="1.0" encoding="UTF-8"?>
<Environment xmlns="http://schemas.dmtf.org/ovf/environment/1"
     xmlns:oe="http://schemas.dmtf.org/ovf/environment/1" xmlns:ve="http://www.vmware.com/schema/ovfenv"
     oe:id="" ve:vCenterId="vm-101">
  <PlatformSection><Kind>VMware ESXi</Kind></PlatformSection>
  <PropertySection>
    <Property oe:key="guestinfo.hostname" oe:value="ovf-node"/>
    <Property oe:key="guestinfo.coreos.config.data.encoding" oe:value="base64"/>
    <Property oe:key="guestinfo.coreos.config.data" oe:value="{data}"/>
    <Property oe:key="guestinfo.interface.0.role" oe:value="private"/>
    <Property oe:key="guestinfo.interface.0.ip.0.address" oe:value="10.0.0.100/24"/>
  </PropertySection>
</Environment>
"""


def test_vmware_ovf_disk_comes_first(tmp_path: Path) -> None:
    tree = tmp_path / "ovf"
    tree.mkdir()
    (tree / "ovf-env.xml").write_text(OVF.format(data=base64.b64encode(USER_DATA).decode()))
    env = guestinfo(tmp_path, {"hostname": "from-guestinfo"})
    r = fetch("vmware", tmp_path, "--source", str(tree), env=env)
    assert r.status == 0, r.stderr
    assert r.user_data() == USER_DATA
    assert r.meta()["HOSTNAME"] == "ovf-node" and r.meta()["LOCAL_IPV4"] == "10.0.0.100"
    assert not (tmp_path / "rpctool.log").exists(), (
        "guestinfo is not read when the disk has the OVF environment"
    )


def test_vmware_ovf_environment_in_guestinfo(tmp_path: Path) -> None:
    xml = OVF.format(data=base64.b64encode(USER_DATA).decode()).replace("\n", " ")
    r = fetch("vmware", tmp_path, env=guestinfo(tmp_path, {"ovfEnv": xml}))
    assert r.status == 0, r.stderr
    assert r.user_data() == USER_DATA and r.meta()["HOSTNAME"] == "ovf-node"


def test_vmware_bad_ovf_environment(tmp_path: Path) -> None:
    tree = tmp_path / "ovf"
    tree.mkdir()
    (tree / "ovf-env.xml").write_text("<Environment")
    r = fetch("vmware", tmp_path, "--source", str(tree), env=guestinfo(tmp_path, {}))
    assert r.status == 1 and "not valid XML" in r.stderr


# CloudSigma: the server context over a pty

CONTEXT = {
    "uuid": "e83c79b3-ef07-4b8e-968e-dff5c386a053",
    "name": "cs-node1",
    "cpu": 1000,
    "nics": [
        {
            "mac": "22:51:c1:18:7b:4a",
            "vlan": None,
            "ip_v4_conf": {"conf": "dhcp", "ip": {"uuid": "162.213.38.123"}},
        },
        {"mac": "22:51:c1:18:7b:4b", "vlan": {"uuid": "v1"}, "ip_v4_conf": None},
    ],
    "meta": {
        "ssh_public_key": KEY_A,
        "base64_fields": "cloudinit-user-data",
        "cloudinit-user-data": base64.b64encode(USER_DATA).decode(),
    },
}


def answer(doc: object) -> bytes:
    return json.dumps(doc).encode() + b"\n\x04"


def cloudsigma(tmp: Path, path: str, *extra: str) -> Run:
    return fetch("cloudsigma", tmp, "--source", path, *extra)


def test_cloudsigma_server_context(tmp_path: Path) -> None:
    with serial_port(answer(CONTEXT)) as port:
        r = cloudsigma(tmp_path, port.path)
    assert r.status == 0, r.stderr
    assert port.requests == [b"<\n\n>"]
    assert r.user_data() == USER_DATA
    assert r.meta() == {
        "PROVIDER": "cloudsigma",
        "STATE": "present",
        "INSTANCE_ID": "e83c79b3-ef07-4b8e-968e-dff5c386a053",
        "HOSTNAME": "cs-node1",
        "PUBLIC_IPV4": "162.213.38.123",
    }
    assert r.keys() == [KEY_A]


def test_cloudsigma_plain_user_data_and_no_name(tmp_path: Path) -> None:
    doc = json.loads(json.dumps(CONTEXT))
    doc["meta"] = {"cloudinit-user-data": USER_DATA.decode(), "ssh_public_key": ""}
    doc["name"] = ""
    with serial_port(answer(doc)) as port:
        r = cloudsigma(tmp_path, port.path)
    assert r.status == 0, r.stderr
    assert r.user_data() == USER_DATA and r.keys() == []
    assert r.meta()["HOSTNAME"] == CONTEXT["uuid"]


def test_cloudsigma_without_user_data(tmp_path: Path) -> None:
    doc = {"uuid": "u-1", "name": "n", "meta": {}}
    with serial_port(answer(doc)) as port:
        r = cloudsigma(tmp_path, port.path)
    assert r.status == 0, r.stderr
    assert r.meta()["STATE"] == "absent"


def test_cloudsigma_silent_port_is_not_cloudsigma(tmp_path: Path) -> None:
    start = time.monotonic()
    with serial_port(None) as port:
        r = cloudsigma(tmp_path, port.path, "--deadline", "2")
    assert r.status == 0 and "no answer" in r.stderr, r.stderr
    assert time.monotonic() - start < 15
    assert not (tmp_path / "root/var/lib/ccgen").exists()


def test_cloudsigma_truncated_answer(tmp_path: Path) -> None:
    whole = answer(CONTEXT)
    with serial_port(whole[: len(whole) // 2]) as port:
        r = cloudsigma(tmp_path, port.path, "--deadline", "2")
    assert r.status == 1 and "cut short" in r.stderr, r.stderr
    with serial_port(whole[: len(whole) // 2] + b"\n\x04") as port:
        r = cloudsigma(tmp_path, port.path, "--deadline", "2")
    assert r.status == 1 and "not valid JSON" in r.stderr, r.stderr
    assert not (tmp_path / "root/var/lib/ccgen").exists()


def test_cloudsigma_bad_base64_keeps_the_cache(tmp_path: Path) -> None:
    with serial_port(answer(CONTEXT)) as port:
        assert cloudsigma(tmp_path, port.path).status == 0
    doc = json.loads(json.dumps(CONTEXT))
    doc["meta"]["cloudinit-user-data"] = "not base64!"
    with serial_port(answer(doc)) as port:
        r = cloudsigma(tmp_path, port.path)
    assert r.status == 1 and "not valid base64" in r.stderr
    assert r.user_data() == USER_DATA


def test_cloudsigma_without_the_port(tmp_path: Path) -> None:
    r = cloudsigma(tmp_path, str(tmp_path / "ttyS1"))
    assert r.status == 0 and "does not exist" in r.stderr


def test_gzip_user_data_is_stored_as_given(tmp_path: Path) -> None:
    packed = gzip.compress(USER_DATA)
    r = nocloud(tmp_path, seed(tmp_path, "instance-id: z\n", packed))
    assert r.status == 0 and r.user_data() == packed  # the generator unpacks it, for every provider


def test_vmware_honours_the_deadline_across_its_calls(tmp_path: Path) -> None:
    """Issue 22, finding 9: every vmware-rpctool call 3 s slow, --deadline 5: the fetch ends
    near 5 s, not after 25 calls of 10 s each."""
    env = guestinfo(tmp_path, {"hostname": "h1", "coreos.config.data": "#cloud-config\n"})
    tool = tmp_path / "bin" / "vmware-rpctool"
    tool.write_text(tool.read_text().replace('echo "$1" >>', 'sleep 3; echo "$1" >>'))
    start = time.monotonic()
    r = fetch("vmware", tmp_path, "--deadline", "5", env=env)
    took = time.monotonic() - start
    assert r.status == 1 and "deadline" in r.stderr, r.stderr
    assert took < 12, f"{took:.1f} s"
    calls = (tmp_path / "rpctool.log").read_text().splitlines() if (tmp_path / "rpctool.log").exists() else []
    assert len(calls) <= 2, calls
    assert not (tmp_path / "cache").exists()


# Issue 22, finding 11: a seed's or a drive's symlinks never lead the reader out of its tree.


@pytest.mark.parametrize("name", ["user-data", "meta-data"])
def test_nocloud_does_not_follow_a_symlink_out_of_the_seed(tmp_path: Path, name: str) -> None:
    tree = seed(tmp_path, "instance-id: iid-1\n")
    outside = tmp_path / "outside-secret"
    outside.write_text("#cloud-config\nhostname: OUTSIDE\n")
    (tree / name).unlink()
    (tree / name).symlink_to(outside)
    r = nocloud(tmp_path, tree)
    assert r.status == 1 and "a symlink out of" in r.stderr, r.stderr
    cached = b"".join(p.read_bytes() for p in (tmp_path / "cache").rglob("*") if p.is_file())
    assert b"OUTSIDE" not in cached


def test_nocloud_follows_a_symlink_inside_the_seed(tmp_path: Path) -> None:
    tree = seed(tmp_path, "instance-id: iid-1\n", None)
    (tree / "real-user-data").write_bytes(USER_DATA)
    (tree / "user-data").symlink_to("real-user-data")
    r = nocloud(tmp_path, tree)
    assert r.status == 0, r.stderr
    assert r.user_data() == USER_DATA


@pytest.mark.parametrize("how", ["file", "directory"])
def test_configdrive_does_not_follow_a_symlink_out_of_the_drive(tmp_path: Path, how: str) -> None:
    drive = tmp_path / "drive"
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "user_data").write_text("#cloud-config\nhostname: OUTSIDE\n")
    (outside / "meta_data.json").write_text('{"uuid": "u-1"}')
    (drive / "openstack").mkdir(parents=True)
    if how == "directory":
        (drive / "openstack" / "latest").symlink_to(outside)
    else:
        (drive / "openstack" / "latest").mkdir()
        (drive / "openstack" / "latest" / "meta_data.json").write_text('{"uuid": "u-1"}')
        (drive / "openstack" / "latest" / "user_data").symlink_to(outside / "user_data")
    r = fetch("configdrive", tmp_path, "--source", str(drive))
    assert r.status == 1 and "a symlink out of" in r.stderr, r.stderr
    assert not (tmp_path / "cache").exists() or b"OUTSIDE" not in b"".join(
        p.read_bytes() for p in (tmp_path / "cache").rglob("*") if p.is_file()
    )


def test_configdrive_latest_may_link_to_a_version_inside_the_drive(tmp_path: Path) -> None:
    drive = tmp_path / "drive"
    version = drive / "openstack" / "2018-08-27"
    version.mkdir(parents=True)
    (version / "user_data").write_bytes(USER_DATA)
    (version / "meta_data.json").write_text('{"uuid": "u-1"}')
    (drive / "openstack" / "latest").symlink_to("2018-08-27")
    r = fetch("configdrive", tmp_path, "--source", str(drive))
    assert r.status == 0, r.stderr
    assert r.user_data() == USER_DATA
