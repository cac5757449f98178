"""The generator's side of the providers: which fetch units a machine gets, in which order,
and that what a fetch stored is what `ccgen --print --root` compiles."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from . import helpers, platforms
from .fakemeta import FakeMeta
from .fetchrun import fetch


def units(tmp: Path, cmdline: str = "", oem_id: str = "") -> dict[str, str]:
    files: dict[str, bytes | str] = {"/proc/cmdline": cmdline + "\n"}
    if oem_id:
        files["/usr/share/oem/cloud-config.yml"] = f"#cloud-config\ncoreos:\n  oem:\n    id: {oem_id}\n"
    root = helpers.make_root(tmp / "root", files)
    out = tmp / "out"
    out.mkdir()
    proc = subprocess.run(
        [str(helpers.installed_script("ccgen-generator")), str(out)],
        env={"PATH": "/usr/bin:/bin", "CCGEN_ROOT": str(root), "SYSTEMD_VIRTUALIZATION": "vm:kvm"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    tree = helpers.tree(out)
    return {
        name[len("ccgen-fetch-") :].split(".")[0]: text
        for name, text in tree.items()
        if name.startswith("ccgen-fetch-")
    }


def after(unit: str) -> set[str]:
    return {
        w for line in unit.splitlines() if line.startswith("After=") for w in line[len("After=") :].split()
    }


@pytest.mark.parametrize(
    ("oem_id", "provider"),
    [
        ("digitalocean", "digitalocean"),
        ("gce", "gce"),
        ("gcp", "gce"),
        ("packet", "packet"),
        ("azure", "azure"),
        ("vmware", "vmware"),
        ("cloudsigma", "cloudsigma"),
        ("nocloud", "nocloud"),
        ("rackspace-onmetal", "configdrive"),
    ],
)
def test_every_original_preset_has_its_provider(tmp_path: Path, oem_id: str, provider: str) -> None:
    found = units(tmp_path, oem_id=oem_id)
    assert list(found) == [provider]
    network = "network-online.target" in after(found[provider])
    assert network == (provider not in ("cloudsigma", "nocloud", "configdrive"))


def test_endpoint_from_the_command_line(tmp_path: Path) -> None:
    found = units(tmp_path, cmdline="ccgen.provider=gce ccgen.gce.endpoint=http://10.0.2.100/")
    assert "fetch gce --endpoint http://10.0.2.100/ --reload" in found["gce"]


def test_nocloud_seed_url_makes_it_a_network_fetch(tmp_path: Path) -> None:
    found = units(tmp_path / "a", cmdline="ds=nocloud;s=http://10.0.2.100/seed/")
    assert "network-online.target" in after(found["nocloud"])
    assert not any("by\\x2dlabel" in w for w in after(found["nocloud"]))
    found = units(tmp_path / "b", cmdline="ds=nocloud")
    assert "dev-disk-by\\x2dlabel-cidata.device" in after(found["nocloud"])


def test_providers_of_one_kind_take_turns(tmp_path: Path) -> None:
    found = units(tmp_path / "a", cmdline="cloud-config-url=http://10.0.2.100/x", oem_id="ec2")
    assert sorted(found) == ["ec2", "url"]
    assert "ccgen-fetch-url.service" in after(found["ec2"])
    assert not any(w.startswith("ccgen-fetch-") for w in after(found["url"]))
    found = units(tmp_path / "b", oem_id="proxmoxve")
    assert "ccgen-fetch-configdrive.service" in after(found["nocloud"])
    # A device fetch and a network fetch are ordered by their kinds already, never by each other.
    found = units(tmp_path / "c", oem_id="ec2-compat")
    assert not any(w.startswith("ccgen-fetch-") for u in found.values() for w in after(u))


def test_print_shows_what_a_fetch_stored(tmp_path: Path) -> None:
    user = (
        "#cloud-config\ncoreos:\n  units:\n"
        '    - {name: droplet.service, command: start, content: "[Service]\\nExecStart=/bin/true\\n"}\n'
    )
    root = tmp_path / "root"
    with FakeMeta(platforms.digitalocean(user_data=user.encode())) as server:
        r = fetch("digitalocean", tmp_path, "--endpoint", server.url)
    assert r.status == 0, r.stderr
    printed = subprocess.run(
        [str(helpers.installed_script("ccgen")), "--print", "--root", str(root)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert printed.returncode == 0, printed.stderr
    assert "--- /run/systemd/generator/droplet.service ---" in printed.stdout
