"""The music bed: scheduled from the timeline, ducked under every sound, measured in the decoded MP3."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from voicecoach._audio.layout import Timing
from voicecoach._audio.mix import ms_to_frame
from voicecoach._audio.music_bed import MusicBed
from voicecoach._audio.music_schedule import schedule_music
from voicecoach._audio.music_tracks import TrackInfo, measure_tracks
from voicecoach._audio.timeline import HoldEvent, SpeechEvent, Timeline, ToneEvent
from voicecoach._cli.app import app
from voicecoach._errors import RoutineError
from voicecoach._routine.load import load_routine_file
from voicecoach._routine.model import Music
from voicecoach._stores import FolderStore

from .audio_probe import RATE_HZ, decode_mp3, ffmpeg_loudness
from .conftest import build_and_decode, wait_for, write_routine, writes_unnamed_file_into
from .session_checks import check_holds, check_length, check_tones, events

# Each file has its own bass note (two notes of one pitch would cancel where they crossfade).
BED_BASS_HZ, SECOND_BASS_HZ, REST_BASS_HZ = 33.0, 39.0, 52.0

ROUTINE = """\
title: Music under the coach
prepare: 6s
music: {music}
exercises:
  - name: Plank
    hold: 8s
    reps: 2
    rep_rest: 7s
    rest: 8s
  - name: Bridge
    hold: 8s
