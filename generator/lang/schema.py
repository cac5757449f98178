"""Every cloud-config key, declared once, with every fact about it.

Validation, the typed model, rendering, secret handling, `ccgen schema` (JSON
Schema) and docs/keys.md all read KEYS; no other module keeps a list of its
own.  Names are canonical (underscores); `-` in a document's key is read as
`_`.  Kinds use the original validator's words, because its messages
(`incorrect type for "x" (want []string)`) are part of compatibility.
"""

from __future__ import annotations

from ccgen.base import rules

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

STRING = "string"
BOOL = "bool"
INT = "int"
FLOAT = "float64"
STRUCT = "struct"
STRING_LIST = "[]string"
STRUCT_LIST = "[]struct"
# cloud-init's keys whose values take several shapes (a list or a comma string, a
# string or a list or false ...): the validator keeps the value as it is, and
# lang/cloudinit.py, the key's own parser, checks it with positioned diagnostics.
ANY = "any"

# How often cloud-init runs a key's module (its semaphores): once per instance id,
# at every boot, or once for the machine's life.
PER_INSTANCE = "once-per-instance"
ALWAYS = "always"
ONCE = "once"

# Where ccgen does it: the generator's own units (every boot, no process), the early
# ccgen-bootcmd.service (before ccgen-apply and the network), ccgen-apply.service
# (before the network, sshd and logins), or the late units of ccgen-deferred.target
# (after network-online.target, outside the boot transaction), in docs/cloud-init.md's order.
GENERATOR = "generator"
EARLY = "early"
APPLY = "apply"
LATE = "late"

# What a value of a `choices` key means at boot (coreos.units[].command and
# coreos.update.reboot_strategy): the renderer acts on the meaning, never on the word.
START = "start"
STOP = "stop"
IGNORED = "ignored"  # acts only on a running unit; at boot none is running yet
MASK = "mask"


class Key:
    __slots__ = (
        "check",
        "children",
        "choices",
        "deprecated",
        "doc",
        "env",
        "file",
        "frequency",
        "kind",
        "name",
        "names",
        "pattern",
        "secret",
        "stage",
        "unit",
        "unsupported",
    )

    def __init__(
        self,
        name: str,
        kind: str,
        doc: str,
        *,
        children: tuple[Key, ...] = (),
        pattern: str | None = None,
        check: Callable[[str], bool] | None = None,
        choices: dict[str, str] | None = None,
        deprecated: str | None = None,
        env: str | None = None,
        secret: bool = False,
        unit: str | None = None,
        file: str | None = None,
        frequency: str | None = None,
        stage: str | None = None,
        unsupported: str | None = None,
        names: bool = False,
    ) -> None:
        self.name = name
        self.kind = kind
        self.doc = doc
        self.children = children
        # A choice key's pattern and predicate come from its values; for the others,
        # `pattern` is the rule as the original validator's regex (for the docs and
        # JSON Schema) and `check` the same rule as a predicate, so that validating
        # needs no regex engine on the boot path (tests/test_rules.py proves they agree).
        self.choices = choices
        if choices is not None:
            pattern = "^(" + "|".join(v.replace("+", r"\+") for v in choices) + ")$"
            check = frozenset(choices).__contains__
        self.pattern = pattern
        self.check = check
        self.deprecated = deprecated
        self.env = env  # the environment variable the value becomes
        self.secret = secret  # never in a world-readable file, never quoted in a message
        self.unit = unit  # the unit a section's settings are a drop-in of
        self.file = file  # the file a section becomes
        self.frequency = frequency  # cloud-init's: PER_INSTANCE, ALWAYS or ONCE
        self.stage = stage  # where ccgen does it: GENERATOR, EARLY, APPLY or LATE
        # Why ccgen knows the key but does not do what it asks (the `unsupported` warning).
        self.unsupported = unsupported
        self.names = names  # a []struct whose items may also be plain names ("default", "bob")

    def child(self, name: str) -> Key | None:
        for k in self.children:
            if k.name == name:
                return k
        return None


