"""Boot real Debian machines with ccgen as their generator and check the state they reach.

Run with `./dev test` (after the unit tests) or `pytest -m vm tests/vm`.  A failure
names the scenario and carries the console lines that matter.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from . import machine

pytestmark = pytest.mark.vm

PROBE_COMMON = r"""
unit() { echo "unit $1 $(systemctl show -p ActiveState --value "$1") $(systemctl show -p LoadState --value "$1")"; }
echo "hostname $(hostname)"
systemctl show -p GeneratorsStartTimestampMonotonic -p GeneratorsFinishTimestampMonotonic | sed 's/^/timing /'
journalctl -k -t ccgen -o cat --no-pager | sed 's/^/kmsg /'
"""


@pytest.fixture(scope="module")
def session_tree(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    for tool in ("qemu-system-x86_64", "debootstrap", "mkfs.ext4", "debugfs", "chroot"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing; ./dev test installs it")
    base = machine.base_tree()
    debs = tmp_path_factory.mktemp("debs")
    subprocess.run([str(machine.REPO / "packaging/build-deb.sh"), str(debs)], check=True, capture_output=True)
    (deb,) = debs.glob("ccgen_*.deb")
    tree = tmp_path_factory.mktemp("session") / "tree"
    machine.run("cp", "-a", str(base), str(tree), timeout=600)
    machine.install_ccgen(tree, deb)
    yield tree
    shutil.rmtree(tree, ignore_errors=True)


def lines(report: str, prefix: str) -> list[str]:
    return [ln[len(prefix) + 1 :] for ln in report.splitlines() if ln.startswith(prefix + " ")]


def explain(scenario: str, b: machine.Boot) -> str:
    """What a failure shows: the scenario, how the boot ended, and the console's telling lines."""
    telling = [
        ln
        for ln in b.console.splitlines()
        if any(w in ln for w in ("ccgen", "Failed", "FAILED", "error", "Error", "Timed out", "panic"))
    ]
    tail = b.console.splitlines()[-25:]
    return (
        f"scenario: {scenario}; qemu exit {b.status} after {b.seconds:.0f}s\n"
        + "\n".join(telling[-40:])
        + "\n--- last console lines ---\n"
        + "\n".join(tail)
    )


def booted(scenario: str, b: machine.Boot) -> str:
    assert b.status is not None, "boot hung and was killed: " + explain(scenario, b)
    report = b.report()
    assert report, "no report from the machine: " + explain(scenario, b)
    return report


SSH_KEY = subprocess.run(
    [
        "sh",
        "-c",
        "k=$(mktemp -u) && ssh-keygen -q -t ed25519 -N '' -C vmtest@ccgen -f $k && cat $k.pub && rm $k $k.pub",
    ],
    capture_output=True,
    text=True,
).stdout.strip()

OEM_ONLY = f"""#cloud-config
hostname: oem-host
users:
  - name: alice
    groups: [sudo]
    shell: /bin/bash
    ssh_authorized_keys:
      - {SSH_KEY}
write_files:
  - path: /etc/vmtest/written.conf
    permissions: "0600"
    owner: alice
    content: hello from write_files
coreos:
  etcd2:
    name: 'node "one" 100% $HOME'
  units:
    - name: hello.service
      command: start
      content: |
        [Service]
        Type=oneshot
        RemainAfterExit=yes
        ExecStart=/bin/sh -c 'echo hello > /run/hello'
    - name: enabled.service
      enable: true
      content: |
        [Service]
        Type=oneshot
        RemainAfterExit=yes
        ExecStart=/bin/true
        [Install]
        WantedBy=multi-user.target
    - name: vendor-thing.service
      mask: true
    - name: etcd2.service
      content: |
        [Service]
        Type=oneshot
        RemainAfterExit=yes
        ExecStart=/bin/true
"""

PROBE_OEM = (
    PROBE_COMMON
    + r"""
for u in hello.service enabled.service vendor-thing.service ccgen-apply.service etcd2.service; do unit $u; done
stat -c 'file %n %a %U' /etc/vmtest/written.conf /home/alice/.ssh /home/alice/.ssh/authorized_keys
echo "content $(cat /etc/vmtest/written.conf)"
echo "hello $(cat /run/hello)"
getent passwd alice | sed 's/^/passwd /'
echo "groups $(id -nG alice)"
ssh-keygen -l -f /home/alice/.ssh/authorized_keys | sed 's/^/keycheck /'
sshd -T -C user=alice,host=h,addr=192.0.2.1 2>&1 | grep -iE '^(authorizedkeysfile|strictmodes) ' | sed 's/^/sshd /'
systemctl show -p Environment etcd2.service | sed 's/^/env /'
"""
)

