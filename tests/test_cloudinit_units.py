"""The scripts behind cloud-init's modules, run for real: runcmd and bootcmd, packages with a
fake package manager (retries, a clear failure), final_message and power_state."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from ccgen import compile
from ccgen.base.diag import Diagnostics
from ccgen.bootpath.plan import File, Plan
from ccgen.read import inputs

SCRIPTS = ".ccgen-scripts/"


def plan(config: str) -> tuple[Plan, Diagnostics]:
    diags = Diagnostics()
    p = compile.compile_inputs([inputs.Input("/u.yml", ("#cloud-config\n" + config).encode())], diags)
    return p, diags


def script(config: str, name: str, tmp: Path) -> Path:
    p, diags = plan(config)
    assert not diags.has_errors(), [d.format() for d in diags.sorted()]
    entry = next(e for e in p.entries() if e.path == SCRIPTS + name)
    assert isinstance(entry, File) and entry.mode == 0o700
    dest = tmp / name
    dest.write_text(entry.text)
    return dest


def run(path: Path, tmp: Path, path_dirs: list[Path] | None = None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": ":".join([*(str(d) for d in path_dirs or []), "/usr/bin:/bin"]), "HOME": str(tmp)}
    return subprocess.run(
        ["/bin/sh", str(path)], cwd=tmp, env=env, capture_output=True, text=True, timeout=120
    )


def test_runcmd_shares_one_shell_and_quotes_words(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    config = f"""runcmd:
  - cd {out}
  - echo "it's here" > in-cwd
  - [sh, -c, 'printf "%s|" "$0" "$1" > argv', "it's $HOME", "two words"]
  - ["false"]
  - echo after-failure > after
  - null
