"""The precompiled plan: replayed only when nothing it was made from changed, and then the
output is byte for byte the full compile's.

Every read a compile makes is fingerprinted (generator/read/inputs.py's Reader); a read that
went around the Reader would make a stale plan replayable, so one test makes every other
way of reading fail while a compile runs.
"""

from __future__ import annotations

import builtins
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ccgen import boot
from ccgen.base import cache, names, record
from ccgen.base.diag import Diagnostics
from ccgen.bootpath import planfile
from ccgen.read import inputs

from . import helpers

UNIT = "[Unit]\nDescription=u\n[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n"
units = st.lists(
    st.fixed_dictionaries(
        {
            "name": st.sampled_from(
                ["a.service", "b.service", "t@.service", "t@x.service", "m.mount", "ccgen-x.service"]
            ),
            "command": st.sampled_from(["start", "stop", "restart"]),
            "enable": st.booleans(),
            "content": st.sampled_from([UNIT, "[Mount]\nWhat=/dev/vdb\nWhere=/m\n", ""]),
        }
    ),
    max_size=4,
)
configs = st.fixed_dictionaries(
    {
        "hostname": st.sampled_from(["h1", "bad_name", "web.example.com"]),
        "coreos": st.fixed_dictionaries(
            {"units": units, "etcd2": st.fixed_dictionaries({"name": st.sampled_from(["%H", "n1", "100%"])})}
        ),
        "write_files": st.lists(
            st.fixed_dictionaries({"path": st.sampled_from(["/etc/a", "/run/b", "/usr/c"])}), max_size=2
        ),
    }
)


def make_root(root: Path, config: dict[str, Any]) -> Path:
    user = "#cloud-config\n" + yaml.safe_dump(config)
    return helpers.make_root(
        root,
        {
            # The OEM enables an installed unit, so its file is one of the compile's inputs, and
            # uses a variable the metadata lacks, so /etc/environment is one too.
            "/usr/share/oem/cloud-config.yml": (
                "#cloud-config\ncoreos:\n  oem: {id: ec2}\n  units: [{name: vendor.service, enable: true}]\n"
                "write_files: [{path: /etc/v6, content: $public_ipv6}]\n"
            ),
            cache.USER_DATA: user,
            cache.METADATA: "INSTANCE_ID=i-1\nSTATE=present\nLOCAL_IPV4=10.0.0.1\n",
            "/proc/cmdline": "root=/dev/vda quiet\n",
            "/etc/environment": "COREOS_PUBLIC_IPV4=203.0.113.1\n",
            "/lib/systemd/system/vendor.service": UNIT,
        },
    )


ENV = {"SYSTEMD_VIRTUALIZATION": "vm:kvm"}


def run(root: Path, out: Path) -> tuple[str, dict[str, str]]:
    """The generator's mode and everything it wrote (bookkeeping included, record without its mode)."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir()
    outcome = boot.generate(str(out), str(root), Diagnostics(), environ=dict(ENV))
    tree = helpers.tree(out)
    rec = (out / record.NAME).read_text().split("\n", 1)[1]
    return outcome.mode, {**tree, record.NAME: rec}


def keep(out: Path, root: Path) -> None:
    """What ccgen-apply does with the generator's plan."""
    dest = root / cache.PLAN.lstrip("/")
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(out / names.PLAN_CANDIDATE, dest)


