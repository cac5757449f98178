"""Where messages go: /dev/kmsg when systemd runs us, stderr otherwise.

PID 1 does not forward a generator's stderr to the journal, so at boot the
kernel log is the only channel.  Lines go to stderr as well, because
`systemd-analyze --generators verify` (where SYSTEMD_EXEC_PID is also set)
shows stderr and not kmsg.
"""

from __future__ import annotations

import os
import sys

from .diag import Diagnostic, Severity

# syslog facility LOG_DAEMON (3) << 3, plus the level.
_PRIORITY = {Severity.ERROR: 3 * 8 + 3, Severity.WARNING: 3 * 8 + 4, Severity.INFO: 3 * 8 + 6}
# The kernel rejects longer records; keep well below the 1 KiB limit with the prefix.
RECORD_MAX = 960


def run_by_systemd() -> bool:
    return os.environ.get("SYSTEMD_EXEC_PID") == str(os.getpid())


class Log:
    def __init__(self, name: str, *, kmsg: bool) -> None:
        self.prefix = f"{name}[{os.getpid()}]: "
        self.kmsg_fd: int | None = None
        if kmsg:
            try:
                # CCGEN_KMSG lets tests capture the records instead of filling the host's log.
                path = os.environ.get("CCGEN_KMSG") or "/dev/kmsg"
                self.kmsg_fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC | os.O_NOCTTY)
            except OSError:
                self.kmsg_fd = None

    def write(self, severity: Severity, text: str) -> None:
        text = " ".join(text.split("\n"))
        if self.kmsg_fd is not None:
            record = f"<{_PRIORITY[severity]}>{self.prefix}{text}"
            data = record.encode("utf-8", "replace")
            if len(data) > RECORD_MAX:
                data = data[: RECORD_MAX - 3].decode("utf-8", "ignore").encode() + b"..."
            try:
                os.write(self.kmsg_fd, data + b"\n")
            except OSError:
                pass
        try:
            sys.stderr.write(f"{text}\n")
        except (OSError, ValueError):
            pass

    def diagnostic(self, d: Diagnostic) -> None:
        self.write(d.severity, d.format())

    def close(self) -> None:
        if self.kmsg_fd is not None:
            os.close(self.kmsg_fd)
            self.kmsg_fd = None