VENDOR_UNIT = "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n"


def test_oem_only(session_tree: Path, tmp_path: Path) -> None:
    files = {
        "/usr/share/oem/cloud-config.yml": OEM_ONLY,
        "/etc/vmtest/probe.sh": PROBE_OEM,
        "/lib/systemd/system/vendor-thing.service": VENDOR_UNIT,
    }
    disk = machine.make_disk(session_tree, tmp_path, files)
    wants = "/etc/systemd/system/multi-user.target.wants/vendor-thing.service"
    machine.run(
        "debugfs", "-w", "-R", f"symlink {wants} /lib/systemd/system/vendor-thing.service", str(disk.path)
    )
    b = machine.boot(disk, tmp_path)
    report = booted("OEM only", b)
    why = explain("OEM only", b)
    units = {ln.split()[0]: ln.split()[1:] for ln in lines(report, "unit")}
    assert units["hello.service"] == ["active", "loaded"], why
    assert units["enabled.service"] == ["active", "loaded"], why
    assert units["vendor-thing.service"] == ["inactive", "masked"], why
    assert units["ccgen-apply.service"] == ["active", "loaded"], why
    assert lines(report, "hello") == ["hello"], why
    assert "/etc/vmtest/written.conf 600 alice" in lines(report, "file"), why
    assert "/home/alice/.ssh 700 alice" in lines(report, "file"), why
    assert "/home/alice/.ssh/authorized_keys 600 alice" in lines(report, "file"), why
    assert lines(report, "content") == ["hello from write_files"], why
    assert lines(report, "passwd")[0].endswith(":/home/alice:/bin/bash"), why
    assert "sudo" in lines(report, "groups")[0].split(), why
    assert any("vmtest@ccgen (ED25519)" in ln for ln in lines(report, "keycheck")), why
    assert "strictmodes yes" in lines(report, "sshd"), why
    assert any(".ssh/authorized_keys" in ln for ln in lines(report, "sshd")), why
    assert lines(report, "hostname") == ["oem-host"], why
    # The drop-in's value reached the service unchanged: quotes, percent and dollar.
    # systemctl show quotes each assignment and writes \" and \$ for display.
    env = lines(report, "env")[0]
    assert env.startswith('Environment="') and env.endswith('"'), why
    shown = env[len('Environment="') : -1]
    assert shown.replace('\\"', '"').replace("\\$", "$") == 'ETCD_NAME=node "one" 100% $HOME', why


BROKEN_OEM = """#cloud-config
coreos:
  units:
    - name: oem-agent.service
      command: start
      content: |
        [Service]
        Type=oneshot
        RemainAfterExit=yes
        ExecStart=/bin/true
"""
BROKEN_USER = "#cloud-config\ncoreos:\n  units:\n    - name: x.service\n      content: [unclosed\n"


def test_broken_user_config(session_tree: Path, tmp_path: Path) -> None:
    files = {
        "/usr/share/oem/cloud-config.yml": BROKEN_OEM,
        "/var/lib/ccgen/user-data": BROKEN_USER,
        "/etc/vmtest/probe.sh": PROBE_COMMON + "unit oem-agent.service\n",
    }
    b = machine.boot(machine.make_disk(session_tree, tmp_path, files), tmp_path)
    report = booted("broken user config", b)
    why = explain("broken user config", b)
    assert lines(report, "unit") == ["oem-agent.service active loaded"], why
    kmsg = lines(report, "kmsg")
    assert any("/var/lib/ccgen/user-data:6:1: error: YAML" in ln for ln in kmsg), why


