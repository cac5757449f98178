"""Where a full compile's time goes, stage by stage, in process (issue 26: measure first).

    python bench/stages.py [--units 1000 5000] [--runs 5]

For each size of the generated config (bench/run.py's unit_config): compose (YAML to
nodes, the libyaml extension unless CCGEN_PURE_PYTHON=1), validate (nodes against the key
table), build (the typed model), render (unit files, ordering, install links) and write
(the Plan into an empty directory on tmpfs), each the median of the runs, with its share
and its cost per unit. Imports are reported apart: `python3 -X importtime` gives them in
detail. Read as a profile, not a timed test.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import unit_config


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--units", type=int, nargs="+", default=[1000, 5000])
    p.add_argument("--runs", type=int, default=5)
    a = p.parse_args()
    import gc

    gc.disable()  # as the generator and --print run (boot.main, cli.cmd_print)
    started = time.perf_counter()
    from ccgen import ext
    from ccgen.base.diag import Diagnostics
    from ccgen.bootpath.write import write_plan
    from ccgen.lang import build, validate
    from ccgen.read import compose
    from ccgen.read.inputs import Reader
    from ccgen.read.system import InstalledUnits
    from ccgen.units import render

    print(f"imports: {(time.perf_counter() - started) * 1000:.1f} ms; backend {ext.BACKEND}")
    scratch = Path(
        tempfile.mkdtemp(prefix="ccgen-stages-", dir="/dev/shm" if Path("/dev/shm").is_dir() else None)
    )
    try:
        for n in a.units:
            text = unit_config(n)
            times: dict[str, list[float]] = {
                k: [] for k in ("compose", "validate", "build", "render", "write")
            }
            for i in range(a.runs):
                diags = Diagnostics()
                t0 = time.perf_counter()
                root = compose.compose(text, "/u", diags)
                t1 = time.perf_counter()
                top = validate.check(root, "/u", diags)
                t2 = time.perf_counter()
                config = build.build("/u", top, diags, None)
                t3 = time.perf_counter()
                plan = render.render(config, render.Settings(InstalledUnits(Reader("/nonexistent"))), diags)
                t4 = time.perf_counter()
                out = scratch / f"{n}-{i}"
                out.mkdir()
                write_plan(plan, str(out), lambda path, e: None)
                t5 = time.perf_counter()
                for k, (s, e) in zip(times, ((t0, t1), (t1, t2), (t2, t3), (t3, t4), (t4, t5))):
                    times[k].append(e - s)
                shutil.rmtree(out)
            total = sum(statistics.median(v) for v in times.values())
            print(f"{n} units: {total * 1000:.0f} ms in all")
            for k, v in times.items():
                m = statistics.median(v)
                print(f"  {k:9} {m * 1000:7.1f} ms  {m / total:5.1%}  {m / n * 1e6:6.1f} us/unit")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
