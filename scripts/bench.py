#!/usr/bin/env python3
"""Benchmark: how fast `voicecoach build` is, against the encoder alone and against a naive pydub build.

    python scripts/bench.py                          # 5, 30 and 120 minutes, the bundled example, each engine
    python scripts/bench.py --sizes 5 --skip-naive-over 10 --repeat 3
    python scripts/bench.py --only-engines --engines piper   # only the speech engines section
    python scripts/bench.py --only-music --repeat 3          # only the music section
    python scripts/bench.py --write docs/benchmarks.md

It writes routines of about 5, 30 and 120 minutes into a temporary folder
(several exercises with reps, sets, sides, rests, an intro, cues and
announcements, every rest long enough that nothing grows) and also takes the
bundled example. For each session, every measurement is a fresh process:

- cold build: `python -m voicecoach build ROUTINE -q -o OUT --cache-dir CACHE`
  with CACHE removed first (speech is synthesized);
- warm build: the same command again right after (every phrase is cached);
- naive build: scripts/naive_build.py on the warm cache, the same session
  assembled with pydub `+` and exported with pydub (the baseline);
- encode floor: `python scripts/bench.py --encode-floor ROUTINE --cache-dir
  CACHE` renders the session's own samples into a raw file (not timed), then
  times only ffmpeg encoding that file with voicecoach's own encode command
  (voicecoach._audio.encode.encode_command): the least any build could take.

The targets, each printed as met or missed with its measured ratio:

- cold build of the 30-minute routine at most 1.0x its encode floor (one LAME process encoding its samples);
- warm build of the 30-minute routine at most 0.75x its encode floor;
- at least 10x faster than the naive build (30-minute routine, naive/warm);
- peak memory of the 120-minute build at most 1.25x the 5-minute build's, and under 200 MB;
- warm rebuild of the bundled example at most 1.1x its encode floor.

Wall times are medians of --repeat runs. Peak memory is the largest process
of a run (the build, or its ffmpeg), read from RUSAGE_CHILDREN in a small
wrapper process that runs only that command. The ratios and the four targets
are taken within the same run, so a slower or busier machine moves both sides.
The exit code is always 0: this is a measurement, not a test.

Then the speech engines (--engines, default pyttsx3,piper; piper is skipped
with a note when `import piper` fails), each on the bundled example:

- cold and warm build: `python -m voicecoach build -q -o OUT --cache-dir CACHE
  --engine NAME`, as above, and the session length its timeline says;
- synthesis alone: `python scripts/bench.py --synthesis NAME` in a fresh
  process plans the example with voicecoach's library and times
  SpeechService.clips over its distinct phrases into an empty cache. The
  engine's start-up (making the engine, its settings and a first phrase, into
  a cache of its own) is timed apart. real-time factor = synthesis seconds /
  seconds of speech made (lower is faster);
- speed against voice.rate: the seconds of speech the same phrases make at
  each of --rates (default 120,160,200 wpm), a fresh cache for each.

Then the music under the voice (--only-music runs only this section; with
--only-engines too, both sections and no sessions table). The benchmark first
makes its own music, untimed and the same on every run (seeded numpy: soft
chords of sine partials between 110 and 587 Hz, away from voicecoach's tones,
a slow pulse and a little noise, piped into ffmpeg as mono MP3, 128 kbps,
44.1 kHz): a folder of four tracks of 3 to 6 minutes and a one-hour folder of
twelve 5-minute tracks. Every build is warm for speech (one untimed build
fills the cache first), and each session has a cache of its own:

- 30 minutes without music, and with `--music FOLDER` (the four tracks), the
  tracks already measured (their lengths and loudness read from
  CACHE/music/); and the first build with that folder, CACHE/music/ removed
  just before it, so it also decodes every track once to measure it;
- 120 minutes with `--music` the one-hour folder (tracks already measured),
  and without music;
- 5 minutes without music: the memory baseline. The target, printed as met
  or missed: peak memory of the 120-minute build with a one-hour music folder
  at most 1.25x the 5-minute build's (without music) and under 200 MB.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from report_sections import write_section

SCRIPTS_DIR = Path(__file__).resolve().parent
NAIVE_SCRIPT = SCRIPTS_DIR / "naive_build.py"
DEFAULT_SIZES_MIN = (5, 30, 120)
DEFAULT_SKIP_NAIVE_OVER_MIN = 40.0
EXAMPLE_LABEL = "example"

# The targets: (what, limit). Each is checked as a ratio measured in this run.
COLD_30_OVER_FLOOR_MAX = 1.0
WARM_30_OVER_FLOOR_MAX = 0.75
NAIVE_OVER_WARM_MIN = 10.0
PEAK_120_OVER_5_MAX = 1.25
PEAK_120_MAX_MB = 200.0
WARM_EXAMPLE_OVER_FLOOR_MAX = 1.1

# The speech engines section: each engine on the bundled example, and the module that must import for it.
DEFAULT_ENGINES = ("pyttsx3", "piper")
ENGINE_MODULES = {"pyttsx3": "pyttsx3", "piper": "piper"}
DEFAULT_RATES_WPM = (120, 160, 200)

# The music section: sessions (minutes) built with and without music, the music folders (each track's seconds),
# and its target.
MUSIC_SHORT_MIN, MUSIC_SESSION_MIN, MUSIC_LONG_MIN = 5, 30, 120
MUSIC_FOLDER_S = (190, 245, 300, 355)  # "music-4": four tracks of 3 to 6 minutes, for the 30-minute session
MUSIC_HOUR_S = (300,) * 12             # "music-hour": twelve 5-minute tracks, for the 120-minute session
PEAK_MUSIC_120_OVER_5_MAX = 1.25
PEAK_MUSIC_120_MAX_MB = 200.0
# The generated music: made at voicecoach's own rate (nothing in it is above 600 Hz but the noise), encoded at
# 44.1 kHz like most music files. Chords of the A minor pentatonic from A2 to D5, 110 to 587 Hz: well away from
# voicecoach's tones (660, 880, 1100 and 1320 Hz), so a test listening for a tone would not hear the music.
MUSIC_MAKE_RATE_HZ = 22_050
MUSIC_MP3_RATE_HZ = 44_100
MUSIC_BITRATE_KBPS = 128
MUSIC_NOTES_HZ = (110.0, 130.81, 146.83, 164.81, 196.0, 220.0, 261.63, 293.66, 329.63, 392.0, 440.0, 523.25, 587.33)
MUSIC_CHORD_S = 8     # each chord glides into the next over this long
MUSIC_PULSE_HZ = 0.2  # the slow amplitude pulse

# Runs one command and reports its wall time and the peak memory of its process tree.
# A fresh wrapper per command, so RUSAGE_CHILDREN covers that command (and the ffmpeg it waits for) only.
WRAPPER = """\
import json, resource, subprocess, sys, time
command = json.loads(sys.argv[1])
started = time.perf_counter()
result = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
wall_s = time.perf_counter() - started
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall_s": wall_s, "peak_rss_kb": usage.ru_maxrss,
                  "returncode": result.returncode, "stderr": result.stderr}))
