"""Variants, --set and time_scale: how they merge over a routine, and the errors they give. Pure: no audio."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from voicecoach._cli.app import message as shown  # a library error as the command line shows it
from voicecoach._errors import RoutineError
from voicecoach._routine.load import load_routine_file
from voicecoach._routine.settings import labels_for, parse_matrix, parse_setting, time_scale_setting

from .conftest import write_routine

ROUTINE = """\
title: Calf raises
voice:
  rate: 150
defaults:
  rest: 20s
  sides: [left foot, right foot]
exercises:
  - name: Calf raises
    hold: 6s
    reps: 3
  - name: Ankle circles
    hold: 40s
    announce: [halfway, 10s]
    cue: Slowly
variants:
  quick:
    defaults: {rest: 10s}
    exercises:
      ankle-circles: {hold: 15s}
  one-side:
    defaults: {sides: [left foot]}
  renamed:
    exercises:
      calf-raises: {name: Heel raises}
  gentle:
    time_scale: 0.5
  slow-voice:
    voice: {volume: 0.5}
  typo-id:
    exercises:
      ankle-circle: {hold: 15s}
  bad-hold:
    exercises:
      calf-raises:
        hold: abc
  bad-key:
    voice: {rat: 140}
  list-exercises:
    exercises: [{hold: 5s}]
  changes-id:
    exercises:
      calf-raises: {id: heels}
  too-fast:
    time_scale: 0.05
