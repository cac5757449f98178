"""ccgen's own units, made with the same builder as the config's units."""

from __future__ import annotations

from ccgen.base import cache, names, unitfile
from ccgen.base.diag import Diagnostic, Span
from ccgen.base.unittext import UnitText, exec_word

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ccgen.lang.model import Script
    from ccgen.providers.base import Provider


def target(conflicts: list[str]) -> str:
    t = UnitText().add("Unit", "Description", "Units started by cloud-config")
    if conflicts:
        t.add("Unit", "Conflicts", " ".join(sorted(set(conflicts))))
    return t.text()


def deferred_target() -> str:
    return (
        UnitText()
        .add("Unit", "Description", "Units started by cloud-config after ccgen-apply, as jobs of their own")
        .add("Unit", "Documentation", "man:ccgen(8)")
        .text()
    )


def deferred_start() -> str:
    # --no-block: a job of its own, so early-boot ordering cannot make it cyclic (ordering.py).
    return (
        UnitText()
        .add("Unit", "Description", "Start the cloud-config units that wait for the system to be up")
        .add("Unit", "After", names.APPLY)
        .add("Service", "Type", "oneshot")
        .add("Service", "ExecStart", f"systemctl --no-block start {names.DEFERRED_TARGET}")
        .text()
    )


def apply(ccgen: str, conditions: list[str]) -> str:
    """The oneshot that carries out everything but the units; its payload is read at run time."""
    t = UnitText()
    t.add("Unit", "Description", "Apply cloud-config: files, users, SSH keys, hostname, network")
    t.add("Unit", "Documentation", "man:ccgen(8)")
    t.add("Unit", "DefaultDependencies", "no")
    t.add("Unit", "After", "local-fs.target systemd-remount-fs.service")
    t.add("Unit", "After", "systemd-sysusers.service systemd-tmpfiles-setup.service")
    t.add("Unit", "Before", "network-pre.target systemd-networkd.service ssh.service sshd.service")
    t.add("Unit", "Before", f"systemd-user-sessions.service {names.TARGET} shutdown.target")
    t.add("Unit", "Wants", "network-pre.target")
    t.add("Unit", "Conflicts", "shutdown.target")
    for c in conditions:
        t.add("Unit", "ConditionPathExists", c)
    t.add("Service", "Type", "oneshot")
    t.add("Service", "RemainAfterExit", "yes")
    t.add("Service", "TimeoutStartSec", "5min")
    t.add("Service", "ExecStart", f"{exec_word(ccgen)} apply --boot")
    return t.text()


def inputs(ccgen: str, digest: str) -> str:
    return (
        UnitText()
        .add(
            "Unit",
            "Description",
            "Compile cloud-config again if /var or the OEM partition appeared after the generator",
        )
        .add("Unit", "DefaultDependencies", "no")
        .add("Unit", "After", "local-fs.target")
        .add("Unit", "Before", f"{names.APPLY} {names.TARGET} shutdown.target")
        .add("Unit", "Conflicts", "shutdown.target")
        .add("Service", "Type", "oneshot")
        .add("Service", "RemainAfterExit", "yes")
        .add("Service", "ExecStart", f"{exec_word(ccgen)} check-inputs --expect {digest}")
        .text()
    )


FETCH_DEADLINE = 90  # seconds for the whole fetch (docs/providers.md)