def perturbations(root: Path) -> list[tuple[str, Any]]:
    """One change to each kind of input the fingerprint covers."""
    return [
        (
            "user-data",
            lambda: (root / cache.USER_DATA.lstrip("/")).write_text("#cloud-config\nhostname: other\n"),
        ),
        ("oem", lambda: (root / "usr/share/oem/cloud-config.yml").write_text("#cloud-config\n")),
        (
            "metadata",
            lambda: (root / cache.METADATA.lstrip("/")).write_text("INSTANCE_ID=i-2\nSTATE=present\n"),
        ),
        ("cmdline", lambda: (root / "proc/cmdline").write_text("root=/dev/vda ccgen.provider=none\n")),
        ("environment", lambda: (root / "etc/environment").write_text("COREOS_PUBLIC_IPV4=203.0.113.9\n")),
        ("ssh-keys", lambda: helpers.make_root(root, {cache.SSH_KEYS: "ssh-ed25519 AAAAnew\n"})),
        ("a unit installed", lambda: helpers.make_root(root, {"/etc/systemd/system/new.service": UNIT})),
        (
            "an installed unit changed",
            lambda: (root / "lib/systemd/system/vendor.service").write_text(UNIT + "\n"),
        ),
        ("fstab", lambda: helpers.make_root(root, {"/etc/fstab": "/dev/vdb /var ext4 rw 0 2\n"})),
        ("virtualization", lambda: ENV.update(SYSTEMD_VIRTUALIZATION="container:docker")),
    ]


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(configs, st.integers(0, 9))
def test_replay_equals_the_full_compile_and_any_change_forces_one(config: dict[str, Any], which: int) -> None:
    import tempfile

    ENV.clear()
    ENV.update(SYSTEMD_VIRTUALIZATION="vm:kvm")
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        root = make_root(base / "root", config)
        mode, full = run(root, base / "out")
        assert mode == "full"
        keep(base / "out", root)
        mode, replayed = run(root, base / "out")
        assert mode == "replayed"
        assert replayed == full
        # Change one input: the plan must not be replayed, and the output is a fresh compile's.
        name, change = perturbations(root)[which]
        change()
        mode, after = run(root, base / "out")
        assert mode == "full", f"a plan was replayed after a change to {name}"
        (root / cache.PLAN.lstrip("/")).unlink(missing_ok=True)
        mode, fresh = run(root, base / "out")
        assert mode == "full" and after == fresh, name
    ENV.update(SYSTEMD_VIRTUALIZATION="vm:kvm")


