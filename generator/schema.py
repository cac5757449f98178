"""Every cloud-config key, declared once.

Validation, the typed model, `ccgen schema` (JSON Schema) and docs/keys.md are
all derived from KEYS.  Names are canonical (underscores); `-` in a document's
key is read as `_`.  Kinds use the original validator's words, because its
messages (`incorrect type for "x" (want []string)`) are part of compatibility.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

STRING = "string"
BOOL = "bool"
INT = "int"
FLOAT = "float64"
STRUCT = "struct"
STRING_LIST = "[]string"
STRUCT_LIST = "[]struct"


class Key:
    __slots__ = ("check", "children", "deprecated", "doc", "env", "kind", "name", "pattern")

    def __init__(
        self,
        name: str,
        kind: str,
        doc: str,
        children: tuple[Key, ...] = (),
        pattern: str | None = None,
        deprecated: str | None = None,
        env: str | None = None,
        check: Callable[[str], bool] | None = None,
    ) -> None:
        self.name = name
        self.kind = kind
        self.doc = doc
        self.children = children
        # `pattern` is the rule as the original validator's regex (for docs and JSON
        # Schema); `check` is the same rule as a predicate, so that validating needs
        # no regex engine on the boot path.  tests/test_schema.py proves they agree.
        self.pattern = pattern
        self.check = check
        self.deprecated = deprecated
        self.env = env

    def child(self, name: str) -> Key | None:
        for k in self.children:
            if k.name == name:
                return k
        return None


def _choices(values: tuple[str, ...]) -> dict[str, Any]:
    """A key whose value must be one of `values`: the pattern and its predicate."""
    allowed = frozenset(values)
    return {
        "pattern": "^(" + "|".join(v.replace("+", r"\+") for v in values) + ")$",
        "check": allowed.__contains__,
    }


def _is_mode(text: str) -> bool:
    """^0?[0-7]{3,4}$"""
    digits = text[1:] if len(text) == 5 and text[0] == "0" else text
    return 3 <= len(digits) <= 4 and all(c in "01234567" for c in digits)


_ASCII_DIGITS = frozenset("0123456789")
_DAYS = frozenset(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))


def _bounded_number(text: str, most: int) -> bool:
    """0*(one or two digits up to `most`), as the window regex spells it."""
    if not text or not all(c in _ASCII_DIGITS for c in text):
        return False
    significant = text.lstrip("0")
    return len(significant) <= 2 and int(significant or "0") <= most


def _is_window_start(text: str) -> bool:
    """^((?i:sun|mon|...) )?0*([0-9]|1[0-9]|2[0-3]):0*([0-9]|[1-5][0-9])$ (ASCII day names)."""
    if len(text) > 4 and text[3] == " " and text[:3].lower() in _DAYS:
        text = text[4:]
    hours, sep, minutes = text.partition(":")
    return bool(sep) and _bounded_number(hours, 23) and _bounded_number(minutes, 59)


_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz")


def _is_window_length(text: str) -> bool:
    """^[-+]?([0-9]*(\\.[0-9]*)?[a-z]+)+$: runs of digits, an optional fraction, a unit."""
    i = 1 if text[:1] in ("-", "+") else 0
    if i == len(text):
        return False
    while i < len(text):
        while i < len(text) and text[i] in _ASCII_DIGITS:
            i += 1
        if i < len(text) and text[i] == ".":
            i += 1
            while i < len(text) and text[i] in _ASCII_DIGITS:
                i += 1
        start = i
        while i < len(text) and text[i] in _LOWER:
            i += 1
        if i == start:
            return False
    return True


def _s(name: str, doc: str, **kw: Any) -> Key:
    return Key(name, STRING, doc, **kw)


def _env_keys(prefix: str, spec: str, deprecated: dict[str, str] | None = None) -> tuple[Key, ...]:
    """Service settings: `name[:kind][=ENVNAME]` tokens, in the original's output order."""
    out = []
    for token in spec.split():
        name, _, env = token.partition("=")
        name, _, kind = name.partition(":")
        kind = {"b": BOOL, "i": INT, "f": FLOAT, "": STRING}[kind]
        env = env or prefix + name.upper()
        dep = (deprecated or {}).get(name)
        out.append(Key(name, kind, f"sets {env}", env=env, deprecated=dep))
    return tuple(out)


_ETCD2_OBSOLETE = {
    "ca_file": "ca_file obsoleted by trusted_ca_file and client_cert_auth",
    "peer_ca_file": "peer_ca_file obsoleted peer_trusted_ca_file and peer_client_cert_auth",
}
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
    _ETCD2_OBSOLETE,
)
_ETCD2 = tuple(
    Key(k.name, k.kind, k.doc, env=k.env, **_choices(("on", "off", "readonly"))) if k.name == "proxy" else k
    for k in _ETCD2
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
    {
        k: _ETCD2_ONLY
        for k in [
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
        ]
    },
)

_FLEET = _env_keys(
    "FLEET_",
    "agent_ttl authorized_keys_file disable_engine:b engine_reconcile_interval:f "
    "etcd_cafile etcd_certfile etcd_keyfile etcd_key_prefix etcd_request_timeout:f "
    "etcd_servers etcd_username etcd_password metadata public_ip token_limit:i "
    "verbosity:i verify_units:b",
)

