"""A fuzzer of the loader, `--set` and variants: whatever the YAML holds, the answer is a routine or one line.

Hypothesis writes routine files with values of every shape and scalar type in the places a routine has
(huge, tiny, negative and not-a-number numbers, deep trees, odd texts), and overrides of the same kinds. Every
failure must be a VoicecoachError of one line: never another exception, never a traceback. The budget is a
number of examples, not seconds.
"""

from __future__ import annotations

import math

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import voicecoach as vc
from voicecoach._plan.planner import plan_session

SCALARS = st.one_of(
    st.none(), st.booleans(),
    st.integers(), st.integers(min_value=10 ** 20, max_value=10 ** 400), st.integers(max_value=-1),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0.0, -0.0, 1e-300, 1e300, math.nan]),
    st.text(max_size=30), st.sampled_from(["5s", "1:30", "3-1-1-0", "halfway", "en", "pyttsx3", "", " ", "-5s",
                                            "1e999", "0x10", "NaN", "inf", "9" * 200 + "s"]),
)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                      max_leaves=12)
PLACES = ["title", "intro", "outro", "language", "prepare", "time_scale", "lexicon", "description", "crossfade",
          "voice", "voice.rate", "voice.volume", "voice.name", "voice.engine", "defaults", "defaults.hold",
          "defaults.rest", "defaults.countdown", "defaults.announce", "exercises", "exercises.0",
          "exercises.0.name", "exercises.0.hold", "exercises.0.sets", "exercises.0.reps", "exercises.0.sides",
          "exercises.0.tempo", "exercises.0.announce", "exercises.0.countdown_style", "exercises.0.rep_rest",
          "exercises.0.id", "variants", "variants.quick", "variants.quick.exercises", "audio", "audio.tone_gain_db",
          "music_gain_db", "unknown_key"]
BASE = {"title": "Fuzzed", "voice": {"rate": 160}, "defaults": {"hold": "5s"},
        "exercises": [{"name": "Plank", "hold": "3s"}, {"name": "Bridge"}], "variants": {"quick": {"prepare": 2}}}


def _placed(tree: dict, place: str, value: object) -> dict:
    """``tree`` with ``value`` at the dotted ``place`` (made where it is missing)."""
    node: object = tree
    parts = place.split(".")
    for part in parts[:-1]:
        key: object = int(part) if part.isdigit() else part
        if isinstance(node, list) and isinstance(key, int) and key < len(node):
            node = node[key]
        elif isinstance(node, dict):
            node = node.setdefault(key, {})
        else:
            return tree
    last: object = int(parts[-1]) if parts[-1].isdigit() else parts[-1]
    if isinstance(node, list) and isinstance(last, int) and last < len(node):
        node[last] = value
    elif isinstance(node, dict):
        node[last] = value
    return tree


def _one_line_or_a_routine(action) -> None:
    try:
        routine = action()
        plan_session(routine)
    except vc.VoicecoachError as error:
        assert "\n" not in str(error) and str(error).strip(), repr(str(error))


@given(st.lists(st.tuples(st.sampled_from(PLACES), VALUES), min_size=1, max_size=4))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_value_anywhere_in_the_file_is_a_routine_or_one_line(changes):
    tree = yaml.safe_load(yaml.safe_dump(BASE))
    for place, value in changes:
        tree = _placed(tree, place, value)
    text = yaml.safe_dump(tree, allow_unicode=True)
    _one_line_or_a_routine(lambda: vc.parse_routine(text, source="fuzz.yaml"))


@given(st.dictionaries(st.sampled_from(PLACES + ["exercises.plank.hold", "exercises.bridge.reps",
                                                 "exercises.nothing.hold"]), VALUES, min_size=1, max_size=3),
       st.sampled_from([None, "quick"]))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_override_over_any_variant_is_a_routine_or_one_line(tmp_path_factory, overrides, variant):
    path = tmp_path_factory.mktemp("fuzz") / "fuzz.yaml"
    path.write_text(yaml.safe_dump(BASE), encoding="utf-8")
    _one_line_or_a_routine(lambda: vc.load_routine(path, variant=variant, settings=overrides))
