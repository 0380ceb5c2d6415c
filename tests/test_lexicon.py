"""Pronunciation: the lexicon changes what is spoken, never what is written."""

from __future__ import annotations

import json
import re

from hypothesis import assume, given
from hypothesis import strategies as st

from voicecoach._pipeline.build import BuildOptions, build_file
from voicecoach._plan.planner import plan_session
from voicecoach._routine.languages import phrases_for
from voicecoach._routine.lexicon import Lexicon
from voicecoach._routine.read import parse_routine
from voicecoach._speech.cache import PhraseCache
from voicecoach._speech.service import SpeechService

from .conftest import write_routine

KEGEL = Lexicon((("Kegel", "KAY-gull"),))


def test_whole_words_only_and_any_case():
    assert KEGEL.apply("Kegel squeeze") == "KAY-gull squeeze"
    assert KEGEL.apply("Ten kegel squeezes, then a KEGEL hold.") == "Ten KAY-gull squeezes, then a KAY-gull hold."
    assert KEGEL.apply("Kegels and Kegel-Übung") == "Kegels and KAY-gull-Übung"  # "-" ends a word, "s" does not
    assert KEGEL.apply("Dekegel") == "Dekegel"


def test_the_longest_entry_wins_and_the_text_is_scanned_once():
    lexicon = Lexicon((("Kegel", "KAY-gull"), ("Kegel squeeze", "pelvic squeeze"), ("gull", "seagull")))
    assert lexicon.apply("One Kegel squeeze, one Kegel.") == "One pelvic squeeze, one KAY-gull."


def test_unicode_words_match_whole():
    lexicon = Lexicon((("Übung", "Uebung"), ("façade", "fassade")))
    assert lexicon.apply("übung, Übungen, FAÇADE") == "Uebung, Übungen, fassade"


@given(st.text(alphabet=st.characters(codec="utf-8", categories=("L", "N", "P", "Zs")), max_size=60))
def test_text_without_a_lexicon_word_is_said_as_written(text):
    assume("zzyzx" not in text.casefold())
    assert Lexicon((("Zzyzx", "ZYE-zix"),)).apply(text) == text
    assert Lexicon().apply(text) == text


@given(st.lists(st.sampled_from(["Kegel", "kegel", "and", "squeeze", ",", " ", "Kegels", "-"]), max_size=12))
def test_every_whole_word_is_replaced_and_nothing_else(parts):
    text = "".join(parts)
    said = KEGEL.apply(text)
    assert "KAY-gull" not in text
    assert said.count("KAY-gull") == len(re.findall(r"(?<!\w)kegel(?!\w)", text, flags=re.IGNORECASE))


def test_the_plan_keeps_the_written_text_and_says_the_lexicons():
    routine = parse_routine("title: Floor\nlanguage: de\nlexicon: {Kegel: KAY-gull, Minute: Minuhte}\n"
                            "exercises: [{name: Kegel squeeze, hold: 70s, announce: [1m]}]\n")
    plan = plan_session(routine)
    assert "Übung 1 von 1: Kegel squeeze" in plan.phrases()
    assert plan.spoken("Übung 1 von 1: Kegel squeeze") == "Übung 1 von 1: KAY-gull squeeze"
    # The language's own corrections come first; the routine's lexicon wins where both name a word.
    assert phrases_for("de").time_left(60_000) == "Noch 1 Minute"
    assert plan.spoken("Noch 1 Minute") == "Noch eine Minute"
    assert plan.spoken("2 Minute") == "2 Minuhte"


def test_a_build_caches_and_plays_the_spoken_form_but_writes_the_written_one(tmp_path):
    path = write_routine(tmp_path, "title: Floor\nlexicon: {Kegel: KAY-gull}\n"
                                   "exercises: [{name: Kegel squeeze, hold: 2s, countdown: 0}]\n")
    cache = tmp_path / "cache"
    result = build_file(path, BuildOptions(output_dir=tmp_path / "out", cache_dir=cache))
    timeline = json.loads(result.timeline_path.read_text(encoding="utf-8"))
    said = [event["text"] for event in timeline["events"] if event["kind"] == "speech"]
    assert said[0] == "Exercise 1 of 1: Kegel squeeze"
    assert "Kegel squeeze" in result.lrc_path.read_text(encoding="utf-8")
    assert [chapter["title"] for chapter in timeline["chapters"]] == ["Kegel squeeze"]
    speech = SpeechService(PhraseCache(cache))
    settings = speech.settings_for(plan_session(parse_routine("title: x\nexercises: [{name: a, hold: 2s}]")).voice,
                                   "en")
    assert speech.cache.load(settings, "Exercise 1 of 1: KAY-gull squeeze") is not None
    assert speech.cache.load(settings, "Exercise 1 of 1: Kegel squeeze") is None
    spoken = speech.cache.load(settings, "Exercise 1 of 1: KAY-gull squeeze")
    heard = round((timeline["events"][0]["end"] - timeline["events"][0]["start"]) * 1000)
    assert abs(heard - spoken.length_ms) <= 1
