#!/usr/bin/env python3
"""The naive baseline for scripts/bench.py: the same session, assembled the way a first attempt would.

    python scripts/naive_build.py ROUTINE OUT.mp3 --cache-dir DIR [--check]

Everything up to the timeline is voicecoach's own library (load_routine_file,
plan_session, SpeechService(PhraseCache(DIR)).clips, layout_session), so this
is exactly the session, and exactly the speech, that ``voicecoach build``
makes from ROUTINE with the same cache. Only the audio is assembled naively:
start from an empty pydub ``AudioSegment`` and, walking the timeline in time
order, append with ``+`` a silence for every stretch of nothing, each tone
(made afresh by ``voicecoach._audio.mix.tone_segment``) and each speech clip
(``voicecoach._audio.mix.speech_segment``), one ``+`` per piece; then
``segment.export(..., format="mp3")``.

Why it is slow: pydub segments are immutable, so every ``+`` copies all the
samples so far into a new segment. A session of n pieces and L samples costs
about n * L / 2 copied samples, quadratic in the session's length (a 30-minute
session has ~80 MB of samples and thousands of pieces). The whole session also
sits in memory at once, more than once while a copy is made, and ``export``
first writes it all out as a WAV file before ffmpeg encodes it. voicecoach
instead makes each distinct sound once and fills fixed-size chunks that stream
into ffmpeg (see voicecoach/_audio/mix.py).

It is deliberately left this way: it is the baseline that bench.py's
"at least 10x faster than naive" target is measured against. With a warm cache
(as bench.py runs it) no speech is synthesized, so the comparison is about
assembling and encoding the audio only.

``--check`` decodes the MP3 afterwards and prints how far its length is from
the timeline's duration (it should be within 50 ms).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import warnings
from pathlib import Path

from voicecoach._audio.encode import DEFAULT_BITRATE_KBPS
from voicecoach._audio.layout import layout_session
from voicecoach._audio.mix import SAMPLE_RATE_HZ, Levels, session_length_frames, speech_segment, tone_segment
from voicecoach._audio.timeline import Timeline
from voicecoach._parts import ffmpeg_path
from voicecoach._plan.planner import plan_session
from voicecoach._routine.load import load_routine_file
from voicecoach._speech.cache import PhraseCache
from voicecoach._speech.engines.base import Clip
from voicecoach._speech.service import SpeechService

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Couldn't find ffmpeg", category=RuntimeWarning)
    from pydub import AudioSegment

CHECK_TOLERANCE_MS = 50


def load_session(routine_path: Path, cache_dir: Path) -> tuple[Timeline, dict[str, Clip]]:
    """The routine's timeline and speech clips, made by voicecoach's library exactly as ``voicecoach build``."""
    routine = load_routine_file(routine_path).base
    plan = plan_session(routine)
    speech = SpeechService(PhraseCache(cache_dir))
    settings = speech.settings_for(routine.voice, routine.language)
    clips = speech.clips(plan.phrases(), settings, spoken=plan.spoken)
    timeline = layout_session(plan, {text: clip.length_ms for text, clip in clips.items()})
    return timeline, clips


def silence(frames: int, sample_rate_hz: int) -> AudioSegment:
    """``frames`` samples of mono 16-bit silence."""
    return AudioSegment(data=bytes(2 * frames), sample_width=2, frame_rate=sample_rate_hz, channels=1)


def naive_assemble(timeline: Timeline, clips: dict[str, Clip], sample_rate_hz: int = SAMPLE_RATE_HZ,
                   levels: Levels = Levels()) -> AudioSegment:  # noqa: B008 - frozen, never changed
    """The session as one AudioSegment, appended piece by piece with ``+`` (quadratic on purpose)."""
    segment = AudioSegment.empty()
    cursor_frames = 0  # where the segment ends so far
    for event in timeline.sounds:  # already in time order
        if event.kind == "speech":
            piece = speech_segment(clips[event.text], levels.speech_gain_db, sample_rate_hz)
        else:
            piece = tone_segment(event.freq_hz, event.end_ms - event.start_ms, levels.tone_gain_db(event.tone),
                                 sample_rate_hz)
        start_frames = (event.start_ms * sample_rate_hz + 500) // 1000  # as the mix places it
        if start_frames > cursor_frames:
            segment = segment + silence(start_frames - cursor_frames, sample_rate_hz)
        elif start_frames < cursor_frames:
            # Never happens with voicecoach's timing rules (sounds keep clear of each other),
            # but mix rather than shift if it ever does, so every later sound stays in place.
            overlap_bytes = 2 * (cursor_frames - start_frames)
            head, piece = piece._spawn(piece.raw_data[:overlap_bytes]), piece._spawn(piece.raw_data[overlap_bytes:])
            segment = segment.overlay(head, position=start_frames * 1000 / sample_rate_hz)
        segment = segment + piece
        cursor_frames = len(segment.raw_data) // 2
    end_frames = session_length_frames(timeline, sample_rate_hz)
    if end_frames > cursor_frames:
        segment = segment + silence(end_frames - cursor_frames, sample_rate_hz)
    return segment


def decoded_length_ms(mp3: Path, sample_rate_hz: int) -> float:
    """The MP3's length as ffmpeg decodes it (gapless: encoder delay and padding removed)."""
    raw = subprocess.run([ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-i", str(mp3),
                          "-f", "s16le", "-ac", "1", "-ar", str(sample_rate_hz), "pipe:1"],
                         check=True, capture_output=True).stdout
    return len(raw) / 2 * 1000 / sample_rate_hz


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("routine", type=Path, help="the routine file (YAML)")
    parser.add_argument("output", type=Path, help="the MP3 to write")
    parser.add_argument("--cache-dir", type=Path, required=True, help="voicecoach's speech cache folder")
    parser.add_argument("--check", action="store_true",
                        help=f"decode the MP3 and check its length is within {CHECK_TOLERANCE_MS} ms of the timeline")
    arguments = parser.parse_args()

    sample_rate_hz, bitrate_kbps = SAMPLE_RATE_HZ, DEFAULT_BITRATE_KBPS
    AudioSegment.converter = ffmpeg_path()
    timeline, clips = load_session(arguments.routine, arguments.cache_dir)
    segment = naive_assemble(timeline, clips, sample_rate_hz)
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    segment.export(str(arguments.output), format="mp3", bitrate=f"{bitrate_kbps}k",
                   parameters=["-ar", str(sample_rate_hz)]).close()
    if arguments.check:
        length_ms = decoded_length_ms(arguments.output, sample_rate_hz)
        off_ms = round(length_ms - timeline.duration_ms, 1) + 0.0  # no "-0.0"
        verdict = "ok" if abs(off_ms) <= CHECK_TOLERANCE_MS else "TOO FAR"
        print(f"timeline {timeline.duration_ms / 1000:.3f} s, MP3 {length_ms / 1000:.3f} s, "
              f"off by {off_ms:+.1f} ms: {verdict}")
        return 0 if abs(off_ms) <= CHECK_TOLERANCE_MS else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
