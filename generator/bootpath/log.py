"""Where messages go: /dev/kmsg when systemd runs us, stderr otherwise.

PID 1 does not forward a generator's stderr to the journal, so at boot the
kernel log is the only channel.  Lines go to stderr as well, because
`systemd-analyze --generators verify` (where SYSTEMD_EXEC_PID is also set)
shows stderr and not kmsg.

No imports beyond posix and sys (not even os: see fingerprint.py), and no
`from __future__`: the generator's replay path loads this module, and its
start-up is the boot's.
"""

import posix
import sys

# syslog facility LOG_DAEMON (3) << 3, plus the level, by severity (info, warning, error).
PRIORITY = (3 * 8 + 6, 3 * 8 + 4, 3 * 8 + 3)
# The kernel rejects longer records; keep well below the 1 KiB limit with the prefix.
RECORD_MAX = 960


def run_by_systemd() -> bool:
    return posix.environ.get(b"SYSTEMD_EXEC_PID") == str(posix.getpid()).encode()


class Log:
    def __init__(self, name: str, *, kmsg: bool) -> None:
        self.prefix = f"{name}[{posix.getpid()}]: "
        self.kmsg_fd: "int | None" = None
        if kmsg:
            try:
                # CCGEN_KMSG lets tests capture the records instead of filling the host's log.
                path = posix.environ.get(b"CCGEN_KMSG") or b"/dev/kmsg"
                self.kmsg_fd = posix.open(
                    path, posix.O_WRONLY | posix.O_APPEND | posix.O_CLOEXEC | posix.O_NOCTTY
                )
            except OSError:
                self.kmsg_fd = None

    def write(self, severity: int, text: str) -> None:
        """One line; `severity` is diag.Severity's number (0 info, 1 warning, 2 error)."""
        text = " ".join(text.split("\n"))
        if self.kmsg_fd is not None:
            record = f"<{PRIORITY[severity]}>{self.prefix}{text}"
            data = record.encode("utf-8", "replace")
            if len(data) > RECORD_MAX:
                data = data[: RECORD_MAX - 3].decode("utf-8", "ignore").encode() + b"..."
            try:
                posix.write(self.kmsg_fd, data + b"\n")
            except OSError:
                pass
        try:
            sys.stderr.write(f"{text}\n")
        except (OSError, ValueError):
            pass

    def close(self) -> None:
        if self.kmsg_fd is not None:
            posix.close(self.kmsg_fd)
            self.kmsg_fd = None
