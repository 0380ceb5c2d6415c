"""A build is a function of its inputs: cold builds agree to the byte, and the MP3 is as long as its timeline."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from voicecoach._audio.mix import ms_to_frame
from voicecoach._audio.mp3join import frame_length
from voicecoach._pipeline.build import BuildOptions, build_file

from .audio_probe import RATE_HZ, decode_mp3
from .conftest import write_routine
from .session_checks import check_length

# Eleven distinct phrases (the pool starts at six missing ones), spoken counts, two exercises of two reps.
ROUTINE = """\
title: Same every time
intro: Two exercises, two reps each.
prepare: 6s
voice: {name: en-gb, rate: 175}
outro: Well done.
defaults: {reps: 2, hold: 6s, rep_rest: 5s, rest: 8s, countdown: 3, countdown_style: voice, announce: []}
exercises:
  - {name: Plank, cue: Plank on your forearms}
  - {name: Wall sit, cue: Back flat against the wall}
"""

# Builds a routine cold in a process of its own, with a synthesis pool of WORKERS processes (1: none), and
# says whether the pool ran.
BUILD = """\
import sys
from pathlib import Path
from voicecoach._pipeline.build import BuildOptions, build_session
from voicecoach._routine.examples import open_routine
from voicecoach._speech import service as speech
from voicecoach._speech.cache import PhraseCache
routine, out, cache, workers = sys.argv[1:]
pools = []
start = speech._SynthesisPool.__init__
def counted(self, *args):
    pools.append(args[0])
    start(self, *args)
speech._SynthesisPool.__init__ = counted
service = speech.SpeechService(PhraseCache(Path(cache)), workers=int(workers))
build_session(open_routine(Path(routine)).session(None, ()), BuildOptions(output_dir=Path(out)), speech=service)
print(pools)
"""


def test_cold_builds_in_other_processes_give_the_same_timeline_and_samples(tmp_path):
    routine = write_routine(tmp_path, ROUTINE)
    built = []
    for number, workers in enumerate((2, 2, 1)):
        out, cache = tmp_path / f"out-{number}", tmp_path / f"cache-{number}"  # each cache empty: a cold build
        done = subprocess.run([sys.executable, "-c", BUILD, str(routine), str(out), str(cache), str(workers)],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == ("[2]" if workers == 2 else "[]")  # the pool synthesized, or this process
        built.append(((out / "same-every-time.timeline.json").read_bytes(), decode_mp3(out / "same-every-time.mp3")))
    (first_timeline, first_audio), *others = built
    assert len(json.loads(first_timeline)["events"]) > 20
    for timeline, audio in others:
        assert timeline == first_timeline
        assert np.array_equal(audio, first_audio)


def _with_hold(extra_ms: int) -> str:
    return f"""\
title: Exact length
exercises:
  - name: Stand
    hold: 4m {240 + extra_ms}ms
    countdown: 0
    announce: []
"""


@pytest.mark.parametrize("encoders", [1, 2], ids=["one encoder", "in pieces"])
def test_the_mp3_decodes_to_its_timelines_length_when_its_last_frame_is_nearly_full(tmp_path, cache_dir,
                                                                                   encoders):
    # LAME adds a frame when the music ends in the last 46 samples of one (at 22.05 kHz), and ffmpeg's header
    # then said the file was up to 46 samples longer. Find a hold that ends the session there, off a whole sample.
    options = BuildOptions(output_dir=tmp_path / "first", cache_dir=cache_dir, encoders=encoders)
    first = build_file(write_routine(tmp_path, _with_hold(0)), options).timeline.duration_ms
    length = frame_length(RATE_HZ)

    def frames(duration_ms: int) -> int:
        return ms_to_frame(duration_ms, RATE_HZ)  # the one rounding rule: half a sample up

    extra_ms = next(extra for extra in range(1000) if 1 <= frames(first + extra) % length <= 40
                    and (first + extra) % 20 != 0)  # 20 ms is 441 samples: others fall between two samples
    options = BuildOptions(output_dir=tmp_path / "second", cache_dir=cache_dir, encoders=encoders)
    result = build_file(write_routine(tmp_path, _with_hold(extra_ms)), options)
    assert result.timeline.duration_ms == first + extra_ms
    if encoders == 2:  # it was really encoded in pieces
        from voicecoach._pipeline.strategies import split_frames

        assert split_frames(result.timeline, RATE_HZ, encoders)
    decoded = decode_mp3(result.mp3_path)
    assert len(decoded) == frames(result.timeline.duration_ms)
    check_length(decoded, json.loads(Path(result.timeline_path).read_text(encoding="utf-8")))
