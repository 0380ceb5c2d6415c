"""Loading and validating routine files: every error is one line with file, line, field and a fix."""

from __future__ import annotations

import pytest

from voicecoach._errors import RoutineError
from voicecoach._routine.load import load_routine_file
from voicecoach._routine.model import Announcement
from voicecoach._routine.read import parse_routine

GOOD = """\
title: Knee care
description: For the knee.
voice: {name: en-us, rate: 150, volume: 0.8}
intro: Hello.
prepare: 10s
outro: Bye.
defaults:
  rest: 30s
  countdown: 2
exercises:
  - name: Heel slides
    reps: 10
    hold: 5s
  - name: Übung zwei — Wall sit
    id: wall
    sides: true
    sets: 2
    hold: 1m
    announce: [halfway, 10s]
    count_reps: false
    cue: Sit
    release: Stand
    rep_rest: 3s
    set_rest: 20s
    side_rest: 1:00
"""


def test_every_field_is_read_and_defaults_fill_the_gaps():
    routine = parse_routine(GOOD, "knee.yaml")
    assert routine.title == "Knee care" and routine.slug == "knee-care"
    assert routine.voice.name == "en-us" and routine.voice.rate_wpm == 150 and routine.voice.volume == 0.8
    assert routine.prepare_ms == 10_000 and routine.intro == "Hello." and routine.outro == "Bye."
    slides, wall = routine.exercises
    assert (slides.id, slides.reps, slides.hold_ms, slides.rest_ms, slides.countdown) == \
        ("heel-slides", 10, 5000, 30_000, 2)
    # The rests not written last their speech plus these; the one written under defaults is exact.
    assert (slides.rep_rest_ms, slides.set_rest_ms, slides.side_rest_ms) == (3000, 10_000, 5000)
    assert slides.fitted_rests == {"rep_rest", "set_rest", "side_rest"} and wall.fitted_rests == frozenset()
    assert (routine.prepare_fitted, routine.lead_in_ms) == (False, 1000)
    assert slides.announce == ()  # a hold under 30 s has no calls unless asked
    assert wall.id == "wall" and wall.sides == ("left", "right") and wall.sets == 2
    assert wall.announce == (Announcement(30_000, halfway=True), Announcement(10_000))
    assert (wall.count_reps, wall.cue, wall.release, wall.side_rest_ms) == (False, "Sit", "Stand", 60_000)


def test_a_long_hold_says_halfway_by_default():
    routine = parse_routine("title: x\nexercises:\n  - {name: Plank, hold: 30s}\n")
    assert routine.exercises[0].announce == (Announcement(15_000, halfway=True),)


def test_the_slug_transliterates():
    assert parse_routine("title: Übung eins — heel slides\nexercises: [{name: a, hold: 1}]").slug == \
        "ubung-eins-heel-slides"


