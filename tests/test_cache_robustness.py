"""The cache under abuse: kill -9 at any moment, two fetches at once, a server that trickles.

Every outcome is read back the way the generator reads it (`ccgen --print --root`): the
old config or the new one, whole, never a mix and never nothing.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from pathlib import Path

from . import helpers
from .fakeimds import Behaviour, FakeIMDS

CCGEN = str(helpers.installed_script("ccgen"))


def drive(base: Path, label: str) -> Path:
    latest = base / f"drive-{label}/openstack/latest"
    latest.mkdir(parents=True)
    unit = f'    - {{name: {label}.service, command: start, content: "[Service]\\nExecStart=/bin/true\\n"}}\n'
    # Large enough that writing it takes a moment, so kills land inside the store.
    padding = "".join(f"# {i:06d} {'x' * 70}\n" for i in range(20_000))
    (latest / "user_data").write_text(f"#cloud-config\n{padding}coreos:\n  units:\n{unit}")
    (latest / "meta_data.json").write_text(
        json.dumps({"uuid": label, "public_keys": {"k": f"ssh-ed25519 AAAA{label}"}})
    )
    return base / f"drive-{label}"


def fetch_argv(source: Path, root: Path, run: Path) -> list[str]:
    cache = root / "var/lib/ccgen"
    return [
        CCGEN,
        "fetch",
        "configdrive",
        "--source",
        str(source),
        "--cache-dir",
        str(cache),
        "--run-dir",
        str(run),
    ]


def what_the_generator_sees(root: Path) -> tuple[str, str]:
    """(the unit the cached config defines, the cached instance id) via ccgen --print."""
    proc = subprocess.run(
        [CCGEN, "--print", "--root", str(root)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    units = {u for u in ("old", "new") if f"--- /run/systemd/generator/{u}.service ---" in proc.stdout}
    meta = (root / "var/lib/ccgen/metadata").read_text()
    instance = next(ln.split("=", 1)[1] for ln in meta.splitlines() if ln.startswith("INSTANCE_ID="))
    assert len(units) == 1, proc.stdout[:2000]
    return units.pop(), instance


def test_kill_at_random_moments_leaves_old_or_new(tmp_path: Path) -> None:
    rng = random.Random(1234)
    old, new = drive(tmp_path, "old"), drive(tmp_path, "new")
    root = tmp_path / "root"
    run = tmp_path / "run"
    seen = set()
    for i in range(30):
        # Start from a whole "old" cache; half of the kills hit an unchanged fetch.
        target = old if i % 2 else new
        subprocess.run(fetch_argv(old, root, run), check=True, capture_output=True)
        (run / "fetched").unlink()
        proc = subprocess.Popen(
            fetch_argv(target, root, run), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        time.sleep(rng.uniform(0.0, 0.6))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        unit, instance = what_the_generator_sees(root)
        assert unit == instance, "the user-data and the metadata come from different fetches"
        assert unit in ("old", "new") and (target is new or unit == "old")
        seen.add((target.name, unit))
        if (run / "fetched").exists():
            (run / "fetched").unlink()
        # The next fetch completes whatever the kill interrupted.
        subprocess.run(fetch_argv(new, root, run), check=True, capture_output=True)
        (run / "fetched").unlink()
        assert what_the_generator_sees(root) == ("new", "new")
        leftovers = [
            p.name for p in (root / "var/lib/ccgen").iterdir() if p.name.startswith((".tmp", ".old"))
        ]
        assert not leftovers, leftovers
    # The kills landed both before and after the switch, or the test proved little.
    assert ("drive-new", "old") in seen and ("drive-new", "new") in seen, seen


def test_two_fetches_at_once(tmp_path: Path) -> None:
    old, new = drive(tmp_path, "old"), drive(tmp_path, "new")
    root = tmp_path / "root"
    for i in range(10):
        runs = [tmp_path / f"run-{i}-a", tmp_path / f"run-{i}-b"]
        procs = [
            subprocess.Popen(
                fetch_argv(src, root, r), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
            )
            for src, r in zip((old, new), runs)
        ]
        for p in procs:
            _, err = p.communicate(timeout=120)
            assert p.returncode == 0 and "Traceback" not in err, err
        unit, instance = what_the_generator_sees(root)
        assert unit == instance
        files = sorted(p.name for p in (root / "var/lib/ccgen/current").iterdir())
        assert files == ["metadata", "ssh-keys", "user-data"]


def test_a_trickling_server_cannot_outlast_the_deadline(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with FakeIMDS(Behaviour(trickle=1.0)) as server:
        start = time.monotonic()
        proc = subprocess.run(
            [CCGEN, "fetch", "ec2", "--endpoint", server.url, "--cache-dir", str(cache), "--deadline", "4",
             "--run-dir", str(tmp_path / "run")],
            capture_output=True,
            text=True,
            timeout=120,
        )  # fmt: skip
        elapsed = time.monotonic() - start
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    # The whole fetch, not each read: the deadline plus process start-up and one last answer.
    assert elapsed < 4 + 3, elapsed
    assert not cache.exists() or not (cache / "current").exists()


def test_messages_not_tracebacks(tmp_path: Path) -> None:
    cases = [
        ["--endpoint", "ftp://127.0.0.1/"],
        ["--endpoint", "http://127.0.0.1:99999/"],
        ["--endpoint", "127.0.0.1"],
        ["--deadline", "nan"],
        ["--deadline", "-1"],
    ]
    for extra in cases:
        proc = subprocess.run(
            [
                CCGEN,
                "fetch",
                "ec2",
                "--cache-dir",
                str(tmp_path / "c"),
                "--run-dir",
                str(tmp_path / "r"),
                *extra,
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode in (1, 2) and "Traceback" not in proc.stderr, (extra, proc.stderr)
        # One line that says what is wrong (after the usage, for a bad option).
        assert proc.stderr.strip().splitlines()[-1].startswith("ccgen fetch: "), proc.stderr


def test_bad_tokens_and_key_indexes(tmp_path: Path) -> None:
    for behaviour, expect in (
        (Behaviour(raw_keys_listing="\u0661=key\n0=mykey\n".encode()), 0),
        (Behaviour(user_data=b"#cloud-config\n"), 0),
    ):
        with FakeIMDS(behaviour) as server:
            proc = subprocess.run(
                [CCGEN, "fetch", "ec2", "--endpoint", server.url, "--cache-dir", str(tmp_path / "c"),
                 "--run-dir", str(tmp_path / f"r{expect}")],
                capture_output=True,
                text=True,
                timeout=60,
            )  # fmt: skip
        assert proc.returncode == expect and "Traceback" not in proc.stderr, proc.stderr
    # A token with a line break or non-ASCII bytes would smuggle a header: refused, in one line.
    with FakeIMDS() as server:
        server.issued = 0
        orig = server._token

        def evil_token(h: object, path: str) -> None:
            server._send(h, 200, b"tok\r\nX-Evil: 1")  # type: ignore[arg-type]

        server._token = evil_token  # type: ignore[method-assign]
        proc = subprocess.run(
            [CCGEN, "fetch", "ec2", "--endpoint", server.url, "--cache-dir", str(tmp_path / "c2"),
             "--run-dir", str(tmp_path / "r9")],
            capture_output=True,
            text=True,
            timeout=60,
        )  # fmt: skip
        server._token = orig  # type: ignore[method-assign]
    assert proc.returncode == 1 and "not a valid header value" in proc.stderr, proc.stderr
    assert os.path.exists(tmp_path / "c") and not (tmp_path / "c2" / "current").exists()