"""


# ---------------------------------------------------------------- routines

# A catalogue of realistic exercises; long routines go round it more than once.
# Every rest is given explicitly, so each exercise's asked time is known exactly,
# and every rest is long enough for what is said in it (nothing grows).
CATALOGUE: tuple[dict, ...] = (
    {"name": "Calf raises", "instructions": "Stand tall near a wall, rise onto your toes and hold at the top.",
     "sets": 2, "reps": 8, "hold": 5, "rep_rest": 6, "set_rest": 20, "cue": "Up"},
    {"name": "Side plank", "instructions": "Lie on your side, prop yourself on your forearm and lift your hips.",
     "sides": ["left side", "right side"], "hold": 30, "side_rest": 15, "announce": ["halfway", "10s"]},
    {"name": "Glute bridge", "instructions": "Lie on your back, knees bent, and lift your hips off the floor.",
     "sets": 3, "reps": 10, "hold": 3, "rep_rest": 6, "set_rest": 20, "cue": "Squeeze"},
    {"name": "Wall sit", "instructions": "Slide down the wall until your knees are bent at a right angle.",
     "hold": 90, "announce": ["halfway", "30s", "10s"]},
    {"name": "Bird dog", "instructions": "On hands and knees, reach one arm forward and the other leg back.",
     "sides": ["left arm", "right arm"], "reps": 6, "hold": 5, "rep_rest": 6, "side_rest": 12, "cue": "Reach"},
    {"name": "Hamstring stretch", "instructions": "Sit with one leg straight and lean forward from your hips.",
     "sides": ["left leg", "right leg"], "sets": 2, "hold": 30, "set_rest": 15, "side_rest": 12,
     "announce": ["halfway"]},
    {"name": "Dead bug", "instructions": "Lie on your back, arms up, and lower the opposite arm and leg slowly.",
     "sets": 2, "reps": 8, "hold": 4, "rep_rest": 6, "set_rest": 20},
    {"name": "Plank", "instructions": "Forearms on the floor, body in one straight line from head to heels.",
     "sets": 3, "hold": 45, "set_rest": 30, "announce": ["halfway", "10s"]},
    {"name": "Clamshells", "instructions": "Lie on your side, knees bent, and open your top knee like a shell.",
     "sides": True, "reps": 12, "hold": 3, "rep_rest": 6, "side_rest": 12},
    {"name": "Cat and cow", "instructions": "On hands and knees, round your back up, then let it sag slowly.",
     "reps": 10, "hold": 5, "rep_rest": 6, "cue": "Breathe"},
)
EXERCISE_REST_S = 30
PREPARE_S = 5
SPEECH_ALLOWANCE_S = 25  # opening and closing speech and the final second of silence, roughly
FINAL_HOLD_MIN_S = 20


def asked_s(exercise: dict) -> int:
    """An exercise's holds plus the rests inside it, in seconds (all its rests are given explicitly)."""
    sides = exercise.get("sides")
    side_count = 2 if sides is True else len(sides) if sides else 1
    sets, reps = exercise.get("sets", 1), exercise.get("reps", 1)
    holds = side_count * sets * reps
    return (holds * exercise["hold"]
            + side_count * sets * (reps - 1) * exercise.get("rep_rest", 0)
            + side_count * (sets - 1) * exercise.get("set_rest", 0)
            + (side_count - 1) * exercise.get("side_rest", 0))


def routine_exercises(minutes: float) -> list[dict]:
    """Exercises from the catalogue, round after round, then a final hold that takes up what is left."""
    budget_s = minutes * 60 - SPEECH_ALLOWANCE_S - PREPARE_S
    chosen: list[dict] = []
    used_s = 0
    for index in range(10_000):
        base = CATALOGUE[index % len(CATALOGUE)]
        cost_s = asked_s(base) + (EXERCISE_REST_S if chosen else 0)
        if used_s + cost_s > budget_s:
            break
        round_number = index // len(CATALOGUE) + 1
        exercise = dict(base)
        if round_number > 1:
            exercise["name"] = f"{base['name']}, round {round_number}"
        chosen.append(exercise)
        used_s += cost_s
    left_s = int(budget_s - used_s - (EXERCISE_REST_S if chosen else 0))
    if left_s >= FINAL_HOLD_MIN_S:
        chosen.append({"name": "Standing stretch", "instructions": "Stand tall, reach both arms up and breathe.",
                       "hold": left_s, "announce": ["halfway", "10s"]})
    for exercise in chosen[:-1]:
        exercise["rest"] = EXERCISE_REST_S
    return [{key: (f"{value}s" if key in ("hold", "rep_rest", "set_rest", "side_rest", "rest") else value)
             for key, value in exercise.items()} for exercise in chosen]


def write_routine(folder: Path, minutes: float) -> Path:
    """A routine of about ``minutes`` of session, as a YAML file in ``folder``."""
    import yaml

    routine = {
        "title": f"Benchmark routine, {minutes:g} minutes",
        "description": "A full-body routine generated by scripts/bench.py.",
        "intro": "A full-body routine. Have a mat and a wall nearby. A high tone means start; "
                 "a lower tone means stop.",
        "prepare": f"{PREPARE_S}s",
        "exercises": routine_exercises(minutes),
        "outro": "Well done. Drink some water and stretch gently for a few minutes.",
    }
    path = folder / f"routine-{minutes:g}min.yaml"
    path.write_text(yaml.safe_dump(routine, sort_keys=False, allow_unicode=True, width=100), encoding="utf-8")
    return path


# ---------------------------------------------------------------- measuring


@dataclass
class Run:
    wall_s: float
    peak_rss_mb: float
    ok: bool
    stderr: str


def measure(command: list[str]) -> Run:
    """Run ``command`` in a fresh process (through the wrapper); its wall time and peak memory."""
    result = subprocess.run([sys.executable, "-c", WRAPPER, json.dumps(command)],
                            check=True, capture_output=True, text=True)
    report = json.loads(result.stdout)
    return Run(report["wall_s"], report["peak_rss_kb"] / 1024, report["returncode"] == 0, report["stderr"])


def median_run(runs: list[Run]) -> Run:
    return Run(statistics.median(run.wall_s for run in runs), statistics.median(run.peak_rss_mb for run in runs),
               all(run.ok for run in runs), runs[-1].stderr)


@dataclass
class Session:
    label: str
    routine: Path | None  # None: the bundled example (built with no routine argument)
    routine_file: Path    # the file itself, for the naive build and the encode floor
    engine: str | None = None  # --engine NAME; None: the routine's own (pyttsx3 for the example)


@dataclass
class Result:
    session: Session
    length_s: float | None = None
    cold: Run | None = None
    warm: Run | None = None
    naive: Run | None = None  # None: skipped
    floor_s: float | None = None
    floor_error: str | None = None
    error: str | None = None  # the benchmark itself broke on this session

    @property
    def warnings(self) -> list[str]:
        return [line for line in self.cold.stderr.splitlines() if line.startswith("warning:")] if self.cold else []


def build_command(session: Session, output: Path, cache: Path) -> list[str]:
    routine = [str(session.routine)] if session.routine is not None else []
    engine = ["--engine", session.engine] if session.engine is not None else []
    return [sys.executable, "-m", "voicecoach", "build", *routine, "-q", "-o", str(output), "--cache-dir", str(cache),
            *engine]


def cold_and_warm(session: Session, folder: Path, repeat: int) -> tuple[Run, Run, float | None]:
    """``repeat`` cold builds (cache removed first), each followed by a warm one: their medians and the length.

    The cache is ``folder``/cache, left warm for whatever is measured next.
    """
    cache, output = folder / "cache", folder / "output"
    colds, warms = [], []
    for number in range(1, repeat + 1):
        shutil.rmtree(cache, ignore_errors=True)
        for kind, runs in (("cold", colds), ("warm", warms)):
            shutil.rmtree(output, ignore_errors=True)
            runs.append(measure(build_command(session, output, cache)))
            status = "" if runs[-1].ok else "  FAILED: " + _last_line(runs[-1].stderr)
            _progress(f"{session.label}: {kind} build, run {number}: {runs[-1].wall_s:.2f} s{status}")
    return median_run(colds), median_run(warms), _timeline_length_s(output)


def bench_session(result: Result, workdir: Path, repeat: int, skip_naive_over_min: float) -> None:
    """Every measurement of one session, in order, into ``result``: cold and warm builds, naive build, encode floor."""
    session = result.session
    folder = workdir / session.label.replace(" ", "-")
    cache = folder / "cache"
    result.cold, result.warm, result.length_s = cold_and_warm(session, folder, repeat)

    if result.length_s is not None and result.length_s <= skip_naive_over_min * 60:
        naives = []
        for number in range(1, repeat + 1):
            mp3 = folder / "naive" / "naive.mp3"
            shutil.rmtree(mp3.parent, ignore_errors=True)
            naives.append(measure([sys.executable, str(NAIVE_SCRIPT), str(session.routine_file), str(mp3),
                                   "--cache-dir", str(cache)]))
            status = "" if naives[-1].ok else "  FAILED: " + _last_line(naives[-1].stderr)
            _progress(f"{session.label}: naive build, run {number}: {naives[-1].wall_s:.2f} s{status}")
        result.naive = median_run(naives)
    elif result.length_s is None:
        _progress(f"{session.label}: naive build skipped (the build wrote no timeline)")
    else:
        _progress(f"{session.label}: naive build skipped (longer than {skip_naive_over_min:g} min)")

    floor = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--encode-floor", str(session.routine_file),
                            "--cache-dir", str(cache), "--repeat", str(repeat)], capture_output=True, text=True)
    if floor.returncode == 0:
        result.floor_s = statistics.median(json.loads(floor.stdout.splitlines()[-1])["encode_s"])
        _progress(f"{session.label}: encode floor: {result.floor_s:.2f} s")
    else:
        result.floor_error = _last_line(floor.stderr)
        _progress(f"{session.label}: encode floor FAILED: {result.floor_error}")


