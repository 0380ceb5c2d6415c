"""End to end: the bundled example through real espeak-ng and real ffmpeg, measured in the decoded MP3."""

from __future__ import annotations

import datetime
import hashlib
import io
import json

import numpy as np
import pytest
from mutagen.id3 import ID3
from mutagen.mp3 import MP3
from PIL import Image

from voicecoach._audio.layout import Timing
from voicecoach._routine.examples import example_routine_path
from voicecoach._routine.load import load_routine_file

from .audio_probe import RATE_HZ, decode_mp3, ffmpeg_loudness, onset_s, speech_onset_s
from .session_checks import check_holds, check_length, check_silence, check_tones


@pytest.fixture(scope="module")
def decoded(example_build):
    return decode_mp3(example_build.mp3_path)


@pytest.fixture(scope="module")
def timeline_json(example_build):
    return json.loads(example_build.timeline_path.read_text(encoding="utf-8"))


def test_writes_the_three_files_named_after_the_title(example_build):
    names = sorted(path.name for path in example_build.mp3_path.parent.iterdir())
    assert names == ["relieve-back-pain-through-your-feet.lrc", "relieve-back-pain-through-your-feet.mp3",
                     "relieve-back-pain-through-your-feet.timeline.json"]  # and no leftover temporary files


def test_decoded_length_equals_timeline_duration(decoded, timeline_json):
    check_length(decoded, timeline_json)


def test_every_tone_is_heard_at_its_timeline_time(decoded, timeline_json):
    assert check_tones(decoded, timeline_json) == 224  # what the README says: its 224 tones ...


def test_every_tone_starts_within_3_ms_as_the_readme_says(decoded, timeline_json):
    tones = [event for event in timeline_json["events"] if event["kind"] == "tone"]
    late = [(tone["start"], onset_s(decoded, tone["start"])) for tone in tones]
    assert max(abs(heard - start) for start, heard in late) <= 0.003


def test_every_hold_lasts_what_the_routine_asks(decoded, timeline_json):
    routine = load_routine_file(example_routine_path()).base
    hold_ms = {exercise.id: exercise.hold_ms for exercise in routine.exercises}
    assert check_holds(decoded, timeline_json, hold_ms) == 10 + 2 + 10 + 1 + 5


def test_the_session_starts_with_its_lead_in_of_digital_silence(decoded, timeline_json):
    lead_in_s = 1.0  # the default lead_in: a second of digital silence before the first word
    first_s = lead_in_s + Timing().after_lead_in_ms / 1000  # the first word: past the encoder's reach back
    first = timeline_json["events"][0]
    assert (first["kind"], first["start"]) == ("speech", first_s)  # every event a lead-in later
    assert not np.any(decoded[:round(lead_in_s * RATE_HZ)])  # every sample of the lead-in 0
    assert abs(speech_onset_s(decoded, first_s) - first_s) <= 0.010


def test_silence_where_the_timeline_has_nothing(decoded, timeline_json):
    # Between two sounds with at least 200 ms of nothing between them, the MP3 is quiet.
    assert check_silence(decoded, timeline_json) > 50


def test_chapters_carry_the_exercise_names(example_build, timeline_json):
    tags = ID3(example_build.mp3_path)
    toc = tags.getall("CTOC")[0]
    chapters = {frame.element_id: frame for frame in tags.getall("CHAP")}
    titles = [chapters[child].sub_frames["TIT2"].text[0] for child in toc.child_element_ids]
    assert titles == ["Intro", "Resistance to flexion", "Ankle circles", "Pencil pick-up",
                      "Grip the floor with your toes", "Walk on tiptoe", "Outro"]
    starts = [chapters[child].start_time for child in toc.child_element_ids]
    assert starts == [round(c["start"] * 1000) for c in timeline_json["chapters"]]
    assert chapters[toc.child_element_ids[-1]].end_time == round(timeline_json["duration"] * 1000)


def test_tags_name_the_session(example_build):
    tags = MP3(example_build.mp3_path).tags
    assert tags["TIT2"].text == ["Relieve back pain through your feet"]
    assert tags["TALB"].text == ["Relieve back pain through your feet"]
    assert tags["TPE1"].text == ["voicecoach"]
    assert tags.getall("COMM")[0].text[0].startswith("Five short exercises")