"""


def write_music(path: Path, seconds: float, root_hz: float, bass_hz: float, seed: int, rate_hz: int = 44_100) -> Path:
    """A stereo WAV: a chord whose partials keep clear of the tones (660, 880, 1320 Hz), a bass note (the test
    measures the music by it: speech has almost nothing that low), and some noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate_hz)) / rate_hz
    signal = 0.25 * np.sin(2 * np.pi * bass_hz * t)
    for ratio in (1.0, 1.26, 1.5, 2.0, 2.52):
        assert all(abs(root_hz * ratio - tone) > 40 for tone in (660, 880, 1320))
        signal += 0.12 * np.sin(2 * np.pi * root_hz * ratio * t + rng.uniform(0, 2 * np.pi))
    signal = 0.5 * (signal + 0.02 * rng.standard_normal(len(t)))
    stereo = (np.clip(np.stack([signal, 0.9 * signal], axis=1), -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(2)
        handle.setsampwidth(2)
        handle.setframerate(rate_hz)
        handle.writeframes(stereo.tobytes())
    return path


@pytest.fixture(scope="module")
def music_folder(tmp_path_factory) -> Path:
    """Two files of different lengths, so that the bed crossfades from one to the other and loops."""
    folder = tmp_path_factory.mktemp("routine") / "music"
    folder.mkdir()
    write_music(folder / "first.wav", 9.3, 196.0, BED_BASS_HZ, 1)
    write_music(folder / "second.wav", 6.1, 233.0, SECOND_BASS_HZ, 2)
    return folder


@pytest.fixture(scope="module")
def music_build(music_folder, cache_dir):
    path = write_routine(music_folder.parent, ROUTINE.format(music="music/"))
    return build_and_decode(path, music_folder.parent / "out", cache_dir)


def level_db(samples: np.ndarray, start_s: float, end_s: float,
             freqs_hz: tuple[float, ...] = (BED_BASS_HZ, SECOND_BASS_HZ)) -> float:
    """The level of the music's bass notes between two times (Hann-windowed DFT bins, their powers added), in dB
    of full scale."""
    block = samples[int(start_s * RATE_HZ):int(end_s * RATE_HZ)]
    window = np.hanning(len(block))
    power = 0.0
    for freq_hz in freqs_hz:
        bin_ = np.sum(block * window * np.exp(-2j * np.pi * freq_hz * np.arange(len(block)) / RATE_HZ))
        power += (2 * abs(bin_) / window.sum()) ** 2
    return 10 * np.log10(power + 1e-24)


def hold_middles(timeline: dict) -> list[tuple[float, float]]:
    """In each 8 s hold: from 1 s (after the start tone and the duck's release) to 4.5 s (before the countdown)."""
    return [(hold["start"] + 1.0, hold["start"] + 4.5) for hold in events(timeline, "hold")]


def test_every_tone_and_hold_is_exact_with_music_under_them(music_build):
    _, timeline, decoded = music_build
    check_length(decoded, timeline)
    assert check_tones(decoded, timeline) == 3 * (2 + 3) + 3 * 3  # 3 holds: start, stop, 3 ticks; 3 ticks before each
    assert check_holds(decoded, timeline, {"plank": 8000, "bridge": 8000}) == 3


def test_the_music_is_ducked_at_least_10_db_under_every_word(music_build):
    _, timeline, decoded = music_build
    in_holds = [level_db(decoded, start, end) for start, end in hold_middles(timeline)]
    assert max(in_holds) - min(in_holds) < 3  # the same bed level in every hold
    heard = min(in_holds)
    speech = events(timeline, "speech")
    assert len(speech) >= 9
    for said in speech:
        under = level_db(decoded, said["start"], said["end"])
        assert heard - under >= 10, (said, heard, under)


def test_the_music_is_heard_in_the_holds(music_build):
    _, timeline, decoded = music_build
    for start, end in hold_middles(timeline):
        block = decoded[int(start * RATE_HZ):int(end * RATE_HZ)]
        assert np.sqrt(np.mean(block ** 2)) > 0.01  # -40 dBFS: clearly audible, not ducked
        assert level_db(decoded, start, end) > -40


def test_the_mix_with_its_music_is_at_the_loudness_target(music_build):
    result, _, _ = music_build
    integrated_lufs, true_peak_dbtp = ffmpeg_loudness(result.mp3_path)
    assert abs(integrated_lufs - (-19.0)) <= 0.5
    assert true_peak_dbtp <= -1.0


def test_the_timeline_says_which_music_plays_when_and_the_lyrics_are_unchanged(music_build):
    result, timeline, _ = music_build
    music = events(timeline, "music")
    assert {event["file"] for event in music} == {"music/first.wav", "music/second.wav"}
    assert music[0]["start"] == 1.03 and music[-1]["end"] == timeline["duration"]  # from the first sound on
    files = [event["file"] for event in music]
    assert len(files) > 2 and len(files) > len(set(files))  # the playlist looped
    for before, after in zip(music, music[1:]):  # each track crossfades into the next: 3 s, or half a track
        assert before["end"] - after["start"] == pytest.approx(min(3.0, 6.1 / 2), abs=0.002)
        assert after["offset"] == 0
    assert "music" not in result.lrc_path.read_text(encoding="utf-8")
    assert [chapter["title"] for chapter in timeline["chapters"]] == ["Plank", "Bridge"]


def test_the_lead_in_stays_digital_silence_and_the_music_starts_as_it_ends(music_build):
    _, timeline, decoded = music_build
    lead_in_s = 1.0  # the default lead_in
    first_s = lead_in_s + Timing().after_lead_in_ms / 1000  # the first sound, past MP3's reach back
    music = events(timeline, "music")
    assert (music[0]["start"], music[0]["offset"], music[0]["fade_in"]) == (first_s, 0.0, 0.0)
    assert min(event["start"] for event in music) == first_s == events(timeline, "speech")[0]["start"]
    # Digital silence, as in a session without music: every sample of the lead-in exactly 0, and the music fades
    # in with the first word.
    end = round(lead_in_s * RATE_HZ)
    assert not np.any(decoded[:end])
    assert np.any(decoded[end:end + RATE_HZ // 10])


def test_with_no_lead_in_the_music_starts_at_0_and_is_otherwise_the_same(music_build, music_folder, tmp_path,
                                                                         cache_dir):
    path = write_routine(music_folder.parent, ROUTINE.format(music="music/") + "lead_in: 0\n", "no-lead-in.yaml")
    _, timeline, decoded = build_and_decode(path, tmp_path / "out", cache_dir)
    music = events(timeline, "music")
    assert music[0]["start"] == 0.0 == events(timeline, "speech")[0]["start"]
    assert np.any(decoded[:RATE_HZ // 10])
    # The lead-in (and MP3's reach back after it) moves the music with everything else, and changes nothing else.
    shifted = [{**event, "start": round(event["start"] + 1.03, 3), "end": round(event["end"] + 1.03, 3)}
               for event in music]
    assert shifted == events(music_build[1], "music")


def test_music_rest_plays_in_the_rests_and_the_bed_in_the_holds(tmp_path, music_folder, cache_dir):
    write_music(tmp_path / "calm.wav", 5.3, 131.0, REST_BASS_HZ, 3)
    (tmp_path / "music").symlink_to(music_folder)
    path = write_routine(tmp_path, ROUTINE.format(music="music/") + "music_rest: calm.wav\n")
    _, timeline, decoded = build_and_decode(path, tmp_path / "out", cache_dir)
    check_tones(decoded, timeline)
    for start, end in hold_middles(timeline):
        assert level_db(decoded, start, end) - level_db(decoded, start, end, (REST_BASS_HZ,)) > 20
    for gap in events(timeline, "gap"):
        # The middle of the rest's countdown-free part, clear of its speech and of the switch's crossfade.
        quiet = [e for e in events(timeline, "speech") if gap["start"] <= e["start"] < gap["end"]]
        start, end = max(e["end"] for e in quiet) + 0.5, gap["end"] - 3.2
        if end - start >= 0.5:
            assert level_db(decoded, start, end, (REST_BASS_HZ,)) - level_db(decoded, start, end) > 10
    music = events(timeline, "music")
    calm = [event for event in music if event["file"] == "calm.wav"]
    assert calm and all(event["start"] < event["end"] for event in calm)


def test_no_music_and_music_from_the_command_line(music_folder, tmp_path, cache_dir):
    path = write_routine(music_folder.parent, ROUTINE.format(music="music/"), "cli.yaml")
    runner = CliRunner()
    result = runner.invoke(app, ["build", str(path), "-o", str(tmp_path / "a"), "-q", "--cache-dir", str(cache_dir),
                                 "--no-music"])
    assert result.exit_code == 0, result.output
    built = json.loads(next((tmp_path / "a").glob("*.timeline.json")).read_text())
    assert built["title"] == "Music under the coach (no music)"
    assert not events(built, "music")
    with_rest = write_routine(music_folder.parent, ROUTINE.format(music="music/") + "music_rest: music/first.wav\n",
                              "cli-rest.yaml")
    result = runner.invoke(app, ["script", str(with_rest), "--music", str(music_folder / "second.wav")])
    assert result.exit_code == 0, result.output
    # Instead of all the routine's music: its rests' music too.
    assert result.output.splitlines()[3] == "music under the whole session: second.wav (looping)"


def test_a_batch_sets_the_music_against_the_voice_in_each_session(music_folder, tmp_path, cache_dir):
    path = write_routine(music_folder.parent, ROUTINE.format(music="music/"), "batch.yaml")
    result = CliRunner().invoke(app, ["batch", str(path), "--matrix", "music_gain_db=-10,-20", "-j", "2", "-o",
                                      str(tmp_path), "-q", "--cache-dir", str(cache_dir)])
    assert result.exit_code == 0, result.output
    levels = []
    for gain in ("10", "20"):
        stem = tmp_path / "music-under-the-coach" / f"music-under-the-coach--music-gain-db-{gain}"
        timeline = json.loads(stem.with_suffix(".timeline.json").read_text(encoding="utf-8"))
        decoded = decode_mp3(stem.with_suffix(".mp3"))
        check_tones(decoded, timeline)
        music_db = np.mean([level_db(decoded, start, end) for start, end in hold_middles(timeline)])
        speech = np.concatenate([decoded[int(e["start"] * RATE_HZ):int(e["end"] * RATE_HZ)]
                                 for e in events(timeline, "speech")])
        levels.append(music_db - 10 * np.log10(np.mean(speech ** 2)))  # the music against the voice
    assert 9 <= levels[0] - levels[1] <= 11


def test_the_bundled_music_example_builds_with_its_music_counts_and_tempo(tmp_path, cache_dir):
    result = CliRunner().invoke(app, ["build", "legs-with-a-beat", "-o", str(tmp_path), "-q",
                                      "--cache-dir", str(cache_dir)])
    assert result.exit_code == 0, result.output
    timeline = json.loads((tmp_path / "legs-with-a-beat.timeline.json").read_text(encoding="utf-8"))
    assert {event["file"] for event in events(timeline, "music")} == {"music/morning-pulse.mp3",
                                                                      "music/steady-ground.mp3"}
    assert len(events(timeline, "phase")) == 2 * 6 * 3 + 2 * 5 * 2
    said = {event["text"] for event in events(timeline, "speech")}
    assert {"five", "four", "down", "up", "six"} <= said
    decoded = decode_mp3(tmp_path / "legs-with-a-beat.mp3")
    check_length(decoded, timeline)
    check_tones(decoded, timeline)


def test_the_script_says_which_music_plays_where(music_folder):
    path = write_routine(music_folder.parent, ROUTINE.format(music="music/") + "music_seed: 3\n", "seed.yaml")
    result = CliRunner().invoke(app, ["script", str(path)])
    lines = result.output.splitlines()
    assert lines[3].startswith("music under the whole session: music/")
    assert lines[3].endswith("(in this order, music_seed 3; looping)")
    assert lines[4] == "  14 dB under the voice, 12 dB lower under every word and tone; crossfade 3 s"


# ---------------------------------------------------------------- bad input: one line each, nothing written


@pytest.mark.parametrize(("extra", "expected"), [
    ("music: nothing.mp3", 'r.yaml:3: music: "nothing.mp3" cannot be read (there is no such file or folder); give '
                           "the path of a music file or folder, relative to the routine file"),
    ("music: empty/", 'r.yaml:3: music: the folder "empty" has no files; put music files in it (mp3, m4a, ogg, flac '
                      "or wav), or give the path of one file"),
    ("music_gain_db: 5", "r.yaml:4: music_gain_db: 5 is out of range; use a value from -40.0 to 0.0"),
    ("duck_db: -60", "r.yaml:4: duck_db: -60 is out of range; use a value from -40.0 to 0.0"),
    ("duck_attack: 2s", "r.yaml:4: duck_attack: 2 s is out of range; use at most 1 s, e.g. `duck_attack: 80ms`"),
    ("crossfade: loud", 'r.yaml:4: crossfade: "loud" is not a duration; write 5s, 1m30s or 90'),
])
def test_bad_music_settings_are_one_line(tmp_path, extra, expected):
    (tmp_path / "empty").mkdir()
    write_music(tmp_path / "ok.wav", 2.0, 196.0, BED_BASS_HZ, 1)
    base = "music: ok.wav\n" if not extra.startswith("music:") else ""
    text = f"title: T\nexercises: [{{name: Plank, hold: 5s}}]\n{base}{extra}\n"
    write_routine(tmp_path, text, "r.yaml")
    with pytest.raises(RoutineError) as caught:
        load_routine_file(tmp_path / "r.yaml", "r.yaml")
    assert str(caught.value) == expected


def test_music_rest_without_music_is_one_line(tmp_path):
    write_routine(tmp_path, "title: T\nmusic_rest: calm.mp3\nexercises: [{name: Plank, hold: 5s}]\n", "r.yaml")
    with pytest.raises(RoutineError) as caught:
        load_routine_file(tmp_path / "r.yaml", "r.yaml")
    assert str(caught.value) == ("r.yaml:2: music_rest: is music for the rests, but there is no `music:` for the "
                                 "holds; add e.g. `music: music/` or remove music_rest")


@pytest.mark.parametrize(("content", "reason"), [
    (b"these are not the songs you are looking for\n" * 20, "it is not audio ffmpeg can read"),
    (b"", "the file is empty"),
])
def test_a_file_that_is_not_audio_is_one_line_and_nothing_is_written(tmp_path, content, reason):
    folder = tmp_path / "music"
    folder.mkdir()
    write_music(folder / "a.wav", 2.0, 196.0, BED_BASS_HZ, 1)
    (folder / "notes.mp3").write_bytes(content)
    path = write_routine(tmp_path, ROUTINE.format(music="music/"), "r.yaml")
    result = CliRunner().invoke(app, ["build", str(path), "-o", str(tmp_path / "out"), "-q",
                                      "--cache-dir", str(tmp_path / "cache")])
    assert result.exit_code == 2
    assert result.output == (f'{path}:3: music: "music/notes.mp3" cannot be played ({reason}); give a music file: '
                             "mp3, m4a, ogg, flac or wav\n")
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_validate_finds_a_music_file_that_does_not_play(tmp_path):
    (tmp_path / "music").mkdir()
    (tmp_path / "music" / "notes.mp3").write_text("la la la\n" * 50)
    path = write_routine(tmp_path, ROUTINE.format(music="music/"), "r.yaml")
    result = CliRunner().invoke(app, ["validate", str(path), "--cache-dir", str(tmp_path / "cache")])
    assert result.exit_code == 2
    assert result.output == (f'{path}:3: music: "music/notes.mp3" cannot be played (it is not audio ffmpeg can '
                             "read); give a music file: mp3, m4a, ogg, flac or wav\n")


def test_both_music_flags_are_one_line(tmp_path):
    path = write_routine(tmp_path, "title: T\nexercises: [{name: Plank, hold: 5s}]\n")
    result = CliRunner().invoke(app, ["script", str(path), "--music", "x.mp3", "--no-music"])
    assert result.exit_code == 2
    assert result.output == "--no-music: give either a music file or folder, or no music, not both\n"


def test_a_track_is_measured_once_and_again_when_it_changes(tmp_path):
    track = write_music(tmp_path / "a.wav", 2.0, 196.0, BED_BASS_HZ, 1)
    music = Music(track, bed_tracks=(track,))
    routine = load_routine_file(write_routine(tmp_path, "title: T\nexercises: [{name: P, hold: 5s}]\n"))
    first = measure_tracks(music, RATE_HZ, FolderStore(tmp_path / "cache"), routine.source)[track]
    assert first.frames == 2 * RATE_HZ
    assert len(list((tmp_path / "cache" / "music").iterdir())) == 1
    write_music(track, 3.0, 196.0, BED_BASS_HZ, 1)
    assert measure_tracks(music, RATE_HZ, FolderStore(tmp_path / "cache"), routine.source)[track].frames == 3 * RATE_HZ


def music_decoders_of(folder: Path) -> list[str]:
    """The processes whose command line names ``folder`` (ffmpeg decoding its music), still running."""
    found = []
    for process in Path("/proc").iterdir():
        try:
            if process.name.isdigit() and str(folder) in (process / "cmdline").read_text():
                found.append(process.name)
        except OSError:
            continue
    return found


def test_ctrl_c_during_a_music_build_leaves_no_file_and_no_decoder(music_folder, tmp_path, cache_dir):
    routine = write_routine(music_folder.parent, "title: Long with music\nmusic: music/\nexercises:\n"
                                                 "  - {name: Stand, hold: 20m, countdown: 0, announce: []}\n",
                            "long.yaml")
    out = tmp_path / "out"
    env = {**os.environ, "VOICECOACH_CACHE_DIR": str(cache_dir)}
    process = subprocess.Popen([sys.executable, "-m", "voicecoach", "build", str(routine), "-o", str(out), "-q"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    out.mkdir()
    # well into the measuring pass: the music is being decoded, and the mix written into its scratch file
    wait_for(lambda: bool(music_decoders_of(music_folder)) and writes_unnamed_file_into(process.pid, out), process)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert stderr == "interrupted; no output file was left half-written\n"
    assert not out.exists() or not list(out.iterdir())
    assert music_decoders_of(music_folder) == []


def test_a_long_session_of_short_looping_tracks_keeps_few_decoders_and_leaves_none(music_folder):
    tracks = (music_folder / "first.wav", music_folder / "second.wav")
    music = Music(music_folder, music_folder, crossfade_ms=1000, bed_tracks=tracks[:1], rest_tracks=tracks[1:])
    holds = [(start_ms, start_ms + 4_000) for start_ms in range(3_000, 170_000, 9_000)]
    timeline = _timeline(holds, 180_000)
    infos = {path: TrackInfo(frames, -20.0) for path, frames in zip(tracks, (int(9.3 * RATE_HZ),
                                                                             int(6.1 * RATE_HZ)))}
    timeline = timeline.with_music(schedule_music(timeline, music, {p: i.length_ms(RATE_HZ) for p, i in infos.items()}))
    assert len(timeline.music) > 40
    bed = MusicBed(timeline, music, infos, -20.0, RATE_HZ)
    opened = []
    most = 0
    for start in range(0, 180 * RATE_HZ, RATE_HZ):
        bed.render(start, start + RATE_HZ)
        opened += [decoder.process for decoder in bed.decoders if decoder.process not in opened]
        most = max(most, len(bed.decoders))
    bed.close()
    assert most <= 4  # the two players, and the next stretch of each starting up
    assert len(opened) > 20 and all(process.poll() is not None for process in opened)


def test_the_bed_fades_in_from_where_its_music_starts_and_is_silent_before(music_folder):
    track = music_folder / "first.wav"
    music = Music(track, bed_tracks=(track,))  # crossfade 3 s: the fade-in lasts 3 s
    infos = {track: TrackInfo(int(9.3 * RATE_HZ), -20.0)}
    timeline = Timeline("T", 10_000, (ToneEvent(9_000, 9_300, "stop", 660),), ())
    timeline = timeline.with_music(schedule_music(timeline, music, {track: infos[track].length_ms(RATE_HZ)},
                                                  start_ms=2_000))
    assert [(event.start_ms, event.end_ms, event.fade_in_ms) for event in timeline.music] == [(2_000, 10_000, 0)]
    bed = MusicBed(timeline, music, infos, -20.0, RATE_HZ)
    try:
        assert bed.render(0, 2 * RATE_HZ) is None
        samples = bed.render(2 * RATE_HZ, 6 * RATE_HZ)
    finally:
        bed.close()
    assert samples is not None

    def rms(from_s: float) -> float:
        return float(np.sqrt(np.mean(samples[int((from_s - 2) * RATE_HZ):int((from_s - 1.95) * RATE_HZ)] ** 2)))

    assert rms(2.0) < 0.1 * rms(4.95)  # the fade's first 50 ms against its last
    assert rms(4.95) == pytest.approx(rms(5.5), rel=0.25)  # faded in: 3 s after the music's start


# ---------------------------------------------------------------- the schedule (pure)


def _timeline(holds: list[tuple[int, int]], duration_ms: int, opening_ms: int | None = None) -> Timeline:
    """Holds; and the opening speech's first 300 ms at ``opening_ms`` (the end of the lead-in), if given."""
    opening = () if opening_ms is None else (SpeechEvent(opening_ms, opening_ms + 300, "Hello"),)
    return Timeline("T", duration_ms, (*opening, *(HoldEvent(start, end, "x", None, 1, 1) for start, end in holds)),
                    ())


@settings(max_examples=200, deadline=None)
@given(lengths=st.lists(st.integers(1_000, 40_000), min_size=1, max_size=4),
       rest_lengths=st.lists(st.integers(1_000, 40_000), min_size=0, max_size=3),
       spans=st.lists(st.tuples(st.integers(500, 30_000), st.integers(500, 30_000)), min_size=1, max_size=6),
       crossfade_ms=st.integers(0, 6_000), lead_in_ms=st.sampled_from([0, 1, 1_000, 10_000]))
def test_the_schedule_covers_the_session_and_each_player_resumes_where_it_paused(lengths, rest_lengths, spans,
                                                                              crossfade_ms, lead_in_ms):
    bed = tuple(Path(f"/m/bed{k}.mp3") for k in range(len(lengths)))
    rest = tuple(Path(f"/m/rest{k}.mp3") for k in range(len(rest_lengths)))
    music = Music(Path("/m"), Path("/m") if rest else None, crossfade_ms=crossfade_ms, bed_tracks=bed,
                  rest_tracks=rest)
    holds, at_ms = [], lead_in_ms
    for gap_ms, hold_ms in spans:
        holds.append((at_ms + gap_ms, at_ms + gap_ms + hold_ms))
        at_ms += gap_ms + hold_ms
    duration_ms = at_ms + 2_000
    # The opening speech starts as the lead-in ends: the music starts there too, and the lead-in stays silent.
    timeline = _timeline(holds, duration_ms, opening_ms=lead_in_ms)
    track_ms = dict(zip(bed + rest, lengths + rest_lengths))
    schedule = schedule_music(timeline, music, track_ms)
    assert schedule == schedule_music(timeline, music, track_ms, start_ms=lead_in_ms)
    by_name = {music.name_of(path): ms for path, ms in track_ms.items()}
    first = min(schedule, key=lambda e: e.start_ms)
    assert (first.start_ms, first.fade_in_ms) == (lead_in_ms, 0)
    covered = lead_in_ms
    for event in sorted(schedule, key=lambda e: e.start_ms):
        assert event.start_ms <= covered, "a silence in the music"
        covered = max(covered, event.end_ms)
        assert 0 <= event.offset_ms and event.offset_ms + event.end_ms - event.start_ms <= by_name[event.file]
        assert event.fade_in_ms <= crossfade_ms and event.fade_out_ms <= crossfade_ms
    assert covered >= duration_ms
    if rest:
        for start, end in holds:  # in the middle of every hold, the bed plays and nothing else
            middle = (start + end) // 2
            playing = [e.file for e in schedule if e.start_ms <= middle < e.end_ms]
            if end - start > 2 * crossfade_ms:
                assert playing and all("bed" in name for name in playing)


@given(frames=st.integers(1, 10**9), rate_hz=st.sampled_from([8_000, 16_000, 22_050, 24_000, 44_100, 48_000]))
def test_a_track_s_length_in_ms_never_reaches_past_its_last_frame(frames, rate_hz):
    length_ms = TrackInfo(frames, -20.0).length_ms(rate_hz)
    # The schedule turns that length back into frames with the one rounding rule: never a frame the track lacks,
    # and never more than a millisecond short of its end.
    assert ms_to_frame(length_ms, rate_hz) <= frames
    assert (length_ms + 1) * rate_hz > frames * 1000  # one ms more would last longer than the track


def test_a_damaged_track_measurement_is_measured_again(tmp_path):
    track = write_music(tmp_path / "a.wav", 2.0, 196.0, BED_BASS_HZ, 1)
    music = Music(track, bed_tracks=(track,))
    routine = load_routine_file(write_routine(tmp_path, "title: T\nexercises: [{name: P, hold: 5s}]\n"))
    cache = FolderStore(tmp_path / "cache")
    assert measure_tracks(music, RATE_HZ, cache, routine.source)[track].frames == 2 * RATE_HZ
    kept = next((tmp_path / "cache" / "music").iterdir())
    kept.write_text(kept.read_text().replace(f'"frames": {2 * RATE_HZ}', f'"frames": {9 * RATE_HZ}'))  # a digit
    assert measure_tracks(music, RATE_HZ, cache, routine.source)[track].frames == 2 * RATE_HZ
    kept.write_text('{"frames": ')  # cut short
    assert measure_tracks(music, RATE_HZ, cache, routine.source)[track].frames == 2 * RATE_HZ
