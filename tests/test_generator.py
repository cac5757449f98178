"""The installed ccgen-generator, run as systemd runs it."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from . import helpers, sysd

BROKEN_USER = b"""#cloud-config
coreos:
  units:
    - name: ../evil.service
      content: "[Service]\\nExecStart=/bin/true\\n"
    - name: fine.service
      command: start
      content: "[Service]\\nType=oneshot\\nExecStart=/bin/true\\n"
"""


def gens_dir(tmp: Path) -> Path:
    d = tmp / "gens"
    d.mkdir()
    shutil.copy2(helpers.installed_script("ccgen-generator"), d / "ccgen-generator")
    return d


def run_generator(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SYSTEMD_", "CCGEN_"))}
    return subprocess.run(
        [str(helpers.installed_script("ccgen-generator")), *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_systemd_analyze_runs_the_generator(tmp_path: Path) -> None:
    root = helpers.example_root(tmp_path / "root")
    with (root / "var/lib/ccgen/user-data").open("a") as f:
        f.write("bogus_key: 1\n")
    (tmp_path / "kmsg").touch()  # the real device always exists; ccgen never creates it
    env = {
        "SYSTEMD_GENERATOR_PATH": str(gens_dir(tmp_path)),
        "CCGEN_ROOT": str(root),
        "CCGEN_KMSG": str(tmp_path / "kmsg"),
    }
    units = ["ccgen.target", "web.service", "example-agent.service", "backup@home.service"]
    proc = subprocess.run(
        [sysd.analyze(), "--generators=yes", "verify", *units],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    # Without the generator none of these units exists and verify says so.
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # systemd ran it as PID 1 would, so it logged to "kmsg" as ccgen[PID] with priorities.
    records = (tmp_path / "kmsg").read_text().splitlines()
    assert records and all(r.startswith(("<28>ccgen[", "<30>ccgen[")) for r in records), records
    assert any('user-data:55:1: warning: unrecognized key "bogus_key"' in r for r in records), records


def test_systemd_sees_what_the_generator_wrote(tmp_path: Path) -> None:
    # A setting systemd does not know must be reported from the generator's directory.
    user = (
        b"#cloud-config\ncoreos:\n  units:\n    - name: odd.service\n"
        b'      content: "[Service]\\nExecStart=/bin/true\\nNoSuchSetting=1\\n"\n'
    )
    root = helpers.make_root(tmp_path / "root", {"/var/lib/ccgen/user-data": user})
    env = {
        "SYSTEMD_GENERATOR_PATH": str(gens_dir(tmp_path)),
        "CCGEN_ROOT": str(root),
        "CCGEN_KMSG": "/dev/null",
    }
    proc = subprocess.run(
        [sysd.analyze(), "--generators=yes", "verify", "odd.service"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "/generator/odd.service" in proc.stderr and "NoSuchSetting" in proc.stderr, proc.stderr


def test_three_directories_and_bad_input(tmp_path: Path) -> None:
    root = helpers.make_root(tmp_path / "root", {"/var/lib/ccgen/user-data": BROKEN_USER})
    normal, early, late = (tmp_path / n for n in ("normal", "early", "late"))
    for d in (normal, early, late):
        d.mkdir()
    proc = run_generator([str(normal), str(early), str(late)], {"CCGEN_ROOT": str(root)})
    # The bad unit is an error, so the exit status says so, but the good unit is written.
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1
    assert proc.stderr.startswith("/var/lib/ccgen/user-data:4:13: error: unit name")
    assert (normal / "fine.service").is_file()
    assert not list(early.iterdir()) and not list(late.iterdir())
    assert not (tmp_path / "evil.service").exists()
    assert not sysd.verify(sysd.unit_files(normal))


def test_one_directory_for_testing(tmp_path: Path) -> None:
    root = helpers.example_root(tmp_path / "root")
    out = tmp_path / "out"
    out.mkdir()
    proc = run_generator([str(out)], {"CCGEN_ROOT": str(root)})
    assert proc.returncode == 0, proc.stderr
    assert (out / "web.service").is_file()


def test_nothing_to_do_is_success(tmp_path: Path) -> None:
    root = helpers.make_root(tmp_path / "root", {})
    out = tmp_path / "out"
    out.mkdir()
    proc = run_generator([str(out)], {"CCGEN_ROOT": str(root)})
    assert (proc.returncode, proc.stderr) == (0, "")
    # No config, no provider, and /var is not a mount of its own: nothing at all.
    assert helpers.tree(out) == {}


@pytest.mark.parametrize("env", [{"SYSTEMD_IN_INITRD": "1"}, {}])
def test_initrd_and_kernel_switch(tmp_path: Path, env: dict[str, str]) -> None:
    root = helpers.example_root(tmp_path / "root")
    if not env:
        helpers.make_root(root, {"/proc/cmdline": "root=/dev/vda ccgen.enable=0 quiet\n"})
    out = tmp_path / "out"
    out.mkdir()
    proc = run_generator([str(out)], {"CCGEN_ROOT": str(root), **env})
    written = sorted(p.name for p in out.iterdir())
    if env:
        assert proc.returncode == 0 and written == []  # the initrd: not even a record
    else:
        # Switched off: no unit, only the record that `ccgen status` reads.
        assert proc.returncode == 0 and written == [".ccgen-status"]
        assert (out / ".ccgen-status").read_text().startswith("mode=disabled\n")


def test_output_is_byte_identical_across_runs_and_roots(tmp_path: Path) -> None:
    trees = []
    for n in range(2):
        root = helpers.example_root(tmp_path / f"root{n}")
        out = tmp_path / f"out{n}"
        out.mkdir()
        assert run_generator([str(out)], {"CCGEN_ROOT": str(root)}).returncode == 0
        trees.append(helpers.tree(out))
    assert trees[0] == trees[1]
    assert not any(str(tmp_path) in text for text in trees[0].values())


def test_no_temporary_files_left_and_modes(tmp_path: Path) -> None:
    root = helpers.example_root(tmp_path / "root")
    out = tmp_path / "out"
    out.mkdir()
    run_generator([str(out)], {"CCGEN_ROOT": str(root)})
    for p in out.rglob("*"):
        assert not p.name.startswith(".#"), p
        if p.is_file() and not p.is_symlink():
            # The plan holds the user's config, secrets included: root only.
            assert p.stat().st_mode & 0o777 == (0o600 if p.name == ".ccgen-plan" else 0o644), p


def test_usage_error(tmp_path: Path) -> None:
    proc = run_generator([str(tmp_path), str(tmp_path)], {})
    assert proc.returncode == 2 and "usage" in proc.stderr


def test_kmsg_records_are_short(tmp_path: Path) -> None:
    long_name = "x" * 300 + ".service"
    user = f"#cloud-config\n{'a' * 1000}: 1\ncoreos:\n  units:\n    - name: {long_name}\n".encode()
    root = helpers.make_root(tmp_path / "root", {"/var/lib/ccgen/user-data": user})
    out = tmp_path / "out"
    out.mkdir()
    kmsg = tmp_path / "kmsg"
    kmsg.touch()
    script = helpers.installed_script("ccgen-generator")
    # SYSTEMD_EXEC_PID must be the generator's own pid: exec keeps the shell's pid.
    proc = subprocess.run(
        ["sh", "-c", f'SYSTEMD_EXEC_PID=$$ exec "{script}" "{out}"'],
        env={**os.environ, "CCGEN_ROOT": str(root), "CCGEN_KMSG": str(kmsg)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    records = kmsg.read_bytes().split(b"\n")[:-1]
    assert len(records) == 2
    assert all(len(r) < 1024 for r in records)
    assert records[0].startswith(b"<28>ccgen[") and records[1].startswith(b"<27>ccgen[")
