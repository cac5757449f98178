"""Compile again after the generator ran: daemon-reload, then start what it produced.

systemd does not start new Wants= of a target that is already active or
queued, so after the reload the new units are started by name.  Everything
is --no-block: these commands run inside units that other jobs may wait for.
"""

from __future__ import annotations

import os
import subprocess
import sys

from . import compile as pipeline

GENERATOR_DIR = "/run/systemd/generator"


def _systemctl(*args: str) -> int:
    try:
        return subprocess.run(["systemctl", *args], timeout=120).returncode
    except (OSError, subprocess.TimeoutExpired) as e:
        sys.stderr.write(f"systemctl {' '.join(args)}: {e}\n")
        return 1


def generated_wants(generator_dir: str = GENERATOR_DIR) -> list[str]:
    names: list[str] = []
    for target in ("ccgen.target", "multi-user.target"):
        try:
            names += sorted(os.listdir(os.path.join(generator_dir, f"{target}.wants")))
        except OSError:
            pass
    return list(dict.fromkeys(names))


def reload_and_start() -> int:
    if _systemctl("daemon-reload") != 0:
        return 1
    _systemctl("--no-block", "restart", "ccgen-apply.service")
    names = [n for n in generated_wants() if n != "ccgen-apply.service"]
    return _systemctl("--no-block", "start", "ccgen.target", *names)


def check_inputs(expect: str, root: str = "/") -> int:
    """Reload when the inputs differ from what the generator saw (a late mount)."""
    from .diag import Diagnostics

    inputs, _ = pipeline.usable_inputs(root, Diagnostics())
    now = pipeline.inputs_digest(inputs)
    if now == expect:
        return 0
    sys.stderr.write("ccgen: inputs changed since the generator ran; compiling again\n")
    return reload_and_start()
