"""ccgen status: what ccgen did at this boot, in one word and in detail.

It reads what the units leave behind: the generator's record in its output
directory (`.ccgen-status`), the fetch's and apply's records under /run/ccgen
(apply's last one also under /var/lib/ccgen/applied), and the cache's metadata;
on a live system, systemd's job queue says whether anything is still running.
With --root it reads an image's tree and never asks systemd.

The word: disabled, running, done, degraded (warnings, or a failed step or
fetch), error (the config has errors, or the generator did not run while other
units did), not-run (no record of ccgen at all: it never ran on this system).
Exit status: 0 done, running or disabled; 1 error; 2 degraded (and bad usage);
3 still running when --wait timed out; 4 not-run.

Every record is outside input to this command: each is opened without blocking (a
FIFO in its place is refused, not waited on), read up to MAX_RECORD bytes, parsed
with the nesting bound, and checked for its shape; one that fails is reported as an
unreadable record and otherwise ignored.  Every line printed goes through
diag.one_line, so what a server or a file name said is shown with its control
characters escaped.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import time
from typing import Any

from ccgen.base import cache, names, record
from ccgen.base.diag import Severity, one_line
from ccgen.read.inputs import Reader, host_path

MAX_RECORD = 1024 * 1024  # ccgen's records are a few KiB
LINE_MAX = 4000  # one printed line, escaped

EXIT = {"done": 0, "running": 0, "disabled": 0, "error": 1, "degraded": 2, "not-run": 4}
EXIT_TIMEOUT = 3
WAIT_DEFAULT = 300.0


def _nonblocking(path: str, flags: int) -> int:
    return os.open(path, flags | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)


# A record's fields and their types: anything else makes the record unreadable.
FETCH_SHAPE = {"provider": str, "result": str, "detail": str, "time": (int, float)}
APPLY_SHAPE = {"status": int, "steps": dict, "messages": list, "errors": list}


def _json(
    root: str, path: str, unreadable: list[str], damaged: list[str], shape: dict[str, Any]
) -> dict[str, Any] | None:
    """A record; None when missing, unreadable or damaged.  One that exists but may not be
    read (the apply records are root's) is listed in `unreadable`, so that no word claims
    to know; one that is not a regular file, too big, not JSON, nested too deep or not of
    its shape is listed in `damaged`."""
    from ccgen.read.nesting import loads

    try:
        with open(host_path(root, path), "rb", opener=_nonblocking) as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                damaged.append(f"{path}: not a regular file")
                return None
            data = f.read(MAX_RECORD + 1)
    except PermissionError:
        unreadable.append(path)
        return None
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as e:
        damaged.append(f"{path}: {e.strerror or e}")
        return None
    if len(data) > MAX_RECORD:
        damaged.append(f"{path}: larger than {MAX_RECORD} bytes")
        return None
    try:
        value = loads(data)
    except ValueError as e:  # UnicodeDecodeError and the nesting bound's TooDeep included
        damaged.append(f"{path}: {str(e)[:200]}")
        return None
    if not isinstance(value, dict):
        damaged.append(f"{path}: not a JSON object")
        return None
    for key, kind in shape.items():
        if key in value and (not isinstance(value[key], kind) or isinstance(value[key], bool)):
            damaged.append(f"{path}: {key} is not {getattr(kind, '__name__', 'a number')}")
            return None
    steps = value.get("steps", {})
    if isinstance(steps, dict) and not all(isinstance(v, str) for v in steps.values()):
        damaged.append(f"{path}: a step's result is not text")
        return None
    return value


def _generated_units(root: str) -> set[str]:
    """ccgen's own units and every unit it starts, from the generator's directory."""
    out: set[str] = set()
    base = host_path(root, names.NORMAL_DIR)
    try:
        entries = os.listdir(base)
    except OSError:
        return out
    out |= {e for e in entries if names.is_reserved(e)}
    for target in (names.TARGET, names.DEFERRED_TARGET):
        try:
            out |= set(os.listdir(os.path.join(base, f"{target}.wants")))
        except OSError:
            pass
    return out


def queued(units: set[str]) -> list[str]:
    """The units among `units` that have a job queued or running."""
    try:
        proc = subprocess.run(
            ["systemctl", "list-jobs", "--no-legend", "--plain"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    busy = []
    for line in proc.stdout.splitlines():
        words = line.split()
        if len(words) >= 2 and (words[1] in units or words[1].startswith(names.RERUN_PREFIX)):
            busy.append(words[1])
    return busy


def platform_units(root: str) -> list[dict[str, str]]:
    """The networkd files ccgen apply installed from the platform's network data, each with
    where in that data it came from (the file's second line)."""
    from .providers.netconf import render

    base = host_path(root, render.DIR)
    try:
        names_ = sorted(n for n in os.listdir(base) if render.owned(n))
    except OSError:
        return []
    out = []
    for name in names_:
        try:
            with open(os.path.join(base, name), encoding="utf-8", errors="replace") as f:
                head = [f.readline() for _ in range(2)]
        except OSError:
            head = []
        found = head[1].partition(": ")[2].strip() if len(head) == 2 and head[1].startswith("# From") else ""
        out.append({"path": f"{render.DIR}/{name}", "from": found})
    return out


SCRIPT_HEAD = 8 * 1024  # a script unit's [Unit] section is at its start


def script_units(root: str) -> list[dict[str, str]]:
    """The units the generator made for user-data scripts, each with its Description=,
    which names the script as the user knows it (a MIME part's file name) and where it is."""
    base = host_path(root, names.NORMAL_DIR)
    try:
        found = sorted(
            e for e in os.listdir(base) if e.startswith(names.SCRIPT_PREFIX) and e.endswith(".service")
        )
    except OSError:
        return []
    out = []
    for unit in found:
        description = ""
        try:
            fd = _nonblocking(os.path.join(base, unit), os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            if stat.S_ISREG(os.fstat(fd).st_mode):
                head = os.read(fd, SCRIPT_HEAD).decode("utf-8", "replace")
                for line in head.splitlines():
                    if line.startswith("Description="):
                        description = line.partition("=")[2]
                        break
        except OSError:
            pass
        finally:
            os.close(fd)
        out.append({"unit": unit, "description": description})
    return out


def collect(root: str, live: bool) -> dict[str, Any]:
    reader = Reader(root)
    gen_text = reader.text(f"{names.NORMAL_DIR}/{record.NAME}")
    fields, diagnostics = record.parse(gen_text)
    meta = cache.metadata(reader)
    unreadable: list[str] = []
    damaged: list[str] = []
    fetch = _json(root, f"{names.RUN_DIR}/fetch.json", unreadable, damaged, FETCH_SHAPE)
    apply_run = _json(root, f"{names.RUN_DIR}/apply.json", unreadable, damaged, APPLY_SHAPE) or _json(
        root, f"{cache.APPLIED}/last.json", unreadable, damaged, APPLY_SHAPE
    )
    busy = queued(_generated_units(root)) if live else []
    state = {
        "generator": {
            "ran": bool(gen_text),
            "mode": (fields.get("mode") or [""])[0],
            "version": (fields.get("version") or [""])[0],
            "inputs": [dict(zip(("path", "bytes", "crc32"), i.split("\t"))) for i in fields.get("input", [])],
            "providers": fields.get("provider", []),
        },
        "cache": {
            "state": meta.state or cache.UNKNOWN,
            "provider": meta.provider,
            "instance_id": meta.instance_id,
        },
        "fetch": fetch,
        "apply": apply_run,
        "platform_network": platform_units(root),
        "scripts": script_units(root),
        "diagnostics": [d.as_json() for d in diagnostics],
        "running": busy,
        "unreadable": unreadable,
        "damaged": damaged,
    }
    state["status"] = word(state, diagnostics)
    return state


def word(state: dict[str, Any], diagnostics: list[Any]) -> str:
    gen = state["generator"]
    if gen["mode"] == "disabled":
        return "disabled"
    if state["running"]:
        return "running"
    if not gen["ran"] and state["fetch"] is None and state["apply"] is None:
        return "not-run"  # not an error: nothing of ccgen has run here (yet)
    if not gen["ran"] or any(d.severity == Severity.ERROR for d in diagnostics):
        return "error"
    fetch, applied = state["fetch"], state["apply"]
    if fetch is not None and fetch.get("result") == "failed" and state["cache"]["state"] == cache.UNKNOWN:
        return "error"
    if any(d.severity == Severity.WARNING for d in diagnostics):
        return "degraded"
    if applied is not None and applied.get("status", 0) != 0:
        return "degraded"
    if fetch is not None and fetch.get("result") == "failed":
        return "degraded"
    return "done"


def text(state: dict[str, Any]) -> str:
    gen = state["generator"]
    lines = [f"status: {state['status']}"]
    if gen["ran"]:
        lines.append(f"generator: {gen['mode']} compile, ccgen {gen['version']}")
        for i in gen["inputs"]:
            lines.append(f"  input {i.get('path')} ({i.get('bytes')} bytes, crc32 {i.get('crc32')})")
        if gen["providers"]:
            lines.append(f"  fetch units: {', '.join(gen['providers'])}")
    else:
        lines.append("generator: no record (it has not run on this system)")
    c = state["cache"]
    lines.append(
        f"cache: user-data {c['state']}, provider {c['provider'] or '-'}, instance {c['instance_id'] or '-'}"
    )
    f = state["fetch"]
    if f is not None:
        lines.append(f"fetch: {f.get('provider')}: {f.get('result')} {f.get('detail', '')}".rstrip())
        net = f.get("network")
        for problem in net.get("problems", []) if isinstance(net, dict) else []:
            lines.append(f"  network: {problem}")
    a = state["apply"]
    if a is not None:
        steps = ", ".join(f"{k} {v}" for k, v in sorted(a.get("steps", {}).items()))
        lines.append(f"apply: exit {a.get('status')}; {steps}")
        for m in a.get("messages", []):
            if isinstance(m, str) and m.startswith("platform network: ") and ": error: " in m:
                lines.append(f"  {m}")
    if state["scripts"]:
        lines.append("scripts (units for user-data scripts):")
        lines += [f"  {u['unit']}: {u['description'] or '?'}" for u in state["scripts"]]
    units = state["platform_network"]
    if units:
        lines.append("platform network (networkd files from the platform's data):")
        lines += [f"  {u['path']} from {u['from'] or '?'}" for u in units]
    for d in state["diagnostics"]:
        lines.append(
            f"  {d['file']}:{d['line']}:{d['column']}: {d['severity']}: {d['message']} [{d['code']}]"
        )
    if state["running"]:
        lines.append(f"running: {', '.join(sorted(state['running']))}")
    for path in state["unreadable"]:
        lines.append(f"note: {path} is not readable by this user; run as root for the whole status")
    for why in state["damaged"]:
        lines.append(f"note: unreadable record {why}")
    # Records hold what servers and files said: one escape for every line printed.
    return "".join(one_line(line, LINE_MAX) + "\n" for line in lines)


def main(root: str, fmt: str, wait: bool, timeout: float) -> int:
    import sys

    live = os.path.realpath(root) == "/"
    deadline = time.monotonic() + timeout
    state = collect(root, live)
    while wait and live and state["status"] == "running":
        if time.monotonic() >= deadline:
            break
        time.sleep(0.25)
        state = collect(root, live)
    if fmt == "json":
        sys.stdout.write(json.dumps(state, indent=2, sort_keys=True) + "\n")
    else:
        sys.stdout.write(text(state))
    if wait and state["status"] == "running":
        return EXIT_TIMEOUT
    return EXIT[state["status"]]
