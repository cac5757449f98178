"""cloud-init's modules as units: bootcmd, packages, deferred files, runcmd, final_message
and power_state, in cloud-init's order and frequency (docs/cloud-init.md).

Each command list becomes one shell script, as cloud-init writes one, kept in the
generator's directory (root-only, 0700) so that no command is copied into a
world-readable unit; the unit runs it with /bin/sh.  bootcmd runs at every boot
before ccgen-apply and the network; the others are jobs of ccgen-deferred.target,
after network-online.target and outside the boot transaction, so a slow mirror
never holds up the boot.  A per-instance unit is skipped by its record under
/var/lib/ccgen/applied/ (`ccgen apply --record-script`), as the script units are.

Imported by render.py only for a config that uses one of these keys.
"""

from __future__ import annotations

from ccgen.base import cache, names
from ccgen.base.unittext import UnitText, exec_word
from ccgen.bootpath.digest import sha256
from ccgen.bootpath.plan import File, Link
from ccgen.lang import cloudinit

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ccgen.base.diag import Span
    from ccgen.lang.cloudinit import CloudInit, Command
    from ccgen.lang.model import CloudConfig

    from .render import _Renderer

SCRIPT_DIR = ".ccgen-scripts"  # in the generator's directory
BOOTCMD = "ccgen-bootcmd.service"
PACKAGES = "ccgen-packages.service"
FILES_DEFERRED = "ccgen-files-deferred.service"
RUNCMD = "ccgen-runcmd.service"
FINAL_MESSAGE = "ccgen-final-message.service"
POWER_STATE = "ccgen-power-state.service"
LATE = (PACKAGES, FILES_DEFERRED, RUNCMD, FINAL_MESSAGE)  # power_state goes after them all
PACKAGE_TRIES = 3  # each package manager call, with 10 s, then 20 s between tries


def quote(word: str) -> str:
    """One word for /bin/sh, as cloud-init's shellify quotes list items."""
    return "'" + word.replace("'", "'\\''") + "'"


def _where(span: Span) -> str:
    return quote(f"{span.file}:{span.line}")


def commands_script(what: str, commands: tuple[Command, ...], instance: str) -> str:
    """One script for bootcmd or runcmd.  Like cloud-init's, the lines share one shell (a
    `cd` carries over) and a failing one does not stop the next; unlike it, the script
    fails if any item failed, and says which one, by file and line."""
    out = [
        "#!/bin/sh",
        f"# {what}, written by ccgen from cloud-config; do not edit",
        f"INSTANCE_ID={quote(instance)}",
        "export INSTANCE_ID",
        "ccgen_failed=0",
        "ccgen_check() {",
        '    [ "$1" -eq 0 ] && return 0',
        f'    echo "ccgen: {what} item at $2 exited with status $1" >&2',
        "    ccgen_failed=1",
        "}",
    ]
    for c in commands:
        out.append(f"# {c.span.file}:{c.span.line}")
        out.append(" ".join(quote(w) for w in c.argv) if c.argv is not None else (c.shell or ""))
        out.append(f"ccgen_check $? {_where(c.span)}")
    out.append('exit "$ccgen_failed"')
    return "\n".join(out) + "\n"