"""


@pytest.fixture
def routine_file(tmp_path):
    # Its broken variants are there to be made one at a time; loading it whole would refuse the first.
    return load_routine_file(write_routine(tmp_path, ROUTINE, "calf.yaml"), display_name="calf.yaml",
                             check_variants=False)


def by_id(routine):
    return {exercise.id: exercise for exercise in routine.exercises}


def test_mappings_merge_key_by_key(routine_file):
    quick = routine_file.session("quick")
    # defaults.rest replaced, defaults.sides kept from the base
    assert [exercise.rest_ms for exercise in quick.exercises] == [10_000, 10_000]
    assert quick.exercises[0].sides == ("left foot", "right foot")
    slow = routine_file.session("slow-voice")
    assert (slow.voice.rate_wpm, slow.voice.volume) == (150, 0.5)


def test_exercises_are_addressed_by_id_and_only_named_fields_change(routine_file):
    exercises = by_id(routine_file.session("quick"))
    assert exercises["ankle-circles"].hold_ms == 15_000
    assert exercises["ankle-circles"].cue == "Slowly"
    assert exercises["calf-raises"].hold_ms == 6_000


def test_lists_replace_rather_than_extend(routine_file):
    assert routine_file.session("one-side").exercises[0].sides == ("left foot",)


def test_renaming_an_exercise_keeps_its_id(routine_file):
    # Pins a bug: the id was re-slugged from the new name, so the timeline's exercise ids and any
    # later --set exercises.calf-raises.* stopped matching.
    routine = routine_file.session("renamed")
    assert routine.exercises[0].name == "Heel raises"
    assert routine.exercises[0].id == "calf-raises"


def test_the_base_is_untouched_by_a_variant(routine_file):
    routine_file.session("quick")
    assert routine_file.base.exercises[1].hold_ms == 40_000
    assert routine_file.session(None) == routine_file.base


def test_time_scale_scales_holds_rests_and_prepare_but_not_countdown(routine_file):
    base, gentle = routine_file.base, routine_file.session("gentle")
    assert gentle.prepare_ms == base.prepare_ms // 2
    for before, after in zip(base.exercises, gentle.exercises):
        assert after.hold_ms == before.hold_ms // 2
        assert (after.rep_rest_ms, after.set_rest_ms, after.side_rest_ms, after.rest_ms) == (
            before.rep_rest_ms // 2, before.set_rest_ms // 2, before.side_rest_ms // 2, before.rest_ms // 2)
        assert after.countdown == before.countdown


def test_time_scale_keeps_halfway_halfway_and_drops_calls_that_no_longer_fit(routine_file):
    # 40 s hold with [halfway, 10s left]: at x0.5 halfway is 10 s left, the same moment, so it is said once;
    # at x0.2 (8 s) the 10 s call no longer fits and is dropped.
    circles = by_id(routine_file.session("gentle"))["ankle-circles"]
    assert [(call.time_left_ms, call.halfway) for call in circles.announce] == [(10_000, True)]
    shorter = by_id(routine_file.session(None, [time_scale_setting(0.2)]))["ankle-circles"]
    assert [(call.time_left_ms, call.halfway) for call in shorter.announce] == [(4_000, True)]
    longer = by_id(routine_file.session(None, [time_scale_setting(2)]))["ankle-circles"]
    assert [(call.time_left_ms, call.halfway) for call in longer.announce] == [(40_000, True), (10_000, False)]


def test_time_scale_flag_wins_over_the_variant(routine_file):
    routine = routine_file.session("gentle", [time_scale_setting(2)])
    assert routine.exercises[0].hold_ms == 12_000


def test_set_paths_reach_exercises_defaults_voice_and_top_level(routine_file):
    routine = routine_file.session(None, [parse_setting("exercises.ankle-circles.hold=15s"),
                                          parse_setting("defaults.rest=30s"), parse_setting("voice.rate=140"),
                                          parse_setting("prepare=8")])
    assert by_id(routine)["ankle-circles"].hold_ms == 15_000
    assert [exercise.rest_ms for exercise in routine.exercises] == [30_000, 30_000]
    assert routine.voice.rate_wpm == 140
    assert routine.prepare_ms == 8_000


def test_set_applies_after_the_variant(routine_file):
    routine = routine_file.session("quick", [parse_setting("exercises.ankle-circles.hold=20s")])
    assert by_id(routine)["ankle-circles"].hold_ms == 20_000


def test_values_are_read_as_yaml(routine_file):
    routine = routine_file.session(None, [parse_setting("defaults.sides=[left, right]"),
                                          parse_setting("defaults.count_reps=false")])
    assert routine.exercises[0].sides == ("left", "right")
    assert routine.exercises[0].count_reps is False


def test_names_and_titles_say_what_made_the_session(routine_file):
    routine = routine_file.session("quick", [parse_setting("voice.rate=140"), time_scale_setting(1.5)])
    assert routine.slug == "calf-raises--quick--rate-140--time-scale-1-5"
    assert routine.session_title == "Calf raises (quick, rate 140, time scale 1.5)"
    assert routine_file.base.slug == "calf-raises"
    assert routine_file.base.session_title == "Calf raises"


def test_labels_use_more_of_the_path_when_two_settings_share_a_key():
    settings = parse_matrix("exercises.a.hold=5s,10s")[:1] + parse_matrix("exercises.b.hold=6s")
    assert labels_for(settings) == ("a hold 5s", "b hold 6s")


def test_matrix_values_split_on_commas_outside_brackets():
    assert [setting.value for setting in parse_matrix("defaults.sides=[a, b],[c],true")] == [["a", "b"], ["c"], True]


@pytest.mark.parametrize("variant, message", [
    ("typo-id", 'calf.yaml:31: variants.typo-id.exercises.ankle-circle: no exercise has the id "ankle-circle"; '
                'did you mean "ankle-circles"? (ids: calf-raises, ankle-circles)'),
    ("bad-hold", 'calf.yaml:35: variants.bad-hold.exercises.calf-raises.hold: "abc" is not a duration; '
                 "write 5s, 1m30s or 90"),
    ("bad-key", 'calf.yaml:37: variants.bad-key.voice.rat: unknown key "rat"; did you mean "rate"?'),
    ("list-exercises", "calf.yaml:39: variants.list-exercises.exercises: in a variant, exercises is a mapping from "
                       "exercise id to the fields that change, e.g. `ankle-circles: {hold: 15s}`"),
    ("changes-id", "calf.yaml:42: variants.changes-id.exercises.calf-raises.id: an exercise's id cannot change in "
                   "a variant; it is how the variant finds the exercise"),
    ("too-fast", "calf.yaml:44: variants.too-fast.time_scale: 0.05 is out of range; use a value from 0.1 to 10.0"),
    ("quik", 'calf.yaml: --variant: there is no variant "quik"; did you mean "quick"? (variants: quick, one-side, '
             "renamed, gentle, slow-voice, typo-id, bad-hold, bad-key, list-exercises, changes-id, too-fast)"),
])
def test_a_bad_variant_names_the_variant_the_path_and_the_line(routine_file, variant, message):
    with pytest.raises(RoutineError) as caught:
        routine_file.session(variant)
    assert shown(caught.value) == message


@pytest.mark.parametrize("setting, message", [
    ("exercises.calf-raises.hold=abc", 'calf.yaml: --set exercises.calf-raises.hold: "abc" is not a duration; '
                                       "write 5s, 1m30s or 90"),
    ("exercises.calf-raise.hold=5s", 'calf.yaml: --set exercises.calf-raise.hold: no exercise has the id '
                                     '"calf-raise"; did you mean "calf-raises"? (ids: calf-raises, ankle-circles)'),
    ("voice.rat=140", 'calf.yaml: --set voice.rat: unknown key "rat"; did you mean "rate"?'),
    ("voice.rate=1000", "calf.yaml: --set voice.rate: 1000 is out of range; use a value from 80 to 400"),
    ("exercises.calf-raises=5s", "calf.yaml: --set exercises.calf-raises: name an exercise and a field, e.g. "
                                 "`exercises.calf-raises.hold=15s`"),
    ("exercises.calf-raises.hold=0.1", "calf.yaml: --set exercises.calf-raises.hold: 0.1 s is too short; a hold "
                                       "lasts at least 0.5 s (its start tone must fit), e.g. 5s"),
    ("variants.quick.prepare=1", "calf.yaml: --set variants.quick.prepare: variants cannot be set from the command "
                                 "line; use --variant NAME"),
    ("time_scale=0.08", "calf.yaml: --set time_scale: 0.08 is out of range; use a value from 0.1 to 10.0"),
])
def test_a_bad_setting_names_the_flag_and_the_path(routine_file, setting, message):
    with pytest.raises(RoutineError) as caught:
        routine_file.session(None, [parse_setting(setting)])
    assert shown(caught.value) == message


def test_a_time_scale_that_makes_a_hold_too_short_names_the_flag(routine_file):
    with pytest.raises(RoutineError) as caught:
        routine_file.session(None, [parse_setting("exercises.calf-raises.hold=4s"), time_scale_setting(0.1)])
    assert shown(caught.value) == ("calf.yaml: --time-scale: 0.1 makes the hold of Calf raises 0.4 s; a hold lasts at "
                                 "least 0.5 s, so use a larger time_scale or a longer hold")


@pytest.mark.parametrize("text, message", [
    ("voice.rate", "--set: \"voice.rate\" is not PATH=VALUE; write e.g. `--set exercises.ankle-circles.hold=15s` "
                   "or `--set voice.rate=140`"),
    ("voice..rate=3", '--set: "voice..rate" is not a dotted path; write e.g. `defaults.rest=30s`'),
])
def test_a_malformed_setting_is_one_line(text, message):
    with pytest.raises(RoutineError) as caught:
        parse_setting(text)
    assert shown(caught.value) == message


def test_a_variant_named_base_is_refused(tmp_path):
    path = write_routine(tmp_path, "title: T\nexercises: [{name: A, hold: 5s}]\nvariants:\n  base: {prepare: 1}\n")
    with pytest.raises(RoutineError) as caught:
        load_routine_file(path, display_name="t.yaml")
    assert shown(caught.value) == ('t.yaml:4: variants.base: "base" names the routine without a variant; '
                                 "give the variant another name")


@settings(max_examples=60, deadline=None)
@given(holds_ms=st.tuples(st.integers(500, 600_000), st.integers(10_001, 600_000)),  # ankle-circles says "10 s left"
       rest_ms=st.integers(0, 120_000), factor=st.sampled_from([0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0]))
def test_settings_then_time_scale_give_exactly_the_scaled_values(tmp_path_factory, holds_ms, rest_ms, factor):
    path = write_routine(tmp_path_factory.mktemp("r"), ROUTINE, "calf.yaml")
    routine_file = load_routine_file(path, display_name="calf.yaml", check_variants=False)
    settings = [parse_setting(f"exercises.calf-raises.hold={holds_ms[0] / 1000}"),
                parse_setting(f"exercises.ankle-circles.hold={holds_ms[1] / 1000}"),
                parse_setting(f"defaults.rest={rest_ms / 1000}"), time_scale_setting(factor)]
    assume(min(round(hold * factor) for hold in holds_ms) >= 500)  # shorter: refused, tested elsewhere
    routine = routine_file.session(None, settings)
    assert [exercise.hold_ms for exercise in routine.exercises] == [round(hold * factor) for hold in holds_ms]
    assert [exercise.rest_ms for exercise in routine.exercises] == [round(rest_ms * factor)] * 2
    for exercise in routine.exercises:
        assert all(0 < call.time_left_ms < exercise.hold_ms for call in exercise.announce)
        assert len({call.time_left_ms for call in exercise.announce}) == len(exercise.announce)


def test_a_broken_variant_refuses_the_file_whichever_session_is_built(tmp_path):
    # As `validate` does: the first broken variant's line, even when only the base would be built.
    with pytest.raises(RoutineError) as caught:
        load_routine_file(write_routine(tmp_path, ROUTINE, "calf.yaml"), display_name="calf.yaml")
    assert str(caught.value) == ('calf.yaml:31: variants.typo-id.exercises.ankle-circle: no exercise has the id '
                                 '"ankle-circle"; did you mean "ankle-circles"? (ids: calf-raises, ankle-circles)')



RESTFUL = """title: Knee
prepare: 4s
exercises:
  - {id: squeeze, name: Squeeze, hold: 5s, reps: 3, rep_rest: 4s, rest: 10s, countdown: 3}
  - {id: reach, name: Reach, hold: 6s, sets: 2, set_rest: 12s}
