"""Encoding one session in pieces at once and joining the MP3s frame for frame: exact, or not done."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from voicecoach._audio.encode import encode_mp3
from voicecoach._audio.mix import ms_to_frame
from voicecoach._audio.mp3join import _crc_bytewise, crc16, frames_of, set_length
from voicecoach._audio.timeline import Timeline
from voicecoach._pipeline.build import BuildOptions, build_file
from voicecoach._pipeline.strategies import CUT_GUARD_FRAMES, split_frames

from .audio_probe import RATE_HZ, decode_mp3


@pytest.mark.parametrize("size", [0, 1, 511, 512, 513, 100_000])
def test_the_fast_crc_is_the_lame_tags_crc(size):
    data = os.urandom(size)
    assert crc16(data) == _crc_bytewise(data)


def test_a_file_that_is_not_mpeg_frames_is_refused():
    with pytest.raises(ValueError, match="no MPEG frame at byte 0"):
        frames_of(b"ID3\x04" + bytes(100))


@pytest.fixture(scope="module")
def both(tmp_path_factory, cache_dir):
    """The example encoded by one LAME process and in two pieces at once."""
    built = {}
    for encoders in (1, 2):
        out = tmp_path_factory.mktemp(f"encoders-{encoders}")
        built[encoders] = build_file(None, BuildOptions(output_dir=out, cache_dir=cache_dir, encoders=encoders))
    return built


def test_the_joined_mp3_decodes_like_one_encode_around_every_join(both):
    timeline = Timeline.from_json(both[2].timeline_path.read_text(encoding="utf-8"))
    assert both[1].timeline_path.read_text() == both[2].timeline_path.read_text()
    cuts = split_frames(timeline, RATE_HZ, 2)
    assert len(cuts) == 1
    # really encoded in pieces: two LAME processes make other bytes than one (a build is deterministic)
    assert both[2].mp3_path.read_bytes() != both[1].mp3_path.read_bytes()
    single, joined = decode_mp3(both[1].mp3_path), decode_mp3(both[2].mp3_path)
    assert len(joined) == len(single) == ms_to_frame(timeline.duration_ms, RATE_HZ)
    for cut in cuts:
        around = slice(cut - RATE_HZ, cut + RATE_HZ)  # a second either side of the join
        difference = np.abs(joined[around] - single[around]).max()
        assert difference == 0 or 20 * np.log10(difference) < -60


def test_a_short_session_or_one_encoder_is_one_piece(both):
    timeline = Timeline.from_json(both[2].timeline_path.read_text(encoding="utf-8"))
    assert split_frames(timeline, RATE_HZ, 1) == []
    short = Timeline(timeline.title, 90_000, tuple(e for e in timeline.events if e.end_ms < 90_000), ())
    assert split_frames(short, RATE_HZ, 4) == []


def test_cuts_fall_on_frame_boundaries_inside_silence(both):
    timeline = Timeline.from_json(both[2].timeline_path.read_text(encoding="utf-8"))
    for encoders in (2, 3, 5):
        cuts = split_frames(timeline, RATE_HZ, encoders)
        assert len(cuts) == encoders - 1 and cuts == sorted(cuts)
        for cut in cuts:
            assert cut % 576 == 0
            cut_ms, guard_ms = cut * 1000 / RATE_HZ, CUT_GUARD_FRAMES * 576 * 1000 / RATE_HZ
            assert not [e for e in timeline.sounds if e.start_ms - guard_ms <= cut_ms <= e.end_ms + guard_ms]
    data = json.loads(both[2].timeline_path.read_text(encoding="utf-8"))
    assert data["duration"] == timeline.duration_ms / 1000


@pytest.mark.parametrize("remainder", [0, 1, 12, 46, 47, 575])
def test_set_length_makes_an_encode_decode_to_exactly_its_samples(tmp_path, remainder):
    # ffmpeg's own header leaves the file up to 46 samples long when the music ends in a frame's last 46.
    samples = 576 * 40 + remainder
    pcm = (np.random.default_rng(remainder).standard_normal(samples) * 3000).astype("<i2")
    mp3 = tmp_path / "noise.mp3"
    encode_mp3([pcm.tobytes()], mp3, RATE_HZ, 64)
    set_length(mp3, samples)
    assert len(decode_mp3(mp3)) == samples
    with pytest.raises(ValueError, match="not 1 samples"):
        set_length(mp3, 1)