def packages_script(ci: CloudInit) -> str:
    """apt-get (dnf, zypper where there is no apt-get), each call tried PACKAGE_TRIES
    times, then a clear failure; the reboot cloud-init does when a package asks for it."""
    pkgs = ci.packages or ()
    apt = " ".join(quote(p.name + (f"={p.version}" if p.version else "")) for p in pkgs)
    dnf = " ".join(quote(p.name + (f"-{p.version}" if p.version else "")) for p in pkgs)
    zyp = " ".join(quote(p.name + (f"={p.version}" if p.version else "")) for p in pkgs)
    update = "1" if ci.packages_wanted else ""  # cloud-init: packages alone imply an update
    upgrade = "1" if ci.package_upgrade else ""
    lines = [
        "#!/bin/sh",
        "# packages, written by ccgen from cloud-config; do not edit",
        "export DEBIAN_FRONTEND=noninteractive",
        "try() {",
        "    n=1",
        '    until "$@"; do',
        f'        if [ "$n" -ge {PACKAGE_TRIES} ]; then',
        f'            echo "ccgen: packages: failed {PACKAGE_TRIES} times: $*" >&2',
        "            exit 1",
        "        fi",
        '        sleep "$((n * 10))"',
        "        n=$((n + 1))",
        "    done",
        "}",
        f"update={update}",
        f"upgrade={upgrade}",
        "if command -v apt-get >/dev/null 2>&1; then",
        "    set -- apt-get --option=Dpkg::Options::=--force-confold --assume-yes --quiet",
        '    [ -z "$update" ] || try "$@" update',
        '    [ -z "$upgrade" ] || try "$@" dist-upgrade',
        "    " + (f'try "$@" install -- {apt}' if apt else ":"),
        "elif command -v dnf >/dev/null 2>&1; then",
        '    [ -z "$update" ] || try dnf --assumeyes makecache',
        '    [ -z "$upgrade" ] || try dnf --assumeyes upgrade',
        "    " + (f"try dnf --assumeyes install -- {dnf}" if dnf else ":"),
        "elif command -v zypper >/dev/null 2>&1; then",
        '    [ -z "$update" ] || try zypper --non-interactive refresh',
        '    [ -z "$upgrade" ] || try zypper --non-interactive update',
        "    " + (f"try zypper --non-interactive install -- {zyp}" if zyp else ":"),
        "else",
        '    echo "ccgen: packages: no package manager found (apt-get, dnf or zypper)" >&2',
        "    exit 1",
        "fi",
    ]
    if ci.package_reboot:
        lines += [
            "if [ -e /run/reboot-required ] || [ -e /var/run/reboot-required ]; then",
            '    echo "ccgen: packages: a package asks for a reboot; rebooting" >&2',
            "    systemctl --no-block reboot",
            "fi",
        ]
    return "\n".join(lines) + "\n"


def message_script(text: str, version: str, datasource: str) -> str:
    """final_message with $UPTIME, $TIMESTAMP, $VERSION and $DATASOURCE (or ${...}, either
    case) replaced at run time; any other `$` stays as it is."""
    parts: list[str] = []
    i = literal_start = 0
    while i < len(text):
        if text[i] == "$":
            rest = text[i + 1 :]
            braced = rest.startswith("{")
            word = rest[1:].partition("}")[0] if braced else rest
            found = next(
                (v for v in cloudinit.MESSAGE_VARIABLES if word[: len(v)].upper() == v and (
                    not braced or len(word) == len(v))),
                None,
            )  # fmt: skip
            if found is not None:
                parts.append(quote(text[literal_start:i]))
                parts.append(f'"${found}"')
                i += 1 + len(found) + (2 if braced else 0)
                literal_start = i
                continue
        i += 1
    parts.append(quote(text[literal_start:]))
    return (
        "\n".join(
            (
                "#!/bin/sh",
                "# final_message, written by ccgen from cloud-config; do not edit",
                "read -r UPTIME _ < /proc/uptime",
                "TIMESTAMP=$(date -R)",
                f"VERSION={quote(version)}",
                f"DATASOURCE={quote(datasource)}",
                "printf '%s\\n' " + "".join(parts),
            )
        )
        + "\n"
    )


def power_script(ps: cloudinit.PowerState) -> str:
    act = f"shutdown {ps.mode} {ps.delay}" + (f" {quote(ps.message)}" if ps.message else "")
    lines = ["#!/bin/sh", "# power_state, written by ccgen from cloud-config; do not edit"]
    if isinstance(ps.condition, bool):
        lines.append(act)
    else:
        c = ps.condition
        test = (
            " ".join(quote(w) for w in c.argv) if c.argv is not None else f"/bin/sh -c {quote(c.shell or '')}"
        )
        lines += [
            f"if {test}; then",
            f"    {act}",
            "else",
            f'    echo "ccgen: power_state: the condition at {c.span.file}:{c.span.line} said no" >&2',
            "fi",
        ]
    return "\n".join(lines) + "\n"