ERRORS = [
    # (routine text, the exact message)
    ("title: x\nexercises:\n  - name: a\n    hold: five seconds\n",
     'k.yaml:4: exercises[0].hold: "five seconds" is not a duration; write 5s, 1m30s or 90'),
    ("title: x\nexercises:\n  - name: a\n    hodl: 5\n",
     'k.yaml:4: exercises[0].hodl: unknown key "hodl"; did you mean "hold"?'),
    ("titel: x\nexercises:\n  - name: a\n    hold: 5\n",
     'k.yaml:1: titel: unknown key "titel"; did you mean "title"?'),
    ("title: x\nexercises:\n  - name: a\n    hold: 5\n    reps: many\n",
     'k.yaml:5: exercises[0].reps: "many" is not a whole number; write e.g. `reps: 10`'),
    ("title: x\nexercises:\n  - name: a\n    hold: 5\n    sets: 2.5\n",
     "k.yaml:5: exercises[0].sets: 2.5 is not a whole number; write e.g. `sets: 3`"),
    ("exercises:\n  - name: a\n    hold: 5\n",
     "k.yaml:1: title is missing; write e.g. `title: Morning mobility`"),
    ("title: x\nexercises:\n  - name: a\n",
     "k.yaml:3: exercises[0]: hold is missing; add e.g. `hold: 5s` (or set it once under defaults)"),
    ("title: x\nexercises:\n  - Ankle circles\n",
     'k.yaml:3: exercises[0]: "Ankle circles" is not an exercise; write it as a mapping, '
     "e.g. `- name: Ankle circles` with `hold: 30s` below"),
    ("title: x\nexercises: []\n",
     "k.yaml:2: exercises: the list is empty; a routine needs at least one exercise, e.g. "
     "`- {name: Plank, hold: 30s}`"),
    ("title: x\nvoice: {rate: 900}\nexercises: [{name: a, hold: 5}]\n",
     "k.yaml:2: voice.rate: 900 is out of range; use a value from 80 to 400"),
    ("title: x\nlanguage: sv\nexercises: [{name: a, hold: 5}]\n",
     'k.yaml:2: language: "sv" is not a language voicecoach speaks; use one of de (Deutsch), en (English), '
     "es (Español), fr (Français), it (Italiano), nl (Nederlands), pt (Português)"),
    ("title: x\nexercises:\n  - {name: a, hold: 5}\n  - {name: a, hold: 5}\n",
     'k.yaml:4: exercises[1]: the name "a" gives the id "a", which exercises[0] already has; give this one its '
     "own id, e.g. `id: a-2`"),
    ("title: x\nexercises:\n  - {name: a, id: q, hold: 5}\n  - {name: b, id: q, hold: 5}\n",
     'k.yaml:4: exercises[1].id: id "q" is already used by exercises[0]; give each exercise its own id, '
     "e.g. `id: q-2`"),
    ("title: x\nexercises:\n  - name: a\n    hold: 5\n    announce: [soon]\n",
     'k.yaml:5: exercises[0].announce[0]: "soon" is not halfway or a duration; write halfway, 1m or 10s'),
    ("title: x\nexercises:\n  - name: a\n    hold: 5\n    announce: [10s]\n",
     "k.yaml:5: exercises[0].announce[0]: 10 s left is not inside the 5 s hold; "
     "use a time shorter than 5 s, or lengthen the hold"),
    ("title: x\nexercises:\n  - name: a\n    hold: 5\n    sides: []\n",
     "k.yaml:5: exercises[0].sides: the list is empty; write e.g. `sides: [left, right]`, or leave sides out"),
    ("title: x\nexercises:\n  - name: a\n    hold: 0\n",
     "k.yaml:4: exercises[0].hold: 0 s is too short; a hold lasts at least 0.5 s (its start tone must fit), "
     "e.g. 5s"),
    ("title: x\nexercises:\n  - name: a\n    hold: 5h\n",
     "k.yaml:4: exercises[0].hold: 5 h is longer than the 4 hour limit; write at most 4h, e.g. 30s, 2m or 1h"),
    ("title: x\ndefaults: {id: q}\nexercises: [{name: a, hold: 5}]\n",
     'k.yaml:2: defaults.id: unknown key "id"; an id belongs to one exercise, so write it under that exercise, '
     "not under defaults"),
    ("title: x\nlead_in: 30s\nexercises: [{name: a, hold: 5}]\n",
     "k.yaml:2: lead_in: 30 s is out of range; use at most 10 s, e.g. `lead_in: 1s`"),
    ("title: x\nlead_in: soon\nexercises: [{name: a, hold: 5}]\n",
     'k.yaml:2: lead_in: "soon" is not a duration; write 5s, 1m30s or 90'),
    ("title: x\ndefaults: {lead_in: 2s}\nexercises: [{name: a, hold: 5}]\n",
     'k.yaml:2: defaults.lead_in: unknown key "lead_in"; lead_in is for the whole session, not for each exercise, '
     "so write it at the top of the routine, e.g. `lead_in: 1s`"),
    ("title: x\nprepare:\nexercises: [{name: a, hold: 5}]\n",
     "k.yaml:2: prepare: has no value; write e.g. `prepare: 5s`, or leave prepare out for its speech plus a few "
     "seconds"),
    ("title: x\nexercises:\n  - name: a\n    hold: 5\n    count_reps: maybe\n",
     'k.yaml:5: exercises[0].count_reps: "maybe" is not true or false; write e.g. `count_reps: false`'),
    ("title: x\nexercises:\n  - name: a\n    hold: 5\n    countdown: 11\n",
     "k.yaml:5: exercises[0].countdown: 11 is out of range; use a value from 0 to 10"),
    ("- a\n- b\n", "k.yaml:1: the file holds a list, not a routine; start with `title:` and `exercises:`"),
    ("", "k.yaml:1: the file is empty; start with a title and exercises (see `voicecoach init`)"),
    ("title: x\nexercises:\n\t- name: a\n",
     "k.yaml:3: a tab is used for indenting; YAML needs spaces (replace each tab with two spaces)"),
    ("title: [x\n", "k.yaml:1: YAML syntax error: the [ here is not closed where it should be; end it with ] "
                    "on the same line, e.g. `sides: [left, right]`"),
    ("title: x\ntitle: y\nexercises: [{name: a, hold: 5}]\n",
     'k.yaml:2: title: "title" is written twice in the same mapping; keep one'),
    ('title: !!python/object/apply:os.system ["echo hacked"]\nexercises: [{name: a, hold: 5}]\n',
     "k.yaml:1: title: the YAML tag !!python/object/apply:os.system is not allowed in a routine; write plain "
     "values, without a tag"),
]


