"""ccgen validate --root IMAGE on small image trees the tests build."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from . import helpers

OEM = """#cloud-config
coreos:
  units:
    - name: good.service
      command: start
      content: |
        [Service]
        ExecStartPre=-/usr/bin/tool --check
        ExecStart=/usr/bin/tool
        ExecStartPost=sh -c 'echo started'
        ExecStop=/usr/bin/foreign
        ExecReload=/usr/bin/needs-loader
        ExecStopPost=/usr/bin/not-executable
        ExecCondition=/opt/missing/bin/x %i
    - name: script.service
      content: "[Service]\\nExecStart=/usr/bin/script\\nExecStartPre=/usr/bin/py-script\\n"
    - name: vendor.service
      enable: true
    - name: ghost.service
      enable: true
      mask: true
    - name: nowhere.service
      drop-ins:
        - {name: 10-x.conf, content: "[Service]\\n"}
    - name: 10-eth0.network
      drop-ins:
        - {name: 10-x.conf, content: "[Network]\\n"}
write_files:
  - path: /usr/lib/ro.conf
    content: x
"""


UNIT_GONE = (
    "#cloud-config\ncoreos:\n  units:\n    - name: x.service\n"
    '      content: "[Service]\\nExecStart=/usr/bin/gone\\n"\n'
)


VENDOR_UNIT = "[Service]\nExecStart=/usr/bin/tool\n[Install]\nWantedBy=a.target\n"


def elf_with_machine(src: Path, dest: Path, machine: int) -> None:
    data = bytearray(src.read_bytes())
    data[18:20] = machine.to_bytes(2, "little")
    dest.write_bytes(bytes(data))
    dest.chmod(0o755)


def build_image(root: Path) -> Path:
    sh = Path(os.path.realpath(shutil.which("sh") or "/bin/sh"))
    true = Path(os.path.realpath(shutil.which("true") or "/bin/true"))
    helpers.make_root(
        root,
        {
            "/usr/share/oem/cloud-config.yml": OEM,
            "/usr/lib/systemd/system/vendor.service": VENDOR_UNIT,
            "/usr/bin/script": "#!/usr/bin/python9\nprint()\n",
            "/usr/bin/py-script": "#!/usr/bin/sh\necho\n",
            "/usr/bin/not-executable": "data\n",
            "/lib64/ld-linux-x86-64.so.2": "",
        },
    )
    for name in ("script", "py-script"):
        (root / "usr/bin" / name).chmod(0o755)
    shutil.copy(sh, root / "usr/bin/sh")
    (root / "bin").symlink_to("usr/bin")  # usrmerge: resolved inside the image
    shutil.copy(true, root / "usr/bin/tool")
    elf_with_machine(true, root / "usr/bin/foreign", 183)  # AArch64
    # An ELF whose program interpreter the image lacks: point PT_INTERP at a longer-lived name.
    data = true.read_bytes()
    assert b"/lib64/ld-linux-x86-64.so.2" in data
    (root / "usr/bin/needs-loader").write_bytes(
        data.replace(b"/lib64/ld-linux-x86-64.so.2", b"/lib64/ld-missing-x86-64.so")
    )
    (root / "usr/bin/needs-loader").chmod(0o755)
    return root


def validate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(helpers.installed_script("ccgen")), "validate", "--format", "json", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_image_checks(tmp_path: Path) -> None:
    root = build_image(tmp_path / "image")
    proc = validate("--root", str(root))
    assert proc.returncode == 1, proc.stderr
    found = {(d["line"], d["column"], d["code"]): d["message"] for d in json.loads(proc.stdout)}
    # Keyed by position and code; mask and enable of ghost.service share one, so "names ghost".
    expected = {
        (11, 9, "image-arch"): "/usr/bin/foreign is built for EM_AARCH64, the image is EM_X86_64",
        (12, 9, "image-interp"): "needs /lib64/ld-missing-x86-64.so, which is not in the image",
        (13, 9, "image-not-executable"): "/usr/bin/not-executable is not an executable file",
        (14, 9, "image-missing"): "/opt/missing/bin/x is not in the image",
        (16, 16, "image-interp"): "a script for /usr/bin/python9, which is not in the image",
        (
            19,
            13,
            "image-unknown-unit",
        ): "names ghost.service, which is neither in the config nor in the image",
        (22, 13, "image-unknown-unit"): "drop-ins names nowhere.service",
        (29, 11, "read-only"): "file cannot be written to a read-only filesystem",
    }
    assert set(found) == set(expected), proc.stdout
    for key, fragment in expected.items():
        assert fragment in found[key], (key, found[key])
    assert len(json.loads(proc.stdout)) == 9  # ghost.service twice: enable and mask


def test_missing_program_and_explicit_file(tmp_path: Path) -> None:
    root = build_image(tmp_path / "image")
    cfg = tmp_path / "other.yml"
    cfg.write_text(UNIT_GONE)
    proc = validate("--root", str(root), str(cfg))
    assert json.loads(proc.stdout) == [
        {
            "file": str(cfg),
            "line": 5,
            "column": 16,
            "severity": "error",
            "code": "image-missing",
            "message": "/usr/bin/gone is not in the image",
            "detail": "",
        }
    ]


def test_without_root_nothing_is_checked_against_this_machine(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yml"
    cfg.write_text(UNIT_GONE)
    assert validate(str(cfg)).stdout.strip() == "[]"
