"""Where each of the config's units can run without making the boot transaction cyclic.

The original started `command: start` units as jobs of their own once the
system was up, so a unit's ordering against early boot never mattered.  Compiled
into the boot transaction, the same config can be cyclic: a local mount is
ordered before local-fs.target, a service with default dependencies after
sysinit.target, so a mount that requires such a service (or anything ordered
after ccgen-apply.service) closes a loop, and systemd deletes a job to break it.

The rule (docs/units.md):
- A unit is *early* when systemd orders it before the part of boot that
  ccgen-apply.service waits for: mounts, automounts and swaps (remote mounts
  excepted), units with DefaultDependencies=no, and units ordered Before= an
  early-boot unit or another early unit.  Only the other units, *late* ones,
  get After=ccgen-apply.service.
- A started unit runs in the boot transaction (ccgen.target) only when nothing
  it pulls in (Requires=, Wants=, BindsTo=, Requisite=, Upholds=,
  RequiresMountsFor=) is early, and no unit file or drop-in of theirs comes
  from write_files (systemd would not see it until ccgen-apply reloads it).
  Otherwise it is *deferred*: ccgen-deferred.service starts it as a job of its
  own after ccgen-apply.service, as the original did.
- A unit whose pull-in closure holds an early unit ordered after a late one is
  cyclic at boot: enabling it would put the cycle into every boot, so its links
  are not written and it is deferred instead (a warning says so).
"""

from __future__ import annotations

from ccgen.base import unitfile, unittext
from ccgen.lang import model
from ccgen.read.system import InstalledUnits

# Units up to sysinit.target: ccgen-apply.service runs after some of them, and units
# with default dependencies after all of them.
SYSINIT = frozenset(
    (
        "local-fs-pre.target",
        "local-fs.target",
        "swap.target",
        "sysinit.target",
        "cryptsetup-pre.target",
        "cryptsetup.target",
        "veritysetup.target",
        "integritysetup.target",
        "systemd-remount-fs.service",
        "systemd-sysusers.service",
        "systemd-tmpfiles-setup.service",
        "systemd-tmpfiles-setup-dev.service",
        "systemd-journald.service",
        "systemd-udevd.service",
        "systemd-udev-trigger.service",
        "systemd-fsck-root.service",
        "ccgen-apply.service",
    )
)
# ... and up to basic.target, which services with default dependencies run after.
BASIC = SYSINIT | frozenset(
    ("basic.target", "sockets.target", "paths.target", "timers.target", "slices.target")
)
EARLY_UNITS = SYSINIT
EARLY_TYPES = frozenset(("mount", "automount", "swap", "device", "slice", "scope"))
# Units of these types, with default dependencies, are ordered after sysinit.target.
LATE_TYPES = frozenset(("service", "socket", "path", "timer"))
REMOTE_FS = frozenset(
    (
        "nfs",
        "nfs4",
        "cifs",
        "smb3",
        "smbfs",
        "ceph",
        "glusterfs",
        "fuse.sshfs",
        "sshfs",
        "9p",
        "davfs",
        "lustre",
    )
)
PULLS = ("Requires", "Wants", "BindsTo", "Requisite", "Upholds")


class Info:
    """The [Unit] facts of one unit that ordering needs, from its text and drop-ins."""

    __slots__ = ("after", "before", "default_deps", "name", "pulls", "remote", "source")

    def __init__(self, name: str, texts: list[str], source: str) -> None:
        self.name = name
        self.source = source
        parsed = [unittext.parse(t) for t in texts]
        self.after: list[str] = []
        self.before: list[str] = []
        self.pulls: list[str] = []
        default: str | None = None
        what_type = options = ""
        for p in parsed:
            if not p.entries:
                continue
            self.after += p.words("Unit", "After")
            self.before += p.words("Unit", "Before")
            for key in PULLS:
                self.pulls += p.words("Unit", key)
            for path in p.words("Unit", "RequiresMountsFor"):
                self.pulls += unitfile.mounts_for(path)
            default = p.last("Unit", "DefaultDependencies") or default
            if name.endswith(".mount"):
                what_type = p.last("Mount", "Type") or what_type
                options = p.last("Mount", "Options") or options
        self.default_deps = default is None or default.strip().lower() not in ("no", "false", "0", "off", "n")
        self.remote = what_type in REMOTE_FS or "_netdev" in options.split(",")


