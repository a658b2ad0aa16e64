"""Benchmark of ``perfrules report``: 200 review packets (and the team summary) as PDF.

Run from the repository root with the project's interpreter:

    .venv/bin/python bench/report.py                 # 200 agents x 3 months
    .venv/bin/python bench/report.py --agents 50     # a quick run
    .venv/bin/python bench/report.py --keep /tmp/r   # keep the data and the PDFs there

It generates agents shaped like ``examples/generate.py`` (teams of twenty, a quarter of
them senior, a steady skill with monthly noise and a trend, some csat samples under the
policy's minimum, one serious complaint) for ``policies/after_sales_agent.perf``, three
months, into a temporary folder.  Then:

1. the command line, end to end, as a child process:
   ``perfrules report POLICY DATA.csv -o OUT`` (start-up, evaluation, model, Jinja, WeasyPrint
   on all cores, the move into place): total wall time and packets per second;
2. in-process, the same steps one by one (evaluate, build the packet data, and
   ``perfrules.report.render.write_report`` with 1 worker and with all cores), with the
   ``RenderTimes`` it returns: seconds in template rendering (Jinja, in the parent process)
   and in layout (WeasyPrint, summed over the files, in the worker processes).

The share "Jinja vs WeasyPrint" is of the summed work (templates + layout), which does
not depend on the number of workers; the wall time does.  Exit code 0 unless a step fails.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
POLICY = REPO / "policies" / "after_sales_agent.perf"
PERFRULES = Path(sys.executable).parent / "perfrules"


# ---- data ---------------------------------------------------------------------------------------


def load_generator():
    """examples/generate.py as a module (its names, periods, headers and clamp)."""
    spec = importlib.util.spec_from_file_location("example_generate", REPO / "examples" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def generate(path: Path, count: int) -> int:
    """``count`` agents x 3 months from examples/generate.py's generator; returns the rows written."""
    example = load_generator()
    rows = example.agent_rows(random.Random(20261130), count)
    example.write(path, example.HEADERS, rows)
    return len(rows)


# ---- measurements -------------------------------------------------------------------------------


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from importlib.metadata import version

    load = " / ".join(f"{value:.2f}" for value in os.getloadavg())
    return (f"{os.cpu_count()} CPUs ({cpu}), {platform.system()} {platform.machine()}, "
            f"CPython {platform.python_version()}, WeasyPrint {version('weasyprint')}, Jinja2 {version('jinja2')}, "
            f"load average {load}")


def run_cli(data: Path, out: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run([str(PERFRULES), "report", str(POLICY), str(data), "-o", str(out)],
                          capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"perfrules report failed ({done.returncode}):\n{done.stderr}")
    return seconds


def weasyprint_import_seconds() -> float:
    """What each layout worker pays first: the parent never imports WeasyPrint, its forks do."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import weasyprint"], check=True)
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return seconds - (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--keep", type=Path, help="write the data and the PDFs into this folder and keep them")
    arguments = parser.parse_args()

    from perfrules.engine.run import evaluate_files
    from perfrules.report.model import build_report
    from perfrules.report.render import write_report
    from perfrules.workspace import load_policies

    cores = os.cpu_count() or 1
    folder = arguments.keep or Path(tempfile.mkdtemp(prefix="perfrules-bench-report-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        data = folder / "agents.csv"
        rows = generate(data, arguments.agents)
        print(f"machine: {machine()}")
        print(f"data: {arguments.agents} agents x 3 months = {rows} rows, {data.stat().st_size / 1024:.0f} KB; "
              f"policy {POLICY.relative_to(REPO)}")
        print()

        # 1. the command line, end to end
        cli_seconds = run_cli(data, folder / "cli")
        period_folder = next(path for path in (folder / "cli").iterdir() if path.is_dir())
        pdfs = sorted(period_folder.glob("*.pdf"))
        packets = len(pdfs) - 1
        size = sum(path.stat().st_size for path in pdfs)
        print(f"perfrules report (command line, {cores} workers): {cli_seconds:.1f} s wall for {packets} packets "
              f"+ 1 summary = {packets / cli_seconds:.1f} packets/s ({len(pdfs)} PDFs, {size / 1024 / 1024:.1f} MB)")

        # 2. in-process, step by step
        started = time.perf_counter()
        policies = load_policies([str(POLICY)])
        evaluation = evaluate_files(policies.files, data, str(data))
        evaluate_seconds = time.perf_counter() - started
        started = time.perf_counter()
        report = build_report(evaluation)
        model_seconds = time.perf_counter() - started
        print(f"in-process: evaluate {evaluate_seconds:.2f} s, build the packet data (model, SWOT, SVG charts) "
              f"{model_seconds:.2f} s")

        results = {}
        for workers in sorted({cores, 1}, reverse=True):
            gc.collect()  # no garbage for the forked workers to collect (see the notes in docs/performance.md)
            out = folder / f"workers-{workers}"
            started = time.perf_counter()
            written, times = write_report(report, out, workers=workers, progress=False)
            wall = time.perf_counter() - started
            results[workers] = (wall, times, len(written))
        print()
        print("| workers | write_report wall | packets/s | Jinja (templates) | WeasyPrint (layout, summed) "
              "| Jinja share | WeasyPrint share | layout per file |")
        print("|---|---|---|---|---|---|---|---|")
        for workers, (wall, times, files) in sorted(results.items()):
            work = times.templates + times.layout
            print(f"| {workers} | {wall:.1f} s | {packets / wall:.1f} | {times.templates:.2f} s | {times.layout:.1f} s "
                  f"| {100 * times.templates / work:.1f} % | {100 * times.layout / work:.1f} % "
                  f"| {1000 * times.layout / files:.0f} ms |")
        if cores > 1:
            one, many = results[1][0], results[cores][0]
            print(f"\nspeed-up with {cores} workers: {one / many:.2f}x ({one:.1f} s -> {many:.1f} s)")
        print(f"import weasyprint in a fresh interpreter (paid once per worker): {weasyprint_import_seconds():.2f} s")
        total = evaluate_seconds + model_seconds + results[cores][0]
        print(f"in-process total with {cores} workers: {total:.1f} s = {packets / total:.1f} packets/s")
    finally:
        if arguments.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