def test_boot_cost(session_tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = {
        "/usr/share/oem/cloud-config.yml": BROKEN_OEM,
        "/etc/vmtest/probe.sh": PROBE_COMMON,
    }
    results = {}
    for label, masked in (("with ccgen", False), ("generator masked", True)):
        work = tmp_path / label.replace(" ", "-")
        work.mkdir()
        extra = {"/etc/systemd/system-generators/ccgen-generator": ""} if masked else {}
        b = machine.boot(machine.make_disk(session_tree, work, {**files, **extra}), work)
        report = booted(f"boot cost, {label}", b)
        timing = dict(ln.split("=", 1) for ln in lines(report, "timing"))
        results[label] = int(timing["GeneratorsFinishTimestampMonotonic"]) - int(
            timing["GeneratorsStartTimestampMonotonic"]
        )
    cost = results["with ccgen"] - results["generator masked"]
    with capsys.disabled():
        print(
            f"\nboot cost (TCG guest): generators took {results['with ccgen'] / 1000:.1f} ms with ccgen,"
            f" {results['generator masked'] / 1000:.1f} ms with it masked: ccgen adds {cost / 1000:.1f} ms"
        )
    assert results["with ccgen"] > 0 and results["generator masked"] > 0


def with_wait_online(tree: Path) -> None:
    """network-online.target really waits for the static address (the EC2 fetch needs it)."""
    wants = tree / "etc/systemd/system/network-online.target.wants"
    wants.mkdir(parents=True, exist_ok=True)
    link = wants / "systemd-networkd-wait-online.service"
    if not link.is_symlink():
        link.symlink_to("/lib/systemd/system/systemd-networkd-wait-online.service")


PROVIDER_OEM = """#cloud-config
coreos:
  oem:
    id: {oem_id}
users:
  - name: core
    shell: /bin/bash
"""

PROBE_PROVIDER = (
    PROBE_COMMON
    + r"""
unit {unit}
echo "file $(cat {file} 2>/dev/null || echo MISSING)"
echo "cores $(grep -c '^core:' /etc/passwd)"
grep -h ssh- /home/core/.ssh/authorized_keys | sed 's/^/key /'
cat /var/lib/ccgen/metadata | sed 's/^/meta /'
if [ -f /etc/vmtest/delete-after ]; then rm -f {file}; rm /etc/vmtest/delete-after; fi
"""
)

DRIVE_USER_DATA = """#cloud-config
write_files:
  - path: /etc/from-configdrive
    content: from the drive
coreos:
  units:
    - name: user-unit.service
      command: start
      content: "[Service]\\nType=oneshot\\nRemainAfterExit=yes\\nExecStart=/bin/true\\n"
"""


def config_drive(tmp: Path) -> Path:
    import json

    latest = tmp / "drive/openstack/latest"
    latest.mkdir(parents=True)
    (latest / "user_data").write_text(DRIVE_USER_DATA)
    meta = {
        "uuid": "a1b2c3d4-0000-4000-8000-000000000001",
        "hostname": "cd-host",
        "public_keys": {"k": SSH_KEY},
    }
    (latest / "meta_data.json").write_text(json.dumps(meta))
    iso = tmp / "configdrive.iso"
    machine.run("genisoimage", "-quiet", "-V", "config-2", "-r", "-J", "-o", str(iso), str(tmp / "drive"))
    return iso


def test_config_drive_first_and_second_boot(session_tree: Path, tmp_path: Path) -> None:
    probe = PROBE_PROVIDER.replace("{unit}", "user-unit.service").replace("{file}", "/etc/from-configdrive")
    files = {
        "/usr/share/oem/cloud-config.yml": PROVIDER_OEM.format(oem_id="openstack"),
        "/etc/vmtest/probe.sh": probe,
        "/etc/vmtest/delete-after": "",  # the user deletes the file after the first boot
    }
    disk = machine.make_disk(session_tree, tmp_path, files)
    first = machine.boot(disk, tmp_path, extra_disks=(config_drive(tmp_path),))
    report = booted("config-drive, first boot", first)
    why = explain("config-drive, first boot", first)
    assert lines(report, "unit") == ["user-unit.service active loaded"], why
    assert lines(report, "file") == ["from the drive"], why
    assert lines(report, "hostname") == ["cd-host"], why
    assert lines(report, "key") == [SSH_KEY], why
    assert "STATE=present" in lines(report, "meta"), why
    second = machine.boot(disk, tmp_path)
    report = booted("config-drive, second boot without the drive", second)
    why = explain("config-drive, second boot without the drive", second)
    assert lines(report, "unit") == ["user-unit.service active loaded"], why
    assert lines(report, "hostname") == ["cd-host"], why
    assert lines(report, "key") == [SSH_KEY], why
    assert lines(report, "cores") == ["1"], why
    assert lines(report, "file") == ["MISSING"], "a file deleted on purpose came back: " + why


EC2_USER_DATA = """#cloud-config
write_files:
  - path: /etc/ec2-address
    content: "address=$private_ipv4"
coreos:
  units:
    - name: ec2-unit.service
      command: start
      content: "[Service]\\nType=oneshot\\nRemainAfterExit=yes\\nExecStart=/bin/true\\n"
"""


def test_ec2_imdsv2_first_boot_then_server_down(session_tree: Path, tmp_path: Path) -> None:
    from ..fakeimds import Behaviour, FakeIMDS

    with_wait_online(session_tree)
    probe = PROBE_PROVIDER.replace("{unit}", "ec2-unit.service").replace("{file}", "/etc/ec2-address")
    files = {
        "/usr/share/oem/cloud-config.yml": PROVIDER_OEM.format(oem_id="ec2"),
        "/etc/vmtest/probe.sh": probe,
    }
    disk = machine.make_disk(session_tree, tmp_path, files)
    cmdline = f"ccgen.ec2.endpoint=http://{machine.GUEST_SERVER}/"
    behaviour = Behaviour(
        user_data=EC2_USER_DATA.encode(),
        meta={
            "instance-id": "i-0a1b2c3d4e5f",
            "hostname": "ip-10-0-2-15.ec2.internal",
            "local-ipv4": "10.0.2.15",
        },
        keys=[("k", SSH_KEY)],
    )
    with FakeIMDS(behaviour) as server:
        first = machine.boot(disk, tmp_path, cmdline=cmdline, server_port=int(server.url.rsplit(":", 1)[1]))
        gets = [h for m, _, h in server.requests if m == "GET"]
    report = booted("EC2, first boot", first)
    why = explain("EC2, first boot", first)
    assert gets and all(h.get("x-aws-ec2-metadata-token") for h in gets), "IMDSv2 token missing: " + why
    assert lines(report, "unit") == ["ec2-unit.service active loaded"], why
    assert lines(report, "file") == ["address=10.0.2.15"], why
    assert lines(report, "key") == [SSH_KEY], why
    assert lines(report, "hostname") == ["ip-10-0-2-15.ec2.internal"], why
    with FakeIMDS(Behaviour(fail_always=True)) as server:
        second = machine.boot(disk, tmp_path, cmdline=cmdline, server_port=int(server.url.rsplit(":", 1)[1]))
        asked = server.count()
    report = booted("EC2, second boot with the server answering 500", second)
    why = explain("EC2, second boot with the server answering 500", second)
    assert asked > 1, "the fetch should have retried: " + why
    assert lines(report, "unit") == ["ec2-unit.service active loaded"], why
    assert lines(report, "file") == ["address=10.0.2.15"], why
    assert second.seconds < 300, why


BOOT_ORDER_OEM = f"""#cloud-config
hostname: vmhost
users:
  - name: alice
    ssh_authorized_keys:
      - {SSH_KEY}
write_files:
  - path: /etc/systemd/system/greeter.service.d/50-env.conf
    content: |
      [Service]
      Environment=GREETING=from-the-drop-in
coreos:
  etcd2:
    name: "%H"
  units:
    - name: format-ephemeral.service
      command: start
      content: |
        [Unit]
        ConditionPathExists=/dev/vdb
        [Service]
        Type=oneshot
        RemainAfterExit=yes
        ExecStart=/sbin/mkfs.ext4 -q -F /dev/vdb
    - name: var-lib-data.mount
      command: start
      content: |
        [Unit]
        Requires=format-ephemeral.service
        After=format-ephemeral.service
        [Mount]
        What=/dev/vdb
        Where=/var/lib/data
        Type=ext4
    - name: data-writer.service
      command: start
      content: |
        [Unit]
        Requires=var-lib-data.mount
        After=var-lib-data.mount
        [Service]
        Type=oneshot
        RemainAfterExit=yes
        ExecStart=/bin/sh -c 'echo written > /var/lib/data/ok'
    - name: greeter.service
      command: start
      content: |
        [Service]
        Type=oneshot
        RemainAfterExit=yes
        ExecStart=/bin/sh -c 'echo "$GREETING" > /run/greeting'
    - name: etcd2.service
      command: start
      content: |
        [Service]
        Type=oneshot
        RemainAfterExit=yes
        ExecStart=/bin/sh -c 'echo "$ETCD_NAME" > /run/etcd-name'
"""

PROBE_BOOT_ORDER = (
    PROBE_COMMON
    + r"""
for u in var-lib-data.mount data-writer.service greeter.service etcd2.service ccgen-apply.service; do unit $u; done
echo "data $(cat /var/lib/data/ok 2>/dev/null || echo MISSING)"
echo "greeting $(cat /run/greeting 2>/dev/null || echo MISSING)"
echo "etcdname $(cat /run/etcd-name 2>/dev/null || echo MISSING)"
grep -c 'ssh-ed25519' /home/alice/.ssh/authorized_keys | sed 's/^/keys /'
echo "cycles $(journalctl -b -o cat --no-pager | grep -ci 'ordering cycle')"
echo "jobs $(systemctl list-jobs --no-legend | grep -vc vmtest-report)"
for u in ccgen-apply.service ccgen-deferred.service data-writer.service; do
  echo "at $u $(systemctl show -p ActiveEnterTimestampMonotonic --value $u)"
done
echo "at ccgen-apply-start $(systemctl show -p ExecMainStartTimestampMonotonic --value ccgen-apply.service)"
echo "at multi-user.target $(systemctl show -p ActiveEnterTimestampMonotonic --value multi-user.target)"
"""
)


PROBE_METADATA = (
    PROBE_PROVIDER
    + r"""
cat /run/metadata/ccgen | sed 's/^/attr /'
stat -c 'mode %a %U' /run/metadata/ccgen
"""
)


def test_boot_order_format_mount_dropins_specifiers(
    session_tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 10's patterns on a real boot: format + mount + a service on it, all started,
    a write_files drop-in that the started unit sees, and %H reaching etcd2 as the hostname."""
    files = {"/usr/share/oem/cloud-config.yml": BOOT_ORDER_OEM, "/etc/vmtest/probe.sh": PROBE_BOOT_ORDER}
    disk = machine.make_disk(session_tree, tmp_path, files)
    scratch = tmp_path / "ephemeral.img"
    with open(scratch, "wb") as f:
        f.truncate(64 * 1024 * 1024)
    b = machine.boot(disk, tmp_path, scratch_disks=(scratch,))
    report = booted("boot order", b)
    why = explain("boot order", b)
    units = {ln.split()[0]: ln.split()[1:] for ln in lines(report, "unit")}
    assert units["var-lib-data.mount"] == ["active", "loaded"], why
    assert units["data-writer.service"] == ["active", "loaded"], why
    assert units["ccgen-apply.service"] == ["active", "loaded"], why
    assert lines(report, "data") == ["written"], why
    assert lines(report, "greeting") == ["from-the-drop-in"], why
    assert lines(report, "etcdname") == ["vmhost"], why
    assert lines(report, "keys") == ["1"], why
    assert lines(report, "cycles") == ["0"], why
    assert lines(report, "jobs") == ["0"], why
    at = {ln.split()[0]: int(ln.split()[1]) for ln in lines(report, "at") if ln.split()[1].isdigit()}
    # What deferring costs: from ccgen-apply done to the deferred units done.
    with capsys.disabled():
        print(
            f"\nboot order (TCG guest): ccgen-apply ran {(at['ccgen-apply.service'] - at['ccgen-apply-start']) / 1000:.0f} ms;"
            f" deferred units done {(at['data-writer.service'] - at['ccgen-apply.service']) / 1000:.0f} ms after it;"
            f" multi-user.target {(at['multi-user.target'] - at['ccgen-apply.service']) / 1000:.0f} ms after it"
        )


def after_fetch(provider: str) -> dict[str, str]:
    """The report waits for this provider's fetch unit too (machine.REPORT_UNIT names only EC2's
    and the config drive's)."""
    unit = f"ccgen-fetch-{provider}.service"
    return {f"/etc/systemd/system/vmtest-report.service.d/{provider}.conf": f"[Unit]\nAfter={unit}\n"}


NOCLOUD_USER_DATA = """#cloud-config
write_files:
  - path: /etc/from-nocloud
    content: from the seed
coreos:
  units:
    - name: nocloud-unit.service
      command: start
      content: "[Service]\\nType=oneshot\\nRemainAfterExit=yes\\nExecStart=/bin/true\\n"
"""


def cidata_iso(tmp: Path) -> Path:
    seed = tmp / "seed"
    seed.mkdir()
    (seed / "user-data").write_text(NOCLOUD_USER_DATA)
    (seed / "meta-data").write_text(
        f"instance-id: iid-vmtest-01\nlocal-hostname: nc-host\npublic-keys:\n  - {SSH_KEY}\n"
    )
    iso = tmp / "cidata.iso"
    machine.run("genisoimage", "-quiet", "-V", "cidata", "-r", "-J", "-o", str(iso), str(seed))
    return iso


def test_nocloud_cidata_without_network(session_tree: Path, tmp_path: Path) -> None:
    probe = PROBE_METADATA.replace("{unit}", "nocloud-unit.service").replace("{file}", "/etc/from-nocloud")
    files = {
        "/usr/share/oem/cloud-config.yml": PROVIDER_OEM.format(oem_id="qemu"),
        "/etc/vmtest/probe.sh": probe,
        **after_fetch("nocloud"),
    }
    disk = machine.make_disk(session_tree, tmp_path, files)
    b = machine.boot(disk, tmp_path, extra_disks=(cidata_iso(tmp_path),))  # no server: no network at all
    report = booted("NoCloud cidata", b)
    why = explain("NoCloud cidata", b)
    assert lines(report, "unit") == ["nocloud-unit.service active loaded"], why
    assert lines(report, "file") == ["from the seed"], why
    assert lines(report, "hostname") == ["nc-host"], why
    assert lines(report, "key") == [SSH_KEY], why
    assert "INSTANCE_ID=iid-vmtest-01" in lines(report, "meta"), why
    attrs = lines(report, "attr")
    assert "CCGEN_PROVIDER=nocloud" in attrs and "CCGEN_INSTANCE_ID=iid-vmtest-01" in attrs, why
    assert "CCGEN_HOSTNAME=nc-host" in attrs, why
    assert lines(report, "mode") == ["644 root"], why


GCE_USER_DATA = """#cloud-config
write_files:
  - path: /etc/gce-address
    content: "address=$private_ipv4"
coreos:
  units:
    - name: gce-unit.service
      command: start
      content: "[Service]\\nType=oneshot\\nRemainAfterExit=yes\\nEnvironmentFile=/run/metadata/ccgen\\nExecStart=/bin/sh -c 'echo $CCGEN_ZONE > /run/gce-zone'\\n"
"""


def test_gce_through_guestfwd(session_tree: Path, tmp_path: Path) -> None:
    from .. import platforms
    from ..fakemeta import FakeMeta

    with_wait_online(session_tree)
    probe = PROBE_METADATA.replace("{unit}", "gce-unit.service").replace("{file}", "/etc/gce-address")
    probe += 'echo "zone $(cat /run/gce-zone)"\n'
    files = {
        "/usr/share/oem/cloud-config.yml": PROVIDER_OEM.format(oem_id="qemu"),  # the command line wins
        "/etc/vmtest/probe.sh": probe,
        **after_fetch("gce"),
    }
    disk = machine.make_disk(session_tree, tmp_path, files)
    behaviour = platforms.gce(
        user_data=GCE_USER_DATA.encode(),
        instance={"ssh-keys": f"core:{SSH_KEY}"},
        project={},
        external_ip=None,
    )
    behaviour.routes[platforms.GCE + "instance/network-interfaces/0/ip"] = b"10.0.2.15"
    cmdline = f"ccgen.provider=gce ccgen.gce.endpoint=http://{machine.GUEST_SERVER}/"
    with FakeMeta(behaviour) as server:
        b = machine.boot(disk, tmp_path, cmdline=cmdline, server_port=server.port)
        seen = server.seen()
    report = booted("GCE", b)
    why = explain("GCE", b)
    assert seen and all(s.headers.get("metadata-flavor") == "Google" for s in seen), why
    assert lines(report, "unit") == ["gce-unit.service active loaded"], why
    assert lines(report, "file") == ["address=10.0.2.15"], why
    assert lines(report, "key") == [SSH_KEY], why
    assert lines(report, "hostname") == ["gce-node.c.my-project.internal"], why
    attrs = lines(report, "attr")
    for want in (
        "CCGEN_PROVIDER=gce",
        "CCGEN_INSTANCE_ID=4520031799277581759",
        "CCGEN_ZONE=us-central1-a",
        "CCGEN_REGION=us-central1",
        "CCGEN_INSTANCE_TYPE=e2-medium",
        "CCGEN_IPV4_PRIVATE=10.0.2.15",
        "COREOS_PRIVATE_IPV4=10.0.2.15",
    ):
        assert want in attrs, why
    assert lines(report, "zone") == ["us-central1-a"], "a unit read /run/metadata/ccgen: " + why
