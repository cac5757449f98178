"""ccgen apply --root with cloud-init's dialect: every effect asserted in the image tree."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from . import helpers
from .test_apply import apply, mode
from .test_apply import root as root


def group_members(root: Path, name: str) -> list[str] | None:
    for line in (root / "etc/group").read_text().splitlines():
        fields = line.split(":")
        if fields[0] == name:
            return [m for m in fields[3].split(",") if m]
    return None


def shadow(root: Path, name: str) -> list[str]:
    line = next(ln for ln in (root / "etc/shadow").read_text().splitlines() if ln.startswith(name + ":"))
    return line.split(":")


def apply_boot(root: Path, oem: str, userdata: str) -> subprocess.CompletedProcess[str]:
    """`ccgen apply --boot` with this OEM config and user-data in the image tree."""
    for path, text in (("usr/share/oem/cloud-config.yml", oem), ("var/lib/ccgen/user-data", userdata)):
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text("#cloud-config\n" + text)
    return subprocess.run(
        [str(helpers.installed_script("ccgen")), "apply", "--root", str(root), "--boot"],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_users_sudo_groups_and_passwords(root: Path) -> None:
    config = """groups:
  - admins: [core, alice]
  - ops
users:
  - name: alice
    groups: wheel, docker
    sudo: ALL=(ALL) NOPASSWD:ALL
    plain_text_passwd: Pl41n-S3cret
    lock_passwd: false
    uid: 1500
    expiredate: "2040-01-01"
    shell: /bin/sh
  - name: bob
    hashed_passwd: $6$salt$bobhash
    sudo: ["ALL=(ALL) /usr/bin/systemctl", "ALL=(ALL) /usr/bin/journalctl"]
  - name: carol
    sudo: false
    primary_group: carol-team
    groups: [wheel]
    no_user_group: true
