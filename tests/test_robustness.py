"""Any valid routine, written the many ways a person may write one, loads, plans and lays out without
crashing, and keeps the timing rules; every variant too. Pure: a fake engine gives exact lengths."""

from __future__ import annotations

import yaml
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from voicecoach._audio.layout import layout_session
from voicecoach._errors import LayoutError
from voicecoach._plan.planner import plan_session
from voicecoach._routine.load import load_routine_file

from .conftest import write_routine
from .fake_engine import fake_ms
from .test_layout import assert_timing_rules

TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40).filter(str.strip)


def spelled(seconds: float):
    """The ways the contract lets a person write ``seconds``."""
    whole = int(seconds)
    options = [st.just(seconds), st.just(f"{seconds:g}s"), st.just(f"{seconds:g} seconds")]
    if seconds == whole:
        minutes, rest = divmod(whole, 60)
        options += [st.just(f"{minutes}:{rest:02d}"), st.just(f"{minutes}m{rest}s" if minutes else f"{rest}s")]
        if rest == 0 and minutes:
            options += [st.just(f"{minutes} min"), st.just(f"{minutes}m")]
    return st.one_of(options)


def duration(low_s: float, high_s: float):
    return st.one_of(st.integers(int(max(low_s, 0)), int(high_s)).map(float),
                     st.floats(low_s, high_s).map(lambda s: round(s, 1))).filter(lambda s: s >= low_s)


@st.composite
def exercise_doc(draw, with_hold: bool):
    doc = {"name": draw(TEXT)}
    hold_s = draw(duration(0.5, 180))
    if with_hold:
        doc["hold"] = draw(spelled(hold_s))
    for key, (low, high) in {"rep_rest": (0, 30), "set_rest": (0, 60), "side_rest": (0, 30),
                             "rest": (0, 90)}.items():
        if draw(st.booleans()):
            doc[key] = draw(duration(low, high).flatmap(spelled))
    if draw(st.booleans()):
        doc["sides"] = draw(st.one_of(st.just(True), st.just(False), TEXT, st.lists(TEXT, min_size=1, max_size=3)))
    for key, high in (("sets", 3), ("reps", 4), ("countdown", 10)):
        if draw(st.booleans()):
            doc[key] = draw(st.integers(0 if key == "countdown" else 1, high))
    for key in ("instructions", "cue", "release"):
        if draw(st.booleans()):
            doc[key] = draw(TEXT)
    if with_hold and draw(st.booleans()):
        calls = draw(st.lists(st.one_of(st.just("halfway"), duration(1, 120)), max_size=3))
        calls = [call for call in calls if call == "halfway" or call < hold_s]
        doc["announce"] = [call if call == "halfway" else f"{call:g}s" for call in calls]
    if draw(st.booleans()):
        doc["count_reps"] = draw(st.booleans())
    return doc


@st.composite
def routine_doc(draw):
    default_hold = draw(st.booleans())
    exercises = draw(st.lists(exercise_doc(with_hold=not default_hold), min_size=1, max_size=4))
    for index, exercise in enumerate(exercises):
        exercise["id"] = f"ex-{index}"
    doc = {"title": draw(TEXT), "exercises": exercises}
    if default_hold:
        doc["defaults"] = {"hold": draw(duration(0.5, 60).flatmap(spelled))}
    for key in ("intro", "outro", "description"):
        if draw(st.booleans()):
            doc[key] = draw(TEXT)
    if draw(st.booleans()):
        doc["prepare"] = draw(duration(0, 20).flatmap(spelled))
    if draw(st.booleans()):
        doc["voice"] = {"rate": draw(st.integers(80, 400))}
    variants = {}
    for name in draw(st.lists(st.sampled_from(["quick", "long", "gentle"]), unique=True, max_size=2)):
        variant = {"time_scale": draw(st.sampled_from([0.5, 1.5, 2]))}
        if draw(st.booleans()):
            variant["exercises"] = {"ex-0": {"rep_rest": draw(duration(0, 20).flatmap(spelled))}}
        variants[name] = variant
    if variants:
        doc["variants"] = variants
    return doc


@given(doc=routine_doc())
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
def test_any_valid_routine_and_its_variants_keep_the_timing_rules(tmp_path, doc):
    path = write_routine(tmp_path, yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))
    routine_file = load_routine_file(path, check_variants=False)  # each variant is made (or refused) below
    laid_out = 0
    for variant in (None, *routine_file.variant_names):
        try:
            routine = routine_file.session(variant)
        except Exception as error:  # noqa: BLE001 - the only acceptable failure is a too-short scaled hold
            assert "a hold lasts at least" in str(error), error
            event("a variant scales a hold below 0.5 s (refused with its line)")
            continue
        plan = plan_session(routine)
        try:
            timeline = layout_session(plan, {text: fake_ms(text) for text in plan.phrases()})
        except LayoutError:
            event("a call does not fit its hold (refused with its line)")
            continue
        assert_timing_rules(plan, timeline)
        laid_out += 1
    assume(laid_out > 0)  # a routine none of whose sessions could be laid out tested nothing here