def _s(name: str, doc: str, **kw: object) -> Key:
    return Key(name, STRING, doc, **kw)  # type: ignore[arg-type]


_KINDS = {"b": BOOL, "i": INT, "f": FLOAT, "": STRING}


def _env_keys(
    prefix: str,
    spec: str,
    deprecated: dict[str, str] | None = None,
    rules_: dict[str, tuple[str, Callable[[str], bool]]] | None = None,
    choices: dict[str, dict[str, str]] | None = None,
) -> tuple[Key, ...]:
    """Service settings from `name[:kind][=ENVNAME][!]` tokens, in the original's output
    order; a trailing `!` marks a secret."""
    out = []
    for token in spec.split():
        secret = token.endswith("!")
        name, _, env = token.rstrip("!").partition("=")
        name, _, kind = name.partition(":")
        env = env or prefix + name.upper()
        pattern, check = (rules_ or {}).get(name, (None, None))
        out.append(
            Key(
                name,
                _KINDS[kind],
                f"sets {env}" + (" (secret: kept in a root-only file)" if secret else ""),
                env=env,
                secret=secret,
                deprecated=(deprecated or {}).get(name),
                pattern=pattern,
                check=check,
                choices=(choices or {}).get(name),
            )
        )
    return tuple(out)


_ETCD2 = _env_keys(
    "ETCD_",
    "advertise_client_urls ca_file cert_file client_cert_auth:b cors data_dir debug:b "
    "discovery discovery_fallback discovery_srv discovery_proxy election_timeout:i "
    "enable_pprof:b force_new_cluster:b heartbeat_interval:i initial_advertise_peer_urls "
    "initial_cluster initial_cluster_state initial_cluster_token key_file "
    "listen_client_urls listen_peer_urls log_package_levels max_snapshots:i max_wals:i "
    "name peer_ca_file peer_cert_file peer_key_file peer_client_cert_auth:b "
    "peer_trusted_ca_file proxy proxy_dial_timeout:i proxy_failure_wait:i "
    "proxy_read_timeout:i proxy_refresh_interval:i proxy_write_timeout:i "
    "snapshot_count:i strict_reconfig_check:b trusted_ca_file wal_dir",
    {
        "ca_file": "ca_file obsoleted by trusted_ca_file and client_cert_auth",
        "peer_ca_file": "peer_ca_file obsoleted peer_trusted_ca_file and peer_client_cert_auth",
    },
    choices={"proxy": dict.fromkeys(("on", "off", "readonly"), "")},
)

_ETCD2_ONLY = "etcd2 options no longer work for etcd"
_ETCD = _env_keys(
    "ETCD_",
    "addr advertise_client_urls bind_addr ca_file cert_file cluster_active_size:i "
    "cluster_remove_delay:f cluster_sync_interval:f cors data_dir discovery "
    "discovery_fallback discovery_srv discovery_proxy election_timeout:i "
    "force_new_cluster:b graphite_host heartbeat_interval:i http_read_timeout:f "
    "http_write_timeout:f initial_advertise_peer_urls initial_cluster "
    "initial_cluster_state initial_cluster_token key_file listen_client_urls "
    "listen_peer_urls max_result_buffer:i max_retry_attempts:i max_snapshots:i "
    "max_wals:i name peer_addr peer_bind_addr peer_ca_file peer_cert_file "
    "peer_election_timeout:i peer_heartbeat_interval:i peer_key_file peers peers_file "
    "proxy retry_interval:f snapshot:b snapshot_count:i=ETCD_SNAPSHOTCOUNT trace "
    "verbose:b very_verbose:b very_very_verbose:b",
    dict.fromkeys(
        (
            "advertise_client_urls",
            "discovery_fallback",
            "discovery_srv",
            "discovery_proxy",
            "election_timeout",
            "force_new_cluster",
            "heartbeat_interval",
            "initial_advertise_peer_urls",
            "initial_cluster",
            "initial_cluster_state",
            "initial_cluster_token",
            "listen_client_urls",
            "listen_peer_urls",
            "max_snapshots",
            "max_wals",
            "proxy",
        ),
        _ETCD2_ONLY,
    ),
)