def encode_floor(routine: Path, cache_dir: Path, repeat: int) -> dict:
    """Render the session's samples into a raw file (not timed); time only ffmpeg encoding it, ``repeat`` times.

    The encode is voicecoach's own command (export.encode_command) at voicecoach's
    sample rate and bitrate, reading the same samples a build streams into it.
    """
    sys.path.insert(0, str(SCRIPTS_DIR))
    from naive_build import load_session

    from voicecoach._audio.encode import DEFAULT_BITRATE_KBPS, encode_command
    from voicecoach._audio.mix import SAMPLE_RATE_HZ, render_chunks

    timeline, clips = load_session(routine, cache_dir)
    encode_s = []
    with tempfile.TemporaryDirectory(prefix="voicecoach-floor-") as folder:
        raw, mp3 = Path(folder) / "session.s16le", Path(folder) / "session.mp3"
        with open(raw, "wb") as handle:
            for chunk in render_chunks(timeline, clips, SAMPLE_RATE_HZ):
                handle.write(chunk)
        command = encode_command(raw, mp3, SAMPLE_RATE_HZ, DEFAULT_BITRATE_KBPS)
        for _ in range(repeat):
            mp3.unlink(missing_ok=True)
            started = time.perf_counter()
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
            encode_s.append(time.perf_counter() - started)
    return {"encode_s": encode_s, "duration_ms": timeline.duration_ms}


# ---------------------------------------------------------------- speech engines


@dataclass
class Synthesis:
    """One engine's synthesis of the example's distinct phrases (medians over the runs); see synthesis_report."""

    phrases: int
    speech_s: float       # seconds of speech the phrases make, trimmed as a build keeps them
    synthesis_s: float    # wall time of SpeechService.clips into an empty cache, start-up excluded
    startup_s: float      # making the engine and its settings, plus one first phrase
    cpu_s: float          # CPU time of the process (every thread) during synthesis_s
    threads: int          # threads of the process after synthesis
    peak_rss_mb: float    # the synthesis process's peak memory, up to the end of synthesis_s
    rtf: float            # synthesis_s / speech_s, median of the runs' own
    rates: dict[int, float]  # voice.rate (wpm) -> seconds of speech at that rate


@dataclass
class EngineResult:
    engine: str
    missing: str | None = None  # why the engine was skipped
    length_s: float | None = None
    cold: Run | None = None
    warm: Run | None = None
    synthesis: Synthesis | None = None
    error: str | None = None  # the benchmark itself broke on this engine


def engine_missing(engine: str) -> str | None:
    """Why ``engine`` cannot be measured here (its module does not import, tried in a fresh process), else None."""
    module = ENGINE_MODULES[engine]
    check = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True)
    if check.returncode == 0:
        return None
    return f"`import {module}` failed ({_last_line(check.stderr)}); install it with `pip install 'voicecoach[neural]'`"


def bench_engine(result: EngineResult, workdir: Path, repeat: int, rates: list[int]) -> None:
    """Cold and warm builds of the bundled example with one engine, then its synthesis alone, into ``result``."""
    engine = result.engine
    from voicecoach._routine.examples import example_routine_path

    session = Session(f"{engine} example", None, example_routine_path(), engine)
    result.cold, result.warm, result.length_s = cold_and_warm(session, workdir / f"engine-{engine}", repeat)

    runs = []
    for number in range(1, repeat + 1):
        # the rates once, in the first run, after its timed synthesis
        command = [sys.executable, str(Path(__file__).resolve()), "--synthesis", engine]
        if number == 1 and rates:
            command += ["--rates", ",".join(str(rate) for rate in rates)]
        run = subprocess.run(command, capture_output=True, text=True)
        if run.returncode != 0:
            raise RuntimeError(f"--synthesis {engine} failed: {_last_line(run.stderr)}")
        runs.append(json.loads(run.stdout.splitlines()[-1]))
        _progress(f"{engine} example: synthesis, run {number}: {runs[-1]['phrases']} phrases, "
                  f"{runs[-1]['speech_s']:.1f} s of speech in {runs[-1]['synthesis_s']:.2f} s "
                  f"(start-up {runs[-1]['startup_s']:.2f} s)")

    def middle(key: str) -> float:
        return statistics.median(run[key] for run in runs)

    result.synthesis = Synthesis(
        phrases=runs[0]["phrases"], speech_s=middle("speech_s"), synthesis_s=middle("synthesis_s"),
        startup_s=middle("startup_s"), cpu_s=middle("cpu_s"), threads=round(middle("threads")),
        peak_rss_mb=middle("peak_rss_mb"),
        rtf=statistics.median(run["synthesis_s"] / run["speech_s"] for run in runs),
        rates={int(rate): seconds for rate, seconds in runs[0]["rates"].items()})
    for rate, seconds in result.synthesis.rates.items():
        _progress(f"{engine} example: at rate {rate}: {seconds:.1f} s of speech")


def synthesis_report(engine: str, rates: list[int]) -> dict:
    """(internal, run in a fresh process) Synthesize the bundled example's phrases with ``engine``; timings as JSON.

    Start-up (making the engine, its settings, and one first phrase, into a
    cache of its own) is timed apart; then every distinct phrase goes through
    SpeechService.clips into an empty cache, and that is timed alone. The
    engine made at start-up is handed to that SpeechService, so one engine in
    this process speaks every phrase: the engine's own speed, whatever a build
    does around it. Then, untimed, the same phrases at each of ``rates`` (a
    fresh cache each), for the seconds of speech they make.
    """
    import resource

    from voicecoach._plan.planner import plan_session
    from voicecoach._routine.examples import open_routine
    from voicecoach._routine.settings import engine_setting
    from voicecoach._speech.cache import PhraseCache
    from voicecoach._speech.service import SpeechService

    routine = open_routine(None).session(None, (engine_setting(engine),))
    plan = plan_session(routine)
    phrases = plan.phrases()

    def speech_seconds(clips: dict) -> float:
        return sum(clip.frames / clip.sample_rate_hz for clip in clips.values())

    with tempfile.TemporaryDirectory(prefix="voicecoach-synthesis-") as folder:
        started = time.perf_counter()
        starter = SpeechService(PhraseCache(Path(folder) / "first"))
        ready = starter.engine_for(engine)
        settings = starter.settings_for(routine.voice, routine.language)
        starter.clips(phrases[:1], settings, spoken=plan.spoken)
        startup_s = time.perf_counter() - started

        # the engine handed in, so every phrase is spoken by this one engine in this process: the engine's own speed
        speech = SpeechService(PhraseCache(Path(folder) / "cache"), {engine: ready})

        cpu_started, started = time.process_time(), time.perf_counter()
        clips = speech.clips(phrases, settings, spoken=plan.spoken)
        synthesis_s = time.perf_counter() - started
        cpu_s = time.process_time() - cpu_started
        threads = len(os.listdir("/proc/self/task")) if os.path.isdir("/proc/self/task") else 0
        peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before the rates, which add to it

        at_rate = {}
        for rate in rates:
            service = SpeechService(PhraseCache(Path(folder) / f"rate-{rate}"), {engine: ready})
            at_rate[rate] = speech_seconds(service.clips(phrases, dataclasses.replace(settings, rate_wpm=rate),
                                                         spoken=plan.spoken))
    return {"engine": engine, "phrases": len(clips), "speech_s": speech_seconds(clips), "synthesis_s": synthesis_s,
            "startup_s": startup_s, "cpu_s": cpu_s, "threads": threads, "rates": at_rate, "peak_rss_mb": peak_rss_mb}