@pytest.mark.parametrize("text, message", ERRORS, ids=[message.split(": ", 1)[1][:40] for _, message in ERRORS])
def test_documented_errors(text, message):
    with pytest.raises(RoutineError) as caught:
        parse_routine(text, "k.yaml")
    assert str(caught.value) == message
    assert "\n" not in str(caught.value)


def test_an_alias_bomb_is_refused_quickly():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for level in range(1, 9):
        bomb += f"{chr(97 + level)}: &{chr(97 + level)} [" + ", ".join([f"*{chr(96 + level)}"] * 10) + "]\n"
    with pytest.raises(RoutineError, match="too large or expands too many aliases"):
        parse_routine(bomb, "k.yaml")


def test_file_problems_are_one_line(tmp_path):
    with pytest.raises(RoutineError, match=r"nope\.yaml: no such file; check the path"):
        load_routine_file(tmp_path / "nope.yaml")
    with pytest.raises(RoutineError, match="is a folder, not a routine file"):
        load_routine_file(tmp_path)
    binary = tmp_path / "b.yaml"
    binary.write_bytes(b"\x00\x01\x02")
    with pytest.raises(RoutineError, match="is a binary file"):
        load_routine_file(binary)
    latin1 = tmp_path / "l.yaml"
    latin1.write_bytes("title: x\nname: Übung\n".encode("latin-1"))
    with pytest.raises(RoutineError, match=r"l\.yaml:2: is not UTF-8 text"):
        load_routine_file(latin1)


def test_error_lines_point_into_defaults_when_the_value_came_from_there():
    text = "title: x\ndefaults:\n  hold: 0\nexercises: [{name: a}]\n"
    with pytest.raises(RoutineError, match=r"^k\.yaml:3: defaults\.hold: 0 s is too short"):
        parse_routine(text, "k.yaml")


def test_merge_keys_copy_an_exercise_and_keys_written_win():
    # Pins a bug: every key a `<<:` merge copied in and the exercise then set again was refused as "written twice".
    text = ("title: x\nexercises:\n  - &slow {name: Heel slides, hold: 5s, reps: 10}\n"
            "  - <<: *slow\n    name: Toe slides\n    hold: 8s\n")
    first, second = parse_routine(text, "k.yaml").exercises
    assert (second.id, second.hold_ms, second.reps) == ("toe-slides", 8000, 10)
    assert (first.id, first.hold_ms) == ("heel-slides", 5000)


MULTILINGUAL = """\
title: {en: Knee rehab, de: Knie-Reha}
intro: {en: Lie on your back., de: Leg dich auf den Rücken.}
defaults:
  release: {en: Relax, de: Locker lassen}
exercises:
  - name: {de: Fersenrutschen, en: Heel slides}
    hold: 5s
  - name: Quad sets
    cue: {en: Press the knee down, de: Knie nach unten drücken}
    hold: 5s
"""