_FLEET = _env_keys(
    "FLEET_",
    "agent_ttl authorized_keys_file disable_engine:b engine_reconcile_interval:f "
    "etcd_cafile etcd_certfile etcd_keyfile etcd_key_prefix etcd_request_timeout:f "
    "etcd_servers etcd_username etcd_password! metadata public_ip token_limit:i "
    "verbosity:i verify_units:b",
)

_LOCKSMITH = _env_keys(
    "LOCKSMITHD_",
    "endpoint etcd_cafile etcd_certfile etcd_keyfile etcd_username etcd_password! group "
    "window_start=REBOOT_WINDOW_START window_length=REBOOT_WINDOW_LENGTH",
    rules_={
        "window_start": (
            r"^((?i:sun|mon|tue|wed|thu|fri|sat|sun) )?0*([0-9]|1[0-9]|2[0-3]):0*([0-9]|[1-5][0-9])$",
            rules.is_window_start,
        ),
        "window_length": (r"^[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+$", rules.is_window_length),
    },
)

_FLANNEL = _env_keys(
    "FLANNELD_",
    "etcd_endpoints etcd_cafile etcd_certfile etcd_keyfile etcd_prefix etcd_username "
    "etcd_password! ip_masq subnet_file interface=FLANNELD_IFACE public_ip",
)

# coreos.units[].command: the original's words, and what each means at boot (docs/units.md).
COMMANDS = {
    "start": START,
    "stop": STOP,
    "restart": START,
    "reload": IGNORED,
    "try-restart": IGNORED,
    "reload-or-restart": START,
    "reload-or-try-restart": IGNORED,
}
# coreos.update.reboot_strategy: what it does to locksmithd.service.
REBOOT_STRATEGIES = {"etcd-lock": START, "reboot": START, "off": MASK}
# manage_etc_hosts: cloud-init's values (cc_update_etc_hosts), and what each does.
HOSTS_RENDER = "render"  # /etc/hosts written whole from a template with the hostname
HOSTS_LOCALHOST = "localhost"  # the hostname's 127.0.1.1 line added; other lines kept
HOSTS_LEAVE = "leave"
ETC_HOSTS = {
    "true": HOSTS_RENDER,
    "template": HOSTS_RENDER,
    "localhost": HOSTS_LOCALHOST,
    "false": HOSTS_LEAVE,
}
# cloud-init reads the value with util.translate_bool: YAML's other spellings of a boolean
# (`yes`, `on`, `True`, ...) mean the same there, so they do here (docs/compat.md).
ETC_HOSTS.update(
    {
        word: mode
        for words, mode in ((("yes", "on", "1"), HOSTS_RENDER), (("no", "off", "0"), HOSTS_LEAVE))
        for base in words
        for word in (base, base.capitalize(), base.upper())
    }
)
ETC_HOSTS.update({"True": HOSTS_RENDER, "TRUE": HOSTS_RENDER, "False": HOSTS_LEAVE, "FALSE": HOSTS_LEAVE})
ENCODINGS = (
    "b64",
    "base64",
    "gz",
    "gzip",
    "gz+b64",
    "gz+base64",
    "gzip+b64",
    "gzip+base64",
    "text/plain",
)

# cloud-init's old spellings of keys, read as the new ones with a `deprecated` warning
# (a `-` is read as `_` anyway; these are the ones cloud-init itself deprecated).
OLD_SPELLINGS = {"ca-certs": "ca_certs", "remove-defaults": "remove_defaults"}
# ssh_keys: the host key types cloud-init takes.
HOST_KEY_TYPES = ("rsa", "dsa", "ecdsa", "ed25519")
# ntp.ntp_client: the clients ccgen writes for (cloud-init's ntp and ntpdate are not done).
NTP_CLIENTS = ("auto", "chrony", "systemd-timesyncd")