def fetch(
    p: Provider, ccgen: str, endpoint: str | None, blocking: bool, after: list[str] | None = None
) -> str:
    """The provider's fetch unit.  `blocking`: nothing is known about this instance yet, so
    the boot waits for it (bounded); otherwise it refreshes the cache in the background.
    `after`: the fetch units of providers that go first on this machine."""
    args = f" --endpoint {exec_word(endpoint)}" if endpoint else ""
    t = UnitText()
    t.add("Unit", "Description", f"Fetch cloud-config: {p.description}")
    t.add("Unit", "Documentation", "man:ccgen(8)")
    if after:
        t.add("Unit", "After", " ".join(after))
    if p.network:
        t.add("Unit", "Wants", "network-online.target")
        if blocking:
            t.add("Unit", "After", f"network-online.target {names.APPLY}")
            t.add("Unit", "Before", names.TARGET)
        else:
            # No default dependencies, so that multi-user.target does not wait for it.
            t.add("Unit", "DefaultDependencies", "no")
            t.add("Unit", "After", f"network-online.target sysinit.target basic.target {names.APPLY}")
            t.add("Unit", "Before", "shutdown.target")
            t.add("Unit", "Conflicts", "shutdown.target")
    else:
        t.add("Unit", "DefaultDependencies", "no")
        # Ordered after the device it reads, but never waiting for it: it may never come.
        t.add("Unit", "After", "local-fs.target systemd-udev-trigger.service")
        devices = [f"dev-disk-by\\x2dlabel-{unitfile.escape_path(label)}.device" for label in p.labels]
        if devices:
            t.add("Unit", "After", " ".join(devices))
        if blocking:
            t.add("Unit", "Before", f"{names.APPLY} {names.TARGET}")
        t.add("Unit", "Before", "shutdown.target")
        t.add("Unit", "Conflicts", "shutdown.target")
    t.add("Service", "Type", "oneshot")
    t.add("Service", "RemainAfterExit", "yes")
    t.add("Service", "TimeoutStartSec", f"{FETCH_DEADLINE + 30}s")
    t.add("Service", "ExecStart", f"{exec_word(ccgen)} fetch {p.name}{args} --reload")
    return t.text()


def script_name(s: Script) -> str:
    return f"{names.SCRIPT_PREFIX}{unitfile.escape_path(s.path)}.service"


NAME_SHOWN_MAX = 80


def description_word(name: str) -> str:
    """A file name the user chose, safe in a Description=: one printable line, `%` doubled
    (systemd expands specifiers there), quoted, and bounded."""
    from ccgen.base.diag import one_line

    return '"' + one_line(name, NAME_SHOWN_MAX).replace("%", "%%").replace('"', "'") + '"'


def script(s: Script, ccgen: str, instance: str, after: str | None = None) -> tuple[str, str]:
    """A script's unit; `after`: the script before it, so that scripts run in their order.
    A script that is not its own input (s.data, a MIME part) runs from where ccgen apply
    wrote it, and names the input it came from."""
    name = script_name(s)
    run = s.path if s.data is None else cache.script_path(s.digest)
    words = " ".join(exec_word(w) for w in (*s.interpreter, run))
    done = f"{cache.APPLIED}/{cache.marker(instance, 'script:' + s.digest)}"
    what = s.path if s.data is None else f"from {s.span.file}, line {s.span.line}"
    if s.name and s.data is not None:
        what = f"{description_word(s.name)} ({what})"
    text = (
        UnitText(s.span)
        .add("Unit", "Description", f"cloud-config user-data script {what}")
        .add("Unit", "SourcePath", s.span.file)
        .add("Unit", "ConditionPathExists", run)
        .add("Unit", "ConditionPathExists", f"!{done}")
        .add("Unit", "After", names.APPLY if after is None else f"{names.APPLY} {after}")
        .add("Service", "Type", "oneshot")
        .add("Service", "RemainAfterExit", "yes")
        .add("Service", "ExecStart", words)
        .add("Service", "ExecStartPost", f"{exec_word(ccgen)} apply --record-script {s.digest}")
        .text()
    )
    return name, text


def error_unit(path: str, found: list[Diagnostic]) -> tuple[str, str]:
    """A unit that fails at boot when an input has errors, so that `systemctl --failed`,
    monitoring and the console show it; its output is the positioned errors."""
    name = f"{names.ERROR_PREFIX}{unitfile.escape_path(path)}.service"
    text = (
        UnitText(Span(path, 1, 1))
        .add("Unit", "Description", f"cloud-config {path} has errors")
        .add("Unit", "Documentation", "man:ccgen(8)")
        .add("Unit", "After", names.APPLY)
        .add("Service", "Type", "oneshot")
        .add("Service", "StandardInput", "data")
        .add_all("Service", "StandardInputText", [_data(d.format()) for d in found])
        .add("Service", "StandardOutput", "journal")
        .add("Service", "ExecStart", "cat")
        .add("Service", "ExecStart", "false")
        .text()
    )
    return name, text


def _data(line: str) -> str:
    """One line for StandardInputText=, which takes C escapes and specifiers."""
    return line.replace("\\", "\\\\").replace("%", "%%")
