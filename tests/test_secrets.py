"""No secret ever appears in a unit, a message, a record or a log: secrets are fed into
every error path here, and every output is searched for them."""

from __future__ import annotations

import subprocess
from pathlib import Path

from . import helpers

# Each in a field the key table marks secret (users[].passwd, *.etcd_password).
SECRETS = [
    "S3CRET-HASH-ONE",
    "S3CRET-OEM-HASH",
    "S3CRET-FLEET-PW",
    "S3CRET-LOCK-PW",
    "S3CRET-FLANNEL-PW",
    # cloud-init's: users[].plain_text_passwd and hashed_passwd, chpasswd.users and .list
    "S3CRET-PLAIN-TEXT",
    "S3CRET-CHPASSWD",
    # ssh_keys' private parts
    "S3CRET-SSH-HOSTKEY",
]
# A broken OEM config with a secret right where the parser stops.
OEM = "#cloud-config\nusers: [{name: oem, passwd: S3CRET-OEM-HASH\n"

CONFIG = """#cloud-config
users:
  - name: alice
    passwd: "$6$S3CRET-HASH-ONE"
  - name: bob
    passwd: "S3CRET-HASH-ONE:with-a-colon"
  - name: carol
    passwd: {S3CRET-HASH-ONE: 1}
  - name: "bad name"
    passwd: S3CRET-HASH-ONE
  - name: dora
    plain_text_passwd: "S3CRET-PLAIN-TEXT"
    lock_passwd: false
  - name: erin
    plain_text_passwd: "S3CRET-PLAIN-TEXT:colon"
    hashed_passwd: [S3CRET-HASH-ONE]
  - name: fred
    plain_text_passwd: S3CRET-PLAIN-TEXT
    uid: S3CRET-NOT-A-UID
chpasswd:
  users:
    - {name: root, password: S3CRET-CHPASSWD-TEXT, type: text}
    - {name: root, password: "S3CRET-CHPASSWD-BAD:colon", type: text}
    - {name: "bad name", password: S3CRET-CHPASSWD-HASH}
    - {name: nobody-here, password: S3CRET-CHPASSWD-MISSING, type: text}
    - {name: root, password: S3CRET-CHPASSWD-RANDOM, type: RANDOM}
    - {name: root, password: [S3CRET-CHPASSWD-LISTED]}
  list:
    - "root:S3CRET-CHPASSWD-LIST"
    - "S3CRET-CHPASSWD-NOCOLON"
    - {S3CRET-CHPASSWD-MAP: 1}
ssh_keys:
  rsa_private: "S3CRET-SSH-HOSTKEY is no key"
  dsa_private: [S3CRET-SSH-HOSTKEY-LISTED]
  ed25519_private: "-----BEGIN OPENSSH PRIVATE KEY-----\\nS3CRET-SSH-HOSTKEY-NUL\\0\\n"
  ecdsa_private: |
    -----BEGIN OPENSSH PRIVATE KEY-----
    S3CRET-SSH-HOSTKEY-BODY
    -----END OPENSSH PRIVATE KEY-----
coreos:
  fleet:
    etcd_password: [S3CRET-FLEET-PW]
  locksmith:
    etcd_password: "S3CRET-LOCK-PW 100% \\\\ \\" $HOME"
    group: web
  flannel:
    etcd_password: S3CRET-FLANNEL-PW
  units:
    - name: locksmithd.service
      command: start
    - name: ccgen-apply.service
      content: S3CRET-NOT
write_files:
  - path: /etc/x
    permissions: S3CRET-NOT-A-MODE
"""


def outputs(tmp_path: Path) -> dict[str, str]:
    """Everything ccgen says or writes for CONFIG, other than the places secrets belong."""
    ccgen = str(helpers.installed_script("ccgen"))
    generator = str(helpers.installed_script("ccgen-generator"))
    root = helpers.make_root(
        tmp_path / "root", {"/var/lib/ccgen/user-data": CONFIG, "/usr/share/oem/cloud-config.yml": OEM}
    )
    out = root / "run/systemd/generator"
    out.mkdir(parents=True)
    kmsg = tmp_path / "kmsg"
    kmsg.touch()
    said: dict[str, str] = {}
    gen = subprocess.run(
        ["sh", "-c", f'SYSTEMD_EXEC_PID=$$ exec "{generator}" "{out}"'],
        env={"PATH": "/usr/bin:/bin", "CCGEN_ROOT": str(root), "CCGEN_KMSG": str(kmsg)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    said["generator stderr"] = gen.stderr
    said["kmsg"] = kmsg.read_text()
    for p in out.rglob("*"):
        # The plan holds the whole config on purpose, root-only (0600); everything else is
        # world-readable.
        if p.is_file() and p.name != ".ccgen-plan":
            said[f"generated {p.relative_to(out)}"] = p.read_text()
    cfg = tmp_path / "user-data"
    cfg.write_text(CONFIG)
    for fmt in ("text", "json"):
        v = subprocess.run(
            [ccgen, "validate", "--format", fmt, str(cfg)], capture_output=True, text=True, timeout=60
        )
        said[f"validate {fmt}"] = v.stdout + v.stderr
    shown = subprocess.run([ccgen, "--print", str(cfg)], capture_output=True, text=True, timeout=60)
    said["print"] = shown.stdout + shown.stderr
    helpers.make_root(root, {"/etc/passwd": "root:x:0:0::/root:/bin/sh\n", "/etc/group": "root:x:0:\n"})
    a = subprocess.run(
        [ccgen, "apply", "--root", str(root), "--boot"], capture_output=True, text=True, timeout=120
    )
    said["apply"] = a.stdout + a.stderr
    for rec in ("run/ccgen/apply.json", "var/lib/ccgen/applied/last.json"):
        if (root / rec).exists():
            said[rec] = (root / rec).read_text()
    for fmt in ("text", "json"):
        s = subprocess.run(
            [ccgen, "status", "--root", str(root), "--format", fmt],
            capture_output=True,
            text=True,
            timeout=60,
        )
        said[f"status {fmt}"] = s.stdout + s.stderr
    return said


def test_no_secret_anywhere(tmp_path: Path) -> None:
    said = outputs(tmp_path)
    reached = " ".join(said.values())
    for code in ("yaml-syntax", "user-field", "type", "invalid-value", "unit-reserved", "deprecated"):
        assert f"[{code}]" in reached, f"the {code} error path was not reached"
    leaks = [(where, s) for where, text in said.items() for s in SECRETS if s in text]
    assert not leaks, leaks
    # The cloud-init steps ran and failed where they should, without saying the secret.
    assert "chpasswd: error: nobody-here: user nobody-here does not exist" in said["apply"]
    # Where the secrets do go: root-only files.
    env = tmp_path / "root/var/lib/ccgen/env/locksmithd.service.env"
    assert env.exists() and env.stat().st_mode & 0o077 == 0 and "S3CRET-LOCK-PW" in env.read_text()
    host_key = tmp_path / "root/etc/ssh/ssh_host_ecdsa_key"
    assert host_key.stat().st_mode & 0o077 == 0 and "S3CRET-SSH-HOSTKEY-BODY" in host_key.read_text()
    flannel = tmp_path / "root/run/flannel/options.env"
    assert flannel.stat().st_mode & 0o077 == 0 and "S3CRET-FLANNEL-PW" in flannel.read_text()
