"""Build one routine several times, each from an empty speech cache, and say whether the builds agree.

    python scripts/cold_builds.py ROUTINE [--runs 10] [--busy 2] [--engine pyttsx3]

Each run is `voicecoach build ROUTINE -o OUT -q` in a fresh process with a fresh `--cache-dir`, while
``--busy`` other processes keep the CPU busy. It then compares the timelines byte for byte and the decoded
MP3s sample for sample, and checks each MP3's decoded length against its timeline's duration (within half
a sample). Exit 0 when every build agrees and every length is exact, 1 otherwise.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import subprocess
import sys
import tempfile
from pathlib import Path

from mutagen.mp3 import MP3

from voicecoach._parts import ffmpeg_path


def _spin() -> None:
    while True:
        pass


def decoded(mp3: Path, rate_hz: int) -> bytes:
    return subprocess.run([ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-i", str(mp3), "-f", "s16le",
                           "-ac", "1", "-ar", str(rate_hz), "-"], check=True, capture_output=True).stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("routine", type=Path)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--busy", type=int, default=2, help="CPU-bound processes running beside each build")
    parser.add_argument("--engine", help="build with this engine instead of the routine's")
    args = parser.parse_args()

    hogs = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(args.busy)]
    for hog in hogs:
        hog.start()
    seen: dict[tuple[str, str], list[int]] = {}
    exact = True
    try:
        with tempfile.TemporaryDirectory() as scratch:
            for run in range(1, args.runs + 1):
                out, cache = Path(scratch, f"out-{run}"), Path(scratch, f"cache-{run}")
                command = [sys.executable, "-m", "voicecoach", "build", str(args.routine), "-o", str(out),
                           "--cache-dir", str(cache), "-q", *(["--engine", args.engine] if args.engine else [])]
                subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
                timeline_file = next(out.glob("*.timeline.json"))
                timeline = json.loads(timeline_file.read_text(encoding="utf-8"))
                mp3 = timeline_file.with_name(timeline_file.name.removesuffix(".timeline.json") + ".mp3")
                rate_hz = MP3(mp3).info.sample_rate
                samples = decoded(mp3, rate_hz)
                off_by = len(samples) // 2 - timeline["duration"] * rate_hz
                exact &= abs(off_by) <= 0.5
                key = (hashlib.sha256(timeline_file.read_bytes()).hexdigest()[:12],
                       hashlib.sha256(samples).hexdigest()[:12])
                seen.setdefault(key, []).append(run)
                print(f"run {run}: duration {timeline['duration']:.3f} s, MP3 {len(samples) // 2} samples "
                      f"({off_by:+.1f} from the timeline), timeline {key[0]}, audio {key[1]}", flush=True)
    finally:
        for hog in hogs:
            hog.terminate()
    print(f"{len(seen)} distinct build(s) in {args.runs} runs; every MP3 "
          f"{'within half a sample of' if exact else 'NOT as long as'} its timeline")
    return 0 if len(seen) == 1 and exact else 1


if __name__ == "__main__":
    sys.exit(main())
