"""The planner: pure, routine in, narrated script out."""

from __future__ import annotations

from hypothesis import given, settings

from voicecoach._plan.planner import plan_session
from voicecoach._plan.script import format_script
from voicecoach._plan.steps import Gap, Hold, Talk
from voicecoach._routine.read import parse_routine

from .strategies import routines

ROUTINE = """\
title: Knee care
intro: Hello.
outro: Bye.
exercises:
  - name: Heel slides
    instructions: Slide your heel.
    sets: 2
    reps: 2
    hold: 5s
  - name: Calf stretch
    sides: [left leg, right leg]
    hold: 30s
    cue: Lean
"""


def spoken(lines):
    return [line.text for line in lines]


def test_the_script_in_order():
    plan = plan_session(parse_routine(ROUTINE))
    kinds = [type(step).__name__ for step in plan.steps]
    assert kinds == ["Talk", "Gap", "Hold", "Gap", "Hold", "Gap", "Hold", "Gap", "Hold",
                     "Gap", "Hold", "Gap", "Hold", "Talk"]
    opening, prepare = plan.steps[0], plan.steps[1]
    assert spoken(opening.lines) == ["Hello.", "Exercise 1 of 2: Heel slides", "Slide your heel.", "Set 1 of 2"]
    assert [line.chapter for line in opening.lines] == ["Intro", "Heel slides", None, None]
    # Rests left out of the routine, and prepare, last their speech plus a few seconds (at least the countdown).
    assert (prepare.after, prepare.fitted, prepare.asked_ms, spoken(prepare.tail)) == \
        ("prepare", True, 5000, ["Rep 1 of 2"])
    assert prepare.name == "prepare before Heel slides"
    between_reps, between_sets = plan.steps[3], plan.steps[5]
    assert (between_reps.after, spoken(between_reps.head), spoken(between_reps.tail)) == \
        ("rep", ["Release"], ["Rep 2 of 2"])
    assert (between_reps.fitted, between_reps.asked_ms, between_reps.exercise) == (True, 3000, "Heel slides")
    assert (between_sets.after, spoken(between_sets.head), spoken(between_sets.tail)) == \
        ("set", ["Release", "Rest"], ["Set 2 of 2", "Rep 1 of 2"])
    between_exercises = plan.steps[9]
    assert between_exercises.after == "exercise" and between_exercises.asked_ms == 15_000
    assert between_exercises.exercise == "Heel slides"  # the rest after Heel slides is its `rest`
    assert spoken(between_exercises.tail) == ["Next up: Exercise 2 of 2: Calf stretch", "Left leg"]
    assert between_exercises.tail[0].chapter == "Calf stretch"
    between_sides = plan.steps[11]
    assert (between_sides.after, spoken(between_sides.tail)) == ("side", ["Right leg"])
    calf = plan.steps[12]
    assert [(call.text, call.at_ms) for call in calf.calls] == [("Lean", None), ("Halfway", 15_000)]
    closing = plan.steps[-1]
    assert spoken(closing.lines) == ["Release", "Session complete", "Bye."]
    assert closing.lines[1].chapter == "Outro"


def test_each_phrase_is_listed_once():
    phrases = plan_session(parse_routine(ROUTINE)).phrases()
    assert len(phrases) == len(set(phrases))
    assert "Rep 2 of 2" in phrases and "Halfway" in phrases


def test_the_readable_script_shows_holds_and_rests():
    text = format_script(plan_session(parse_routine(ROUTINE)))
    assert "  HOLD    5 s  Heel slides (set 2, rep 1)" in text
    assert "  rest    speech + 10 s, countdown 3" in text  # set_rest left out: its speech plus 10 s
    assert "  prepare speech + 5 s, countdown 3" in text
    assert '    say "Lean" after the start tone' in text


def test_a_rest_written_is_exact_and_one_left_out_holds_its_countdown():
    plan = plan_session(parse_routine(
        "title: x\nprepare: 2s\ndefaults: {countdown: 5}\nexercises:\n"
        "  - {name: a, hold: 5s, reps: 2, rep_rest: 4s}\n  - {name: b, hold: 5s, reps: 2}\n"))
    gaps = [(step.after, step.fitted, step.asked_ms) for step in plan.steps if isinstance(step, Gap)]
    assert gaps == [("prepare", False, 2000), ("rep", False, 4000), ("exercise", True, 15_000), ("rep", True, 5000)]
    assert "  rest    speech + 5 s, countdown 5" in format_script(plan)
    assert plan.lead_in_ms == 1000


def test_a_session_over_twelve_hours_is_refused():
    import pytest

    from voicecoach._errors import RoutineError
    with pytest.raises(RoutineError, match="a session is at most 12 hours"):
        plan_session(parse_routine("title: x\nexercises: [{name: a, hold: 4h, sets: 4}]", "k.yaml"))


@given(routines())
@settings(max_examples=150, deadline=None)
def test_every_rep_is_planned_once_in_order(routine):
    plan = plan_session(routine)
    holds = plan.holds
    assert len(holds) == sum(len(e.sides) * e.sets * e.reps for e in routine.exercises)
    assert isinstance(plan.steps[0], Talk) and isinstance(plan.steps[-1], Talk)
    for before, step, after in zip(plan.steps, plan.steps[1:], plan.steps[2:]):
        if isinstance(step, Hold):
            assert isinstance(before, Gap)  # every hold is led into by a gap (or prepare)
            assert isinstance(after, (Gap, Talk))
    for hold in holds:
        assert hold.hold_ms == routine.exercises[hold.exercise_index].hold_ms