"""
    s = script(config, "runcmd", tmp_path)
    proc = run(s, tmp_path)
    # A failing item fails the unit and is named by file and line; later items still run.
    assert proc.returncode == 1
    assert "ccgen: runcmd item at /u.yml:6 exited with status 1" in proc.stderr
    assert (out / "in-cwd").read_text() == "it's here\n"
    assert (out / "argv").read_text() == "it's $HOME|two words|"
    assert (out / "after").read_text() == "after-failure\n"


def test_bootcmd_sees_the_instance_id(tmp_path: Path) -> None:
    out = tmp_path / "id"
    s = script(f'bootcmd:\n  - echo "$INSTANCE_ID" > {out}\n', "bootcmd", tmp_path)
    proc = run(s, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert out.read_text() == "\n"  # compile_inputs knows no instance; the generator does


def fake_tool(bin_dir: Path, name: str, body: str) -> None:
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / name).write_text("#!/bin/sh\n" + body)
    (bin_dir / name).chmod(0o755)


def test_packages_through_apt_get(tmp_path: Path) -> None:
    log = tmp_path / "apt.log"
    fake_tool(tmp_path / "bin", "apt-get", f'echo "$DEBIAN_FRONTEND $*" >> {log}\n')
    config = "package_update: true\npackage_upgrade: true\npackages: [curl, [jq, 1.6-2.1]]\n"
    proc = run(script(config, "packages", tmp_path), tmp_path, [tmp_path / "bin"])
    assert proc.returncode == 0, proc.stderr
    opts = "--option=Dpkg::Options::=--force-confold --assume-yes --quiet"
    assert log.read_text().splitlines() == [
        f"noninteractive {opts} update",
        f"noninteractive {opts} dist-upgrade",
        f"noninteractive {opts} install -- curl jq=1.6-2.1",
    ]


def test_packages_retry_then_fail_clearly(tmp_path: Path) -> None:
    count = tmp_path / "count"
    fake_tool(tmp_path / "bin", "apt-get", f"echo x >> {count}\nexit 100\n")
    fake_tool(tmp_path / "bin", "sleep", "exit 0\n")  # no waiting in a test
    proc = run(script("packages: [curl]\n", "packages", tmp_path), tmp_path, [tmp_path / "bin"])
    assert proc.returncode == 1
    assert len(count.read_text().splitlines()) == 3  # tried three times, then stopped
    assert "ccgen: packages: failed 3 times: apt-get" in proc.stderr and "update" in proc.stderr


def test_packages_through_dnf_when_there_is_no_apt_get(tmp_path: Path) -> None:
    log = tmp_path / "dnf.log"
    fake_tool(tmp_path / "bin", "dnf", f'echo "$*" >> {log}\n')
    s = script("packages: [curl, [jq, '1.6']]\n", "packages", tmp_path)
    # Only the fake dnf and the shell on PATH: the host's apt-get is out of sight.
    shell_only = tmp_path / "sh"
    shell_only.mkdir()
    os.symlink("/bin/sh", shell_only / "sh")
    proc = subprocess.run(
        ["/bin/sh", str(s)],
        env={"PATH": f"{tmp_path / 'bin'}:{shell_only}"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert log.read_text().splitlines() == ["--assumeyes makecache", "--assumeyes install -- curl jq-1.6"]


def test_final_message_substitutions(tmp_path: Path) -> None:
    text = "up $UPTIME s at ${timestamp}, v$VERSION from $DATASOURCE; $HOME and $NOPE stay"
    proc = run(script(f'final_message: "{text}"\n', "final-message", tmp_path), tmp_path)
    assert proc.returncode == 0, proc.stderr
    line = proc.stdout.strip()
    assert line.startswith("up ") and " s at " in line and ", v0." in line
    assert line.endswith(" from none; $HOME and $NOPE stay")
    uptime = line.split()[1]
    assert float(uptime) > 0


def test_power_state_condition(tmp_path: Path) -> None:
    log = tmp_path / "shutdown.log"
    fake_tool(tmp_path / "bin", "shutdown", f'echo "$*" >> {log}\n')
    flag = tmp_path / "ok"
    config = f"power_state:\n  mode: halt\n  delay: 5\n  message: bye now\n  condition: [test, -e, {flag}]\n"
    s = script(config, "power-state", tmp_path)
    proc = run(s, tmp_path, [tmp_path / "bin"])
    assert proc.returncode == 0 and not log.exists()
    assert "the condition at /u.yml:6 said no" in proc.stderr
    flag.touch()
    assert run(s, tmp_path, [tmp_path / "bin"]).returncode == 0
    assert log.read_text() == "-H +5 bye now\n"


def test_power_state_false_writes_nothing() -> None:
    p, diags = plan("power_state: {mode: reboot, condition: false}\n")
    assert not diags.has_errors()
    assert not [e.path for e in p.entries() if "power" in e.path]


def test_a_hostile_runcmd_stays_data(tmp_path: Path) -> None:
    """Quotes, backslashes, newlines in words and $(...) reach the command as they are."""
    out = tmp_path / "words"
    words = ["a'b", 'c"d', "e\\f", "g\nh", "$(touch pwned)", "`touch pwned`", "%n", "", " "]
    items = ", ".join(
        '"' + w.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"' for w in words
    )
    code = "'import sys; open(sys.argv[1], \"w\").write(repr(sys.argv[2:]))'"
    config = f"runcmd:\n  - [python3, -c, {code}, {out}, {items}]\n"
    proc = run(script(config, "runcmd", tmp_path), tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert out.read_text() == repr(words)
    assert not (tmp_path / "pwned").exists()


def test_huge_and_nul_commands() -> None:
    many = "runcmd:\n" + "".join(f"  - echo {i}\n" for i in range(20000))
    p, diags = plan(many)
    assert not diags.has_errors()
    text = next(e for e in p.entries() if e.path == SCRIPTS + "runcmd")
    assert isinstance(text, File) and text.text.count("ccgen_check $?") == 20000
    p, diags = plan('runcmd:\n  - "echo \\0 nul"\n  - echo fine\n')
    assert [d.code for d in diags.sorted()] == ["invalid-value"]
    text = next(e for e in p.entries() if e.path == SCRIPTS + "runcmd")
    assert isinstance(text, File) and "echo fine" in text.text and "nul" not in text.text


def test_a_comment_above_runcmd_does_not_run_it_again() -> None:
    """The once-per-instance record is named by the commands, never their lines."""

    def conditions(config: str) -> list[str]:
        p, _ = plan(config)
        return [
            line
            for e in p.entries()
            if isinstance(e, File) and e.path.endswith((".service",))
            for line in e.text.splitlines()
            if line.startswith(("ConditionPathExists=!", "ExecStartPre="))
        ]

    config = "runcmd: [echo hi, [ls, /]]\npower_state: {mode: reboot}\n"
    before = conditions(config)
    assert len(before) == 4
    assert conditions("# a comment\n\n" + config) == before
    assert conditions(config.replace("echo hi", "echo bye")) != before