class _Units:
    def __init__(self, r: _Renderer, config: CloudConfig) -> None:
        self.r = r
        self.config = config
        self.ci = config.cloudinit
        self.late: list[str] = []  # the late units written, in their order

    def script(self, name: str, text: str, span: Span | None) -> str:
        """The script's path at boot; the file goes into the generator's directory."""
        self.r.add(File(f"{SCRIPT_DIR}/{name}", text, 0o700), span)
        return f"{names.NORMAL_DIR}/{SCRIPT_DIR}/{name}"

    def done(self, identity: str) -> str:
        return f"{cache.APPLIED}/{cache.marker(self.r.s.instance, 'script:' + identity)}"

    def late_unit(self, name: str, description: str, span: Span) -> UnitText:
        t = UnitText(span)
        t.add("Unit", "Description", description)
        t.add("Unit", "Documentation", "man:ccgen(8)")
        t.add("Unit", "SourcePath", span.file)
        t.add("Unit", "Wants", "network-online.target")
        t.add("Unit", "After", " ".join(["network-online.target", names.APPLY, *self.late]))
        return t

    def finish(self, name: str, t: UnitText, span: Span) -> None:
        self.r.add(File(name, t.text()), span)
        self.r.add(Link(f"{names.DEFERRED_TARGET}.wants/{name}", "../" + name), span)
        self.r.deferred.append(name)
        self.late.append(name)

    def once(self, t: UnitText, values: object, before: bool) -> None:
        """Once per instance: skipped by its record, left before the run (cloud-init's
        semaphore, for runcmd and power_state) or after a success (packages, retried at
        the next boot when a mirror was down).  The record is named by the values, never
        their positions: a comment added above runcmd does not run it again."""
        identity = sha256(repr(values).encode()).hexdigest()
        t.add("Unit", "ConditionPathExists", "!" + self.done(identity))
        record = f"{exec_word(self.r.s.ccgen)} apply --record-script {identity}"
        t.add("Service", "ExecStartPre" if before else "ExecStartPost", record)

    def bootcmd(self, commands: tuple[Command, ...], span: Span) -> None:
        path = self.script("bootcmd", commands_script("bootcmd", commands, self.r.s.instance), span)
        t = (
            UnitText(span)
            .add("Unit", "Description", "cloud-config bootcmd (every boot, before the network)")
            .add("Unit", "Documentation", "man:ccgen(8)")
            .add("Unit", "SourcePath", span.file)
            .add("Unit", "DefaultDependencies", "no")
            .add("Unit", "After", "local-fs.target systemd-remount-fs.service systemd-tmpfiles-setup.service")
            .add("Unit", "Before", f"{names.APPLY} network-pre.target shutdown.target")
            .add("Unit", "Wants", "network-pre.target")
            .add("Unit", "Conflicts", "shutdown.target")
            .add("Service", "Type", "oneshot")
            .add("Service", "RemainAfterExit", "yes")
            .add("Service", "StandardOutput", "journal+console")
            .add("Service", "ExecStart", f"/bin/sh {exec_word(path)}")
        )
        self.r.add(File(BOOTCMD, t.text()), span)
        self.r.add(Link(f"multi-user.target.wants/{BOOTCMD}", "../" + BOOTCMD), span)

    def packages(self, ci: CloudInit, span: Span) -> None:
        text = packages_script(ci)
        path = self.script("packages", text, span)
        t = self.late_unit(PACKAGES, "cloud-config packages", span)
        self.once(t, text, before=False)  # the packages script holds no position
        t.add("Service", "Type", "oneshot")
        t.add("Service", "RemainAfterExit", "yes")
        t.add("Service", "TimeoutStartSec", "1h")
        t.add("Service", "ExecStart", f"/bin/sh {exec_word(path)}")
        self.finish(PACKAGES, t, span)

    def files_deferred(self, span: Span) -> None:
        deferred = [f for f in self.config.write_files if f.defer]
        h = sha256()
        for f in deferred:
            h.update(repr((f.path.value, f.mode, f.owner.value if f.owner else "", f.append)).encode())
            h.update(f.data)
        t = self.late_unit(FILES_DEFERRED, "cloud-config write_files with defer", span)
        identity = h.hexdigest()
        t.add("Unit", "ConditionPathExists", "!" + self.done(identity))
        t.add("Service", "Type", "oneshot")
        t.add("Service", "RemainAfterExit", "yes")
        t.add("Service", "ExecStart", f"{exec_word(self.r.s.ccgen)} apply --boot --only deferred-files")
        t.add("Service", "ExecStartPost", f"{exec_word(self.r.s.ccgen)} apply --record-script {identity}")
        self.finish(FILES_DEFERRED, t, span)

    def runcmd(self, commands: tuple[Command, ...], span: Span) -> None:
        text = commands_script("runcmd", commands, self.r.s.instance)
        path = self.script("runcmd", text, span)
        t = self.late_unit(RUNCMD, "cloud-config runcmd", span)
        # cloud-init's final stage runs after multi-user.target.
        t.add("Unit", "After", "multi-user.target")
        self.once(t, ("runcmd", [(c.argv, c.shell) for c in commands]), before=True)
        t.add("Service", "Type", "oneshot")
        t.add("Service", "RemainAfterExit", "yes")
        t.add("Service", "TimeoutStartSec", "infinity")
        t.add("Service", "StandardOutput", "journal+console")
        t.add("Service", "ExecStart", f"/bin/sh {exec_word(path)}")
        self.finish(RUNCMD, t, span)

    def final_message(self, text: str, span: Span) -> None:
        from ccgen import __version__

        source = self.r.s.fetch[0][0].name if self.r.s.fetch else "none"
        path = self.script("final-message", message_script(text, __version__, source), span)
        t = self.late_unit(FINAL_MESSAGE, "cloud-config final_message", span)
        t.add("Unit", "After", "multi-user.target")
        t.add("Service", "Type", "oneshot")
        t.add("Service", "StandardOutput", "journal+console")
        t.add("Service", "ExecStart", f"/bin/sh {exec_word(path)}")
        self.finish(FINAL_MESSAGE, t, span)

    def power_state(self, ps: cloudinit.PowerState) -> None:
        text = power_script(ps)
        path = self.script("power-state", text, ps.span)
        t = self.late_unit(POWER_STATE, "cloud-config power_state", ps.span)
        # After everything else: the config's own late units and the boot itself.
        others = [u for u in self.r.deferred if u not in self.late]
        t.add("Unit", "After", " ".join(["multi-user.target", *others]))
        c = ps.condition
        condition = c if isinstance(c, bool) else (c.argv, c.shell)
        self.once(t, ("power_state", ps.mode, ps.delay, ps.message, condition), before=True)
        t.add("Service", "Type", "oneshot")
        t.add("Service", "ExecStart", f"/bin/sh {exec_word(path)}")
        self.finish(POWER_STATE, t, ps.span)


