"""Compile again after the generator ran: daemon-reload, then start what it produced.

systemd does not start new Wants= of a target that is already active or
queued, so after the reload the new units are started by name.  Everything
is --no-block: these commands run inside units that other jobs may wait for.
Small on purpose: the fetch command imports it, and not the pipeline.
"""

from __future__ import annotations

import os
import subprocess
import sys

from . import names


def systemctl(*args: str) -> int:
    try:
        return subprocess.run(["systemctl", *args], timeout=120).returncode
    except (OSError, subprocess.TimeoutExpired) as e:
        sys.stderr.write(f"systemctl {' '.join(args)}: {e}\n")
        return 1


def generated_wants(generator_dir: str = names.NORMAL_DIR) -> list[str]:
    found: list[str] = []
    for target in (names.TARGET, "multi-user.target"):
        try:
            found += sorted(os.listdir(os.path.join(generator_dir, f"{target}.wants")))
        except OSError:
            pass
    return list(dict.fromkeys(found))


def reload_and_start(generator_dir: str = names.NORMAL_DIR) -> int:
    if systemctl("daemon-reload") != 0:
        return 1
    # ccgen-deferred.service is ordered after ccgen-apply, so the units it starts find
    # their files in place; starting them by name here would not wait for apply.
    again = [names.APPLY]
    if os.path.exists(os.path.join(generator_dir, names.DEFERRED_START)):
        again.append(names.DEFERRED_START)
    systemctl("--no-block", "restart", *again)
    own = {names.APPLY, names.DEFERRED_START}
    started = [
        n for n in generated_wants(generator_dir) if n not in own and not n.startswith(names.FETCH_PREFIX)
    ]
    return systemctl("--no-block", "start", names.TARGET, *started)