_GITHUB = "trying to fetch from a remote endpoint introduces too many intermittent errors"

UNIT = (
    _s("name", "unit file name, e.g. `etcd2.service`; validated by systemd's rules"),
    _s("content", "the whole unit file; empty means the unit is already installed"),
    Key("enable", BOOL, "create the links named by the unit's [Install] section"),
    Key("runtime", BOOL, "no effect: everything ccgen generates lives in /run"),
    Key("mask", BOOL, "mask the unit (a link to /dev/null)"),
    _s("command", "what to do with the unit at boot: " + ", ".join(COMMANDS), choices=COMMANDS),
    Key(
        "drop_ins",
        STRUCT_LIST,
        "drop-in files for the unit",
        children=(
            _s("name", "drop-in file name; systemd reads only names ending in .conf"),
            _s("content", "the drop-in's text"),
        ),
    ),
)

WRITE_FILE = (
    _s("path", "absolute path of the file; `.`, `..` and repeated `/` are resolved first"),
    _s("content", "the file's content (may be a !!binary scalar)"),
    _s("permissions", "octal mode, default 0644", pattern=r"^0?[0-7]{3,4}$", check=rules.is_mode),
    _s("owner", "`user`, `user:group` or numeric ids"),
    _s("encoding", "how content is encoded: " + ", ".join(ENCODINGS), choices=dict.fromkeys(ENCODINGS, "")),
    Key("append", BOOL, "add the content at the end of the file instead of replacing it (cloud-init)"),
    Key(
        "defer",
        BOOL,
        "write the file late, after packages are installed (ccgen-files-deferred.service; cloud-init)",
    ),
)

USER = (
    _s("name", "login name (required)"),
    _s("passwd", "password hash", secret=True),
    Key("ssh_authorized_keys", STRING_LIST, "public keys for the user"),
    _s("gecos", "GECOS comment"),
    _s("homedir", "home directory"),
    Key("no_create_home", BOOL, "do not create the home directory"),
    _s("primary_group", "primary group"),
    Key("groups", ANY, "supplementary groups: a YAML list, or a comma string (cloud-init)"),
    Key("no_user_group", BOOL, "do not create a group named after the user"),
    Key("system", BOOL, "create a system account"),
    Key("no_log_init", BOOL, "do not add the user to lastlog and faillog"),
    _s("shell", "login shell"),
    _s("coreos_ssh_import_github", "import keys of a GitHub user", deprecated=_GITHUB),
    Key("coreos_ssh_import_github_users", STRING_LIST, "import keys of GitHub users", deprecated=_GITHUB),
    _s("coreos_ssh_import_url", "import keys from a URL", deprecated=_GITHUB),
    # cloud-init's user keys
    Key("sudo", ANY, "sudo rules: a string, a list of strings, or false; /etc/sudoers.d/90-ccgen-users"),
    Key("lock_passwd", BOOL, "lock the password (default true for a user ccgen creates without `passwd`)"),
    _s("hashed_passwd", "password hash, set with `chpasswd -e`", secret=True),
    _s("plain_text_passwd", "password in clear, hashed on the machine and never written", secret=True),
    _s(
        "expiredate",
        "account expiry date, YYYY-MM-DD",
        pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
        check=rules.is_date,
    ),
    Key("uid", ANY, "numeric user id (an integer, or a string of digits)"),
    _s("inactive", "days after the password expires until the account is disabled"),
    Key("create_groups", BOOL, "create missing `groups` (default true)"),
    _s("selinux_user", "SELinux user", unsupported="ccgen targets Debian images, which have no SELinux"),
    Key(
        "ssh_import_id",
        ANY,
        "import keys from Launchpad or GitHub",
        unsupported="it fetches keys from the network at boot; list the keys in ssh_authorized_keys",
    ),
    Key(
        "ssh_redirect_user",
        BOOL,
        "give this user the platform's keys behind a 'log in as' message",
        unsupported="ccgen gives the platform's keys to the default user only",
    ),
    _s("snapuser", "a Snap Store account", unsupported="snap is Ubuntu's; Debian has no snapd by default"),
)