def render(r: _Renderer, config: CloudConfig) -> None:
    """Every unit of cloud-init's modules the config asks for, each an item of its own."""
    u = _Units(r, config)
    ci = config.cloudinit
    deferred = [f for f in config.write_files if f.defer]
    if ci is not None and ci.bootcmd:
        r.item(ci.bootcmd[0].span, BOOTCMD, u.bootcmd, ci.bootcmd, ci.bootcmd[0].span)
    if ci is not None and ci.packages_wanted:
        span = ci.package_span or _nowhere(config)
        r.item(span, PACKAGES, u.packages, ci, span)
    if deferred:
        r.item(deferred[0].span, FILES_DEFERRED, u.files_deferred, deferred[0].span)
    if ci is not None and ci.runcmd:
        r.item(ci.runcmd[0].span, RUNCMD, u.runcmd, ci.runcmd, ci.runcmd[0].span)
    if ci is not None and ci.final_message is not None:
        fm = ci.final_message
        r.item(fm.span, FINAL_MESSAGE, u.final_message, fm.value, fm.key_span or fm.span)
    if ci is not None and ci.power_state is not None and ci.power_state.condition is not False:
        r.item(ci.power_state.span, POWER_STATE, u.power_state, ci.power_state)


def _nowhere(config: CloudConfig) -> Span:
    from ccgen.base.diag import Span

    return Span(config.paths[-1] if config.paths else "ccgen", 1, 1)
