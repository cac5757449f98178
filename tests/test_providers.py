"""ccgen fetch against a fake IMDS on 127.0.0.1 and config-drive trees, and the cache it keeps."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from ccgen.base.cache import Metadata
from ccgen.providers import store

from . import helpers
from .fakeimds import Behaviour, FakeIMDS


def fetch(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(helpers.installed_script("ccgen")), "fetch", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def ec2(
    server: FakeIMDS, cache: Path, *extra: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    run_dir = str(cache.parent / "run")
    return fetch(
        "ec2", "--endpoint", server.url, "--cache-dir", str(cache), "--run-dir", run_dir, *extra, env=env
    )


def test_the_default_metadata_address_is_refused_in_tests(tmp_path: Path) -> None:
    proc = fetch("ec2", "--cache-dir", str(tmp_path / "cache"), "--run-dir", str(tmp_path / "run"))
    assert proc.returncode == 2 and "refusing the platform's real metadata address" in proc.stderr
    assert not (tmp_path / "cache").exists()


def test_no_test_writes_the_real_metadata_file(tmp_path: Path) -> None:
    redirected = Path(os.environ["CCGEN_METADATA_FILE"])
    redirected.unlink(missing_ok=True)
    with FakeIMDS() as server:
        proc = ec2(server, tmp_path / "cache")
    assert proc.returncode == 0, proc.stderr
    assert not redirected.is_relative_to("/run") and "CCGEN_PROVIDER=ec2" in redirected.read_text()


def meta(cache: Path) -> dict[str, str]:
    text = (cache / "metadata").read_text()
    return dict(line.split("=", 1) for line in text.splitlines())


# EC2: each status rule


def test_imdsv2_fetches_everything(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with FakeIMDS() as server:
        proc = ec2(server, cache)
        gets = [r for r in server.requests if r[0] == "GET"]
    assert proc.returncode == 0, proc.stderr
    assert (cache / "user-data").read_bytes() == b"#cloud-config\nhostname: from-imds\n"
    assert meta(cache) == {
        "HOSTNAME": "ip-10-0-0-5.ec2.internal",
        "INSTANCE_ID": "i-0123456789abcdef0",
        "LOCAL_IPV4": "10.0.0.5",
        "PROVIDER": "ec2",
        "PUBLIC_IPV4": "203.0.113.5",
        "STATE": "present",
    }
    assert (cache / "ssh-keys").read_text() == "ssh-ed25519 AAAAimds user@imds\n"
    assert gets and all(h.get("x-aws-ec2-metadata-token") == "token-1" for _, _, h in gets)
    assert server.count("PUT") == 1


def test_user_data_404_is_known_absent(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with FakeIMDS(Behaviour(user_data=None)) as server:
        proc = ec2(server, cache)
    assert proc.returncode == 0, proc.stderr
    assert meta(cache)["STATE"] == "absent"
    assert not (cache / "user-data").exists()


def test_token_403_means_disabled_no_retry(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with FakeIMDS(Behaviour(token="forbidden")) as server:
        proc = ec2(server, cache)
        assert server.count() == 1 and server.count("GET") == 0
    assert proc.returncode == 0 and "disabled" in proc.stderr
    assert not cache.exists()


@pytest.mark.parametrize("missing", ["missing404", "missing405"])
def test_no_token_endpoint_falls_back_to_imdsv1(tmp_path: Path, missing: str) -> None:
    cache = tmp_path / "cache"
    with FakeIMDS(Behaviour(token=missing)) as server:
        proc = ec2(server, cache)
        gets = [h for m, _, h in server.requests if m == "GET"]
    assert proc.returncode == 0, proc.stderr
    assert gets and all("x-aws-ec2-metadata-token" not in h for h in gets)
    assert meta(cache)["STATE"] == "present"


def test_expired_token_is_renewed_once(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with FakeIMDS(Behaviour(token_uses=2)) as server:
        proc = ec2(server, cache)
        puts = server.count("PUT")
    assert proc.returncode == 0, proc.stderr
    assert puts >= 2 and meta(cache)["STATE"] == "present"


def test_a_token_rejected_twice_is_an_error(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with FakeIMDS(Behaviour(token_uses=0)) as server:
        proc = ec2(server, cache)
        assert server.count("PUT") == 2  # the first token and exactly one renewal
    assert proc.returncode == 1 and "HTTP 401" in proc.stderr


@pytest.mark.parametrize("status", [500, 503, 429])
def test_transient_errors_are_retried(tmp_path: Path, status: int) -> None:
    cache = tmp_path / "cache"
    with FakeIMDS(Behaviour(fail_first=3, fail_status=status)) as server:
        proc = ec2(server, cache)
    assert proc.returncode == 0, proc.stderr
    assert meta(cache)["STATE"] == "present"


def test_token_endpoint_failing_never_falls_back(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with FakeIMDS(Behaviour(token="broken")) as server:
        proc = ec2(server, cache, "--deadline", "2")
        assert server.count("GET") == 0, "a transient token error must not become IMDSv1"
    assert proc.returncode == 1 and "deadline" in proc.stderr


def test_failure_keeps_the_previous_cache(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with FakeIMDS() as server:
        assert ec2(server, cache).returncode == 0
    before = sorted((p.name, p.read_bytes()) for p in (cache / "current").iterdir())
    with FakeIMDS(Behaviour(fail_always=True)) as server:
        proc = ec2(server, cache, "--deadline", "2")
    assert proc.returncode == 1 and "cache is kept" in proc.stderr
    assert sorted((p.name, p.read_bytes()) for p in (cache / "current").iterdir()) == before


def test_truncated_body_is_a_failure_not_data(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with FakeIMDS(Behaviour(truncate={"/latest/user-data"})) as server:
        proc = ec2(server, cache, "--deadline", "2")
    assert proc.returncode == 1 and "cut short" in proc.stderr
    assert not (cache / "user-data").exists()
    with FakeIMDS(Behaviour(truncate={"/latest/user-data"}, truncate_times=1)) as server:
        proc = ec2(server, cache)
    assert proc.returncode == 0, proc.stderr
    assert (cache / "user-data").read_bytes() == Behaviour().user_data


def test_connection_reset_is_retried(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with FakeIMDS(Behaviour(reset={"/latest/user-data"}, reset_times=2)) as server:
        proc = ec2(server, cache)
    assert proc.returncode == 0, proc.stderr


def test_slow_server_is_bounded_by_the_deadline(tmp_path: Path) -> None:
    import time

    cache = tmp_path / "cache"
    start = time.monotonic()
    with FakeIMDS(Behaviour(slow=1.5)) as server:
        proc = ec2(server, cache, "--deadline", "3")
    assert proc.returncode == 1
    assert time.monotonic() - start < 15


def test_malformed_key_listing_is_reported(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with FakeIMDS(Behaviour(raw_keys_listing=b"0=good\ngarbage\n")) as server:
        proc = ec2(server, cache)
    assert proc.returncode == 0 and "malformed public-keys" in proc.stderr
    assert (cache / "ssh-keys").read_text() == "ssh-ed25519 AAAAimds user@imds\n"


def test_values_that_are_not_one_plain_word_are_dropped(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    bad = {"instance-id": "i-1", "hostname": "two words", "local-ipv4": "10.0.0.300", "public-ipv4": "$(x)"}
    with FakeIMDS(Behaviour(meta=bad)) as server:
        proc = ec2(server, cache)
    assert proc.returncode == 0, proc.stderr
    assert meta(cache) == {"INSTANCE_ID": "i-1", "PROVIDER": "ec2", "STATE": "present"}


# config-drive


def drive(tmp: Path, user_data: bytes | None, meta_data: object | bytes | None) -> Path:
    latest = tmp / "drive/openstack/latest"
    latest.mkdir(parents=True)
    if user_data is not None:
        (latest / "user_data").write_bytes(user_data)
    if meta_data is not None:
        raw = meta_data if isinstance(meta_data, bytes) else json.dumps(meta_data).encode()
        (latest / "meta_data.json").write_bytes(raw)
    return tmp / "drive"


def configdrive(source: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    return fetch(
        "configdrive",
        "--source",
        str(source),
        "--cache-dir",
        str(cache),
        "--run-dir",
        str(cache.parent / "run"),
    )


def test_configdrive_full(tmp_path: Path) -> None:
    source = drive(
        tmp_path,
        b"#cloud-config\nhostname: x\n",
        {
            "uuid": "83679162-1378-4288-a2d4-70e13ec132aa",
            "hostname": "vm-1.novalocal",
            "public_keys": {"b": "ssh-ed25519 AAAAb", "a": "ssh-ed25519 AAAAa"},
            "keys": [
                {"name": "a", "type": "ssh", "data": "ssh-ed25519 AAAAa"},
                {"type": "x509", "data": "no"},
            ],
        },
    )
    cache = tmp_path / "cache"
    proc = configdrive(source, cache)
    assert proc.returncode == 0, proc.stderr
    assert meta(cache) == {
        "HOSTNAME": "vm-1.novalocal",
        "INSTANCE_ID": "83679162-1378-4288-a2d4-70e13ec132aa",
        "PROVIDER": "configdrive",
        "STATE": "present",
    }
    assert (cache / "ssh-keys").read_text() == "ssh-ed25519 AAAAa\nssh-ed25519 AAAAb\n"


def test_configdrive_missing_and_empty_files(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    proc = configdrive(drive(tmp_path, None, None), cache)
    assert proc.returncode == 0, proc.stderr
    assert meta(cache)["STATE"] == "absent"
    proc = configdrive(drive(tmp_path / "2", b"", b""), cache)
    assert proc.returncode == 0 and meta(cache)["STATE"] == "present"
    assert (cache / "user-data").read_bytes() == b""


def test_configdrive_broken_json_keeps_the_cache(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert configdrive(drive(tmp_path, b"#cloud-config\n", {"uuid": "u1"}), cache).returncode == 0
    proc = configdrive(drive(tmp_path / "2", b"#cloud-config\nnew: 1\n", b"{not json"), cache)
    assert proc.returncode == 1 and "not valid JSON" in proc.stderr
    assert meta(cache)["INSTANCE_ID"] == "u1" and (cache / "user-data").read_bytes() == b"#cloud-config\n"


def test_configdrive_not_a_drive(tmp_path: Path) -> None:
    proc = configdrive(tmp_path, tmp_path / "cache")
    assert proc.returncode == 1 and "not a config drive" in proc.stderr


# the cache


def test_cache_modes_links_and_no_change(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    snap = store.Snapshot(b"#cloud-config\n", Metadata(instance_id="i-1", state="present"), ("k1",))
    assert store.store(str(cache), snap) is True
    assert store.store(str(cache), snap) is False
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    current = cache / "current"
    assert current.is_symlink() and stat.S_IMODE(current.resolve().stat().st_mode) == 0o700
    for name in ("user-data", "metadata", "ssh-keys"):
        assert os.readlink(cache / name) == f"current/{name}"
        assert stat.S_IMODE((current / name).stat().st_mode) == 0o600
    assert store.load(str(cache)) == snap


# Where a kill -9 at each point leaves the cache: the old snapshot until `current`
# is switched, the new one from then on; never a mix, never a half.
CRASH_POINTS = {
    "file-written": "old",
    "snapshot-renamed": "old",
    "current-switched": "new",
    "links-fixed": "new",
    "pruned-one": "new",
}

CRASHING_FETCH = """
import os, sys
from ccgen.providers import fetch, store
point = sys.argv[1]
store.checkpoint = lambda name: os._exit(137) if name == point else None
sys.exit(fetch.main(sys.argv[2:]))
"""


def crashing_fetch(point: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", CRASHING_FETCH, point, *args], capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("point", sorted(CRASH_POINTS))
def test_a_crash_leaves_the_old_cache_or_the_new_one(tmp_path: Path, point: str) -> None:
    cache = tmp_path / "cache"
    source_old = drive(tmp_path / "old", b"#cloud-config\nold: 1\n", {"uuid": "old"})
    source_new = drive(tmp_path / "new", b"#cloud-config\nnew: 1\n", {"uuid": "new"})
    assert configdrive(source_old, cache).returncode == 0
    snapshots = {"old": store.load(str(cache))}
    args = [
        "configdrive",
        "--source",
        str(source_new),
        "--cache-dir",
        str(cache),
        "--run-dir",
        str(tmp_path / "run"),
    ]
    proc = crashing_fetch(point, *args)
    assert proc.returncode == 137, proc.stderr
    now = store.load(str(cache))
    assert now is not None
    expected = CRASH_POINTS[point]
    assert now.metadata.instance_id == expected
    if expected == "old":
        assert now == snapshots["old"]
    assert (cache / "user-data").read_bytes() == f"#cloud-config\n{expected}: 1\n".encode()
    # The next run completes the change and cleans up what the crash left.
    assert configdrive(source_new, cache).returncode == 0
    loaded = store.load(str(cache))
    assert loaded is not None and loaded.metadata.instance_id == "new"
    assert sorted(p.name for p in cache.iterdir() if p.name.startswith((".tmp", ".old", "snap-"))) == [
        os.readlink(cache / "current")
    ]


def test_first_answer_wins_within_a_boot(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert configdrive(drive(tmp_path, b"#cloud-config\n", {"uuid": "cd"}), cache).returncode == 0
    with FakeIMDS() as server:
        proc = ec2(server, cache)
        assert server.count() == 0
    assert "configdrive already answered" in proc.stderr and meta(cache)["INSTANCE_ID"] == "cd"


# re-running systemd when the data changed


def fake_systemctl(tmp: Path, systemd_run_exit: int = 0) -> tuple[dict[str, str], Path]:
    """systemctl and systemd-run that log their arguments (systemd-run's prefixed `run `)."""
    bindir = tmp / "bin"
    bindir.mkdir()
    log = tmp / "systemctl.log"
    for name, line, rc in (("systemctl", "$*", 0), ("systemd-run", "run $*", systemd_run_exit)):
        script = bindir / name
        script.write_text(f'#!/bin/sh\necho "{line}" >> "{log}"\nexit {rc}\n')
        script.chmod(0o755)
    return {"PATH": f"{bindir}:{os.environ['PATH']}"}, log


def test_reload_only_when_data_changed(tmp_path: Path) -> None:
    """The fetch leaves the re-run to a transient unit ordered before ccgen.target and
    multi-user.target, whose ordering survives the reload; `ccgen rerun` does the work."""
    env, log = fake_systemctl(tmp_path)
    cache = tmp_path / "cache"
    with FakeIMDS() as server:
        for _ in range(2):
            (tmp_path / "run").mkdir(exist_ok=True)
            proc = ec2(server, cache, "--reload", env=env)
            assert proc.returncode == 0, proc.stderr
    calls = log.read_text().splitlines()
    assert len(calls) == 1, "one re-run, and the second, unchanged fetch must not reload: " + repr(calls)
    run = calls[0].split()
    assert run[0] == "run" and "--no-block" in run and "--unit=ccgen-rerun-ec2.service" in run, run
    assert "--property=Before=ccgen.target" in run and "--property=Before=multi-user.target" in run, run
    assert "--property=DefaultDependencies=no" in run, run
    assert run[-3] == "--" and run[-1] == "rerun" and Path(run[-2]).name == "ccgen", run

    log.unlink()
    proc = subprocess.run(
        [str(helpers.installed_script("ccgen")), "rerun"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    calls = log.read_text().splitlines()
    assert calls[0] == "daemon-reload"
    assert calls[1] == "--no-block restart ccgen-apply.service"
    assert calls[2].startswith("--no-block start ccgen.target")
    assert len(calls) == 3, calls


def test_reload_from_the_fetch_when_systemd_run_fails(tmp_path: Path) -> None:
    env, log = fake_systemctl(tmp_path, systemd_run_exit=1)
    (tmp_path / "run").mkdir()
    with FakeIMDS() as server:
        proc = ec2(server, tmp_path / "cache", "--reload", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "could not start ccgen-rerun-ec2.service; reloading from this unit" in proc.stderr
    calls = log.read_text().splitlines()
    assert calls[0].startswith("run ") and calls[1] == "daemon-reload", calls
    assert calls[2] == "--no-block restart ccgen-apply.service", calls


# the generator's side


def generate(root: Path, env: dict[str, str] | None = None) -> tuple[int, str, dict[str, str]]:
    out = root.parent / "out"
    out.mkdir(exist_ok=True)
    proc = subprocess.run(
        [str(helpers.installed_script("ccgen-generator")), str(out)],
        env={"PATH": os.environ["PATH"], "CCGEN_ROOT": str(root), **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return proc.returncode, proc.stderr, helpers.tree(out)


EC2_OEM = "#cloud-config\ncoreos:\n  oem:\n    id: ec2\n"


def test_no_fetch_units_in_a_container(tmp_path: Path) -> None:
    root = helpers.make_root(tmp_path / "root", {"/usr/share/oem/cloud-config.yml": EC2_OEM})
    _, _, tree = generate(root, {"SYSTEMD_VIRTUALIZATION": "container:docker"})
    assert "ccgen-fetch-ec2.service" not in tree
    _, _, tree = generate(root, {"SYSTEMD_VIRTUALIZATION": "vm:kvm"})
    assert "ccgen-fetch-ec2.service" in tree


def test_a_cache_from_another_machine_is_ignored(tmp_path: Path) -> None:
    user = (
        "#cloud-config\ncoreos:\n  units:\n"
        '    - {name: cached.service, content: "[Service]\\nExecStart=/bin/true\\n"}\n'
    )
    root = helpers.make_root(tmp_path / "root", {"/sys/class/dmi/id/product_uuid": "this-machine\n"})
    snap = store.Snapshot(
        user.encode(), Metadata(instance_id="i-old", machine_key="image-builder", state="present")
    )
    store.store(str(root / "var/lib/ccgen"), snap)
    status, stderr, tree = generate(root)
    assert status == 0 and "cached.service" not in tree
    assert "fetched on another machine" in stderr
    store.store(
        str(root / "var/lib/ccgen"),
        store.Snapshot(user.encode(), Metadata(machine_key="this-machine", state="present")),
    )
    _, _, tree = generate(root)
    assert "cached.service" in tree


def test_fetch_records_the_machine(tmp_path: Path) -> None:
    root = helpers.make_root(
        tmp_path / "root", {"/sys/class/dmi/id/board_asset_tag": "i-0123456789abcdef0\n"}
    )
    cache = tmp_path / "cache"
    with FakeIMDS() as server:
        proc = ec2(server, cache, env={"CCGEN_ROOT": str(root)})
    assert proc.returncode == 0, proc.stderr
    assert meta(cache)["MACHINE_KEY"] == "i-0123456789abcdef0"


def test_check_inputs(tmp_path: Path) -> None:
    # /var is a file system of its own, which the generator may run before.
    fstab = "/dev/vda / ext4 rw 0 1\n/dev/vdb /var ext4 rw 0 2\n"
    root = helpers.make_root(
        tmp_path / "root", {"/usr/share/oem/cloud-config.yml": EC2_OEM, "/etc/fstab": fstab}
    )
    _, _, tree = generate(root)
    unit = tree["ccgen-inputs.service"]
    digest = unit.split("--expect ")[1].split()[0]
    env, log = fake_systemctl(tmp_path)
    run = [str(helpers.installed_script("ccgen")), "check-inputs", "--expect", digest]
    full_env = {**os.environ, **env, "CCGEN_ROOT": str(root)}
    proc = subprocess.run(run, env=full_env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and not log.exists(), "same inputs: no reload"
    # /var appears after the generator ran: the cache is now visible, so compile again.
    helpers.make_root(root, {"/var/lib/ccgen/user-data": "#cloud-config\nhostname: late\n"})
    proc = subprocess.run(run, env=full_env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "compiling again" in proc.stderr
    assert log.read_text().splitlines()[0] == "daemon-reload"


def test_check_inputs_only_when_inputs_can_appear_late(tmp_path: Path) -> None:
    """ccgen-inputs.service exists only when /var or the OEM partition can be mounted after
    the generator ran: an fstab line, an installed mount unit, or one the config defines."""
    plain = helpers.make_root(tmp_path / "plain" / "root", {"/usr/share/oem/cloud-config.yml": EC2_OEM})
    assert "ccgen-inputs.service" not in generate(plain)[2]
    mount = "[Mount]\nWhat=/dev/vdb\nWhere=/var\nType=ext4\n"
    installed = helpers.make_root(
        tmp_path / "installed" / "root",
        {"/usr/share/oem/cloud-config.yml": EC2_OEM, "/etc/systemd/system/var.mount": mount},
    )
    assert "ccgen-inputs.service" in generate(installed)[2]
    oem = (
        EC2_OEM
        + "  units:\n    - name: var.mount\n      command: start\n      content: |\n"
        + "".join(f"        {line}\n" for line in mount.splitlines())
    )
    # (Each root has its own output directory: generate() writes beside the root.)
    defined = helpers.make_root(tmp_path / "defined" / "root", {"/usr/share/oem/cloud-config.yml": oem})
    tree = generate(defined)[2]
    assert "var.mount" in tree and "ccgen-inputs.service" in tree


# ccgen fetch --root: every path under one tree (issue 23)


def test_fetch_root_keeps_every_path_under_it(tmp_path: Path) -> None:
    """Two fetches of different providers into two roots: each writes only its own tree
    (cache, /run/ccgen, /run/metadata/ccgen), and neither sees the other's answer."""
    from .fakemeta import FakeMeta
    from .platforms import digitalocean

    redirected = Path(os.environ["CCGEN_METADATA_FILE"])
    redirected.unlink(missing_ok=True)
    first, second = tmp_path / "a", tmp_path / "b"
    for root in (first, second):
        helpers.make_root(root, {"/proc/cmdline": "root=/dev/vda\n"})
    with FakeIMDS() as server:
        proc = fetch("ec2", "--root", str(first), "--endpoint", server.url)
    assert proc.returncode == 0, proc.stderr
    with FakeMeta(digitalocean()) as server:
        proc = fetch("digitalocean", "--root", str(second), "--endpoint", server.url)
    assert proc.returncode == 0, proc.stderr
    assert "already answered" not in proc.stderr
    for root, provider in ((first, "ec2"), (second, "digitalocean")):
        assert meta(root / "var/lib/ccgen")["PROVIDER"] == provider
        assert (root / "run/ccgen/fetched").read_text() == provider + "\n"
        assert json.loads((root / "run/ccgen/fetch.json").read_text())["result"] == "stored"
        assert f"CCGEN_PROVIDER={provider}" in (root / "run/metadata/ccgen").read_text()
    # The session's fallback attributes file is for fetches without a root: untouched.
    assert not redirected.exists()


def test_fetch_root_reads_the_kernel_command_line_under_it(tmp_path: Path) -> None:
    helpers.make_root(tmp_path, {"/proc/cmdline": "root=/dev/vda ccgen.url=http://127.0.0.1:9/none\n"})
    proc = fetch("url", "--root", str(tmp_path), "--deadline", "2")
    # The URL came from the root's /proc/cmdline (nothing listens on port 9): tried, failed.
    assert proc.returncode == 1 and "127.0.0.1:9" in proc.stderr, proc.stderr
    assert json.loads((tmp_path / "run/ccgen/fetch.json").read_text())["result"] == "failed"


def test_device_mount_points_are_made_under_the_root() -> None:
    from ccgen.providers import device

    argv = device.mount_command("/dev/sr0", ["ccgen", "fetch", "configdrive"], "/images/x")
    script, run_dir = argv[6], argv[7]
    assert run_dir == "/images/x/run" and 'mktemp -d "$0/ccgen-source.' in script
    assert device.mount_command("/dev/sr0", ["ccgen"])[7] == "/run"