COREOS = (
    Key("units", STRUCT_LIST, "systemd units", children=UNIT),
    Key(
        "etcd",
        STRUCT,
        "etcd.service drop-in (etcd 0.4)",
        children=_ETCD,
        unit="etcd.service",
        deprecated="etcd is no longer shipped in Container Linux",
    ),
    Key(
        "etcd2",
        STRUCT,
        "etcd2.service drop-in",
        children=_ETCD2,
        unit="etcd2.service",
        deprecated="etcd2 is no longer shipped in Container Linux",
    ),
    Key(
        "fleet",
        STRUCT,
        "fleet.service drop-in",
        children=_FLEET,
        unit="fleet.service",
        deprecated="fleet is no longer shipped in Container Linux",
    ),
    Key("flannel", STRUCT, "/run/flannel/options.env", children=_FLANNEL, file="/run/flannel/options.env"),
    Key("locksmith", STRUCT, "locksmithd.service drop-in", children=_LOCKSMITH, unit="locksmithd.service"),
    Key(
        "update",
        STRUCT,
        "/etc/coreos/update.conf and the update services",
        file="/etc/coreos/update.conf",
        children=(
            _s(
                "reboot_strategy",
                "etcd-lock, reboot or off (off masks and stops locksmithd.service)",
                env="REBOOT_STRATEGY",
                unit="locksmithd.service",
                choices=REBOOT_STRATEGIES,
            ),
            _s("group", "update channel", env="GROUP", unit="update-engine.service"),
            _s("server", "Omaha server URL", env="SERVER", unit="update-engine.service"),
        ),
    ),
    Key(
        "oem",
        STRUCT,
        "/etc/oem-release",
        file="/etc/oem-release",
        children=(
            _s("id", "OEM id; also chooses the metadata provider", env="ID"),
            _s("name", "OEM name", env="NAME"),
            _s("version_id", "OEM version", env="VERSION_ID"),
            _s("home_url", "OEM home page", env="HOME_URL"),
            _s("bug_report_url", "where to report bugs", env="BUG_REPORT_URL"),
        ),
    ),
)


def _ci(name: str, kind: str, doc: str, frequency: str, stage: str | None, **kw: object) -> Key:
    """A key of cloud-init's dialect, with cloud-init's frequency and ccgen's stage."""
    return Key(name, kind, doc, frequency=frequency, stage=stage, **kw)  # type: ignore[arg-type]


def _unsupported(name: str, doc: str, frequency: str, why: str) -> Key:
    return _ci(name, ANY, doc, frequency, None, unsupported=why)


_BY_HOSTNAME = (
    "ccgen sets the names from `hostname` alone, as hostnamectl does (docs/compat.md); not yet this key"
)
_DISKS = "ccgen does not touch disks yet; use coreos.units with .mount, .swap or systemd-repart"

