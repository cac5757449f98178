"""The platform's network configuration at boot: a config drive whose `interfaces` file (and,
on a second machine, whose network_data.json) gives the guest's NIC its address in qemu's
user network.  The image has no network configuration of its own: the address, the route and
the guest's request to the tests' server on the host come from ccgen.  The second boot of each
disk has no drive: the cache configures the same network, and ccgen-apply is not started."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ..fakemeta import Behaviour, FakeMeta
from . import machine
from .test_boot import PROBE_COMMON, PROVIDER_OEM, booted, explain, lines, shown

pytestmark = pytest.mark.vm

INTERFACES = """\
# Injected by Nova on instance boot
auto lo
iface lo inet loopback

auto eth0
iface eth0 inet static
    address 10.0.2.15
    netmask 255.255.255.0
    gateway 10.0.2.2
    dns-nameservers 10.0.2.3
"""

QEMU_MAC = "52:54:00:12:34:56"  # qemu's address for the first NIC
NETWORK_DATA = {
    "links": [{"id": "tap0", "type": "phy", "ethernet_mac_address": QEMU_MAC}],
    "networks": [
        {
            "id": "net0",
            "type": "ipv4",
            "link": "tap0",
            "ip_address": "10.0.2.15",
            "netmask": "255.255.255.0",
            "routes": [{"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": "10.0.2.2"}],
        }
    ],
    "services": [{"type": "dns", "address": "10.0.2.3"}],
}

PROBE = (
    PROBE_COMMON
    + r"""
for i in $(seq 1 30); do ip -4 -o addr show dev eth0 | grep -q 10.0.2.15 && break; sleep 1; done
echo "addr $(ip -j addr show dev eth0 | tr -d '\n')"
echo "route $(ip -j route show default | tr -d '\n')"
ls /etc/systemd/network | sed 's/^/netfile /'
# networkd's own record of the link (networkctl needs D-Bus, which this image lacks)
sed 's/^/netif /' /run/systemd/netif/links/$(cat /sys/class/net/eth0/ifindex)
python3 -c '
import urllib.request
try:
    print("http", urllib.request.urlopen("http://10.0.2.100/hello", timeout=20).read().decode())
except Exception as e:
    print("http failed", e)
'
ccgen status | sed 's/^/st /'
show ccgen-apply.service systemd-networkd.service ccgen-fetch-configdrive.service
"""
)


def drive(tmp: Path, *, interfaces: str | None = None, network_data: object = None) -> Path:
    top = tmp / "drive"
    latest = top / "openstack/latest"
    latest.mkdir(parents=True)
    (latest / "user_data").write_text("#cloud-config\nhostname: net-host\n")
    meta: dict[str, object] = {"uuid": "a1b2c3d4-0000-4000-8000-0000000000e1", "hostname": "net-host"}
    if interfaces is not None:
        (top / "openstack/content").mkdir(parents=True)
        (top / "openstack/content/0000").write_text(interfaces)
        meta["network_config"] = {"content_path": "/content/0000", "name": "network_config"}
    if network_data is not None:
        (latest / "network_data.json").write_text(json.dumps(network_data))
    (latest / "meta_data.json").write_text(json.dumps(meta))
    iso = tmp / "configdrive.iso"
    machine.run("genisoimage", "-quiet", "-V", "config-2", "-r", "-J", "-o", str(iso), str(top))
    return iso


def no_network_of_its_own(stage: Path) -> None:
    """The harness's image brings eth0 up with a static file: here only ccgen may."""
    (stage / "etc/systemd/network/10-eth0.network").unlink()


def check(scenario: str, b: machine.Boot, network_file: str, source: str) -> dict[str, dict[str, str]]:
    report = booted(scenario, b)
    why = explain(scenario, b) + "\n--- report ---\n" + report
    (addr,) = lines(report, "addr")
    found = [(a["local"], a["prefixlen"]) for link in json.loads(addr) for a in link.get("addr_info", [])]
    assert ("10.0.2.15", 24) in found, why
    (route,) = lines(report, "route")
    assert [r.get("gateway") for r in json.loads(route)] == ["10.0.2.2"], why
    assert lines(report, "netfile") == [network_file], why
    netif = lines(report, "netif")
    assert f"NETWORK_FILE=/etc/systemd/network/{network_file}" in netif, why
    assert "DNS=10.0.2.3" in netif, why
    assert lines(report, "http") == ["hello from the host"], why
    assert f"  /etc/systemd/network/{network_file} from {source}" in lines(report, "st"), why
    return shown(report)


@pytest.mark.parametrize(
    ("kind", "network_file", "source"),
    [
        ("interfaces", "zz-ccgen-eth0.network", "openstack/content/0000:6"),
        ("network_data", "zz-ccgen-525400123456.network", "openstack/latest/network_data.json $.links[0]"),
    ],
)
def test_config_drive_network(
    session_tree: Path,
    tmp_path: Path,
    kind: str,
    network_file: str,
    source: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    files = {
        "/usr/share/oem/cloud-config.yml": PROVIDER_OEM.format(oem_id="openstack"),
        "/etc/vmtest/probe.sh": PROBE,
    }
    disk = machine.make_disk(session_tree, tmp_path, files, prepare=no_network_of_its_own)
    iso = drive(
        tmp_path, **({"interfaces": INTERFACES} if kind == "interfaces" else {"network_data": NETWORK_DATA})
    )
    with FakeMeta(Behaviour(routes={"/hello": b"hello from the host"})) as server:
        first = machine.boot(disk, tmp_path, extra_disks=(iso,), server_port=server.port)
        units = check(f"{kind}: first boot, with the drive", first, network_file, source)
        assert units["ccgen-apply.service"]["ConditionResult"] == "yes"
        second = machine.boot(disk, tmp_path, server_port=server.port)
        steady = check(f"{kind}: second boot, without the drive", second, network_file, source)
        seen = server.seen("GET", "/hello")
    assert len(seen) == 2
    # The steady state: the network files persist, so ccgen-apply is skipped by its
    # condition and never starts a process; networkd reads them on its own.
    apply = steady["ccgen-apply.service"]
    why = explain(f"{kind}: second boot", second)
    assert apply["ConditionResult"] == "no" and apply["ExecMainStartTimestampMonotonic"] == "0", why
    with capsys.disabled():
        n = steady["systemd-networkd.service"]
        print(
            f"\n{kind}: first boot {first.seconds:.0f}s, second {second.seconds:.0f}s; steady state: "
            f"ccgen-apply condition {apply['ConditionResult']}, networkd active at "
            f"{int(n.get('ActiveEnterTimestampMonotonic') or 0) / 1e6:.1f}s"
        )