# ---------------------------------------------------------------- music


def music_chord(seed: int, index: int) -> list[tuple[float, float, float]]:
    """Chord ``index`` of a track: four notes of MUSIC_NOTES_HZ as (frequency, phase, amplitude), from ``seed``."""
    import numpy as np

    rng = np.random.default_rng([seed, index + 1])  # index -1 is the chord before the first
    root = int(rng.integers(0, 5))
    notes = (root, root + 2, root + 4, root + int(rng.integers(5, 9)))
    return [(MUSIC_NOTES_HZ[note], float(rng.uniform(0, 2 * np.pi)), float(rng.uniform(0.5, 1.0))) for note in notes]


def music_samples(seed: int, number: int, frames: int):
    """Piece ``number`` of a track (``frames`` samples from number * MUSIC_CHORD_S on, floats in -1..1): the
    previous chord gliding into this piece's chord, a slow pulse and a little noise."""
    import numpy as np

    rate = MUSIC_MAKE_RATE_HZ
    steps = np.arange(frames, dtype=np.float64)
    seconds = number * MUSIC_CHORD_S + steps / rate
    rise = np.sin(0.5 * np.pi * steps / (MUSIC_CHORD_S * rate)) ** 2
    samples = np.zeros(frames)
    for index, weight in ((number - 1, 1.0 - rise), (number, rise)):
        chord = np.zeros(frames)
        for frequency_hz, phase, amplitude in music_chord(seed, index):
            chord += amplitude * np.sin(2 * np.pi * frequency_hz * seconds + phase)
        samples += weight * chord
    samples *= 0.09 * (0.75 + 0.25 * np.sin(2 * np.pi * MUSIC_PULSE_HZ * seconds))
    return samples + np.random.default_rng([seed, 0, number]).normal(0.0, 0.004, frames)


def write_music_track(path: Path, seconds: float, seed: int) -> Path:
    """A track of ``seconds`` to ``path`` (MP3), piece by piece through ffmpeg's stdin: never whole in memory."""
    import numpy as np

    from voicecoach._parts import ffmpeg_path

    command = [ffmpeg_path(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
               "-f", "s16le", "-ar", str(MUSIC_MAKE_RATE_HZ), "-ac", "1", "-i", "pipe:0",
               "-ar", str(MUSIC_MP3_RATE_HZ), "-c:a", "libmp3lame", "-b:a", f"{MUSIC_BITRATE_KBPS}k",
               "-compression_level", "7", str(path)]  # LAME's faster search: the same file size, made in half the time
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdin is not None and process.stderr is not None
    total, piece = round(seconds * MUSIC_MAKE_RATE_HZ), MUSIC_CHORD_S * MUSIC_MAKE_RATE_HZ
    try:
        for number, start in enumerate(range(0, total, piece)):
            samples = music_samples(seed, number, min(piece, total - start))
            process.stdin.write(np.clip(np.rint(samples * 32767), -32768, 32767).astype("<i2").tobytes())
    finally:
        process.stdin.close()
        error = process.stderr.read().decode(errors="replace")
        process.stderr.close()
        code = process.wait()
    if code != 0:
        raise RuntimeError(f"ffmpeg could not write {path.name}: {_last_line(error)}")
    return path


def write_music_folders(folders: dict[Path, tuple[int, ...]]) -> None:
    """Each folder's tracks (seconds each), made in parallel processes, one per core: each track has its own seed."""
    from concurrent.futures import ProcessPoolExecutor

    jobs = []
    for folder, lengths_s in folders.items():
        folder.mkdir(parents=True, exist_ok=True)
        jobs += [(folder / f"track-{number:02d}.mp3", seconds, len(jobs) + number)
                 for number, seconds in enumerate(lengths_s, start=1)]
    with ProcessPoolExecutor(max_workers=min(len(jobs), os.cpu_count() or 1)) as pool:
        for future in [pool.submit(write_music_track, *job) for job in jobs]:
            future.result()


# The music section's builds: (key, session minutes, label, the key of the same session without music).
MUSIC_ROWS = (
    ("30 without", MUSIC_SESSION_MIN, "30 min without music", None),
    ("30 with", MUSIC_SESSION_MIN, "30 min with music (tracks already measured)", "30 without"),
    ("30 first", MUSIC_SESSION_MIN, "30 min with music (first build: tracks measured)", "30 without"),
    ("120 without", MUSIC_LONG_MIN, "120 min without music", None),
    ("120 with", MUSIC_LONG_MIN, "120 min with a one-hour folder (tracks already measured)", "120 without"),
    ("5 without", MUSIC_SHORT_MIN, "5 min without music", None),
)


@dataclass
class MusicResult:
    """The music section: each build's median Run by its MUSIC_ROWS key, the sessions' lengths, the music made."""

    runs: dict[str, Run] = dataclasses.field(default_factory=dict)
    lengths_s: dict[int, float] = dataclasses.field(default_factory=dict)  # session minutes -> its timeline's length
    made_s: float | None = None  # how long making the music took (not in any build's time)
    errors: list[str] = dataclasses.field(default_factory=list)  # the parts of the section that broke


def music_command(routine: Path, output: Path, cache: Path, music: Path | None) -> list[str]:
    """The build command for ``routine``, with ``--music FOLDER`` when ``music`` is given."""
    return build_command(Session("music", routine, routine), output, cache) + \
        (["--music", str(music)] if music is not None else [])


def music_build(result: MusicResult, key: str, command: list[str], output: Path, number: int,
                runs: list[Run], before: Path | None = None) -> None:
    """One measured build into ``runs`` (``before``, a folder, removed first), its session length into ``result``."""
    if before is not None:
        shutil.rmtree(before, ignore_errors=True)
    shutil.rmtree(output, ignore_errors=True)
    runs.append(measure(command))
    status = "" if runs[-1].ok else "  FAILED: " + _last_line(runs[-1].stderr)
    _progress(f"music: {key}, run {number}: {runs[-1].wall_s:.2f} s, {runs[-1].peak_rss_mb:.0f} MB{status}")
    minutes = next(row[1] for row in MUSIC_ROWS if row[0] == key)
    length_s = _timeline_length_s(output)
    if length_s is not None:
        result.lengths_s[minutes] = length_s


def warm_speech(command: list[str], output: Path, what: str) -> None:
    """One untimed build, to fill the speech cache (and, with --music, the music's measurements)."""
    shutil.rmtree(output, ignore_errors=True)
    started = time.perf_counter()
    run = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"the untimed build ({what}) failed: {_last_line(run.stderr)}")
    _progress(f"music: untimed build ({what}): {time.perf_counter() - started:.2f} s")