# cloud-init's dialect (cloud-init 22.4.2 as Debian 12 ships it; docs/cloud-init.md).
CLOUD_INIT = (
    _ci(
        "bootcmd",
        ANY,
        "commands run at every boot, early, before the network: each a string (a line of one "
        "shell script) or a list of words (quoted, so each reaches the command as it is); "
        "ccgen-bootcmd.service",
        ALWAYS,
        EARLY,
    ),
    _ci(
        "runcmd",
        ANY,
        "commands run once per instance, after files, users and packages: each a string (a line "
        "of one shell script) or a list of words (quoted, so each reaches the command as it "
        "is); ccgen-runcmd.service",
        PER_INSTANCE,
        LATE,
    ),
    _ci(
        "packages",
        ANY,
        "packages to install: names, or [name, version] pairs (apt-get, dnf or zypper); "
        "ccgen-packages.service",
        PER_INSTANCE,
        LATE,
    ),
    _ci("package_update", BOOL, "update the package lists first", PER_INSTANCE, LATE),
    _ci("package_upgrade", BOOL, "upgrade every installed package", PER_INSTANCE, LATE),
    _ci(
        "package_reboot_if_required",
        BOOL,
        "reboot when packages say so (/run/reboot-required)",
        PER_INSTANCE,
        LATE,
    ),
    _ci("apt_update", BOOL, "package_update", PER_INSTANCE, LATE, deprecated="use package_update"),
    _ci("apt_upgrade", BOOL, "package_upgrade", PER_INSTANCE, LATE, deprecated="use package_upgrade"),
    _ci(
        "apt_reboot_if_required",
        BOOL,
        "package_reboot_if_required",
        PER_INSTANCE,
        LATE,
        deprecated="use package_reboot_if_required",
    ),
    _ci(
        "groups",
        ANY,
        "groups to create before the users: names, `{group: member or [members]}` items, or a "
        "mapping of group to members",
        PER_INSTANCE,
        APPLY,
    ),
    _ci(
        "system_info",
        STRUCT,
        "what the image says about itself; only `default_user` is read (the OEM config's)",
        PER_INSTANCE,
        APPLY,
        children=(
            Key(
                "default_user",
                STRUCT,
                "the image's default user, which `users: [default]` (or no `users` at all) creates",
                children=USER,
            ),
        ),
    ),
    _ci(
        "chpasswd",
        STRUCT,
        "passwords for existing users",
        PER_INSTANCE,
        APPLY,
        children=(
            Key("users", ANY, "`{name, password, type: hash|text}` items; type defaults to hash"),
            Key(
                "list",
                ANY,
                "`user:password` lines, as a list or one string (cloud-init's older form)",
                deprecated="use chpasswd.users",
                secret=True,
            ),
            Key("expire", BOOL, "make each user change the password at the next login (default true)"),
        ),
    ),
    _ci(
        "ssh_pwauth",
        ANY,
        "password login over SSH: true, false or `unchanged`; /etc/ssh/sshd_config.d/50-ccgen.conf",
        PER_INSTANCE,
        APPLY,
    ),
    _ci(
        "disable_root",
        BOOL,
        "give root the default user's keys behind a 'log in as' message (true, cloud-init's "
        "default once either key is given), or plainly (false); root's ~/.ssh/authorized_keys",
        PER_INSTANCE,
        APPLY,
    ),
    _ci(
        "disable_root_opts",
        STRING,
        "the options put before root's keys; $USER, $DISABLE_USER and $ROOT are replaced",
        PER_INSTANCE,
        APPLY,
    ),
    _unsupported(
        "ssh_deletekeys",
        "delete the host keys on a new instance",
        PER_INSTANCE,
        "the image's sshd-keygen/ssh.service make the host keys; not done yet",
    ),
    _unsupported(
        "ssh_genkeytypes",
        "host key types to generate",
        PER_INSTANCE,
        "the image's sshd-keygen/ssh.service make the host keys; not done yet",
    ),
    _ci(
        "ssh_keys",
        STRUCT,
        "host keys given in the file: /etc/ssh/ssh_host_TYPE_key (0600), .pub and -cert.pub (0644)",
        PER_INSTANCE,
        APPLY,
        children=tuple(
            _s(
                f"{t}_{part}",
                f"the {t} host key's {part} part"
                + (" (secret: root's only, never shown)" if part == "private" else ""),
                secret=part == "private",
            )
            for t in HOST_KEY_TYPES
            for part in ("private", "public", "certificate")
        ),
    ),
    _unsupported(
        "ssh_import_id",
        "import keys from Launchpad or GitHub",
        PER_INSTANCE,
        "it fetches keys from the network at boot; list the keys in ssh_authorized_keys",
    ),
    _ci(
        "timezone",
        STRING,
        "time zone, e.g. Europe/Berlin: /etc/timezone and /etc/localtime",
        PER_INSTANCE,
        APPLY,
        check=rules.is_zone_name,
        pattern=r"^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$",
    ),
    _ci(
        "locale",
        STRING,
        "the system locale, e.g. en_US.UTF-8: LANG in the locale file",
        PER_INSTANCE,
        APPLY,
        check=rules.is_locale,
        pattern=r"^[A-Za-z0-9_.@-]+$",
    ),
    _ci("locale_configfile", STRING, "the locale file (default /etc/default/locale)", PER_INSTANCE, APPLY),
    _ci(
        "final_message",
        STRING,
        "a line for the console and the journal at the end of every boot; $UPTIME, $TIMESTAMP, "
        "$VERSION and $DATASOURCE are replaced",
        ALWAYS,
        LATE,
    ),
    _ci(
        "power_state",
        STRUCT,
        "reboot, power off or halt once everything else is done",
        PER_INSTANCE,
        LATE,
        children=(
            _s(
                "mode",
                "poweroff, reboot or halt (required)",
                choices={"poweroff": "-P", "reboot": "-r", "halt": "-H"},
            ),
            Key("delay", ANY, "`now` (default), minutes, or `+N` minutes"),
            _s("message", "the message shutdown sends to logged-in users"),
            Key("timeout", INT, "no effect: ccgen orders the step after everything else"),
            Key("condition", ANY, "true, false, a shell command or a list of words: act only if it succeeds"),
        ),
    ),
    _unsupported("fqdn", "the fully qualified name", PER_INSTANCE, _BY_HOSTNAME),
    _unsupported("prefer_fqdn_over_hostname", "write the fqdn to /etc/hostname", PER_INSTANCE, _BY_HOSTNAME),
    _unsupported("preserve_hostname", "never change the hostname", PER_INSTANCE, _BY_HOSTNAME),
    _unsupported(
        "apt",
        "apt sources, mirrors, proxy and configuration",
        PER_INSTANCE,
        "not done yet; write_files can place /etc/apt/sources.list.d/ and apt.conf.d/ files",
    ),
    _ci(
        "ntp",
        STRUCT,
        "time servers: a systemd-timesyncd drop-in (/etc/systemd/timesyncd.conf.d/50-ccgen.conf), "
        "or a chrony sources file where the image has chrony",
        PER_INSTANCE,
        APPLY,
        children=(
            Key("enabled", BOOL, "false: nothing is done (default true)"),
            _s(
                "ntp_client",
                "auto (chrony where installed, else systemd-timesyncd), chrony or systemd-timesyncd",
                choices=dict.fromkeys(NTP_CLIENTS, ""),
            ),
            Key("servers", STRING_LIST, "NTP servers, by name or address"),
            Key("pools", STRING_LIST, "NTP pools; with neither, Debian's four pools (as cloud-init)"),
            Key(
                "config",
                ANY,
                "the client's config file, template and service",
                unsupported="ccgen writes a drop-in for the installed client; it installs none",
            ),
        ),
    ),
    _ci(
        "ca_certs",
        STRUCT,
        "trusted CA certificates: /usr/local/share/ca-certificates/ccgen-N.crt, then "
        "update-ca-certificates (`ca-certs` is the old spelling)",
        PER_INSTANCE,
        APPLY,
        children=(
            Key("trusted", STRING_LIST, "PEM certificates to trust, one or more in each item"),
            Key(
                "remove_defaults",
                BOOL,
                "distrust the image's CA certificates: each entry of /etc/ca-certificates.conf "
                "disabled with `!` (`remove-defaults` is the old spelling)",
            ),
        ),
    ),
    _unsupported("mounts", "/etc/fstab rows", PER_INSTANCE, _DISKS),
    _unsupported("mount_default_fields", "defaults for mounts rows", PER_INSTANCE, _DISKS),
    _unsupported("swap", "a swap file", PER_INSTANCE, _DISKS),
    _unsupported(
        "growpart",
        "grow partitions to the disk's size",
        ALWAYS,
        "not done yet; systemd-repart or x-systemd.growfs do it natively",
    ),
    _unsupported(
        "resize_rootfs",
        "grow the root file system",
        ALWAYS,
        "not done yet; systemd-growfs-root (x-systemd.growfs) does it natively",
    ),
    _unsupported(
        "disk_setup", "partition disks", PER_INSTANCE, "not done: partitioning cannot yet be made safe here"
    ),
    _unsupported(
        "fs_setup", "make file systems", PER_INSTANCE, "not done: formatting cannot yet be made safe here"
    ),
    _ci(
        "password",
        STRING,
        "the default user's password (a crypt hash, or text hashed on the machine), when chpasswd "
        "names no user; chpasswd.expire applies",
        PER_INSTANCE,
        APPLY,
        secret=True,
    ),
    _ci(
        "user",
        STRUCT,
        "the default user's fields, over the image's `system_info.default_user`; a name alone "
        "renames it. Implies `default` in `users`",
        PER_INSTANCE,
        APPLY,
        children=USER,
        names=True,
    ),
    _unsupported("phone_home", "POST the host keys to a URL", PER_INSTANCE, "not done yet"),
    _unsupported("snap", "snap packages", PER_INSTANCE, "snap is Ubuntu's; Debian has no snapd by default"),
)