_LOCKSMITH = _env_keys(
    "LOCKSMITHD_",
    "endpoint etcd_cafile etcd_certfile etcd_keyfile etcd_username etcd_password group "
    "window_start=REBOOT_WINDOW_START window_length=REBOOT_WINDOW_LENGTH",
)
_LOCKSMITH_RULES: dict[str, dict[str, Any]] = {
    "window_start": {
        "pattern": r"^((?i:sun|mon|tue|wed|thu|fri|sat|sun) )?0*([0-9]|1[0-9]|2[0-3]):0*([0-9]|[1-5][0-9])$",
        "check": _is_window_start,
    },
    "window_length": {"pattern": r"^[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+$", "check": _is_window_length},
}
_LOCKSMITH = tuple(
    Key(k.name, k.kind, k.doc, env=k.env, **_LOCKSMITH_RULES.get(k.name, {})) for k in _LOCKSMITH
)

_FLANNEL = _env_keys(
    "FLANNELD_",
    "etcd_endpoints etcd_cafile etcd_certfile etcd_keyfile etcd_prefix etcd_username "
    "etcd_password ip_masq subnet_file interface=FLANNELD_IFACE public_ip",
)

COMMANDS = ("start", "stop", "restart", "reload", "try-restart", "reload-or-restart", "reload-or-try-restart")
ENCODINGS = ("b64", "base64", "gz", "gzip", "gz+b64", "gz+base64", "gzip+b64", "gzip+base64")

_GITHUB = "trying to fetch from a remote endpoint introduces too many intermittent errors"

UNIT = (
    _s("name", "unit file name, e.g. `etcd2.service`; validated by systemd's rules"),
    _s("content", "the whole unit file; empty means the unit is already installed"),
    Key("enable", BOOL, "create the links named by the unit's [Install] section"),
    Key("runtime", BOOL, "no effect: everything ccgen generates lives in /run"),
    Key("mask", BOOL, "mask the unit (a link to /dev/null)"),
    _s("command", "what to do with the unit at boot: " + ", ".join(COMMANDS), **_choices(COMMANDS)),
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
    _s("path", "absolute path of the file"),
    _s("content", "the file's content (may be a !!binary scalar)"),
    _s("permissions", "octal mode, default 0644", pattern=r"^0?[0-7]{3,4}$", check=_is_mode),
    _s("owner", "`user`, `user:group` or numeric ids"),
    _s("encoding", "how content is encoded: " + ", ".join(ENCODINGS), **_choices(ENCODINGS)),
)

USER = (
    _s("name", "login name (required)"),
    _s("passwd", "password hash"),
    Key("ssh_authorized_keys", STRING_LIST, "public keys for the user"),
    _s("gecos", "GECOS comment"),
    _s("homedir", "home directory"),
    Key("no_create_home", BOOL, "do not create the home directory"),
    _s("primary_group", "primary group"),
    Key("groups", STRING_LIST, "supplementary groups (a YAML list)"),
    Key("no_user_group", BOOL, "do not create a group named after the user"),
    Key("system", BOOL, "create a system account"),
    Key("no_log_init", BOOL, "do not add the user to lastlog and faillog"),
    _s("shell", "login shell"),
    _s("coreos_ssh_import_github", "import keys of a GitHub user", deprecated=_GITHUB),
    Key(
        "coreos_ssh_import_github_users",
        STRING_LIST,
        "import keys of GitHub users",
        deprecated=_GITHUB,
    ),
    _s("coreos_ssh_import_url", "import keys from a URL", deprecated=_GITHUB),
)

COREOS = (
    Key("units", STRUCT_LIST, "systemd units", children=UNIT),
    Key(
        "etcd",
        STRUCT,
        "etcd.service drop-in (etcd 0.4)",
        children=_ETCD,
        deprecated="etcd is no longer shipped in Container Linux",
    ),
    Key(
        "etcd2",
        STRUCT,
        "etcd2.service drop-in",
        children=_ETCD2,
        deprecated="etcd2 is no longer shipped in Container Linux",
    ),
    Key(
        "fleet",
        STRUCT,
        "fleet.service drop-in",
        children=_FLEET,
        deprecated="fleet is no longer shipped in Container Linux",
    ),
    Key("flannel", STRUCT, "/run/flannel/options.env", children=_FLANNEL),
    Key("locksmith", STRUCT, "locksmithd.service drop-in", children=_LOCKSMITH),
    Key(
        "update",
        STRUCT,
        "/etc/coreos/update.conf and the update services",
        children=(
            _s(
                "reboot_strategy",
                "etcd-lock, reboot or off",
                env="REBOOT_STRATEGY",
                **_choices(("etcd-lock", "reboot", "off")),
            ),
            _s("group", "update channel", env="GROUP"),
            _s("server", "Omaha server URL", env="SERVER"),
        ),
    ),
    Key(
        "oem",
        STRUCT,
        "/etc/oem-release",
        children=(
            _s("id", "OEM id; also chooses the metadata provider"),
            _s("name", "OEM name"),
            _s("version_id", "OEM version"),
            _s("home_url", "OEM home page"),
            _s("bug_report_url", "where to report bugs"),
        ),
    ),
)

KEYS = Key(
    "",
    STRUCT,
    "a #cloud-config document",
    children=(
        Key("ssh_authorized_keys", STRING_LIST, "public keys for the user core"),
        _s("hostname", "the machine's hostname"),
        Key("users", STRUCT_LIST, "users to create or update", children=USER),
        Key("write_files", STRUCT_LIST, "files to write", children=WRITE_FILE),
        _s("manage_etc_hosts", "`localhost` writes /etc/hosts"),
        Key("coreos", STRUCT, "CoreOS-specific settings", children=COREOS),
    ),
)


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