def bench_music(result: MusicResult, workdir: Path, repeat: int) -> None:
    """Make the music (untimed), then the section's builds, each session in a cache of its own, into ``result``.

    Each part is caught on its own: a part that breaks is reported in ``result.errors`` and the others go on.
    """
    folder = workdir / "music"
    folder.mkdir(parents=True, exist_ok=True)
    short, session, long_ = (write_routine(folder, minutes)
                             for minutes in (MUSIC_SHORT_MIN, MUSIC_SESSION_MIN, MUSIC_LONG_MIN))
    four, hour = folder / "music-4", folder / "music-hour"
    output = folder / "output"

    def make_music() -> None:
        started = time.perf_counter()
        write_music_folders({four: MUSIC_FOLDER_S, hour: MUSIC_HOUR_S})
        result.made_s = time.perf_counter() - started
        _progress(f"music: made {len(MUSIC_FOLDER_S) + len(MUSIC_HOUR_S)} tracks "
                  f"({(sum(MUSIC_FOLDER_S) + sum(MUSIC_HOUR_S)) / 60:.0f} min of MP3) in {result.made_s:.1f} s")

    def five_minutes() -> None:
        cache = folder / "cache-5min"
        warm_speech(music_command(short, output, cache, None), output, "5 min, speech")
        runs: list[Run] = []
        for number in range(1, repeat + 1):
            music_build(result, "5 without", music_command(short, output, cache, None), output, number, runs)
        result.runs["5 without"] = median_run(runs)

    def thirty_minutes() -> None:
        cache = folder / "cache-30min"
        warm_speech(music_command(session, output, cache, None), output, "30 min, speech")
        without, first, with_ = [], [], []
        for number in range(1, repeat + 1):
            music_build(result, "30 without", music_command(session, output, cache, None), output, number, without)
            # The tracks' measurements removed: this build measures the four tracks, then builds.
            music_build(result, "30 first", music_command(session, output, cache, four), output, number, first,
                         before=cache / "music")
            music_build(result, "30 with", music_command(session, output, cache, four), output, number, with_)
        result.runs.update({"30 without": median_run(without), "30 first": median_run(first),
                            "30 with": median_run(with_)})

    def hundred_twenty_minutes() -> None:
        cache = folder / "cache-120min"
        warm_speech(music_command(long_, output, cache, hour), output, "120 min, speech and the hour's tracks")
        with_, without = [], []
        for number in range(1, repeat + 1):
            music_build(result, "120 with", music_command(long_, output, cache, hour), output, number, with_)
            music_build(result, "120 without", music_command(long_, output, cache, None), output, number, without)
        result.runs.update({"120 with": median_run(with_), "120 without": median_run(without)})

    for name, part, with_music in (("making the music", make_music, False), ("5 min", five_minutes, False),
                                   ("30 min", thirty_minutes, True), ("120 min", hundred_twenty_minutes, True)):
        if with_music and result.made_s is None:
            result.errors.append(f"{name}: not measured (no music was made)")
            continue
        try:
            part()
        except Exception as error:  # noqa: BLE001 - report what was measured; a measurement never fails the run
            result.errors.append(f"{name}: {type(error).__name__}: {error}")
            _progress(f"music: {name}: the benchmark broke: {result.errors[-1]}")


# ---------------------------------------------------------------- reporting


def ratio(top: float | None, bottom: float | None) -> float | None:
    return top / bottom if top is not None and bottom else None


def fmt_ratio(value: float | None, skipped: bool = False) -> str:
    return "skipped" if skipped else "n/a" if value is None else f"{value:.2f}x"


def fmt_s(run: Run | None, skipped: bool = False) -> str:
    if skipped:
        return "skipped"
    if run is None:
        return "n/a"
    return f"{run.wall_s:.2f} s" + ("" if run.ok else " (failed)")


def fmt_clock(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}:{rest:02d}"