def test_the_mp3_names_its_timeline_by_hash(example_build):
    # A reader can tell whether a timeline belongs to this MP3 (the two are renamed into place one
    # after the other, so a kill in between could pair a new timeline with an old MP3).
    tags = MP3(example_build.mp3_path).tags
    expected = hashlib.sha256(example_build.timeline_path.read_bytes()).hexdigest()
    assert tags["TXXX:voicecoach timeline sha256"].text == [expected]


def test_chapter_of_an_exercise_starts_at_its_announcement(timeline_json):
    speech = {e["text"]: e["start"] for e in timeline_json["events"] if e["kind"] == "speech"}
    chapters = {c["title"]: c for c in timeline_json["chapters"]}
    assert chapters["Ankle circles"]["start"] == speech["Next up: Exercise 2 of 5: Ankle circles"]
    assert chapters["Outro"]["start"] == speech["Session complete"]
    assert chapters["Intro"]["start"] == 0.0


def test_gaps_are_exactly_the_rests_asked_for(timeline_json):
    gaps = [e for e in timeline_json["events"] if e["kind"] == "gap"]
    assert {g["after"] for g in gaps} == {"prepare", "rep", "side", "set", "exercise"}
    for gap in gaps:  # the example is written so that nothing has to grow
        assert round((gap["end"] - gap["start"]) * 1000) == round(gap["asked"] * 1000), gap
    assert timeline_json["warnings"] == []


def test_lyrics_list_every_spoken_line_with_its_time(example_build, timeline_json):
    lines = example_build.lrc_path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "[ti:Relieve back pain through your feet]"
    spoken = [e for e in timeline_json["events"] if e["kind"] == "speech"]
    timed = [line for line in lines if line[1].isdigit()]
    assert len(timed) == len(spoken)
    assert timed[0].startswith("[00:01.03]Five exercises for your feet")  # after the 1 s lead-in
    release = next(e for e in spoken if e["text"] == "Release")
    minutes, seconds = divmod(release["start"], 60)
    assert f"[{int(minutes):02d}:{seconds:05.2f}]Release" in lines


def test_the_mp3_carries_its_lyrics_synced_to_the_millisecond(example_build, timeline_json):
    tags = ID3(example_build.mp3_path)
    spoken = [(" ".join(e["text"].split()), round(e["start"] * 1000)) for e in timeline_json["events"]
              if e["kind"] == "speech"]
    assert tags.getall("SYLT")[0].text == spoken
    assert tags.getall("USLT")[0].text == example_build.lrc_path.read_text(encoding="utf-8")


def test_the_mp3_has_a_generated_square_cover_and_a_year(example_build):
    tags = ID3(example_build.mp3_path)
    cover = tags.getall("APIC")[0]
    assert (cover.mime, cover.type) == ("image/png", 3)  # 3: front cover
    image = Image.open(io.BytesIO(cover.data))
    assert image.size == (1400, 1400)
    assert tags["TDRC"].text[0].year == datetime.date.today().year


def test_the_session_is_at_the_spoken_word_loudness_norm(example_build):
    # Measured on the MP3 by ffmpeg's EBU R 128 meter: -19 LUFS (mono) within 1 LU, true peak under -1 dBTP.
    integrated_lufs, true_peak_dbtp = ffmpeg_loudness(example_build.mp3_path)
    assert abs(integrated_lufs - (-19.0)) <= 1.0
    assert true_peak_dbtp <= -1.0


def test_chapter_frames_are_in_time_order_in_the_file(example_build):
    # ffmpeg and others list chapters in file order, not by the CTOC (mutagen alone writes them by size).
    import re
    import shutil
    import subprocess

    data = example_build.mp3_path.read_bytes()
    ids = [int(number) for number in re.findall(rb"CHAP.{6}chp(\d+)\x00", data, flags=re.S)]
    assert ids == list(range(len(example_build.timeline.chapters)))
    ffprobe = shutil.which("ffprobe")
    if ffprobe:  # the system's ffmpeg has it; the imageio-ffmpeg wheel does not
        shown = subprocess.run([ffprobe, "-v", "quiet", "-show_chapters", "-of", "json", str(example_build.mp3_path)],
                               capture_output=True, text=True, check=True, timeout=300).stdout
        import json
        titles = [chapter["tags"]["title"] for chapter in json.loads(shown)["chapters"]]
        assert titles == [chapter.title for chapter in example_build.timeline.chapters]