def test_every_read_goes_through_the_reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A compile that read anything around the Reader would escape the fingerprint."""
    from ccgen import compile as pipeline
    from ccgen.providers import registry

    root = make_root(
        tmp_path / "root", {"coreos": {"units": [{"name": "a.service", "command": "start", "content": UNIT}]}}
    )
    # Imported once before: module imports are not inputs (and the backends are equal).
    registry.providers()
    from ccgen import ext  # noqa: F401
    from ccgen.units import render  # noqa: F401

    yaml.SafeLoader("")

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a read outside the Reader: {args!r}")

    class Environ(dict[str, str]):
        def __getitem__(self, key: str) -> str:
            raise AssertionError(f"the environment read outside the Reader: {key}")

        def get(self, key: str, default: Any = None) -> Any:
            raise AssertionError(f"the environment read outside the Reader: {key}")

    reader = inputs.Reader(str(root), dict(ENV), argv0="/usr/lib/systemd/system-generators/ccgen-generator")
    for target, name in (
        (os, "open"),
        (os, "listdir"),
        (os, "stat"),
        (os, "lstat"),
        (os, "scandir"),
        (os, "access"),
        (os.path, "exists"),
        (os.path, "isfile"),
        (os.path, "isdir"),
        (os.path, "realpath"),
        (builtins, "open"),
    ):
        monkeypatch.setattr(target, name, refuse)
    monkeypatch.setattr(os, "environ", Environ())
    diags = Diagnostics()
    try:
        compiled = pipeline.compile_boot(reader, diags)
    finally:
        monkeypatch.undo()
    assert "a.service" in compiled.plan and not diags.has_errors(), [d.format() for d in diags.sorted()]


def test_a_plan_from_another_version_or_damaged_is_ignored(tmp_path: Path) -> None:
    root = make_root(tmp_path / "root", {"hostname": "h"})
    out = tmp_path / "out"
    assert run(root, out)[0] == "full"
    keep(out, root)
    plan = root / cache.PLAN.lstrip("/")
    good = plan.read_bytes()
    for bad in (good.replace(b"0.1.0", b"9.9.9", 1), good[:-20], b"not a plan", good[:11] + b"\x00" * 30):
        plan.write_bytes(bad)
        assert run(root, out)[0] == "full"
    plan.write_bytes(good)
    assert run(root, out)[0] == "replayed"
    # ccgen.plan=0 on the kernel command line forces a full compile.
    (root / "proc/cmdline").write_text("root=/dev/vda ccgen.plan=0\n")
    assert run(root, out)[0] == "full"


def test_planfile_round_trip(tmp_path: Path) -> None:
    """dump then load gives back what was compiled; truncated, junk or another format: None."""
    from ccgen import compile as pipeline
    from ccgen.bootpath.write import entries_of

    root = make_root(
        tmp_path / "root", {"hostname": "h", "coreos": {"units": [{"name": "a.service", "content": UNIT}]}}
    )
    reader = inputs.Reader(str(root), {})
    diags = Diagnostics()
    compiled = pipeline.compile_boot(reader, diags)
    found = diags.sorted()
    data = planfile.dump(reader, compiled.plan, found, "the record\n")
    stored = planfile.load(data)
    assert stored is not None
    fingerprint, entries, lines, text = stored
    assert entries == tuple(entries_of(compiled.plan)) and any(e[1] == "a.service" for e in entries)
    assert lines == tuple((int(d.severity), d.format()) for d in found)
    assert text == "the record\n"
    assert dict(((k, key), seen) for k, key, seen in fingerprint) == reader.seen
    assert any(k == "file" and key.startswith(inputs.OEM_PATH + "\0") for k, key in reader.seen)
    assert planfile.matches(fingerprint, str(root), {}, "")
    for bad in (b"", data[:-5], planfile.MAGIC + b"junk", data.replace(planfile.MAGIC, b"ccgen-plam\n", 1)):
        assert planfile.load(bad) is None


def test_prime_makes_the_first_boot_replay(tmp_path: Path) -> None:
    import subprocess

    root = make_root(tmp_path / "root", {"hostname": "primed"})
    # The generator in system-generators is an absolute link to where the package keeps it:
    # prime must follow it inside the image, not on the host.
    real = root / "usr/libexec/ccgen/ccgen-generator"
    real.parent.mkdir(parents=True)
    real.write_text("#!/bin/sh\n")
    gen = root / "usr/lib/systemd/system-generators/ccgen-generator"
    gen.parent.mkdir(parents=True)
    gen.symlink_to("/usr/libexec/ccgen/ccgen-generator")
    proc = subprocess.run(
        [str(helpers.installed_script("ccgen")), "prime", "--root", str(root),
         "--cmdline", "root=/dev/vda quiet", "--virtualization", "vm:kvm",
         "--generator", "/usr/lib/systemd/system-generators/ccgen-generator"],
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "out"
    out.mkdir()
    # The booted image: the generator runs from its installed path, which at boot (root /)
    # it records with links resolved; under a test root it records what it is given.
    outcome = boot.generate(
        str(out),
        str(root),
        Diagnostics(),
        environ={"SYSTEMD_VIRTUALIZATION": "vm:kvm"},
        argv0="/usr/libexec/ccgen/ccgen-generator",
    )
    assert outcome.mode == "replayed"
    assert (out / "ccgen-apply.service").exists()
    # Nothing in the fingerprint names where this copy of ccgen is installed: an image primed
    # by the builder's ccgen replays under the image's own copy of the same version.
    stored = planfile.load((root / cache.PLAN.lstrip("/")).read_bytes())
    assert stored is not None
    here = str(Path(boot.__file__).resolve().parent.parent)
    assert not [key for _, key, _ in stored[0] if here in key]
    assert ("pkgdir", "providers/sources") in [(kind, key) for kind, key, _ in stored[0]]


def test_apply_keeps_the_plan_and_leaves_its_stamp(tmp_path: Path) -> None:
    import subprocess

    root = make_root(tmp_path / "root", {"write_files": [{"path": "/etc/x", "content": "y"}]})
    out = root / names.NORMAL_DIR.lstrip("/")
    out.mkdir(parents=True)
    assert boot.generate(str(out), str(root), Diagnostics(), environ=dict(ENV)).mode == "full"
    unit = (out / names.APPLY).read_text()
    stamp = next(ln.split("=|!", 1)[1] for ln in unit.splitlines() if ln.startswith("ConditionPathExists=|!"))
    assert f"ConditionPathExists=|{names.NORMAL_DIR}/{names.PLAN_CANDIDATE}" in unit
    proc = subprocess.run(
        [str(helpers.installed_script("ccgen")), "apply", "--root", str(root), "--boot"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert (root / stamp.lstrip("/")).exists(), "apply left no stamp"
    assert (root / cache.PLAN.lstrip("/")).read_bytes() == (out / names.PLAN_CANDIDATE).read_bytes()
    assert len(list((root / cache.APPLIED.lstrip("/")).glob("stamp-*"))) == 1
    # The next boot replays the plan, and ccgen-apply is skipped by its condition: no process.
    shutil.rmtree(out)
    out.mkdir()
    assert boot.generate(str(out), str(root), Diagnostics(), environ=dict(ENV)).mode == "replayed"
    assert not (out / names.PLAN_CANDIDATE).exists()
    assert stamp in (out / names.APPLY).read_text()


def test_files_in_run_mean_apply_runs_at_every_boot(tmp_path: Path) -> None:
    root = make_root(tmp_path / "root", {"write_files": [{"path": "/run/x", "content": "y"}]})
    out = tmp_path / "out"
    run(root, out)
    assert "Condition" not in (out / names.APPLY).read_text()


MOUNTS_RW = "22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n"
MOUNTS_RO = MOUNTS_RW + "30 22 254:3 / /usr ro,relatime shared:5 - ext4 /dev/vda3 ro\n"


def test_the_plan_records_whether_usr_is_read_only_not_the_mount_table(tmp_path: Path) -> None:
    """A file under /usr makes the compile ask whether /usr is read-only; the plan keeps the
    answer, so a mount table that differs at every boot (ids, other mounts) still replays,
    and a /usr that became read-only does not."""
    root = make_root(tmp_path / "root", {"write_files": [{"path": "/usr/local/bin/x", "content": "y"}]})
    helpers.make_root(root, {"/proc/self/mountinfo": MOUNTS_RW})
    out = tmp_path / "out"
    assert run(root, out)[0] == "full"
    keep(out, root)
    helpers.make_root(
        root,
        {"/proc/self/mountinfo": MOUNTS_RW.replace("22 1", "97 3") + "40 22 0:5 / /mnt rw - tmpfs t rw\n"},
    )
    assert run(root, out)[0] == "replayed"
    helpers.make_root(root, {"/proc/self/mountinfo": MOUNTS_RO})
    mode, tree = run(root, out)
    assert mode == "full"
    assert "file cannot be written to a read-only filesystem" in tree[record.NAME]


@pytest.mark.parametrize(
    ("table", "state"),
    [
        (MOUNTS_RW, "rw"),
        (MOUNTS_RO, "ro"),
        (
            MOUNTS_RO + "31 22 254:4 / /usr rw,relatime - ext4 /dev/vda4 rw\n",
            "rw",
        ),  # mounted over: the last wins
        ("30 22 254:3 / /usrlocal ro - ext4 /dev/x ro\n" + MOUNTS_RW, "rw"),  # not a parent of /usr
        ("", ""),
        ("garbage\n\0\0\0\r\n\n   \n", ""),
        ("22 1 254:1 / / rw\r\n", "rw"),
        ("22 1 254:1 / /\\040usr ro - x y ro\n" + MOUNTS_RW, "rw"),  # an escaped space is another path
        ("x" * (5 * 1024 * 1024), ""),  # past the read bound: a single damaged line
    ],
)
def test_mount_table_parser_hostile(tmp_path: Path, table: str, state: str) -> None:
    from ccgen.bootpath import fingerprint

    path = tmp_path / "mountinfo"
    path.write_text(table)
    assert fingerprint.mount_state(str(path), "/usr") == state


def test_mount_table_not_a_regular_file(tmp_path: Path) -> None:
    from ccgen.bootpath import fingerprint

    os.mkfifo(tmp_path / "fifo")
    assert fingerprint.mount_state(str(tmp_path / "fifo"), "/usr") == ""
    assert fingerprint.mount_state(str(tmp_path / "missing"), "/usr") == ""


# Issue 22, finding 2: a damaged or crafted plan is never replayed, and nothing a plan holds can
# cost the boot its output or make the replay write outside the output directory.


def damaged_setup(tmp: Path) -> tuple[Path, Path, bytes, tuple[str, dict[str, str]]]:
    root = make_root(
        tmp / "root",
        {"hostname": "h", "coreos": {"units": [{"name": "a.service", "content": UNIT, "enable": True}]}},
    )
    out = tmp / "out"
    baseline = run(root, out)
    assert baseline[0] == "full"
    keep(out, root)
    plan = root / cache.PLAN.lstrip("/")
    assert run(root, out) == ("replayed", baseline[1])
    return root, out, plan.read_bytes(), baseline


def check_flip(
    root: Path, out: Path, good: bytes, baseline: tuple[str, dict[str, str]], at: int, x: int
) -> str:
    plan = root / cache.PLAN.lstrip("/")
    bad = bytearray(good)
    bad[at] ^= x
    plan.write_bytes(bytes(bad))
    mode, written = run(root, out)
    assert "ccgen-apply.service" in written, (at, x)
    # Either the same output replayed or a fresh compile, which is the same output too.
    assert written == baseline[1], (at, x, mode)
    return mode


def test_every_flipped_byte_of_a_plan_compiles_afresh(tmp_path: Path) -> None:
    root, out, good, baseline = damaged_setup(tmp_path)
    step = max(1, len(good) // 300)  # a bounded sample: about 300 positions, header and digest included
    positions = sorted({*range(0, 64), *range(64, len(good), step), len(good) - 1})
    modes = {check_flip(root, out, good, baseline, at, 0x01 << (at % 8)) for at in positions}
    assert modes == {"full"}, modes  # the digest covers every byte: no flip replays


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_random_damage_never_replays_other_output(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    tmp = tmp_path_factory.mktemp("flip")
    root, out, good, baseline = damaged_setup(tmp)
    at = data.draw(st.integers(0, len(good) - 1))
    x = data.draw(st.integers(1, 255))
    assert check_flip(root, out, good, baseline, at, x) == "full"


def crafted(good: bytes, change: Any) -> bytes:
    """The plan with its content changed and the digest made right again, as root could."""
    import marshal

    from ccgen.bootpath.digest import sha256

    body = good[len(planfile.MAGIC) + planfile.DIGEST :]
    value = list(marshal.loads(body))
    change(value)
    body = marshal.dumps(tuple(value))
    return planfile.MAGIC + sha256(body).digest() + body


@pytest.mark.parametrize(
    "entry",
    [
        ("f", "../../../escaped", "owned\n", 0o644),
        ("f", "/abs/escaped", "owned\n", 0o644),
        ("f", "a/b/escaped", "owned\n", 0o644),
        ("f", "x.wants/../../escaped", "owned\n", 0o644),
        ("f", "./x", "owned\n", 0o644),
        ("f", "a\nb.service", "owned\n", 0o644),
        ("f", "ok.service", "owned\n", 0o4755),
        ("l", "ccgen-apply.service", "[Unit]\x00\n", 0),
        ("x", "ok.service", "owned\n", 0o644),
        ("f", "ok.service", 7, 0o644),
    ],
)
def test_a_crafted_plan_with_a_valid_digest_is_refused(
    tmp_path: Path, entry: tuple[str, str, Any, int]
) -> None:
    root, out, good, baseline = damaged_setup(tmp_path)
    plan = root / cache.PLAN.lstrip("/")

    def add(value: list[Any]) -> None:
        value[2] = (entry, *value[2])

    plan.write_bytes(crafted(good, add))
    (tmp_path / "abs").mkdir()
    mode, written = run(root, out)
    assert mode == "full" and written == baseline[1]
    assert not [p for p in tmp_path.rglob("escaped")]
    assert not (tmp_path / "abs" / "escaped").exists()


def test_the_crafted_plan_itself_would_replay(tmp_path: Path) -> None:
    """The refusals above are the checks', not a broken re-signing: an unchanged re-signed plan replays."""
    root, out, good, baseline = damaged_setup(tmp_path)
    (root / cache.PLAN.lstrip("/")).write_bytes(crafted(good, lambda value: None))
    assert run(root, out) == ("replayed", baseline[1])


def test_a_failing_replay_falls_back_to_the_full_compile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ccgen.bootpath import replay

    root, out, _, baseline = damaged_setup(tmp_path)

    def broken(*args: object) -> None:
        raise ValueError("a replay that fails however it fails")

    monkeypatch.setattr(replay, "replay", broken)
    assert run(root, out) == ("full", baseline[1])
