#!/usr/bin/env python3
"""Benchmark: a 12-session batch of the bundled example against one cold build and 12 separate builds.

Every measurement starts on an empty speech cache and runs the real command
(`python -m voicecoach ...`) in a fresh process, as a user would. Each is
repeated (``--repeat``) and the median wall time is kept.

    python scripts/bench_batch.py            # prints a Markdown table and the ratios

The batch is `--all-variants` (the base, quick, stronger, slower-voice: two
speaking rates) times `--matrix exercises.walk-on-tiptoe.hold=15s,20s,30s`,
so 12 sessions of 9 to 22 minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

VARIANTS = ["base", "quick", "stronger", "slower-voice"]
MATRIX_PATH = "exercises.walk-on-tiptoe.hold"
MATRIX_VALUES = ["15s", "20s", "30s"]
TARGET_RATIO = 4.0


@dataclass
class Measurement:
    wall_s: float
    cpu_s: float
    peak_rss_mb: float


def voicecoach(*args: str) -> list[str]:
    return [sys.executable, "-m", "voicecoach", *args]


def measure(commands: list[list[str]], workdir: Path) -> Measurement:
    """Run ``commands`` one after another on a fresh, empty cache; wall time, CPU time, largest process."""
    cache = workdir / "cache"
    output = workdir / "output"
    shutil.rmtree(cache, ignore_errors=True)
    shutil.rmtree(output, ignore_errors=True)
    env = {**os.environ, "VOICECOACH_CACHE_DIR": str(cache)}
    # Peak memory per run: a fresh wrapper process whose children are only this run's.
    wrapper = ("import resource, subprocess, sys, json\n"
               "for command in json.loads(sys.argv[1]):\n"
               "    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)\n"
               "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
               "print(usage.ru_maxrss, usage.ru_utime + usage.ru_stime)\n")

    before = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", wrapper, json.dumps([[*c, "-o", str(output)] for c in commands])],
                            env=env, check=True, capture_output=True, text=True)
    wall_s = time.perf_counter() - before
    maxrss_kb, cpu_s = result.stdout.split()
    return Measurement(wall_s, float(cpu_s), int(maxrss_kb) / 1024)


def median(runs: list[Measurement]) -> Measurement:
    runs = sorted(runs, key=lambda run: run.wall_s)
    middle = runs[len(runs) // 2]
    return Measurement(statistics.median(run.wall_s for run in runs), middle.cpu_s, max(r.peak_rss_mb for r in runs))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the median is kept")
    arguments = parser.parse_args()

    batch = voicecoach("batch", "-q", *[arg for name in VARIANTS for arg in ("--variant", name)],
                       "--matrix", f"{MATRIX_PATH}={','.join(MATRIX_VALUES)}")
    single = voicecoach("build", "-q")
    separate = [voicecoach("build", "-q", *(["--variant", name] if name != "base" else []),
                           "--set", f"{MATRIX_PATH}={value}")
                for name in VARIANTS for value in MATRIX_VALUES]
    cases = {"one cold build (the example)": [single],
             "batch of 12, cold cache": [batch],
             "12 separate builds, cold cache": separate}
    results: dict[str, Measurement] = {}
    with tempfile.TemporaryDirectory(prefix="voicecoach-bench-") as folder:
        for label, commands in cases.items():
            runs = []
            for number in range(arguments.repeat):
                runs.append(measure(commands, Path(folder)))
                print(f"  {label}, run {number + 1}: {runs[-1].wall_s:.2f} s", file=sys.stderr)
            results[label] = median(runs)

    cold, batched, apart = (results[label] for label in cases)
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, {_cpu_model()}, Python {platform.python_version()}")
    print(f"Command: python scripts/bench_batch.py --repeat {arguments.repeat}\n")
    print("| what | wall time | CPU time | largest process |")
    print("|---|---:|---:|---:|")
    for label, run in results.items():
        print(f"| {label} | {run.wall_s:.2f} s | {run.cpu_s:.2f} s | {run.peak_rss_mb:.0f} MB |")
    ratio = batched.wall_s / cold.wall_s
    verdict = "meets" if ratio <= TARGET_RATIO else "misses"
    print(f"\nbatch / one cold build: {ratio:.2f}x ({verdict} the target of at most {TARGET_RATIO:g}x)")
    print(f"12 separate builds / batch: {apart.wall_s / batched.wall_s:.2f}x")
    return 0 if ratio <= TARGET_RATIO else 1


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


if __name__ == "__main__":
    sys.exit(main())
