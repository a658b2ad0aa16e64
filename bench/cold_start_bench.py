"""Cold and warm start of ``perfrules check``: is there still a first-run penalty?

A cold run gets a fresh, empty ``TMPDIR`` (where lark used to keep its table cache); the
warm run that follows uses the same one.  Prints the medians of wall and CPU time
(user + system of the child, less disturbed by other load than wall time).

    python bench/cold_start_bench.py [SOURCE_ROOT] [PATH]    # defaults: this checkout, policies/

Compare two versions by giving each one's checkout (or ``git archive`` export) as
SOURCE_ROOT in the same run of the machine.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RUNS = 9


def run(root: Path, target: str, tmpdir: str) -> tuple[float, float]:
    env = {**os.environ, "PYTHONPATH": str(root / "src"), "TMPDIR": tmpdir}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "perfrules", "check", target], env=env, check=True, capture_output=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO
    target = sys.argv[2] if len(sys.argv) > 2 else str(REPO / "policies")
    cold, warm = [], []
    for _ in range(RUNS):
        with tempfile.TemporaryDirectory() as fresh:
            cold.append(run(root, target, fresh))
            warm.append(run(root, target, fresh))

    def median(samples: list[tuple[float, float]], index: int) -> float:
        return statistics.median(sample[index] for sample in samples) * 1000

    print(f"load average {os.getloadavg()[0]:.1f}; {root}: check {target}")
    print(f"cold: wall {median(cold, 0):.0f} ms, cpu {median(cold, 1):.0f} ms")
    print(f"warm: wall {median(warm, 0):.0f} ms, cpu {median(warm, 1):.0f} ms")


if __name__ == "__main__":
    main()