class Graph:
    """The config's units, and the installed units they name, as far as ordering goes."""

    def __init__(
        self, units: dict[str, model.Unit], installed: InstalledUnits, written: frozenset[str] = frozenset()
    ) -> None:
        self.units = units
        self.installed = installed
        self.written = written  # units whose file or drop-ins write_files creates at run time
        self._info: dict[str, Info | None] = {}
        self._early: dict[str, str | None] = {}

    def info(self, name: str) -> Info | None:
        if name not in self._info:
            self._info[name] = None  # a guard while it is computed
            self._info[name] = self._load(name)
        return self._info[name]

    def _load(self, name: str) -> Info | None:
        texts: list[str] = []
        source = ""
        candidates = [name]
        template = unitfile.template_of(name)
        if template is not None:
            candidates.append(template)
        for candidate in candidates:
            unit = self.units.get(candidate)
            if unit is not None and unit.content is not None:
                texts.append(unit.content.value)
                source = "config"
                break
            found = self.installed.find(candidate)
            if found is not None:
                texts.append(found[1])
                source = found[0]
                break
        for candidate in candidates:
            unit = self.units.get(candidate)
            if unit is not None:
                texts += [d.content for d in unit.drop_ins]
                if not source and unit.drop_ins:
                    source = "config"
        return Info(name, texts, source) if source else None

    def made_later(self, name: str) -> bool:
        """Its file or a drop-in is written by write_files at run time, after the generator."""
        return name in self.written or unitfile.template_of(name) in self.written

    def early(self, name: str) -> str | None:
        """Why `name` runs before the part of boot ccgen-apply.service waits for; None if it does not."""
        if name not in self._early:
            self._early[name] = None  # a Before= loop is not early by itself
            self._early[name] = self._why_early(name)
        return self._early[name]

    def _why_early(self, name: str) -> str | None:
        if name in EARLY_UNITS:
            return f"{name} is part of early boot"
        kind = unitfile.suffix(name)
        info = self.info(name)
        if kind in EARLY_TYPES and not (kind == "mount" and info is not None and info.remote):
            return f"a .{kind} unit is needed before local-fs.target or swap.target"
        if info is None:
            return None
        if not info.default_deps:
            return f"{name} has DefaultDependencies=no"
        for other in info.before:
            if other in EARLY_UNITS or self.early(other) is not None:
                return f"{name} is ordered before {other}"
        return None

    def late(self, name: str) -> bool:
        """Ordered after sysinit.target by default dependencies."""
        info = self.info(name)
        return unitfile.suffix(name) in LATE_TYPES and (info is None or info.default_deps)

    def runs_after(self, name: str) -> frozenset[str]:
        """The early-boot units a unit's default dependencies order it after."""
        if not self.late(name):
            return frozenset()
        return BASIC if unitfile.suffix(name) == "service" else SYSINIT

    def closure(self, name: str) -> list[str]:
        """`name` and every unit it pulls in, as far as the units are known."""
        seen = {name: None}
        todo = [name]
        while todo:
            info = self.info(todo.pop())
            if info is None:
                continue
            for other in info.pulls:
                if other not in seen:
                    seen[other] = None
                    todo.append(other)
        return list(seen)

    def defer_reason(self, name: str) -> str | None:
        """Why a started unit cannot be in the boot transaction; None if it can."""
        for other in self.closure(name):
            if self.made_later(other):
                who = "it" if other == name else f"it pulls in {other}, which"
                return f"{who} gets its definition from write_files, after the boot transaction is built"
            why = self.early(other)
            if why is not None:
                return why if other == name else f"it pulls in {other}: {why}"
        return None

    def cycle(self, name: str) -> str | None:
        """An ordering cycle that pulling `name` into the boot transaction would make."""
        members = self.closure(name)
        inside = set(members)
        for other in members:
            if self.early(other) is None:
                continue
            info = self.info(other)
            for after in info.after if info is not None else ():
                if after in inside and self.late(after):
                    return f"{other} is ordered after {after}, which starts after sysinit.target"
        return None