variants:
  gentle: {rest_scale: 2}
  both: {rest_scale: 2, time_scale: 0.5}
"""


def test_rest_scale_lengthens_only_the_rests_in_a_variant_a_setting_or_a_matrix(tmp_path):
    routine_file = load_routine_file(write_routine(tmp_path, RESTFUL, "knee.yaml"))

    def times(routine):
        squeeze, reach = routine.exercises
        return (routine.prepare_ms, squeeze.hold_ms, squeeze.rep_rest_ms, squeeze.rest_ms, squeeze.countdown,
                reach.hold_ms, reach.set_rest_ms)

    assert times(routine_file.base) == (4000, 5000, 4000, 10_000, 3, 6000, 12_000)
    assert times(routine_file.session("gentle")) == (8000, 5000, 8000, 20_000, 3, 6000, 24_000)  # the holds stay
    assert times(routine_file.session("both")) == (4000, 2500, 4000, 10_000, 3, 3000, 12_000)  # both factors apply
    setting = routine_file.session(settings=(parse_setting("rest_scale=1.5"),))
    assert times(setting)[2:4] == (6000, 15_000) and setting.session_title == "Knee (rest scale 1.5)"
    assert [times(routine_file.session(settings=(setting,)))[2] for setting in parse_matrix("rest_scale=1,3")] == \
        [4000, 12_000]


def test_a_rest_scale_out_of_range_is_one_line(tmp_path):
    routine_file = load_routine_file(write_routine(tmp_path, RESTFUL, "knee.yaml"))
    with pytest.raises(RoutineError) as caught:
        routine_file.session(settings=(parse_setting("rest_scale=20"),))
    assert shown(caught.value) == (f"{tmp_path / 'knee.yaml'}: --set rest_scale: 20 is out of range; use a value "
                                   "from 0.1 to 10.0")
