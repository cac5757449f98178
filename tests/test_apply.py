"""ccgen apply --root: every step against a temporary image tree."""

from __future__ import annotations

import base64
import gzip
import os
import stat
import subprocess
from pathlib import Path

import pytest

from . import helpers

PASSWD = "root:x:0:0:root:/root:/bin/bash\ncore:x:500:500:Core:/home/core:/bin/bash\n"
GROUP = "root:x:0:\ncore:x:500:\nwheel:x:10:\nsystemd-network:x:101:\n"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    r = helpers.make_root(
        tmp_path / "root",
        {
            "/etc/passwd": PASSWD,
            "/etc/group": GROUP,
            "/etc/shadow": "root:*:19000:0:99999:7:::\ncore:*:19000:0:99999:7:::\n",
            "/etc/gshadow": "root:*::\ncore:!::\nwheel:!::\nsystemd-network:!::\n",
            "/etc/login.defs": Path("/etc/login.defs").read_text()
            if Path("/etc/login.defs").exists()
            else "",
        },
    )
    (r / "home/core").mkdir(parents=True)
    os.chown(r / "home/core", 500, 500)
    return r


def apply(root: Path, config: str, *args: str) -> subprocess.CompletedProcess[str]:
    cfg = root.parent / "config.yml"
    cfg.write_text("#cloud-config\n" + config)
    return subprocess.run(
        [str(helpers.installed_script("ccgen")), "apply", "--root", str(root), *args, str(cfg)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def mode(p: Path) -> int:
    return stat.S_IMODE(p.lstat().st_mode)


# write_files


def test_files_encodings_modes_owners(root: Path) -> None:
    gz_b64 = base64.b64encode(gzip.compress(b"zipped\n")).decode()
    raw_gz = base64.b64encode(gzip.compress(b"binary gz\n")).decode()
    config = f"""write_files:
  - path: /etc/plain.conf
    content: "plain\\n"
  - path: /etc/app/deep/b64.conf
    encoding: base64
    content: {base64.b64encode(b"hello b64").decode()}
    permissions: "0600"
    owner: core:wheel
  - path: /etc/gz.conf
    encoding: gz+b64
    content: {gz_b64}
    permissions: 0640
  - path: /etc/bin.gz
    encoding: gzip
    content: !!binary {raw_gz}
  - path: /etc/numeric
    owner: "500"
    content: x
"""
    proc = apply(root, config)
    assert proc.returncode == 0, proc.stderr
    assert (root / "etc/plain.conf").read_text() == "plain\n" and mode(root / "etc/plain.conf") == 0o644
    b64 = root / "etc/app/deep/b64.conf"
    assert b64.read_bytes() == b"hello b64" and mode(b64) == 0o600
    assert (b64.stat().st_uid, b64.stat().st_gid) == (500, 10)
    assert mode(root / "etc/app") == 0o755 and mode(root / "etc/app/deep") == 0o755
    assert (root / "etc/gz.conf").read_bytes() == b"zipped\n" and mode(root / "etc/gz.conf") == 0o640
    assert (root / "etc/bin.gz").read_bytes() == b"binary gz\n"
    assert (root / "etc/numeric").stat().st_uid == 500


def test_a_bad_file_does_not_stop_the_others(root: Path) -> None:
    config = """write_files:
  - path: /etc/bad-encoding
    encoding: base64
    content: "!!! not base64"
  - path: /etc/bad-mode
    permissions: "0999"
    content: secret
  - path: /etc/unknown-owner
    owner: nobody-here
    content: x
  - path: /etc/good
    content: fine
"""
    proc = apply(root, config)
    assert proc.returncode == 1
    assert (root / "etc/good").read_text() == "fine"
    for name in ("bad-encoding", "bad-mode", "unknown-owner"):
        assert not (root / "etc" / name).exists()
    # Refused where validate refuses them, with the same positioned errors ...
    assert "config.yml:5:14: error: content cannot be decoded" in proc.stderr
    assert "config.yml:7:18: error: invalid value 0999" in proc.stderr
    # ... and what only the target tree can tell, by the step.
    assert 'files: error: /etc/unknown-owner: unknown user "nobody-here"' in proc.stderr


def test_dotdot_stays_inside_the_root(root: Path) -> None:
    proc = apply(root, "write_files:\n  - path: /../../../etc/escaped\n    content: x\n")
    assert proc.returncode == 0, proc.stderr
    assert (root / "etc/escaped").exists()
    assert not (root.parent.parent / "etc/escaped").exists()


def test_symlink_planted_by_a_user_is_not_followed(root: Path, tmp_path: Path) -> None:
    target = tmp_path / "outside"
    target.mkdir()
    (root / "home/core/docs").symlink_to(target)
    os.lchown(root / "home/core/docs", 500, 500)
    (root / "home/core/link").symlink_to(target / "victim")
    os.lchown(root / "home/core/link", 500, 500)
    config = """write_files:
  - path: /home/core/docs/file
    content: through a user's symlink
  - path: /home/core/link
    content: replaces the link itself
"""
    proc = apply(root, config)
    assert proc.returncode == 1
    assert "not owned by root" in proc.stderr
    assert list(target.iterdir()) == []
    # The final component is replaced, never written through.
    assert not (root / "home/core/link").is_symlink()
    assert (root / "home/core/link").read_text() == "replaces the link itself"


def test_root_owned_symlinks_are_followed_inside_the_root(root: Path) -> None:
    (root / "usr/lib").mkdir(parents=True)
    (root / "lib").symlink_to("/usr/lib")  # usrmerge: absolute, resolved under the root
    proc = apply(root, "write_files:\n  - path: /lib/x.conf\n    content: y\n")
    assert proc.returncode == 0, proc.stderr
    assert (root / "usr/lib/x.conf").read_text() == "y"


def test_huge_file(root: Path) -> None:
    big = base64.b64encode(gzip.compress(b"a" * (8 * 1024 * 1024))).decode()
    proc = apply(root, f"write_files:\n  - path: /var/big\n    encoding: gz+b64\n    content: {big}\n")
    assert proc.returncode == 0, proc.stderr
    assert (root / "var/big").stat().st_size == 8 * 1024 * 1024


def test_applied_once(root: Path) -> None:
    config = "write_files:\n  - path: /etc/once\n    content: first\n"
    assert apply(root, config).returncode == 0
    (root / "etc/once").unlink()
    assert apply(root, config).returncode == 0
    assert not (root / "etc/once").exists(), "a file deleted on purpose came back"
    assert apply(root, config, "--force").returncode == 0
    assert (root / "etc/once").read_text() == "first"
    (root / "etc/once").unlink()
    assert apply(root, config.replace("first", "second")).returncode == 0
    assert (root / "etc/once").read_text() == "second"
    (root / "etc/once").unlink()
    helpers.make_root(root, {"/var/lib/ccgen/metadata": "INSTANCE_ID=i-new\n"})
    assert apply(root, config.replace("first", "second")).returncode == 0
    assert (root / "etc/once").exists(), "a new instance applies again"
    state = root / "var/lib/ccgen/applied"
    assert mode(state) == 0o700 and all(mode(p) == 0o600 for p in state.iterdir())


# users and keys


def test_users_created_and_updated(root: Path) -> None:
    config = """users:
  - name: alice
    gecos: Alice "the" Admin
    groups: [wheel, nosuchgroup]
    create_groups: false
    shell: /bin/sh
    passwd: $6$salt$hash
    homedir: /home/alice
"""
    proc = apply(root, config)
    assert proc.returncode == 0, proc.stderr
    passwd = (root / "etc/passwd").read_text()
    line = next(ln for ln in passwd.splitlines() if ln.startswith("alice:"))
    assert line.split(":")[4] == 'Alice "the" Admin' and line.endswith(":/home/alice:/bin/sh")
    assert "alice" in next(
        ln for ln in (root / "etc/group").read_text().splitlines() if ln.startswith("wheel:")
    )
    assert "alice:$6$salt$hash:" in (root / "etc/shadow").read_text()
    assert "group nosuchgroup does not exist" in proc.stderr
    assert (root / "home/alice").is_dir()
    # Not re-created on the next boot, and an update changes what may change.
    proc = apply(root, config.replace("/bin/sh", "/bin/bash").replace("$6$salt$hash", "$6$new$hash"))
    assert proc.returncode == 0, proc.stderr
    assert [ln for ln in (root / "etc/passwd").read_text().splitlines() if ln.startswith("alice:")] == [
        'alice:x:1000:1000:Alice "the" Admin:/home/alice:/bin/bash'
    ]
    assert "alice:$6$new$hash:" in (root / "etc/shadow").read_text()
    assert "homedir only apply when a user is created" in proc.stderr


def test_bad_user_name_is_skipped(root: Path) -> None:
    proc = apply(root, "users:\n  - name: '../evil'\n  - name: bob\n")
    assert proc.returncode == 1
    assert "bob:" in (root / "etc/passwd").read_text()


def test_a_key_entry_of_several_lines_installs_each_key(root: Path) -> None:
    """The original wrote such an entry as it was, a key per line: ccgen too, with a warning."""
    proc = apply(
        root,
        "ssh_authorized_keys:\n  - |\n    ssh-ed25519 AAAAone one@x\n"
        "    # old laptop\n    ssh-rsa AAAAtwo two@x\n",
    )
    assert proc.returncode == 0, proc.stderr
    assert (
        "warning: an SSH key entry should be one key on one line; its 2 key line(s) are used" in proc.stderr
    )
    text = (root / "home/core/.ssh/authorized_keys").read_text()
    assert "ssh-ed25519 AAAAone one@x\nssh-rsa AAAAtwo two@x\n" in text and "old laptop" not in text


def test_keys_debian_layout_keeps_hand_added_keys(root: Path) -> None:
    ssh = root / "home/core/.ssh"
    ssh.mkdir(mode=0o700)
    os.chown(ssh, 500, 500)
    (ssh / "authorized_keys").write_text("ssh-ed25519 AAAAhand added@laptop\n")
    os.chown(ssh / "authorized_keys", 500, 500)
    helpers.make_root(root, {"/var/lib/ccgen/ssh-keys": "ssh-rsa AAAAmeta metadata@ec2\n"})
    proc = apply(root, "ssh_authorized_keys:\n  - ssh-ed25519 AAAAone one@x\n")
    assert proc.returncode == 0, proc.stderr
    text = (ssh / "authorized_keys").read_text()
    assert text.startswith("ssh-ed25519 AAAAhand added@laptop\n")
    assert "ssh-ed25519 AAAAone one@x\nssh-rsa AAAAmeta metadata@ec2\n# END ccgen" in text
    # A changed config replaces only ccgen's block.
    proc = apply(root, "ssh_authorized_keys:\n  - ssh-ed25519 AAAAtwo two@x\n")
    text = (ssh / "authorized_keys").read_text()
    assert "AAAAhand" in text and "AAAAtwo" in text and "AAAAone" not in text
    st = (ssh / "authorized_keys").stat()
    assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (0o600, 500, 500)
    assert (mode(ssh), ssh.stat().st_uid) == (0o700, 500)


def test_keys_go_away_when_the_providers_list_empties(root: Path) -> None:
    ssh = root / "home/core/.ssh"
    ssh.mkdir(mode=0o700)
    os.chown(ssh, 500, 500)
    (ssh / "authorized_keys").write_text("ssh-ed25519 AAAAhand added@laptop\n")
    os.chown(ssh / "authorized_keys", 500, 500)
    helpers.make_root(root, {"/var/lib/ccgen/ssh-keys": "ssh-rsa AAAAmeta one@p\nssh-rsa AAAAgone two@p\n"})
    assert apply(root, "{}\n").returncode == 0
    assert "AAAAgone" in (ssh / "authorized_keys").read_text()
    # The platform dropped one key, then every key: ccgen's go with them, the user's stay.
    helpers.make_root(root, {"/var/lib/ccgen/ssh-keys": "ssh-rsa AAAAmeta one@p\n"})
    assert apply(root, "{}\n").returncode == 0
    text = (ssh / "authorized_keys").read_text()
    assert "AAAAmeta" in text and "AAAAgone" not in text
    helpers.make_root(root, {"/var/lib/ccgen/ssh-keys": ""})
    proc = apply(root, "{}\n")
    assert proc.returncode == 0 and "ccgen's keys for core removed" in proc.stderr, proc.stderr
    assert (ssh / "authorized_keys").read_text() == "ssh-ed25519 AAAAhand added@laptop\n"


def test_keys_coreos_layout(root: Path) -> None:
    helpers.make_root(root, {"/usr/bin/update-ssh-keys": "#!/bin/sh\n"})
    keys_d = root / "home/core/.ssh/authorized_keys.d"
    keys_d.mkdir(parents=True)
    for p in (keys_d.parent, keys_d):
        os.chown(p, 500, 500)
    (keys_d / "other").write_text("ssh-ed25519 AAAAother\n")
    os.chown(keys_d / "other", 500, 500)
    proc = apply(root, "users:\n  - name: core\n    ssh-authorized-keys: [ssh-ed25519 AAAAmine]\n")
    assert proc.returncode == 0, proc.stderr
    assert (keys_d / "ccgen").read_text() == "ssh-ed25519 AAAAmine\n"
    merged = (keys_d.parent / "authorized_keys").read_text()
    assert "AAAAmine" in merged and "AAAAother" in merged


def test_keys_refuse_planted_links(root: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("root-only secret\n")
    ssh = root / "home/core/.ssh"
    ssh.mkdir(mode=0o700)
    os.chown(ssh, 500, 500)
    os.link(secret, ssh / "authorized_keys")  # a hard link to a file core cannot read
    proc = apply(root, "ssh_authorized_keys: [ssh-ed25519 AAAAx]\n")
    assert proc.returncode == 1 and "not a plain file of its owner" in proc.stderr
    # Left alone: still the same inode, nothing copied out of it or into it.
    assert (ssh / "authorized_keys").stat().st_ino == secret.stat().st_ino
    assert secret.read_text() == "root-only secret\n"
    (ssh / "authorized_keys").unlink()
    ssh.rmdir()
    (root / "home/core/.ssh").symlink_to(tmp_path)
    os.lchown(root / "home/core/.ssh", 500, 500)
    proc = apply(root, "ssh_authorized_keys: [ssh-ed25519 AAAAy]\n")
    assert proc.returncode == 1 and not (tmp_path / "authorized_keys").exists()


def test_keys_for_a_missing_user(root: Path) -> None:
    (root / "etc/passwd").write_text(PASSWD.replace("core:", "notcore:"))
    proc = apply(
        root, "ssh_authorized_keys: [ssh-ed25519 AAAAk]\nwrite_files: [{path: /etc/f, content: x}]\n"
    )
    assert proc.returncode == 1 and "user core does not exist" in proc.stderr
    assert (root / "etc/f").exists()


# identity files


def test_hostname_and_hosts_localhost(root: Path) -> None:
    proc = apply(root, "hostname: web-1.example.com\nmanage_etc_hosts: localhost\n")
    assert proc.returncode == 0, proc.stderr
    assert (root / "etc/hostname").read_text() == "web-1.example.com\n"
    assert not (root / "etc/machine-info").exists()  # a valid name has no pretty name
    hosts = (root / "etc/hosts").read_text().splitlines()
    # cloud-init's `localhost`: the hostname's 127.0.1.1 line; localhost stays resolvable.
    assert "127.0.1.1 web-1.example.com web-1" in hosts and "127.0.0.1 localhost" in hosts


def test_hosts_localhost_keeps_the_file(root: Path) -> None:
    helpers.make_root(root, {"/etc/hosts": "127.0.0.1 localhost\n10.0.0.9 db # the database\n"})
    assert apply(root, "hostname: app1\nmanage_etc_hosts: localhost\n").returncode == 0
    assert (
        root / "etc/hosts"
    ).read_text() == "127.0.0.1 localhost\n10.0.0.9 db # the database\n127.0.1.1 app1\n"
    # Run again: the line is there, nothing is added twice.
    assert apply(root, "hostname: app1\nmanage_etc_hosts: localhost\n", "--force").returncode == 0
    assert (root / "etc/hosts").read_text().count("127.0.1.1") == 1


@pytest.mark.parametrize("value", ["true", "template", "yes", "on", "True", "'1'"])
def test_hosts_true_renders_the_template(root: Path, value: str) -> None:
    helpers.make_root(root, {"/etc/hosts": "10.9.9.9 stale-entry\n"})
    proc = apply(root, f"hostname: web01.example.com\nmanage_etc_hosts: {value}\n")
    assert proc.returncode == 0, proc.stderr
    hosts = (root / "etc/hosts").read_text()
    assert "127.0.1.1 web01.example.com web01\n127.0.0.1 localhost\n" in hosts
    assert "::1 localhost ip6-localhost ip6-loopback" in hosts and "stale-entry" not in hosts


@pytest.mark.parametrize("value", ["false", "no", "Off"])
def test_hosts_false_leaves_it_alone(root: Path, value: str) -> None:
    helpers.make_root(root, {"/etc/hosts": "10.9.9.9 mine\n"})
    proc = apply(root, f"hostname: web01\nmanage_etc_hosts: {value}\n")
    assert proc.returncode == 0 and proc.stderr.count("error") == 0, proc.stderr
    assert (root / "etc/hosts").read_text() == "10.9.9.9 mine\n"


def test_metadata_hostname_nothing_valid_in_it(root: Path) -> None:
    helpers.make_root(root, {"/var/lib/ccgen/metadata": "HOSTNAME=bad_name.example.com\n"})
    assert apply(root, "{}\n").returncode == 0
    assert (root / "etc/hostname").read_text() == "badname.example.com\n"
    assert 'PRETTY_HOSTNAME="bad_name.example.com"' in (root / "etc/machine-info").read_text()


def test_hostname_as_hostnamectl_sets_it(root: Path) -> None:
    """`coreos_001`: the pretty hostname as given, the static one cleaned, and a warning."""
    helpers.make_root(root, {"/etc/machine-info": "CHASSIS=vm\nPRETTY_HOSTNAME=old\n"})
    proc = apply(root, "hostname: coreos_001\n")
    assert proc.returncode == 0, proc.stderr
    assert (
        'warning: "coreos_001" is not a valid hostname; the static hostname will be "coreos001"'
        in proc.stderr
    )
    assert (root / "etc/hostname").read_text() == "coreos001\n"
    assert (root / "etc/machine-info").read_text() == 'CHASSIS=vm\nPRETTY_HOSTNAME="coreos_001"\n'


@pytest.mark.parametrize(
    ("value", "static"),
    [
        ("$hostname", "hostname"),
        ("'${hostname}'", "hostname"),
        ("<HOSTNAME>", "hostname"),
        ("'{{ name }}'", "name"),
    ],
)
def test_hostname_placeholder_warns_and_applies(root: Path, value: str, static: str) -> None:
    proc = apply(root, f"hostname: {value}\n")
    assert proc.returncode == 0, proc.stderr
    assert "looks like an unrendered template" in proc.stderr and "{{NAME}}" in proc.stderr
    assert (root / "etc/hostname").read_text() == f"{static}\n"
    assert "PRETTY_HOSTNAME=" in (root / "etc/machine-info").read_text()


def test_hostname_checked_after_substitution(root: Path) -> None:
    """`sub-$private_ipv4` is known only on the machine: apply checks the substituted name."""
    helpers.make_root(root, {"/var/lib/ccgen/metadata": "LOCAL_IPV4=10.0.0.5\n"})
    proc = apply(root, "hostname: sub-$private_ipv4\n")
    assert proc.returncode == 0, proc.stderr
    assert "error" not in proc.stderr and 'the static hostname will be "sub-10.0.0.5"' not in proc.stderr
    assert (root / "etc/hostname").read_text() == "sub-10.0.0.5\n"
    assert not (root / "etc/machine-info").exists()
    proc = apply(root, "hostname: sub_$private_ipv4\n", "--force")
    assert 'the static hostname will be "sub10.0.0.5"' in proc.stderr
    assert (root / "etc/hostname").read_text() == "sub10.0.0.5\n"


def test_metadata_hostname_when_config_has_none(root: Path) -> None:
    helpers.make_root(root, {"/var/lib/ccgen/metadata": "HOSTNAME=ip-10-0-0-1.ec2.internal\n"})
    assert apply(root, "{}\n").returncode == 0
    assert (root / "etc/hostname").read_text() == "ip-10-0-0-1.ec2.internal\n"


def test_bad_hosts_value(root: Path) -> None:
    proc = apply(
        root, "hostname: 'bad name!'\nmanage_etc_hosts: 'maybe'\nwrite_files: [{path: /etc/ok, content: x}]\n"
    )
    assert proc.returncode == 1
    assert (
        "config.yml:3:19: error: invalid value maybe; valid values: true, template, localhost, false,"
        " yes, on, 1, no, off, 0" in proc.stderr
    )
    assert (root / "etc/ok").exists() and (root / "etc/hostname").read_text() == "badname\n"
    assert not (root / "etc/hosts").exists()


def test_oem_release_and_update_conf(root: Path) -> None:
    helpers.make_root(root, {"/usr/share/coreos/update.conf": "GROUP=stable\nGROUPS_EXTRA=keep\n"})
    config = """coreos:
  oem:
    id: example
    name: Example "Cloud"
    version-id: 1.2
    home-url: https://example.invalid/
  update:
    reboot-strategy: etcd-lock
    server: https://update.example.invalid/
"""
    proc = apply(root, config)
    assert proc.returncode == 0, proc.stderr
    assert (root / "etc/oem-release").read_text() == (
        'ID=example\nVERSION_ID=1.2\nNAME="Example \\"Cloud\\""\nHOME_URL="https://example.invalid/"\n'
        'BUG_REPORT_URL=""\n'
    )
    assert (root / "etc/coreos/update.conf").read_text() == (
        "GROUP=stable\nGROUPS_EXTRA=keep\nREBOOT_STRATEGY=etcd-lock\nSERVER=https://update.example.invalid/\n"
    )


def test_environment_merge_and_substitution(root: Path) -> None:
    helpers.make_root(
        root,
        {
            "/var/lib/ccgen/metadata": "LOCAL_IPV4=10.0.0.5\nPUBLIC_IPV4=203.0.113.9\n",
            "/etc/environment": "PATH=/usr/bin\nCOREOS_PRIVATE_IPV4=1.1.1.1",
        },
    )
    config = r"""write_files:
  - path: /etc/addr
    content: '$private_ipv4 $public_ipv4x \$private_ipv4 [$public_ipv6] $private_ipv4$private_ipv4'
  - path: /etc/quoted
    content: "\\$private_ipv4 in a double-quoted YAML string"
"""
    proc = apply(root, config)
    assert proc.returncode == 0, proc.stderr
    assert (root / "etc/addr").read_text() == "10.0.0.5 203.0.113.9x $private_ipv4 [] 10.0.0.510.0.0.5"
    assert (root / "etc/quoted").read_text() == "$private_ipv4 in a double-quoted YAML string"
    assert (root / "etc/environment").read_text() == (
        "PATH=/usr/bin\nCOREOS_PRIVATE_IPV4=10.0.0.5\nCOREOS_PUBLIC_IPV4=203.0.113.9\n"
    )


# runtime files


def test_flannel_secrets_and_network(root: Path) -> None:
    config = """coreos:
  flannel:
    etcd-endpoints: http://127.0.0.1:2379
    etcd-password: 'p"a$s'
  etcd2:
    name: node1
    etcd_password: not-used-by-etcd2
  locksmith:
    etcd_password: 's3cr%t "q" \\ $x'
  units:
    - name: 10-eth0.network
      content: "[Match]\\nName=eth0\\n[Network]\\nDHCP=yes\\n"
    - name: wg0.netdev
      content: "[NetDev]\\nName=wg0\\nKind=wireguard\\n[WireGuard]\\nPrivateKey=abc\\n"
    - name: 20-old.link
      mask: true
"""
    proc = apply(root, config)
    assert proc.returncode == 0, proc.stderr
    flannel = root / "run/flannel/options.env"
    assert flannel.read_text() == (
        'FLANNELD_ETCD_ENDPOINTS="http://127.0.0.1:2379"\nFLANNELD_ETCD_PASSWORD="p\\"a\\$s"\n'
    )
    assert mode(flannel) == 0o600
    secrets = root / "var/lib/ccgen/env/locksmithd.service.env"
    assert (
        secrets.read_text() == 'LOCKSMITHD_ETCD_PASSWORD="s3cr%t \\"q\\" \\\\ \\$x"\n'
        and mode(secrets) == 0o600
    )
    net = root / "run/systemd/network"
    assert (net / "10-eth0.network").read_text().startswith("[Match]") and mode(
        net / "10-eth0.network"
    ) == 0o644
    assert mode(net / "wg0.netdev") == 0o640 and (net / "wg0.netdev").stat().st_gid == 101
    assert os.readlink(net / "20-old.link") == "/dev/null"


def test_only_one_step(root: Path) -> None:
    proc = apply(root, "hostname: h1\nwrite_files: [{path: /etc/f, content: x}]\n", "--only", "files")
    assert proc.returncode == 0, proc.stderr
    assert (root / "etc/f").exists() and not (root / "etc/hostname").exists()


def test_boot_reads_the_generator_inputs(root: Path) -> None:
    helpers.make_root(
        root,
        {
            "/usr/share/oem/cloud-config.yml": "#cloud-config\nwrite_files: [{path: /etc/oem, content: o}]\n",
            "/var/lib/ccgen/user-data": "#cloud-config\nhostname: from-user\n",
        },
    )
    proc = subprocess.run(
        [str(helpers.installed_script("ccgen")), "apply", "--root", str(root), "--boot"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert (root / "etc/oem").read_text() == "o"
    assert (root / "etc/hostname").read_text() == "from-user\n"


def test_apply_usage() -> None:
    proc = subprocess.run(
        [str(helpers.installed_script("ccgen")), "apply"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2


RO_USR = (
    "24 1 8:3 / / rw,relatime shared:1 - ext4 /dev/sda9 rw\n"
    "25 24 8:4 / /usr ro,relatime - ext4 /dev/sda3 ro\n"
)
RW_ROOT = "22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n"


def test_paths_are_cleaned_before_the_usr_rule(root: Path) -> None:
    """On a machine whose mount table says /usr is read-only."""
    helpers.make_root(root, {"/proc/self/mountinfo": RO_USR})
    config = """write_files:
  - {path: /tmp/../usr/x, content: a}
  - {path: /usr/./y, content: b}
  - {path: //usr/z, content: c}
  - {path: /usr/../etc/x, content: d}
  - {path: relative/y, content: e}
  - {path: /usrlocal/not-usr, content: f}
"""
    proc = apply(root, config)
    # apply refuses exactly what would fail, and writes the rest.
    assert proc.returncode == 1
    assert proc.stderr.count("error: file cannot be written to a read-only filesystem") == 3
    assert not (root / "usr").exists() and not (root / "tmp").exists()
    assert (root / "etc/x").read_text() == "d" and (root / "relative/y").read_text() == "e"
    # The first component is what counts: /usrlocal is not /usr.
    assert (root / "usrlocal/not-usr").read_text() == "f"


@pytest.mark.parametrize(
    "image",
    [
        {"/proc/self/mountinfo": RW_ROOT},  # a running Debian machine
        {"/etc/os-release": 'ID=debian\nVERSION_ID="12"\n'},  # a Debian image's tree
    ],
)
def test_usr_local_is_written_where_usr_is_writable(root: Path, image: dict[str, bytes | str]) -> None:
    helpers.make_root(root, image)
    proc = apply(
        root, "write_files: [{path: /usr/local/bin/hello, permissions: '0755', content: '#!/bin/sh\n'}]\n"
    )
    assert proc.returncode == 0, proc.stderr
    assert "read-only" not in proc.stderr
    assert mode(root / "usr/local/bin/hello") == 0o755


def test_usr_on_a_flatcar_image_is_refused(root: Path) -> None:
    helpers.make_root(root, {"/usr/lib/os-release": "ID=flatcar\nID_LIKE=coreos\n"})
    proc = apply(root, "write_files: [{path: /usr/local/bin/hello, content: x}]\n")
    assert proc.returncode == 1 and "error: file cannot be written to a read-only filesystem" in proc.stderr
    assert not (root / "usr/local").exists()


# Issue 22, finding 6: one rule for line breaks in SSH keys, sshd's (it splits authorized_keys
# at "\n" only): a key that any other reader would split is refused, and ccgen's block is
# parsed at "\n" only, so that no line can hide in it and outlive it.

BREAKS = ["\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029", "\0"]


def sshd_lines(path: Path) -> list[str]:
    """authorized_keys as sshd reads it."""
    return [ln for ln in path.read_bytes().decode().split("\n") if ln]


@pytest.mark.parametrize("brk", BREAKS, ids=[f"U+{ord(b):04X}" for b in BREAKS])
def test_a_provider_key_with_a_hidden_line_break_is_dropped(root: Path, brk: str) -> None:
    ssh = root / "home/core/.ssh"
    keys = f"ssh-ed25519 AAAAgood good@p\nssh-ed25519 AAAAfirst x{brk}ssh-rsa AAAAHIDDEN y\n"
    (root / "var/lib/ccgen").mkdir(parents=True, exist_ok=True)
    (root / "var/lib/ccgen/ssh-keys").write_bytes(keys.encode())
    proc = apply(root, "{}\n")
    assert proc.returncode == 0, proc.stderr
    assert "line break or NUL is skipped" in proc.stderr, proc.stderr
    lines = sshd_lines(ssh / "authorized_keys")
    assert "ssh-ed25519 AAAAgood good@p" in lines and not any("HIDDEN" in ln for ln in lines)


@pytest.mark.parametrize("brk", BREAKS, ids=[f"U+{ord(b):04X}" for b in BREAKS])
def test_a_config_key_with_a_hidden_line_break_is_refused(root: Path, brk: str) -> None:
    key = f"ssh-ed25519 AAAA first{brk}# END ccgen{brk}ssh-rsa AAAAHIDDEN persists"
    escaped = "".join(f"\\u{ord(c):04x}" if ord(c) < 0x20 or ord(c) > 0x7E else c for c in key)
    proc = apply(root, f'ssh_authorized_keys:\n  - "{escaped}"\n  - ssh-ed25519 AAAAgood g\n')
    assert "an SSH key must be one line" in proc.stderr, proc.stderr
    text = (root / "home/core/.ssh/authorized_keys").read_text()
    assert "HIDDEN" not in text and "AAAAgood" in text


def test_a_block_written_before_the_rule_goes_away_whole(root: Path) -> None:
    """A block an older ccgen wrote with a U+2028 key: sshd read it as one line inside the
    block, and so does the replacement, which takes it away with the block."""
    from ccgen.apply import sshkeys

    ssh = root / "home/core/.ssh"
    ssh.mkdir(mode=0o700)
    os.chown(ssh, 500, 500)
    old = (
        "ssh-ed25519 AAAAhand h\n"
        f"{sshkeys.BEGIN}\nssh-ed25519 AAAA first\u2028{sshkeys.END}\u2028ssh-rsa AAAAHIDDEN persists\n"
        f"{sshkeys.END}\n"
    )
    (ssh / "authorized_keys").write_text(old)
    os.chown(ssh / "authorized_keys", 500, 500)
    assert sshkeys.replace_block(old, ["ssh-ed25519 AAAAnew n"]) == (
        f"ssh-ed25519 AAAAhand h\n{sshkeys.BEGIN}\nssh-ed25519 AAAAnew n\n{sshkeys.END}\n"
    )
    proc = apply(root, "ssh_authorized_keys:\n  - ssh-ed25519 AAAAnew n\n")
    assert proc.returncode == 0, proc.stderr
    text = (ssh / "authorized_keys").read_text()
    assert "HIDDEN" not in text and "AAAAhand" in text and "AAAAnew" in text


def test_the_provider_keys_are_cleaned_with_the_same_rule() -> None:
    from ccgen.providers import base, values

    values.take_dropped()
    keys = [f"ssh-ed25519 AAAA a{b}ssh-rsa AAAAHIDDEN" for b in BREAKS] + ["ssh-ed25519 AAAAok k"]
    assert base.clean_keys(keys) == ["ssh-ed25519 AAAAok k"]
    assert len(values.take_dropped()) == len(BREAKS)
