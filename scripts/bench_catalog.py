#!/usr/bin/env python3
"""Benchmark: a 200-session catalog built three ways: the local process pool, `--dask local:2`, and a running
`dask scheduler` with two `dask worker` processes, all on this machine.

    python scripts/bench_catalog.py                      # prints a Markdown section
    python scripts/bench_catalog.py --write docs/benchmarks.md

The catalog is 10 generated routines of about 8 minutes (scripts/bench.py's
generator: exercises with reps, sets, sides, cues), each built with
`--matrix voice.rate=140,150,160,170,180 --matrix time_scale=0.8,0.9,1.0,1.1`:
20 sessions per routine, 200 in all, five voices' worth of speech.

For each way: a cold build (empty speech cache and output folder), then the
same catalog again (every session up to date), then again after one routine's
hold changed (its 20 sessions are rebuilt). Each is the real command in a fresh
process. The share of CPU busy is the whole machine's, from /proc/stat, over
the build's wall time. ``--write`` replaces this benchmark's section of the
file (from its heading to the end) and leaves the rest as it is.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from report_sections import SECTIONS, write_section

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402  (scripts/bench.py: the routine generator and the machine description)

HEADING = SECTIONS[0]
ROUTINES = 10
MINUTES = 8
MATRIX = ["--matrix", "voice.rate=140,150,160,170,180", "--matrix", "time_scale=0.8,0.9,1.0,1.1"]
TARGET = 0.85  # Dask on one machine: at least 85% of the local pool's sessions per minute


@dataclass
class Step:
    wall_s: float
    busy: float  # share of the machine's CPU time that was busy
    counts: str  # the batch's last line: "N built, M up to date, K failed"

    @property
    def built(self) -> int:
        return int(self.counts.split()[0])


def cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine."""
    fields = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def run_batch(routines: Path, out: Path, cache: Path, dask: str | None) -> Step:
    command = [sys.executable, "-m", "voicecoach", "batch", str(routines), *MATRIX, "-q", "-o", str(out),
               "--cache-dir", str(cache), *(["--dask", dask] if dask else ["-j", str(os.cpu_count() or 1)])]
    busy_before, total_before = cpu_times()
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    wall_s = time.perf_counter() - started
    busy_after, total_after = cpu_times()
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr}")
    return Step(wall_s, (busy_after - busy_before) / max(1, total_after - total_before),
                result.stdout.strip().splitlines()[-1])


