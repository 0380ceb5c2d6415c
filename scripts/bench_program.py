#!/usr/bin/env python3
"""Benchmark: the bundled program, `voicecoach batch --program run-walk` (8 weeks x 3 days: 24 sessions of 29 to
36 minutes, 8 distinct), cold, forced again, unchanged, and with one week changed.

Each run is the real command in a fresh process, as a user runs it; "cold" starts on an empty speech cache and
an empty output folder. Each is repeated (``--repeat``) and the median wall time kept. The sessions encoded
and copied are the build's own count (its manifest's ``audio_from``), not guessed.

    python scripts/bench_program.py            # writes its section of docs/benchmarks.md
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

from report_sections import write_section

HEADING = "## Programs"
FOLDER = "run-and-walk-to-25-minutes"


@dataclass
class Run:
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    built: int
    up_to_date: int
    copies: int


def run(routine: str, workdir: Path, *flags: str) -> Run:
    """One `batch --program` in a fresh process; its wall and CPU time, its largest process, and its counts."""
    wrapper = ("import resource, subprocess, sys, json\n"
               "subprocess.run(json.loads(sys.argv[1]), check=True, stdout=subprocess.DEVNULL)\n"
               "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
               "print(usage.ru_maxrss, usage.ru_utime + usage.ru_stime)\n")
    command = [sys.executable, "-m", "voicecoach", "batch", "--program", routine, "-q", "-o",
               str(workdir / "output"), *flags]
    env = {**os.environ, "VOICECOACH_CACHE_DIR": str(workdir / "cache")}
    before = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", wrapper, json.dumps(command)], env=env, check=True,
                          capture_output=True, text=True)
    wall_s = time.perf_counter() - before
    maxrss_kb, cpu_s = done.stdout.split()
    manifest = json.loads((workdir / "output" / FOLDER / "manifest.json").read_text(encoding="utf-8"))
    sessions = manifest["sessions"]
    return Run(wall_s, float(cpu_s), int(maxrss_kb) / 1024,
               sum(entry["status"] == "ok" for entry in sessions), sum(entry["status"] == "up to date"
                                                                      for entry in sessions),
               sum(entry["status"] == "ok" and "audio_from" in entry for entry in sessions))


def median(runs: list[Run]) -> Run:
    middle = sorted(runs, key=lambda item: item.wall_s)[len(runs) // 2]
    return Run(statistics.median(item.wall_s for item in runs), middle.cpu_s,
               max(item.peak_rss_mb for item in runs), middle.built, middle.up_to_date, middle.copies)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the median is kept")
    parser.add_argument("--report", type=Path, default=Path(__file__).resolve().parent.parent / "docs" /
                        "benchmarks.md")
    arguments = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from voicecoach._program.load import EXAMPLE_PROGRAM
    from voicecoach._routine.examples import bundled_example

    example = bundled_example(Path(EXAMPLE_PROGRAM))
    assert example is not None
    results: dict[str, list[Run]] = {"cold": [], "forced": [], "unchanged": [], "week changed": []}
    for _ in range(arguments.repeat):
        with tempfile.TemporaryDirectory() as name:
            workdir = Path(name)
            routine = workdir / "run-walk.yaml"
            text = example.read_text(encoding="utf-8")
            routine.write_text(text, encoding="utf-8")
            results["cold"].append(run(str(routine), workdir))
            results["forced"].append(run(str(routine), workdir, "--force"))
            results["unchanged"].append(run(str(routine), workdir))
            routine.write_text(text.replace("[60s, 90s, 2m, 3m,", "[60s, 90s, 2m, 3m30s,"), encoding="utf-8")
            results["week changed"].append(run(str(routine), workdir))
            shutil.rmtree(workdir / "output", ignore_errors=True)
    what = {"cold": "empty cache and folder", "forced": "`--force`, warm cache",
            "unchanged": "nothing changed", "week changed": "week 4's runs 3m -> 3m30s"}
    rows = []
    for key, runs in results.items():
        item = median(runs)
        encoded = item.built - item.copies
        rows.append(f"| {key} ({what[key]}) | {item.wall_s:.1f} s | {item.cpu_s:.1f} s | {item.peak_rss_mb:.0f} MB "
                    f"| {item.built} ({encoded} encoded, {item.copies} copies) | {item.up_to_date} |")
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    text = f"""{HEADING}

`python scripts/bench_program.py` builds the bundled program, `voicecoach batch --program run-walk`: 8 weeks of 3
days, 24 sessions of 29 to 36 minutes (about 13 hours of audio), of which 8 are distinct (each week's three days
are alike). Each row is the real command in a fresh process, the median of {arguments.repeat} runs; "encoded" and
"copies" are the build's own count (`audio_from` in its manifest). Peak memory is the largest process's.
({machine}.)

| run | wall | CPU | peak memory | sessions built | up to date |
|---|---|---|---|---|---|
{chr(10).join(rows)}

A copy is the encoded day's MP3 audio, its frames unchanged, under the day's own tags, timeline and lyrics: no
synthesis, no mix, no encode. A changed week builds that week's three days again (one encoded, two copies) and
leaves the other 21 up to date.
"""
    write_section(arguments.report, HEADING, text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