# The keys lang/cloudinit.py builds: a document without any of them never imports it.
CLOUD_INIT_NAMES = frozenset(
    k.name for k in CLOUD_INIT if k.unsupported is None and k.name not in ("system_info", "user")
)

PACKAGE_KEYS = (
    "packages",
    "package_update",
    "package_upgrade",
    "package_reboot_if_required",
    "apt_update",
    "apt_upgrade",
    "apt_reboot_if_required",
)

# Each settings section's key order, for merging several configs (model.merge keeps the
# table's order); compile.py and userdata.py merge with it.
MERGE_ORDER = {k.name: tuple(c.name for c in k.children) for k in COREOS if k.kind == STRUCT}

KEYS = Key(
    "",
    STRUCT,
    "a #cloud-config document",
    children=(
        Key(
            "ssh_authorized_keys",
            STRING_LIST,
            "public keys for the user core, or for the image's default user when it declares one",
            frequency=PER_INSTANCE,
            stage=APPLY,
        ),
        _s(
            "hostname",
            "the machine's hostname, as `hostnamectl set-hostname` takes it: a valid hostname is "
            "the static one; any other text is the pretty hostname, and its cleaned form the static one",
            frequency=PER_INSTANCE,
            stage=APPLY,
        ),
        Key(
            "users",
            STRUCT_LIST,
            "users to create or update; an item may also be `default` (the image's default user) "
            "or a name, or names separated by commas",
            children=USER,
            names=True,
            frequency=PER_INSTANCE,
            stage=APPLY,
        ),
        Key(
            "write_files",
            STRUCT_LIST,
            "files to write",
            children=WRITE_FILE,
            frequency=PER_INSTANCE,
            stage=APPLY,
        ),
        _s(
            "manage_etc_hosts",
            "/etc/hosts, with cloud-init's meanings: `true` or `template` write it whole with the "
            "hostname, `localhost` adds the hostname's 127.0.1.1 line, `false` leaves it alone",
            file="/etc/hosts",
            choices=ETC_HOSTS,
            frequency=ALWAYS,
            stage=APPLY,
        ),
        Key("coreos", STRUCT, "CoreOS-specific settings", children=COREOS),
        *CLOUD_INIT,
    ),
)


def section(*path: str) -> Key:
    """The key at a dotted path, e.g. section("coreos", "etcd2")."""
    key = KEYS
    for name in path:
        found = key.child(name)
        if found is None:
            raise KeyError(".".join(path))
        key = found
    return key


SERVICE_SECTIONS = tuple(k for k in COREOS if k.unit is not None)


def walk(key: Key = KEYS, path: str = "") -> list[tuple[str, Key]]:
    """Every key with its dotted path, depth first, in declaration order."""
    out: list[tuple[str, Key]] = []
    for child in key.children:
        p = f"{path}.{child.name}" if path else child.name
        if child.kind == STRUCT_LIST:
            p += "[]"
        out.append((p, child))
        out.extend(walk(child, p))
    return out