def write_catalog(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(1, ROUTINES + 1):
        path = bench.write_routine(folder, MINUTES)
        text = path.read_text(encoding="utf-8").replace(f"Benchmark routine, {MINUTES:g} minutes",
                                                        f"Catalog routine {number:02d}", 1)
        (folder / f"routine-{number:02d}.yaml").write_text(text, encoding="utf-8")
        path.unlink()
    return folder


def change_one_routine(folder: Path) -> None:
    """Lengthen the first hold of one routine by a second: its sessions, and only those, are out of date."""
    path = folder / "routine-01.yaml"
    text = path.read_text(encoding="utf-8")
    match = re.search(r"hold: (\d+)s", text)
    assert match, "the generated routine has a hold"
    path.write_text(text[:match.start()] + f"hold: {int(match[1]) + 1}s" + text[match.end():], encoding="utf-8")


class Scheduler:
    """`dask scheduler` and two single-threaded `dask worker` processes (with their nannies) on 127.0.0.1."""

    def __enter__(self) -> str:
        dask_cli = shutil.which("dask", path=str(Path(sys.executable).parent)) or "dask"
        self.processes = [subprocess.Popen([dask_cli, "scheduler", "--host", "127.0.0.1", "--port", "0",
                                            "--dashboard-address", ":0"], stdout=subprocess.PIPE,
                                           stderr=subprocess.STDOUT, text=True)]
        address = None
        assert self.processes[0].stdout is not None
        for line in self.processes[0].stdout:
            if "Scheduler at:" in line:
                address = line.split("Scheduler at:")[1].strip()
                break
        assert address, "the scheduler did not start"
        self.processes += [subprocess.Popen([dask_cli, "worker", address, "--nworkers", "1", "--nthreads", "1",
                                             "--no-dashboard"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                           for _ in range(2)]
        from distributed import Client

        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=120)
        return address

    def __exit__(self, *exc_info: object) -> None:
        for process in reversed(self.processes):
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def measure_way(label: str, dask: str | None, folder: Path) -> dict[str, Step]:
    routines = write_catalog(folder / label / "routines")
    out, cache = folder / label / "out", folder / label / "cache"
    steps = {"cold": run_batch(routines, out, cache, dask)}
    print(f"  {label}: cold {steps['cold'].wall_s:.1f} s ({steps['cold'].counts})", file=sys.stderr)
    steps["unchanged"] = run_batch(routines, out, cache, dask)
    change_one_routine(routines)
    steps["one routine changed"] = run_batch(routines, out, cache, dask)
    print(f"  {label}: unchanged {steps['unchanged'].wall_s:.1f} s, one routine changed "
          f"{steps['one routine changed'].wall_s:.1f} s", file=sys.stderr)
    return steps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", type=Path, metavar="PATH", help="also write the section into PATH (Markdown)")
    arguments = parser.parse_args()
    began = time.perf_counter()
    results: dict[str, dict[str, Step]] = {}
    with tempfile.TemporaryDirectory(prefix="voicecoach-catalog-") as folder:
        results["local pool (-j 2)"] = measure_way("pool", None, Path(folder))
        results["--dask local:2"] = measure_way("local", "local:2", Path(folder))
        with Scheduler() as address:
            results["dask scheduler + 2 workers"] = measure_way("scheduler", address, Path(folder))
    took_s = time.perf_counter() - began

    sessions = ROUTINES * 20
    pool_rate = sessions / results["local pool (-j 2)"]["cold"].wall_s * 60
    lines = [HEADING, "",
             f"Measured {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z} by `scripts/bench_catalog.py` "
             f"(it took {took_s / 60:.1f} min), on the machine above.", "",
             *bench.code_lines(), "",
             f"A catalog of {sessions} sessions: {ROUTINES} generated routines of about {MINUTES} minutes, each "
             "with `--matrix voice.rate=140,150,160,170,180 --matrix time_scale=0.8,0.9,1.0,1.1` (20 sessions "
             "each; five voices, so every phrase is synthesized five times).", "",
             "| way | cold build | sessions per minute | vs local pool | CPU busy | unchanged rebuild | "
             "one routine changed (20 sessions) |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for label, steps in results.items():
        cold = steps["cold"]
        rate = cold.built / cold.wall_s * 60
        lines.append(f"| {label} | {cold.wall_s:.1f} s | {rate:.0f} | {rate / pool_rate:.2f}x | {cold.busy:.0%} | "
                     f"{steps['unchanged'].wall_s:.1f} s ({steps['unchanged'].counts}) | "
                     f"{steps['one routine changed'].wall_s:.1f} s ({steps['one routine changed'].built} built) |")
    worst = min(results[label]["cold"].built / results[label]["cold"].wall_s * 60 / pool_rate
                for label in results if label.startswith(("--dask", "dask")))
    verdict = "met" if worst >= TARGET else "missed"
    lines += ["", f"Target: Dask on one machine within 15% of the local pool's sessions per minute: {verdict} "
              f"(the slower Dask way made {worst:.2f}x the pool's).", "",
              "Notes:", "",
              "- Every build is `python -m voicecoach batch ROUTINES/ --matrix ... -q -o OUT --cache-dir CACHE`, "
              "plus `-j 2` or `--dask ADDRESS`, in a fresh process; cold means an empty cache and output folder "
              "for each way. Start-up is included: for `--dask local:2` that is starting a LocalCluster of two "
              "worker processes; the running scheduler and its workers were started before, untimed.",
              "- CPU busy: the whole machine's busy share of its CPU time during the build (/proc/stat), "
              "so 100% means both cores busy all the time.",
              "- unchanged rebuild: the same command again; every session is found up to date by its build key "
              "(the MP3's tag), nothing is synthesized or encoded. one routine changed: the first hold of one "
              "routine is a second longer; only that routine's 20 sessions are built again.",
              "- The speech of the Dask ways is synthesized by tasks on the workers, grouped by voice; the pool "
              "synthesizes in its own pool of engine processes first, then renders.", ""]
    section = "\n".join(lines)
    print(section)
    if arguments.write:
        write_section(arguments.write, HEADING, section)
        print(f"wrote {arguments.write}", file=sys.stderr)
    return 0 if worst >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