"""
    proc = apply(root, config)
    assert proc.returncode == 0, proc.stderr
    sudoers = root / "etc/sudoers.d/90-ccgen-users"
    assert mode(sudoers) == 0o440 and sudoers.stat().st_uid == 0
    assert sudoers.read_text().splitlines()[1:] == [
        "alice ALL=(ALL) NOPASSWD:ALL",
        "bob ALL=(ALL) /usr/bin/systemctl",
        "bob ALL=(ALL) /usr/bin/journalctl",
    ]
    # Comma-string groups, created when missing (create_groups defaults to true).
    assert group_members(root, "wheel") == ["alice", "carol"]
    assert group_members(root, "docker") == ["alice"]
    # Top-level groups: created first, members added once the users exist.
    assert group_members(root, "admins") == ["core", "alice"]
    assert group_members(root, "ops") == []
    assert group_members(root, "carol-team") == []
    alice = next(ln for ln in (root / "etc/passwd").read_text().splitlines() if ln.startswith("alice:"))
    assert alice.split(":")[2] == "1500" and alice.endswith(":/bin/sh")
    a = shadow(root, "alice")
    # Hashed on the machine, never stored in clear; not locked (lock_passwd: false).
    assert a[1].startswith("$6$") and "Pl41n-S3cret" not in (root / "etc/shadow").read_text()
    assert a[7] == str((2040 - 1970) * 365 + 17)  # 2040-01-01 in days, 17 leap days
    # hashed_passwd with the default lock_passwd: set, then locked, as cloud-init does.
    assert shadow(root, "bob")[1] == "!$6$salt$bobhash"
    assert "Pl41n-S3cret" not in proc.stderr + proc.stdout
    assert "the password of bob is set, then locked" in proc.stderr


def test_sudo_rules_removed_when_gone(root: Path) -> None:
    assert apply(root, "users:\n  - name: dave\n    sudo: ALL=(ALL) ALL\n").returncode == 0
    assert (root / "etc/sudoers.d/90-ccgen-users").exists()
    proc = apply(root, "users:\n  - name: dave\n    shell: /bin/sh\n")
    assert proc.returncode == 0, proc.stderr
    assert not (root / "etc/sudoers.d/90-ccgen-users").exists()


def test_a_bad_sudo_rule_is_never_written(root: Path, tmp_path: Path) -> None:
    """visudo -c -f where it exists; a fake one here that refuses every file."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "visudo").write_text('#!/bin/sh\necho "$4: syntax error near line 2" >&2\nexit 1\n')
    (fake / "visudo").chmod(0o755)
    cfg = root.parent / "config.yml"
    cfg.write_text("#cloud-config\nusers:\n  - name: erin\n    sudo: ALL=(ALL) NOTAREALTAG:ALL\n")
    env = {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}"}
    proc = subprocess.run(
        [str(helpers.installed_script("ccgen")), "apply", "--root", str(root), str(cfg)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert proc.returncode == 1
    assert "visudo refused the rules, none written: " in proc.stderr
    # The tool's complaint names the file the rules were for, not the temporary copy.
    assert "/etc/sudoers.d/90-ccgen-users" in proc.stderr and "ccgen-sudoers-" not in proc.stderr
    assert not (root / "etc/sudoers.d/90-ccgen-users").exists()


def test_default_user_from_the_oem_config(root: Path) -> None:
    proc = apply_boot(
        root,
        "system_info:\n  default_user:\n    name: debian\n"
        "    groups: [wheel]\n    sudo: ['ALL=(ALL) NOPASSWD:ALL']\n    shell: /bin/bash\n",
        "ssh_authorized_keys: [ssh-ed25519 AAAAdefault top@level]\n",
    )
    assert proc.returncode == 0, proc.stderr
    assert "debian ALL=(ALL) NOPASSWD:ALL" in (root / "etc/sudoers.d/90-ccgen-users").read_text()
    assert group_members(root, "wheel") == ["debian"]
    # The top-level keys go to the image's default user, not to core.
    keys = (root / "home/debian/.ssh/authorized_keys").read_text()
    assert "ssh-ed25519 AAAAdefault top@level" in keys
    assert not (root / "home/core/.ssh/authorized_keys").exists()
    # Locked by default (no password at all, so nothing changes for logins by key).
    assert shadow(root, "debian")[1].startswith("!")


def test_users_without_default_means_no_default_user(root: Path) -> None:
    proc = apply_boot(root, "system_info:\n  default_user:\n    name: debian\n", "users:\n  - name: frank\n")
    assert proc.returncode == 0, proc.stderr
    passwd = (root / "etc/passwd").read_text()
    assert "\nfrank:" in passwd and "\ndebian:" not in passwd


def test_chpasswd_users_list_and_expire(root: Path) -> None:
    config = """chpasswd:
  users:
    - {name: core, password: "T3xt-Pa55", type: text}
  list: |
    root:$6$rootsalt$roothash
"""
    proc = apply(root, config)
    assert proc.returncode == 0, proc.stderr
    core, rootrow = shadow(root, "core"), shadow(root, "root")
    assert core[1].startswith("$6$") and rootrow[1] == "$6$rootsalt$roothash"
    assert core[2] == rootrow[2] == "0"  # expire: true by default
    assert "T3xt-Pa55" not in (root / "etc/shadow").read_text() + proc.stderr
    proc = apply(root, "chpasswd:\n  expire: false\n  users: [{name: nobody-here, password: x}]\n")
    assert (
        proc.returncode == 1
        and "chpasswd: error: nobody-here: user nobody-here does not exist" in proc.stderr
    )


def test_ssh_pwauth_timezone_locale(root: Path) -> None:
    zone = root / "usr/share/zoneinfo/Europe/Berlin"
    zone.parent.mkdir(parents=True)
    zone.write_bytes(b"TZif2")
    (root / "etc/ssh").mkdir()
    (root / "etc/ssh/sshd_config").write_text("Include /etc/ssh/sshd_config.d/*.conf\n")
    (root / "etc/default").mkdir()
    (root / "etc/default/locale").write_text("LANG=C.UTF-8\nLC_TIME=C\n")
    (root / "etc/locale.gen").write_text("# en_US.UTF-8 UTF-8\n# de_DE.UTF-8 UTF-8\n")
    proc = apply(root, "ssh_pwauth: false\ntimezone: Europe/Berlin\nlocale: de_DE.UTF-8\n")
    assert proc.returncode == 0, proc.stderr
    dropin = root / "etc/ssh/sshd_config.d/50-ccgen.conf"
    assert "PasswordAuthentication no\n" in dropin.read_text() and mode(dropin) == 0o600
    assert (root / "etc/timezone").read_text() == "Europe/Berlin\n"
    assert os.readlink(root / "etc/localtime") == "/usr/share/zoneinfo/Europe/Berlin"
    assert (root / "etc/default/locale").read_text() == "LC_TIME=C\nLANG=de_DE.UTF-8\n"
    assert (root / "etc/locale.gen").read_text() == "# en_US.UTF-8 UTF-8\nde_DE.UTF-8 UTF-8\n"
    proc = apply(root, "timezone: Mars/Olympus_Mons\nssh_pwauth: unchanged\n")
    assert proc.returncode == 1 and "unknown time zone Mars/Olympus_Mons" in proc.stderr


def test_write_files_append_and_defer(root: Path) -> None:
    (root / "etc/hosts.allow").write_text("# existing\n")
    config = """users:
  - name: gina
write_files:
  - path: /etc/hosts.allow
    append: true
    content: "sshd: 10.0.0.0/8\\n"
  - path: /etc/hosts.allow
    append: true
    content: "sshd: 192.168.0.0/16\\n"
  - path: /home/gina/late.conf
    owner: gina:gina
    permissions: "0600"
    defer: true
    content: late
"""
    proc = apply(root, config)
    assert proc.returncode == 0, proc.stderr
    expected = "# existing\nsshd: 10.0.0.0/8\nsshd: 192.168.0.0/16\n"
    assert (root / "etc/hosts.allow").read_text() == expected
    # Deferred: not in the main run, but in its own late step.
    late = root / "home/gina/late.conf"
    assert not late.exists()
    proc = apply(root, config, "--only", "deferred-files")
    assert proc.returncode == 0, proc.stderr
    st = late.stat()
    assert late.read_text() == "late" and stat.S_IMODE(st.st_mode) == 0o600
    assert st.st_uid == st.st_gid != 0
    # The same config again appends nothing more (once per instance and content).
    assert apply(root, config).returncode == 0
    assert (root / "etc/hosts.allow").read_text() == expected


@pytest.mark.parametrize(
    ("config", "where"),
    [
        ("users:\n  - name: h\n    uid: '12x'\n", "config.yml:4:10: error: uid of h must be a number"),
        ("users:\n  - name: h\n    expiredate: soon\n", "config.yml:4:17: error: invalid value soon"),
        ("timezone: ../../etc/passwd\n", "config.yml:2:11: error: invalid value ../../etc/passwd"),
        ("users:\n  - name: h\n    groups: 'a,b:c'\n", 'config.yml:4:13: error: invalid value for "groups"'),
    ],
)
def test_bad_values_are_refused_with_their_position(root: Path, config: str, where: str) -> None:
    proc = apply(root, config)
    assert proc.returncode == 1
    assert where in proc.stderr
    assert "\nh:" not in (root / "etc/passwd").read_text()


def test_user_and_password_for_the_default_user(root: Path) -> None:
    """`user:` renames the image's default user field by field; `password` is its password."""
    proc = apply_boot(
        root,
        "system_info:\n  default_user:\n    name: debian\n    groups: [wheel]\n",
        "user: ops\npassword: Pr0xm0x-Pl41n\nchpasswd: {expire: false}\n",
    )
    assert proc.returncode == 0, proc.stderr
    assert "\nops:" in (root / "etc/passwd").read_text()
    assert "\ndebian:" not in (root / "etc/passwd").read_text()
    assert group_members(root, "wheel") == ["ops"]
    ops = shadow(root, "ops")
    # Set after the default lock: chpasswd's password is the one that counts, not expired.
    assert ops[1].startswith("$6$") and ops[2] != "0"
    assert "Pr0xm0x-Pl41n" not in (root / "etc/shadow").read_text() + proc.stderr


def validate(root: Path, text: str) -> tuple[Path, str]:
    """`ccgen validate` on this text: the file, and what it said."""
    cfg = root.parent / "bad.yml"
    cfg.write_text(text)
    proc = subprocess.run(
        [str(helpers.installed_script("ccgen")), "validate", str(cfg)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return cfg, proc.stdout + proc.stderr


# disable_root, disable_root_opts

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDisableRootTest me@laptop"
OPTED = 'from="10.0.0.0/8",command="echo \\"a b\\"" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOpted you@there'


def root_keys(root: Path) -> list[str]:
    text = (root / "root/.ssh/authorized_keys").read_text()
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def test_disable_root_default_text(root: Path) -> None:
    (root / "root").mkdir(mode=0o700)
    proc = apply(root, f"disable_root: true\nssh_authorized_keys:\n  - {KEY}\n  - '{OPTED}'\n")
    assert proc.returncode == 0, proc.stderr
    # cloud-init's DISABLE_USER_OPTS with $USER (the key owner, core here) and $DISABLE_USER.
    prefix = (
        "no-port-forwarding,no-agent-forwarding,no-X11-forwarding,"
        'command="echo \'Please login as the user \\"core\\" rather than the user '
        '\\"root\\".\';echo;sleep 10;exit 142" '
    )
    assert root_keys(root) == [
        prefix + KEY,
        # The key's own options are replaced, quoted blanks and all.
        prefix + "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOpted you@there",
    ]
    assert mode(root / "root/.ssh/authorized_keys") == 0o600
    # The owner still gets the keys as they are.
    assert (root / "home/core/.ssh/authorized_keys").read_text().count(KEY) == 1


def test_disable_root_opts_and_false(root: Path) -> None:
    (root / "root").mkdir(mode=0o700)
    proc = apply(
        root, f'disable_root_opts: no-pty,command="echo $USER not $ROOT"\nssh_authorized_keys: [{KEY}]\n'
    )
    assert proc.returncode == 0, proc.stderr
    assert root_keys(root) == [f'no-pty,command="echo core not root" {KEY}']
    # disable_root: false gives root the keys unprefixed; opts are then ignored.
    proc = apply(root, f"disable_root: false\ndisable_root_opts: no-pty\nssh_authorized_keys: [{KEY}]\n")
    assert proc.returncode == 0, proc.stderr
    assert root_keys(root) == [KEY]
    # Without either key root's ccgen block goes away again (CoreOS never gave root keys).
    proc = apply(root, f"ssh_authorized_keys: [{KEY}]\n")
    assert proc.returncode == 0, proc.stderr
    assert root_keys(root) == []


def test_disable_root_bad_values(root: Path) -> None:
    cfg, out = validate(
        root, '#cloud-config\ndisable_root: maybe\ndisable_root_opts: "no-pty\\nssh-rsa AAAA evil"\n'
    )
    assert f"{cfg}:2:15: warning: incorrect type" in out, out
    assert f'{cfg}:3:20: error: invalid value for "disable_root_opts"' in out, out
    # Nothing of a refused value reaches root.
    (root / "root").mkdir(mode=0o700)
    apply(root, f'disable_root_opts: "no-pty\\nssh-rsa AAAA evil"\nssh_authorized_keys: [{KEY}]\n')
    assert not (root / "root/.ssh/authorized_keys").exists()


# ntp

TIMESYNCD_DROPIN = "etc/systemd/timesyncd.conf.d/50-ccgen.conf"
CHRONY_SOURCES = "etc/chrony/sources.d/ccgen.sources"


def test_ntp_timesyncd_servers_pools_and_default(root: Path) -> None:
    (root / "usr/lib/systemd").mkdir(parents=True)
    (root / "usr/lib/systemd/systemd-timesyncd").write_text("")
    proc = apply(root, "ntp:\n  servers: [ntp1.example.com, 192.0.2.7]\n  pools: [pool.example.org]\n")
    assert proc.returncode == 0, proc.stderr
    dropin = root / TIMESYNCD_DROPIN
    assert dropin.read_text().splitlines()[1:] == [
        "[Time]",
        "NTP=ntp1.example.com 192.0.2.7 pool.example.org",
    ]
    assert mode(dropin) == 0o644
    assert "not installed" not in proc.stderr
    # Neither servers nor pools: cloud-init's Debian pools.
    proc = apply(root, "ntp: {}\n")
    assert proc.returncode == 0, proc.stderr
    assert dropin.read_text().endswith(
        "NTP=0.debian.pool.ntp.org 1.debian.pool.ntp.org 2.debian.pool.ntp.org 3.debian.pool.ntp.org\n"
    )
    # enabled: false does nothing, and ccgen's drop-in from before goes away.
    proc = apply(root, "ntp:\n  enabled: false\n  servers: [ntp1.example.com]\n")
    assert proc.returncode == 0, proc.stderr
    assert not dropin.exists()


def test_ntp_chrony_where_installed(root: Path) -> None:
    (root / "usr/sbin").mkdir(parents=True)
    (root / "usr/sbin/chronyd").write_text("")
    (root / "etc/chrony").mkdir(parents=True)
    (root / "etc/chrony/chrony.conf").write_text("pool 2.debian.pool.ntp.org iburst\n")
    proc = apply(root, "ntp:\n  servers: [ntp1.example.com]\n  pools: [pool.example.org]\n")
    assert proc.returncode == 0, proc.stderr
    assert (root / CHRONY_SOURCES).read_text().splitlines()[1:] == [
        "server ntp1.example.com iburst",
        "pool pool.example.org iburst",
    ]
    assert not (root / TIMESYNCD_DROPIN).exists()
    # The image's chrony.conf is kept; that it does not read sources.d is said.
    assert (root / "etc/chrony/chrony.conf").read_text() == "pool 2.debian.pool.ntp.org iburst\n"
    assert "does not read /etc/chrony/sources.d" in proc.stderr
    # ntp_client chooses timesyncd even so; chrony's file goes.
    proc = apply(root, "ntp:\n  ntp_client: systemd-timesyncd\n  servers: [ntp1.example.com]\n")
    assert proc.returncode == 0, proc.stderr
    assert (root / TIMESYNCD_DROPIN).read_text().endswith("NTP=ntp1.example.com\n")
    assert not (root / CHRONY_SOURCES).exists()
    assert "systemd-timesyncd is not installed" in proc.stderr


def test_ntp_chrony_missing_fails_the_step(root: Path) -> None:
    proc = apply(root, "ntp:\n  ntp_client: chrony\n  servers: [ntp1.example.com]\n")
    assert proc.returncode == 1
    assert "ntp: error: ntp_client is chrony, and the image has no chronyd" in proc.stderr
    assert not (root / CHRONY_SOURCES).exists() and not (root / TIMESYNCD_DROPIN).exists()


def test_ntp_bad_values(root: Path) -> None:
    config = (
        "ntp:\n"
        "  ntp_client: ntpdate\n"
        "  servers: [good.example.com, 'two words', \"evil\\nNTP=x\", '#comment', [nested]]\n"
        "  pools: ''\n"
        "  config: {confpath: /etc/x}\n"
    )
    cfg, out = validate(root, "#cloud-config\n" + config)
    assert f"{cfg}:3:15: error: invalid value ntpdate; valid values: auto, chrony, systemd-timesyncd" in out
    for col in (31, 44, 59):
        assert f'{cfg}:4:{col}: error: invalid value for "ntp.servers"' in out, out
    assert f"{cfg}:4:71: warning" in out, out
    assert f"{cfg}:5:10: warning" in out, out
    assert f"{cfg}:6:3: warning: " in out and "unsupported" in out, out
    (root / "usr/lib/systemd").mkdir(parents=True)
    (root / "usr/lib/systemd/systemd-timesyncd").write_text("")
    apply(root, config)
    # The good server is kept; a bad client word leaves the default (auto).
    assert (root / TIMESYNCD_DROPIN).read_text().endswith("NTP=good.example.com\n")


# ca_certs

CERT = "-----BEGIN CERTIFICATE-----\nMIIBdummyCertificateBodyOne\n-----END CERTIFICATE-----"
CERT2 = "-----BEGIN CERTIFICATE-----\nMIIBdummyCertificateBodyTwo\n-----END CERTIFICATE-----"
CA_DIR = "usr/local/share/ca-certificates"


def pem_list(*pems: str) -> str:
    return "".join("    - |\n" + "".join(f"      {line}\n" for line in p.splitlines()) for p in pems)


def test_ca_certs_trusted_and_remove_defaults(root: Path) -> None:
    (root / CA_DIR).mkdir(parents=True)
    (root / CA_DIR / "by-hand.crt").write_text("kept\n")
    conf = "# comment\nmozilla/ACCVRAIZ1.crt\n!mozilla/Old.crt\nmozilla/ISRG_Root_X1.crt\n"
    (root / "etc/ca-certificates.conf").write_text(conf)
    proc = apply(root, f"ca_certs:\n  remove_defaults: true\n  trusted:\n{pem_list(CERT, CERT2)}")
    assert proc.returncode == 0, proc.stderr
    assert (root / CA_DIR / "ccgen-1.crt").read_text() == CERT + "\n"
    assert (root / CA_DIR / "ccgen-2.crt").read_text() == CERT2 + "\n"
    assert mode(root / CA_DIR / "ccgen-1.crt") == 0o644
    assert (root / "etc/ca-certificates.conf").read_text() == (
        "# comment\n!mozilla/ACCVRAIZ1.crt\n!mozilla/Old.crt\n!mozilla/ISRG_Root_X1.crt\n"
    )
    assert "update-ca-certificates is not run under --root" in proc.stderr
    # remove_defaults is once per instance: an entry trusted again by hand stays so.
    (root / "etc/ca-certificates.conf").write_text("mozilla/ISRG_Root_X1.crt\n")
    # The old spellings, and one certificate fewer: ccgen's second file goes, the
    # file written by hand stays.
    proc = apply(root, f"ca-certs:\n  remove-defaults: true\n  trusted:\n{pem_list(CERT2)}")
    assert proc.returncode == 0, proc.stderr
    assert (root / CA_DIR / "ccgen-1.crt").read_text() == CERT2 + "\n"
    assert not (root / CA_DIR / "ccgen-2.crt").exists()
    assert (root / CA_DIR / "by-hand.crt").read_text() == "kept\n"
    assert (root / "etc/ca-certificates.conf").read_text() == "mozilla/ISRG_Root_X1.crt\n"
    # Without the key ccgen's certificates go away.
    proc = apply(root, "hostname: x\n")
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (root / CA_DIR).iterdir()) == ["by-hand.crt"]


def test_ca_certs_bad_values(root: Path) -> None:
    config = (
        "ca-certs:\n"
        "  trusted:\n"
        "    - not a certificate\n"
        f"    - {json.dumps(CERT)}\n"
        "    - [nested]\n"
        f"    - {json.dumps(CERT + chr(0))}\n"
        f"    - {json.dumps('-----BEGIN CERTIFICATE-----' + 'A' * 70000 + '-----END CERTIFICATE-----')}\n"
        "  remove_defaults: sure\n"
    )
    cfg, out = validate(root, "#cloud-config\n" + config)
    assert (
        f'{cfg}:2:1: warning: deprecated key "ca-certs" (cloud-init\'s old spelling; use ca_certs)' in out
    ), out
    assert f'{cfg}:4:7: error: invalid value for "ca_certs.trusted[0]": a PEM certificate' in out, out
    assert f"{cfg}:6:7: warning" in out, out
    assert f'{cfg}:7:7: error: invalid value for "ca_certs.trusted[2]": a NUL character' in out, out
    assert f'{cfg}:8:7: error: invalid value for "ca_certs.trusted[3]": at most 64 KiB' in out, out
    assert f"{cfg}:9:20: " in out, out
    assert "AAAA" not in out and "dummyCertificate" not in out
    apply(root, config)
    # The one good certificate is written; nothing of the others.
    assert [p.name for p in (root / CA_DIR).iterdir()] == ["ccgen-1.crt"]
    assert (root / CA_DIR / "ccgen-1.crt").read_text() == CERT + "\n"


# ssh_keys


def keygen(tmp: Path, kind: str) -> tuple[str, str]:
    path = tmp / f"key-{kind}"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", "", "-f", str(path)], check=True, timeout=60
    )
    return path.read_text(), (path.parent / (path.name + ".pub")).read_text().strip()


def block(text: str) -> str:
    return "|\n" + "".join(f"    {line}\n" for line in text.strip().splitlines())


def test_ssh_keys_host_keys(root: Path, tmp_path: Path) -> None:
    ed_private, ed_public = keygen(tmp_path, "ed25519")
    ecdsa_private, ecdsa_public = keygen(tmp_path, "ecdsa")
    cert = "ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29t host"
    config = (
        "ssh_keys:\n"
        f"  ed25519_private: {block(ed_private)}"
        f"  ed25519_public: {ed_public}\n"
        f"  ed25519_certificate: {cert}\n"
        f"  ecdsa_private: {block(ecdsa_private)}"
    )
    proc = apply(root, config)
    assert proc.returncode == 0, proc.stderr
    ssh = root / "etc/ssh"
    assert (ssh / "ssh_host_ed25519_key").read_text() == ed_private
    assert mode(ssh / "ssh_host_ed25519_key") == 0o600
    assert (ssh / "ssh_host_ed25519_key.pub").read_text() == ed_public + "\n"
    assert mode(ssh / "ssh_host_ed25519_key.pub") == 0o644
    assert (ssh / "ssh_host_ed25519_key-cert.pub").read_text() == cert + "\n"
    assert (ssh / "sshd_config.d/50-ccgen-host-certificates.conf").read_text().splitlines()[1:] == [
        "HostCertificate /etc/ssh/ssh_host_ed25519_key-cert.pub"
    ]
    # A private key alone: its public part made with ssh-keygen -y, as cloud-init does.
    assert mode(ssh / "ssh_host_ecdsa_key") == 0o600
    assert (ssh / "ssh_host_ecdsa_key.pub").read_text().split()[:2] == ecdsa_public.split()[:2]
    assert "PRIVATE" not in proc.stdout + proc.stderr
    # Once per instance and content: a key replaced by hand stays until the config changes.
    (ssh / "ssh_host_ed25519_key.pub").write_text("by hand\n")
    proc = apply(root, config)
    assert proc.returncode == 0, proc.stderr
    assert (ssh / "ssh_host_ed25519_key.pub").read_text() == "by hand\n"


def test_ssh_keys_bad_values(root: Path) -> None:
    secret = "-----BEGIN OPENSSH PRIVATE KEY-----\\nsupersecretbody\\n-----END OPENSSH PRIVATE KEY-----"
    config = (
        "ssh_keys:\n"
        '  rsa_private: "not a key supersecretbody"\n'
        f'  ed25519_private: "{secret}\\0"\n'
        '  ed25519_public: "ssh-ed25519 AAAA\\nssh-rsa BBBB"\n'
        "  ecdsa_public: [list]\n"
        "  dsa_secret: x\n"
        f'  ecdsa_private: "{secret}"\n'
    )
    cfg, out = validate(root, "#cloud-config\n" + config)
    assert f'{cfg}:3:16: error: invalid value for "ssh_keys.rsa_private": a private key' in out, out
    assert f'{cfg}:4:20: error: invalid value for "ssh_keys.ed25519_private"' in out, out
    assert f'{cfg}:5:19: error: invalid value for "ssh_keys.ed25519_public": one line' in out, out
    assert f"{cfg}:6:17: warning" in out, out
    assert f"{cfg}:7:3: warning: unrecognized key" in out, out
    assert "supersecretbody" not in out
    proc = apply(root, config)
    # Only the good private key is written (its public part derived fails: it is no real key).
    assert sorted(p.name for p in (root / "etc/ssh").iterdir() if p.name.startswith("ssh_host")) == [
        "ssh_host_ecdsa_key"
    ]
    assert "supersecretbody" not in proc.stdout + proc.stderr
