"""The platform's network data through the real commands: `ccgen fetch` keeps it in the
snapshot, `ccgen apply --root ROOT --boot` installs it as zz-ccgen-* under
/etc/systemd/network (replaced whole, removed when it goes away, a user's files never
touched), its stamp changes with it, and `ccgen status` and `ccgen --print` say where each
file came from."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from ccgen import compile
from ccgen.base import cache
from ccgen.base.diag import Diagnostics
from ccgen.providers import store
from ccgen.read import inputs

from . import helpers, platforms
from .fakemeta import FakeMeta
from .fetchrun import fetch
from .test_netconf_debian import RACKSPACE
from .test_netconf_openstack import NOVA
from .test_netconf_packet import BONDED

CCGEN = str(helpers.installed_script("ccgen"))
NETDIR = "etc/systemd/network"
MINE = "[Match]\nName=eth0\n\n[Network]\nDHCP=yes\n"


def drive(tmp: Path, *, network_data: object = None, interfaces: str | None = None) -> Path:
    top = tmp / "drive"
    latest = top / "openstack/latest"
    latest.mkdir(parents=True)
    (latest / "user_data").write_bytes(b"#cloud-config\nhostname: net-1\n")
    meta: dict[str, object] = {"uuid": "u-1"}
    if network_data is not None:
        (latest / "network_data.json").write_text(json.dumps(network_data))
    if interfaces is not None:
        (top / "openstack/content").mkdir()
        (top / "openstack/content/0000").write_text(interfaces)
        meta["network_config"] = {"content_path": "/content/0000", "name": "network_config"}
    (latest / "meta_data.json").write_text(json.dumps(meta))
    return top


def fetch_drive(tmp: Path, source: Path) -> subprocess.CompletedProcess[str]:
    root = tmp / "root"
    r = fetch("configdrive", tmp, "--source", str(source), "--cache-dir", str(root / "var/lib/ccgen"))
    return r.proc


def apply(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CCGEN, "apply", "--root", str(root), "--boot"], capture_output=True, text=True, timeout=120
    )


def ours(root: Path) -> dict[str, str]:
    d = root / NETDIR
    return (
        {p.name: p.read_text() for p in sorted(d.iterdir()) if p.name.startswith("zz-ccgen-")}
        if d.exists()
        else {}
    )


def stamp(root: Path) -> str:
    reader = inputs.Reader(str(root))
    found, meta = inputs.boot_inputs(reader, Diagnostics())
    return compile.apply_stamp(reader, found, meta)


def test_config_drive_network_data_is_cached_installed_and_replaced(tmp_path: Path) -> None:
    root = tmp_path / "root"
    proc = fetch_drive(tmp_path / "a", drive(tmp_path / "a", network_data=NOVA, interfaces=RACKSPACE))
    # fetch's own root is tmp/a/root: use that tree from here on.
    root = tmp_path / "a/root"
    assert proc.returncode == 0, proc.stderr
    assert "network from openstack/latest/network_data.json: 2 link(s)" in proc.stderr
    record = json.loads((tmp_path / "a/root/run/ccgen/fetch.json").read_text())
    assert record["network"]["units"] == ["zz-ccgen-fa163e000001.network", "zz-ccgen-fa163e000002.network"]
    kept = json.loads((root / "var/lib/ccgen/network").read_bytes())
    assert kept["format"] == "openstack" and kept["data"] == NOVA  # network_data.json preferred
    assert os.readlink(root / "var/lib/ccgen/network") == "current/network"

    (root / NETDIR).mkdir(parents=True)
    (root / NETDIR / "10-mine.network").write_text(MINE)
    (root / NETDIR / "zz-ccgen-stale.network").write_text("old")
    before = stamp(root)
    proc = apply(root)
    assert proc.returncode == 0, proc.stderr
    assert sorted(ours(root)) == ["zz-ccgen-fa163e000001.network", "zz-ccgen-fa163e000002.network"]
    assert (root / NETDIR / "10-mine.network").read_text() == MINE
    text = ours(root)["zz-ccgen-fa163e000001.network"]
    assert "Address=192.0.2.10/24\n" in text and "PermanentMACAddress=fa:16:3e:00:00:01\n" in text
    assert (root / NETDIR / "zz-ccgen-fa163e000001.network").stat().st_mode & 0o777 == 0o644
    assert (root / "var/lib/ccgen/applied" / f"stamp-{before}").exists()

    # status and --print name where each file came from.
    out = subprocess.run([CCGEN, "status", "--root", str(root)], capture_output=True, text=True).stdout
    assert (
        "  /etc/systemd/network/zz-ccgen-fa163e000001.network"
        " from openstack/latest/network_data.json $.links[0]\n" in out
    )
    shown = subprocess.run([CCGEN, "--print", "--root", str(root)], capture_output=True, text=True).stdout
    assert (
        "--- /etc/systemd/network/zz-ccgen-fa163e000002.network "
        "(from the platform: openstack/latest/network_data.json $.links[1]) ---\n" in shown
    )

    # The drive now has only the interfaces file: the stamp changes, the files are replaced whole.
    source = drive(tmp_path / "b", interfaces=RACKSPACE)
    r = fetch(
        "configdrive", tmp_path / "a", "--source", str(source), "--cache-dir", str(root / "var/lib/ccgen")
    )
    assert r.status == 0, r.stderr
    assert stamp(root) != before
    proc = apply(root)
    assert proc.returncode == 0, proc.stderr
    assert sorted(ours(root)) == ["zz-ccgen-eth0.network", "zz-ccgen-eth1.network"]
    assert (
        "# From the platform's network configuration: openstack/content/0000:7\n"
        in ours(root)["zz-ccgen-eth0.network"]
    )

    # No network data any more: ccgen's files go, the user's stays.
    source = drive(tmp_path / "c")
    assert (
        fetch(
            "configdrive", tmp_path / "a", "--source", str(source), "--cache-dir", str(root / "var/lib/ccgen")
        ).status
        == 0
    )
    assert apply(root).returncode == 0
    assert ours(root) == {} and (root / NETDIR / "10-mine.network").read_text() == MINE


def test_a_bad_interface_costs_only_itself_and_apply_says_where(tmp_path: Path) -> None:
    text = "iface eth0 inet static\n  address 10.0.0.5/24\niface eth1 inet static\n  address 10.0.0.300/24\n"
    proc = fetch_drive(tmp_path, drive(tmp_path, interfaces=text))
    root = tmp_path / "root"
    assert proc.returncode == 0, proc.stderr  # the user-data is stored all the same
    assert "network: openstack/content/0000:4: error: interface 'eth1': malformed static" in proc.stderr
    assert (root / "var/lib/ccgen/user-data").read_bytes().startswith(b"#cloud-config")
    proc = apply(root)
    assert proc.returncode == 1
    assert "platform network: openstack/content/0000:4: error:" in proc.stderr
    assert sorted(ours(root)) == ["zz-ccgen-eth0.network"]
    out = subprocess.run([CCGEN, "status", "--root", str(root)], capture_output=True, text=True).stdout
    assert "platform-network failed" in out and "network: openstack/content/0000:4: error:" in out


def test_unusable_network_files_are_notes_not_failed_fetches(tmp_path: Path) -> None:
    source = drive(tmp_path, interfaces="iface eth0 inet dhcp\n")
    (source / "openstack/latest/network_data.json").write_text("[" * 5000)
    meta = json.loads((source / "openstack/latest/meta_data.json").read_text())
    proc = fetch_drive(tmp_path, source)
    assert proc.returncode == 0 and "network_data.json: error: nested deeper than 32 levels" in proc.stderr
    assert json.loads((tmp_path / "root/var/lib/ccgen/network").read_bytes())["format"] == "debian"
    meta["network_config"]["content_path"] = "/../../../etc/shadow"
    (source / "openstack/latest/meta_data.json").write_text(json.dumps(meta))
    (source / "openstack/latest/network_data.json").unlink()
    proc = fetch_drive(tmp_path / "2", source)
    assert proc.returncode == 0 and "is outside openstack/; not used" in proc.stderr
    assert not (tmp_path / "2/root/var/lib/ccgen/network").exists()


def test_damaged_network_data_keeps_the_network_data_cached_before(tmp_path: Path) -> None:
    """A drive whose network file cannot be used (damaged, too large, missing where
    meta_data.json names it) keeps the last good network data: storing none would make
    ccgen apply remove the installed units, and with no DHCP the machine boots unreachable.
    A drive with no network data at all still removes it (the test above)."""
    root = tmp_path / "root"
    assert fetch_drive(tmp_path, drive(tmp_path / "good", network_data=NOVA)).returncode == 0
    kept = (root / "var/lib/ccgen/network").read_bytes()
    for damage in ("[" * 5000, "{not json", "x" * (2 * 1024 * 1024)):
        source = drive(tmp_path / f"bad-{len(damage)}", network_data={"links": []})
        (source / "openstack/latest/network_data.json").write_text(damage)
        proc = fetch_drive(tmp_path, source)
        assert proc.returncode == 0, proc.stderr
        assert "network_data.json: error:" in proc.stderr
        assert "the cached one is kept" in proc.stderr, proc.stderr
        assert (root / "var/lib/ccgen/network").read_bytes() == kept
    # meta_data.json names an interfaces file the drive does not have: the same rule.
    source = drive(tmp_path / "missing", interfaces="iface eth0 inet dhcp\n")
    (source / "openstack/content/0000").unlink()
    proc = fetch_drive(tmp_path, source)
    assert "names it, but it is missing" in proc.stderr and "the cached one is kept" in proc.stderr
    assert (root / "var/lib/ccgen/network").read_bytes() == kept
    proc = apply(root)
    assert proc.returncode == 0, proc.stderr
    assert sorted(ours(root)) == ["zz-ccgen-fa163e000001.network", "zz-ccgen-fa163e000002.network"]


def test_a_cache_from_another_machine_installs_nothing(tmp_path: Path) -> None:
    from ccgen.providers.netconf import stored

    root = helpers.make_root(tmp_path / "root", {"/sys/class/dmi/id/product_uuid": "this-machine\n"})
    meta = cache.Metadata(provider="configdrive", state=cache.ABSENT, machine_key="the-image-builder")
    snap = store.Snapshot(None, meta, (), None, stored.record("debian", "interfaces", RACKSPACE))
    with store.locked(str(root / "var/lib/ccgen")):
        store.store(str(root / "var/lib/ccgen"), snap)
    (root / NETDIR).mkdir(parents=True)
    (root / NETDIR / "zz-ccgen-eth0.network").write_text("the builder's")
    assert apply(root).returncode == 0
    assert ours(root) == {}


def test_packet_and_vmware_fetches_keep_their_network_data(tmp_path: Path) -> None:
    doc = {**platforms.packet_doc(), "network": BONDED}
    with FakeMeta(platforms.packet(doc=doc)) as server:
        r = fetch("packet", tmp_path / "p", "--endpoint", server.url)
    assert r.status == 0, r.stderr
    kept = json.loads((r.cache / "network").read_bytes())
    assert (kept["format"], kept["source"], kept["data"]) == ("packet", "/metadata", BONDED)
    assert "network from /metadata: 3 link(s)" in r.stderr

    tree = tmp_path / "ovf"
    tree.mkdir()
    props = {
        "interface.0.name": "ens192",
        "interface.0.ip.0.address": "10.0.0.5/24",
        "dns.server.0": "10.0.0.2",
    }
    xml = "".join(f'<Property oe:key="guestinfo.{k}" oe:value="{v}"/>' for k, v in props.items())
    (tree / "ovf-env.xml").write_text(
        '<Environment xmlns="http://schemas.dmtf.org/ovf/environment/1" '
        'xmlns:oe="http://schemas.dmtf.org/ovf/environment/1"><PropertySection>'
        f"{xml}</PropertySection></Environment>"
    )
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    r = fetch("vmware", tmp_path / "v", "--source", str(tree), env={"PATH": f"{empty}:/usr/bin:/bin"})
    assert r.status == 0, r.stderr
    kept = json.loads((r.cache / "network").read_bytes())
    assert (kept["format"], kept["source"], kept["data"]) == ("vmware", "ovf-env.xml", props)