def test_text_may_be_written_in_several_languages_and_the_routines_is_used():
    english = parse_routine(MULTILINGUAL)
    german = parse_routine("language: de\n" + MULTILINGUAL)
    assert (english.title, english.intro, english.exercises[0].name) == ("Knee rehab", "Lie on your back.",
                                                                         "Heel slides")
    assert (german.title, german.intro, german.exercises[0].name) == ("Knie-Reha", "Leg dich auf den Rücken.",
                                                                      "Fersenrutschen")
    assert german.exercises[0].release == "Locker lassen" and german.exercises[1].cue == "Knie nach unten drücken"
    assert german.exercises[1].name == "Quad sets"  # plain text is the same in every language
    # An exercise's id does not change with the language: it comes from the first name written.
    assert [e.id for e in english.exercises] == [e.id for e in german.exercises] == ["fersenrutschen", "quad-sets"]
    assert (english.slug, german.slug) == ("knee-rehab", "knie-reha")


def test_a_missing_translation_names_the_field_and_the_language():
    with pytest.raises(RoutineError) as caught:
        parse_routine("language: fr\n" + MULTILINGUAL, "k.yaml")
    # The routine's own language is French, and its title (the first text, on line 2) has none.
    assert str(caught.value) == ('k.yaml:2: title: has no text for language "fr" (it has en, de); '
                                 "add `fr: ...` under it, or build in en or de")


def test_a_variant_or_a_setting_chooses_the_language(tmp_path):
    from voicecoach._routine.settings import parse_setting

    path = tmp_path / "knee.yaml"
    path.write_text(MULTILINGUAL + "variants:\n  deutsch: {language: de}\n", encoding="utf-8")
    routine_file = load_routine_file(path)
    assert routine_file.session("deutsch").title == "Knie-Reha"
    assert routine_file.session(settings=(parse_setting("language=de"),)).exercises[0].name == "Fersenrutschen"
    # A language the routine has no text in: its own (English) text is said, and the routine lists what.
    italian = routine_file.session(settings=(parse_setting("language=it"),))
    assert (italian.title, italian.exercises[0].name, italian.text_language) == ("Knee rehab", "Heel slides", "en")
    assert italian.untranslated == ("title", "intro", "defaults.release", "exercises[0].name", "exercises[1].name",
                                    "exercises[1].cue")  # in the file's order


def test_sides_true_are_said_in_the_language():
    plan_text = "language: es\ntitle: x\nexercises: [{name: Puente, hold: 5s, sides: true}]\n"
    from voicecoach._plan.planner import plan_session

    said = plan_session(parse_routine(plan_text)).phrases()
    assert "Izquierda" in said or "Izquierdo" in said, said


def test_the_lead_in_is_a_top_level_duration_set_like_any_other(tmp_path):
    from voicecoach._routine.settings import labels_for, parse_setting

    assert parse_routine("title: x\nexercises: [{name: a, hold: 5}]\n").lead_in_ms == 1000  # the default
    assert parse_routine("title: x\nlead_in: 0\nexercises: [{name: a, hold: 5}]\n").lead_in_ms == 0
    # time_scale scales holds and rests, not the silence before the first sound
    assert parse_routine("title: x\nlead_in: 2.5s\ntime_scale: 2\nexercises: [{name: a, hold: 5}]\n"
                         ).lead_in_ms == 2500
    path = tmp_path / "r.yaml"
    path.write_text("title: x\nexercises: [{name: a, hold: 5}]\nvariants:\n  car: {lead_in: 3s}\n", encoding="utf-8")
    routine_file = load_routine_file(path)
    assert routine_file.session("car").lead_in_ms == 3000
    setting = parse_setting("lead_in=2s")
    assert routine_file.session(settings=(setting,)).lead_in_ms == 2000
    assert labels_for((setting,)) == ("lead in 2s",)
    with pytest.raises(RoutineError) as caught:
        routine_file.session(settings=(parse_setting("lead_in=1m"),))
    assert str(caught.value) == f"{path}: `set` lead_in: 1 min is out of range; use at most 10 s, e.g. `lead_in: 1s`"