def table(results: list[Result]) -> list[str]:
    lines = ["| session | length | cold wall | warm wall | encode floor | naive wall | cold/floor | warm/floor "
             "| naive/warm | naive/cold | peak memory (cold) | real-time factor |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        skipped = r.naive is None
        cold_s, warm_s = (r.cold.wall_s if r.cold else None), (r.warm.wall_s if r.warm else None)
        naive_s = r.naive.wall_s if r.naive else None
        floor = "failed" if r.floor_error else "n/a" if r.floor_s is None else f"{r.floor_s:.2f} s"
        rtf = ratio(r.length_s, cold_s)
        lines.append(" | ".join([
            f"| {r.session.label}", fmt_clock(r.length_s), fmt_s(r.cold), fmt_s(r.warm), floor,
            fmt_s(r.naive, skipped), fmt_ratio(ratio(cold_s, r.floor_s)), fmt_ratio(ratio(warm_s, r.floor_s)),
            fmt_ratio(ratio(naive_s, warm_s), skipped), fmt_ratio(ratio(naive_s, cold_s), skipped),
            f"{r.cold.peak_rss_mb:.0f} MB" if r.cold else "n/a",
            f"{rtf:.0f}x" if rtf is not None else "n/a"]) + " |")
    return lines


def verdict(value: float | None, ok: bool, why_missing: str) -> str:
    return f"not measured ({why_missing})" if value is None else ("met" if ok else "missed")


def target_lines(results: list[Result]) -> list[str]:
    by_label = {r.session.label: r for r in results}
    thirty, five, long_ = (by_label.get(f"{m} min") for m in (30, 5, 120))
    example = by_label.get(EXAMPLE_LABEL)
    lines = []

    value = ratio(thirty.cold.wall_s, thirty.floor_s) if thirty and thirty.cold else None
    lines.append(f"- cold build of the 30-minute routine at most {COLD_30_OVER_FLOOR_MAX:g}x its encode floor: "
                 f"{verdict(value, value is not None and value <= COLD_30_OVER_FLOOR_MAX, 'needs --sizes with 30')}"
                 + (f" ({value:.2f}x)" if value is not None else ""))

    value = ratio(thirty.warm.wall_s, thirty.floor_s) if thirty and thirty.warm else None
    lines.append(f"- warm build of the 30-minute routine at most {WARM_30_OVER_FLOOR_MAX:g}x its encode floor: "
                 f"{verdict(value, value is not None and value <= WARM_30_OVER_FLOOR_MAX, 'needs --sizes with 30')}"
                 + (f" ({value:.2f}x)" if value is not None else ""))

    value = ratio(thirty.naive.wall_s, thirty.warm.wall_s) if thirty and thirty.naive and thirty.warm else None
    cold_value = ratio(thirty.naive.wall_s, thirty.cold.wall_s) if thirty and thirty.naive and thirty.cold else None
    lines.append(f"- at least {NAIVE_OVER_WARM_MIN:g}x faster than the naive pydub build (30-minute routine, "
                 "naive/warm): "
                 f"{verdict(value, value is not None and value >= NAIVE_OVER_WARM_MIN, 'needs --sizes 30 and naive')}"
                 + (f" ({value:.2f}x; naive/cold {cold_value:.2f}x)" if value is not None else ""))

    value = ratio(long_.cold.peak_rss_mb, five.cold.peak_rss_mb) \
        if long_ and five and long_.cold and five.cold else None
    peak_mb = long_.cold.peak_rss_mb if long_ and long_.cold else None
    ok = value is not None and value <= PEAK_120_OVER_5_MAX and peak_mb < PEAK_120_MAX_MB
    lines.append(f"- peak memory of the 120-minute build at most {PEAK_120_OVER_5_MAX:g}x the 5-minute build's and "
                 f"under {PEAK_120_MAX_MB:g} MB: {verdict(value, ok, 'needs --sizes with 5 and 120')}"
                 + (f" ({value:.2f}x; {peak_mb:.0f} MB vs {five.cold.peak_rss_mb:.0f} MB)"
                    if value is not None and five and five.cold else ""))

    value = ratio(example.warm.wall_s, example.floor_s) if example and example.warm else None
    lines.append(f"- warm rebuild of the bundled example at most {WARM_EXAMPLE_OVER_FLOOR_MAX:g}x its encode floor: "
                 f"{verdict(value, value is not None and value <= WARM_EXAMPLE_OVER_FLOOR_MAX, 'no example')}"
                 + (f" ({value:.2f}x)" if value is not None else ""))
    return lines


def notes(results: list[Result], repeat: int, skip_naive_over_min: float) -> list[str]:
    grown = [f"{r.session.label} ({len(r.warnings)})" for r in results if r.warnings]
    failed = [r.session.label for r in results
              if (r.cold and not r.cold.ok) or (r.warm and not r.warm.ok) or (r.naive and not r.naive.ok)
              or r.floor_error or r.error]
    lines = [
        f"- Wall times are medians of {repeat} run{'s' if repeat > 1 else ''}, each the whole command in a fresh "
        "process (Python start-up and imports included).",
        "- cold: an empty speech cache, so every phrase is synthesized; warm: the same build again right after.",
        "- encode floor: ffmpeg alone encoding the session's own samples (from a raw file) to MP3 with voicecoach's "
        "settings and command; nothing else.",
        "- naive: scripts/naive_build.py, the same session and speech assembled with pydub `+` and exported with "
        "pydub. It runs on the warm cache, so synthesis is excluded from it: compare it with the warm build "
        "(naive/warm); naive/cold is shown too.",
        f"- naive is skipped for sessions longer than {skip_naive_over_min:g} minutes (--skip-naive-over): it is "
        "quadratic in the session's length.",
        "- peak memory: the largest process of the cold build (the build itself or its ffmpeg).",
        "- real-time factor: the session's length divided by the cold build's wall time.",
        "- rests that grew to fit their speech: " + (", ".join(grown) if grown else "none"),
        "- where the time goes, and why a target is missed: docs/profile.md",
    ]
    if failed:
        lines.append("- FAILED: " + ", ".join(failed) + " (see the progress lines above)")
    return lines


def engines_table(results: list[EngineResult]) -> list[str]:
    lines = ["| engine | cold build | warm build | peak memory (cold) | session length | phrases | speech "
             "| synthesis | real-time factor | vs real time | start-up |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        if r.missing:
            lines.append(f"| {r.engine} | skipped: not installed |" + " |" * 9)
            continue
        s = r.synthesis
        lines.append(" | ".join([
            f"| {r.engine}", fmt_s(r.cold), fmt_s(r.warm), f"{r.cold.peak_rss_mb:.0f} MB" if r.cold else "n/a",
            fmt_clock(r.length_s),
            *((str(s.phrases), f"{s.speech_s:.1f} s", f"{s.synthesis_s:.2f} s", f"{s.rtf:.3f}",
               f"{1 / s.rtf:.0f}x faster", f"{s.startup_s:.2f} s") if s else ("n/a",) * 6)]) + " |")
    return lines


def rates_table(results: list[EngineResult], rates: list[int]) -> list[str]:
    """Seconds of speech of the example's phrases at each rate, per engine, and each engine against the first."""
    measured = [r for r in results if r.synthesis and r.synthesis.rates]
    if not measured or not rates:
        return []
    first = measured[0]
    header = "| voice.rate | " + " | ".join(f"{r.engine} speech" for r in measured)
    header += "".join(f" | {r.engine}/{first.engine}" for r in measured[1:]) + " |"
    lines = [header, "|---:|" + "---:|" * (2 * len(measured) - 1)]
    for rate in rates:
        cells = [f"{r.synthesis.rates[rate]:.1f} s" if rate in r.synthesis.rates else "n/a" for r in measured]
        cells += [fmt_ratio(ratio(r.synthesis.rates.get(rate), first.synthesis.rates.get(rate))) for r in measured[1:]]
        lines.append(f"| {rate} wpm | " + " | ".join(cells) + " |")
    return lines


def engine_notes(results: list[EngineResult], repeat: int, rates: list[int]) -> list[str]:
    lines = [
        f"- Each engine builds the bundled example (`python -m voicecoach build -q -o OUT --cache-dir CACHE --engine "
        f"NAME`): cold and warm wall times are medians of {repeat} run{'s' if repeat > 1 else ''} as above, peak "
        "memory is the cold build's, session length is what the build's timeline says.",
        "- phrases, speech, synthesis: in a fresh process, voicecoach's library plans the example and "
        "SpeechService.clips synthesizes its distinct phrases into an empty cache (trimmed and peak-limited, as a "
        "build keeps them), all spoken by one engine in that process; speech is the seconds of audio they make, "
        "synthesis the wall time that took.",
        "- real-time factor here is synthesis seconds / seconds of speech made: lower is faster, and 1/RTF is how "
        "many times faster than real time the engine speaks. (The sessions table's real-time factor is the other "
        "way round: session length / build time.)",
        "- start-up: making the engine (imports, espeak-ng or the ONNX runtime) and its settings (for piper, the "
        "SHA-256 of the voice file), plus synthesizing one first phrase (for piper, loading the voice model); "
        "it is not in the synthesis time.",
    ]
    for r in results:
        s = r.synthesis
        if s:
            lines.append(f"- {r.engine} synthesis process: {s.cpu_s:.2f} s of CPU over {s.synthesis_s:.2f} s of wall "
                         f"time ({s.cpu_s / s.synthesis_s:.2f} cores busy on a {os.cpu_count()}-core machine), "
                         f"{s.threads} threads, peak memory {s.peak_rss_mb:.0f} MB.")
    added = [f"{r.engine} {r.cold.wall_s - r.warm.wall_s:.2f} s (start-up plus synthesis alone: "
             f"{r.synthesis.startup_s + r.synthesis.synthesis_s:.2f} s)"
             for r in results if r.cold and r.warm and r.synthesis]
    if added:
        lines.append("- what synthesis adds to a build, cold minus warm: " + "; ".join(added) + ". A cold build "
                     "synthesizes while it renders and encodes what it already has (and pyttsx3 in a pool of engine "
                     "processes, one per core), so synthesis and encoding share the cores.")
    if rates and any(r.synthesis and r.synthesis.rates for r in results):
        lines.append(f"- speed against voice.rate: the same phrases at {', '.join(str(r) for r in rates)} wpm "
                     "(`dataclasses.replace(settings, rate_wpm=R)`, a fresh cache each), measured once. piper has no "
                     "words-per-minute setting; voicecoach sets its length scale to 250 / rate - 0.35 "
                     "(voicecoach/engines/piper_engine.py), so a rate should take about as long with either engine.")
    lines += [f"- {r.engine}: skipped, {r.missing}" for r in results if r.missing]
    failed = [r.engine for r in results if r.error or (r.cold and not r.cold.ok) or (r.warm and not r.warm.ok)]
    if failed:
        lines.append("- FAILED: " + ", ".join(failed) + " (see the progress lines above)")
    return lines


def music_table(result: MusicResult) -> list[str]:
    lines = ["| build | session length | wall | peak memory | wall / without music | peak / without music |",
             "|---|---:|---:|---:|---:|---:|"]
    for key, minutes, label, without_key in MUSIC_ROWS:
        run, without = result.runs.get(key), result.runs.get(without_key) if without_key else None
        lines.append(" | ".join([
            f"| {label}", fmt_clock(result.lengths_s.get(minutes)), fmt_s(run),
            f"{run.peak_rss_mb:.0f} MB" if run else "n/a",
            fmt_ratio(ratio(run.wall_s, without.wall_s) if run and without else None) if without_key else "",
            fmt_ratio(ratio(run.peak_rss_mb, without.peak_rss_mb) if run and without else None)
            if without_key else ""]) + " |")
    return lines


def music_target_lines(result: MusicResult) -> list[str]:
    long_, five = result.runs.get("120 with"), result.runs.get("5 without")
    value = ratio(long_.peak_rss_mb, five.peak_rss_mb) if long_ and five and long_.ok and five.ok else None
    ok = value is not None and value <= PEAK_MUSIC_120_OVER_5_MAX and long_.peak_rss_mb < PEAK_MUSIC_120_MAX_MB
    return [f"- peak memory of the 120-minute build with a one-hour music folder at most "
            f"{PEAK_MUSIC_120_OVER_5_MAX:g}x the 5-minute build's (without music) and under "
            f"{PEAK_MUSIC_120_MAX_MB:g} MB: {verdict(value, ok, 'a build failed or broke')}"
            + (f" ({value:.2f}x; {long_.peak_rss_mb:.0f} MB vs {five.peak_rss_mb:.0f} MB)" if value is not None
               else "")]


def music_notes(result: MusicResult, repeat: int) -> list[str]:
    runs = result.runs
    made = f", made in {result.made_s:.0f} s before any build and not timed" if result.made_s is not None else ""
    lines = [
        f"- The music is generated by the benchmark{made}: soft chords of sine partials (110 to 587 Hz), a slow "
        "pulse and a little noise, mono MP3 at 128 kbps and 44.1 kHz. `music-4`: four tracks of "
        f"{', '.join(fmt_clock(s) for s in MUSIC_FOLDER_S)} ({sum(MUSIC_FOLDER_S) / 60:.0f} min), for the "
        f"30-minute session; `music-hour`: {len(MUSIC_HOUR_S)} tracks of {fmt_clock(MUSIC_HOUR_S[0])} "
        f"({sum(MUSIC_HOUR_S) / 60:.0f} min), for the 120-minute session.",
        f"- Every build is `python -m voicecoach build ROUTINE -q -o OUT --cache-dir CACHE [--music FOLDER]` in a "
        f"fresh process, on a warm speech cache: one untimed build of each session filled it first (for 120 min, "
        f"with the music, so the hour's tracks were measured then too). Wall times are medians of {repeat} "
        f"run{'s' if repeat > 1 else ''}; peak memory is the largest process of the build (the build itself, its "
        "LAME encoder or one of the ffmpeg processes decoding the music).",
        "- tracks already measured: each track's length and loudness are read from CACHE/music/, so the build "
        "only decodes the music it plays. first build: CACHE/music/ is removed just before it, so it first "
        "decodes every track of the folder in full to measure it (one ffmpeg per core), then builds: the "
        "difference is what a new music folder costs once.",
        "- Where the extra time goes: with music, the build lays out the whole session first, then makes the mix "
        "once at 0 dB while measuring it (the music is under the voice, so the sounds cannot be measured one by "
        "one, as they are without music) and keeps it in an unnamed scratch file; only then, with the gain known, "
        "does the encode begin, reading the scratch file back. So the measuring (K-weighting every sample) and the "
        "encode take turns instead of overlapping. And it encodes with one LAME process, where a long session "
        f"without music is cut at its silences into pieces encoded at once, one LAME process per core "
        f"({os.cpu_count()} here); with music there is no silence to cut at, and LAME spends more on a second of "
        "sound than on a second of silence.",
        "- 5 min without music is the memory baseline of the target, measured warm in this section (the sessions "
        "table's memory target compares cold builds).",
    ]
    if "30 first" in runs and "30 with" in runs:
        lines.append(f"- measuring the four tracks ({sum(MUSIC_FOLDER_S) / 60:.0f} min of MP3) added "
                     f"{runs['30 first'].wall_s - runs['30 with'].wall_s:.2f} s to the first build.")
    failed = [label for key, _, label, _ in MUSIC_ROWS if key in runs and not runs[key].ok]
    if failed:
        lines.append("- FAILED: " + ", ".join(failed) + " (see the progress lines above)")
    lines += [f"- broke: {error}" for error in result.errors]
    return lines


def machine_lines() -> list[str]:
    from voicecoach._parts import ffmpeg_path

    memory_kb = _proc_field("/proc/meminfo", "MemTotal")
    memory = f"{int(memory_kb.split()[0]) / 1024 / 1024:.1f} GB RAM" if memory_kb else "RAM unknown"
    os_name = _os_release() or platform.system()
    try:
        ffmpeg_version = subprocess.run([ffmpeg_path(), "-version"], capture_output=True, text=True,
                                        check=True).stdout.splitlines()[0].split(" Copyright")[0]
    except (OSError, subprocess.CalledProcessError, IndexError):
        ffmpeg_version = "unknown"
    piper_version = engine_version("piper")
    return [
        f"- Machine: {_proc_field('/proc/cpuinfo', 'model name') or platform.processor() or 'unknown CPU'}, "
        f"{os.cpu_count()} cores, {memory}, {os_name} (Linux {platform.release()}, {platform.machine()})",
        f"- Python {platform.python_version()}, {ffmpeg_version}, {engine_version('pyttsx3') or 'espeak-ng unknown'} "
        "(through pyttsx3)" + (f", {piper_version} (piper's voice en_US-joe-medium)" if piper_version else ""),
    ]


def code_lines() -> list[str]:
    """Which voicecoach was measured: where it was imported from, its git commit, and whether it had local edits."""
    import voicecoach

    root = Path(voicecoach.__file__).resolve().parent.parent
    commit = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    if commit.returncode != 0:
        return [f"- Code: voicecoach from {root} (not a git checkout)"]
    dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--", "voicecoach"],
                           capture_output=True, text=True).stdout.strip()
    return [f"- Code: voicecoach at commit {commit.stdout.strip()}" + (" with uncommitted changes" if dirty else "")]


def engine_version(engine: str) -> str | None:
    """What the engine says its version is (asked in a fresh process); None when it cannot be made here."""
    asked = subprocess.run([sys.executable, "-c", "from voicecoach._speech.engines import make_engine\n"
                            f"print(make_engine({engine!r}).version)"], capture_output=True, text=True)
    lines = asked.stdout.strip().splitlines()
    return lines[-1] if asked.returncode == 0 and lines else None


def busy_cpu_s() -> tuple[float | None, float]:
    """CPU seconds the whole machine has been busy (from /proc/stat; None elsewhere), and this benchmark's own.

    Their growth over the run tells how much of the machine other processes took.
    """
    import resource

    own = sum(usage.ru_utime + usage.ru_stime for usage in (resource.getrusage(resource.RUSAGE_SELF),
                                                          resource.getrusage(resource.RUSAGE_CHILDREN)))
    try:
        ticks = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    except (OSError, ValueError, IndexError):
        return None, own
    idle = ticks[3] + ticks[4]  # idle and iowait
    return (sum(ticks) - idle) / os.sysconf("SC_CLK_TCK"), own


def others_line(before: tuple[float | None, float], after: tuple[float | None, float], took_s: float) -> list[str]:
    """How busy the machine was with other work while this ran: the ratios above assume it was quiet."""
    if before[0] is None or after[0] is None or took_s < 1:
        return []
    others_s = max(0.0, (after[0] - before[0]) - (after[1] - before[1]))
    available_s = took_s * (os.cpu_count() or 1)
    return [f"- Other processes used {others_s:.0f} CPU-seconds during the run, {others_s / available_s:.0%} of "
            f"the machine's {available_s:.0f} (the benchmark itself used {after[1] - before[1]:.0f})"]


def _proc_field(path: str, name: str) -> str | None:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(name):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def _os_release() -> str | None:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return None


def _progress(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


def _timeline_length_s(output: Path) -> float | None:
    """The session's length, as the timeline a build wrote into ``output`` says; None when it wrote none."""
    timelines = sorted(output.glob("*.timeline.json"))
    return json.loads(timelines[0].read_text(encoding="utf-8"))["duration"] if timelines else None


def _last_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[-1] if lines else "no message"


# ---------------------------------------------------------------- main


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement; the median is kept (default 1)")
    parser.add_argument("--sizes", default=",".join(str(m) for m in DEFAULT_SIZES_MIN),
                        help="routine lengths to generate, in minutes, comma-separated (default 5,30,120); "
                             "the bundled example is always included (unless --only-engines or --only-music)")
    parser.add_argument("--skip-naive-over", type=float, default=DEFAULT_SKIP_NAIVE_OVER_MIN, metavar="M",
                        help="skip the naive baseline for sessions longer than M minutes (default 40)")
    parser.add_argument("--write", type=Path, metavar="PATH", help="also write the report as Markdown to PATH")
    parser.add_argument("--encode-floor", type=Path, metavar="ROUTINE",
                        help="(internal) print the encode floor of ROUTINE as JSON; needs --cache-dir")
    parser.add_argument("--cache-dir", type=Path, help="(with --encode-floor) the warm speech cache")
    parser.add_argument("--engines", default=",".join(DEFAULT_ENGINES),
                        help="speech engines to measure on the bundled example, comma-separated (default "
                             f"{','.join(DEFAULT_ENGINES)}); none skips that section")
    parser.add_argument("--only-engines", action="store_true",
                        help="measure only the speech engines section (no generated routines, no targets); "
                             "with --only-music, both sections")
    parser.add_argument("--only-music", action="store_true",
                        help="measure only the music section (with --only-engines, both sections)")
    parser.add_argument("--rates", metavar="WPM,...",
                        help="voice.rate values to compare the engines' speed at (default "
                             f"{','.join(str(r) for r in DEFAULT_RATES_WPM)}); none skips them")
    parser.add_argument("--synthesis", metavar="ENGINE", choices=sorted(ENGINE_MODULES),
                        help="(internal) time ENGINE synthesizing the bundled example's phrases; print JSON")
    arguments = parser.parse_args()
    if arguments.repeat < 1:
        parser.error("--repeat must be at least 1")
    if arguments.encode_floor and not arguments.cache_dir:
        parser.error("--encode-floor needs --cache-dir")
    try:
        arguments.sizes_min = [float(text) for text in arguments.sizes.split(",") if text.strip()]
    except ValueError:
        parser.error(f"--sizes: {arguments.sizes!r} is not a comma-separated list of minutes, e.g. 5,30,120")
    if any(minutes < 1 or minutes > 600 for minutes in arguments.sizes_min):
        parser.error("--sizes: each routine is 1 to 600 minutes")
    names = [] if arguments.engines.strip().lower() == "none" else \
        [name.strip() for name in arguments.engines.split(",") if name.strip()]
    unknown = [name for name in names if name not in ENGINE_MODULES]
    if unknown:
        parser.error(f"--engines: {', '.join(unknown)} is not a speech engine; use {', '.join(ENGINE_MODULES)}")
    arguments.engine_names = list(dict.fromkeys(names))
    if arguments.only_engines and not arguments.engine_names:
        parser.error("--only-engines needs at least one engine in --engines")
    rates_text = arguments.rates if arguments.rates is not None else \
        ("" if arguments.synthesis else ",".join(str(r) for r in DEFAULT_RATES_WPM))
    try:
        arguments.rates_wpm = [] if rates_text.strip().lower() == "none" else \
            list(dict.fromkeys(int(text) for text in rates_text.split(",") if text.strip()))
    except ValueError:
        parser.error(f"--rates: {arguments.rates!r} is not a comma-separated list of words per minute, e.g. 120,160")
    if any(rate < 80 or rate > 400 for rate in arguments.rates_wpm):
        parser.error("--rates: each rate is 80 to 400 words per minute, as voice.rate")
    return arguments


def main() -> int:
    arguments = parse_arguments()
    if arguments.encode_floor:
        print(json.dumps(encode_floor(arguments.encode_floor, arguments.cache_dir, arguments.repeat)))
        return 0
    if arguments.synthesis:
        print(json.dumps(synthesis_report(arguments.synthesis, arguments.rates_wpm)))
        return 0

    from voicecoach._routine.examples import example_routine_path

    command_line = shlex.join(["python", *sys.argv])
    code = code_lines()  # before the run: what is measured
    cpu_before = busy_cpu_s()
    started = time.perf_counter()
    results = []
    engine_results = []
    music_result = None
    only = arguments.only_engines or arguments.only_music
    with tempfile.TemporaryDirectory(prefix="voicecoach-bench-") as folder:
        workdir = Path(folder)
        sessions = []
        if not only:
            for minutes in arguments.sizes_min:
                routine = write_routine(workdir, minutes)
                sessions.append(Session(f"{minutes:g} min", routine, routine))
            sessions.append(Session(EXAMPLE_LABEL, None, example_routine_path()))
        for session in sessions:
            results.append(Result(session))
            try:
                bench_session(results[-1], workdir, arguments.repeat, arguments.skip_naive_over)
            except Exception as error:  # noqa: BLE001 - report what was measured; a measurement never fails the run
                results[-1].error = f"{type(error).__name__}: {error}"
                _progress(f"{session.label}: the benchmark broke: {results[-1].error}")
        for engine in arguments.engine_names if arguments.only_engines or not only else ():
            engine_results.append(EngineResult(engine, missing=engine_missing(engine)))
            if engine_results[-1].missing:
                _progress(f"{engine}: skipped, {engine_results[-1].missing}")
                continue
            try:
                bench_engine(engine_results[-1], workdir, arguments.repeat, arguments.rates_wpm)
            except Exception as error:  # noqa: BLE001 - as above
                engine_results[-1].error = f"{type(error).__name__}: {error}"
                _progress(f"{engine} example: the benchmark broke: {engine_results[-1].error}")
        if arguments.only_music or not only:
            music_result = MusicResult()
            try:
                bench_music(music_result, workdir, arguments.repeat)
            except Exception as error:  # noqa: BLE001 - as above
                music_result.errors.append(f"{type(error).__name__}: {error}")
                _progress(f"music: the benchmark broke: {music_result.errors[-1]}")
    took_s = time.perf_counter() - started
    others = others_line(cpu_before, busy_cpu_s(), took_s)

    body = []
    if results:
        body += [*table(results), "", "Targets (ratios from this run):", "", *target_lines(results), "",
                 "Notes:", "", *notes(results, arguments.repeat, arguments.skip_naive_over)]
    if engine_results:
        rates = rates_table(engine_results, arguments.rates_wpm)
        body += [*([""] if body else []), "## Speech engines (bundled example)", "", *engines_table(engine_results),
                 *(["", "Speed against voice.rate (seconds of speech of the example's phrases):", "", *rates]
                   if rates else []),
                 "", "Notes:", "", *engine_notes(engine_results, arguments.repeat, arguments.rates_wpm)]
    if music_result is not None:
        body += [*([""] if body else []), "## Music under the voice", "", *music_table(music_result), "",
                 "Target (ratio from this run):", "", *music_target_lines(music_result), "",
                 "Notes:", "", *music_notes(music_result, arguments.repeat)]
    machine = machine_lines() + code + others
    print()
    print("\n".join(machine))
    print(f"- Command: {command_line}")
    print(f"- The benchmark took {took_s / 60:.1f} min\n")
    print("\n".join(body))

    if arguments.write:
        report = [
            "# voicecoach benchmarks", "",
            f"Measured {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z} by `scripts/bench.py` "
            f"(it took {took_s / 60:.1f} min).", "",
            *machine,
            f"- Command: `{command_line}`", "",
            *body, "",
            "## Method", "",
            "Routines of about 5, 30 and 120 minutes are generated (ten kinds of exercise with reps, sets, sides, "
            "cues and announcements, round after round, each rest long enough that nothing grows), plus the "
            "bundled example. Each build is the real command, `python -m voicecoach build ROUTINE -q -o OUT "
            "--cache-dir CACHE`, in a fresh process started by a small wrapper process that reads the peak "
            "memory of its children (RUSAGE_CHILDREN ru_maxrss). The encode floor renders the session's samples "
            "to a raw file first, untimed, then times only voicecoach's own ffmpeg command encoding that file. "
            "The naive baseline (scripts/naive_build.py) builds the same timeline from the same cached speech "
            "with voicecoach's library, then appends every silence, tone and clip with pydub's `+` and exports "
            "with pydub. All ratios compare measurements from the same run.", "",
            "Each speech engine builds the bundled example with the same command plus `--engine NAME`, cold and "
            "warm. Its synthesis is then timed alone by `python scripts/bench.py --synthesis NAME`, a fresh "
            "process that plans the example with voicecoach's library (open_routine, plan_session), makes the "
            "engine and synthesizes one first phrase (the start-up, timed apart), then times "
            "SpeechService(PhraseCache(empty folder)).clips over every distinct phrase and sums the clips' "
            "frames / sample rate into seconds of speech. The first of those runs also synthesizes the phrases "
            "again at each rate, untimed, into a fresh cache each, for the seconds of speech they make.", "",
            "The music section first makes its own music, untimed: seeded numpy writes soft chords of sine "
            "partials between 110 and 587 Hz (away from the tones at 660, 880, 1100 and 1320 Hz), a slow pulse "
            "and a little noise, piece by piece into ffmpeg's stdin, as mono MP3 files at 128 kbps and 44.1 kHz: "
            "four tracks of 3 to 6 minutes in one folder, twelve of 5 minutes (one hour) in another. Each "
            "session then has a cache of its own, filled by one untimed build, and every measured build is the "
            "same command as above, plus `--music FOLDER` for the builds with music: the 30-minute routine "
            "without music, with the four tracks already measured (their length and loudness in CACHE/music/), "
            "and with CACHE/music/ removed just before (the first build with that folder, which decodes every "
            "track once to measure it); the 120-minute routine with the one-hour folder and without music; the "
            "5-minute routine without music, the memory baseline.",
        ]
        write_section(arguments.write, None, "\n".join(report))  # the other scripts' sections are kept
        print(f"\nwrote {arguments.write}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
