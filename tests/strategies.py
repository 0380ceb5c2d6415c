"""Hypothesis strategies: valid routines as the loader would produce them. (Speech lengths: ``fake_engine``.)"""

from __future__ import annotations

from hypothesis import strategies as st

from voicecoach._routine.model import REST_FIELDS, Announcement, Exercise, Routine


@st.composite
def exercises(draw, index: int) -> Exercise:
    hold_ms = draw(st.integers(1, 120) .map(lambda s: s * 1000) | st.integers(500, 90_000))
    calls = draw(st.lists(st.sampled_from(["halfway", 5_000, 10_000, 30_000, 60_000]), max_size=3, unique=True))
    announce = tuple(Announcement(hold_ms // 2, True) if call == "halfway" else Announcement(call)
                     for call in calls if call == "halfway" or call < hold_ms)
    sides = draw(st.sampled_from([(None,), ("left", "right"), ("left foot", "right foot", "middle")]))
    return Exercise(
        id=f"ex-{index}", name=draw(st.sampled_from(["Plank", "Ankle circles", "Wall sit", "Bridge"])),
        index=index, hold_ms=hold_ms, sides=sides,
        sets=draw(st.integers(1, 3)), reps=draw(st.integers(1, 4)),
        instructions=draw(st.none() | st.sampled_from(["Lie down.", "Stand tall and breathe slowly."])),
        cue=draw(st.none() | st.sampled_from(["Go", "Push"])),
        release=draw(st.none() | st.just("Relax")),
        rep_rest_ms=draw(st.integers(0, 20_000)), set_rest_ms=draw(st.integers(0, 30_000)),
        side_rest_ms=draw(st.integers(0, 20_000)), rest_ms=draw(st.integers(0, 40_000)),
        fitted_rests=draw(st.frozensets(st.sampled_from(REST_FIELDS))),  # left out: its speech plus the ms above
        countdown=draw(st.integers(0, 5)), announce=announce, count_reps=draw(st.booleans()),
    )


@st.composite
def routines(draw) -> Routine:
    count = draw(st.integers(1, 4))
    return Routine(
        title="Generated", exercises=tuple(draw(exercises(index)) for index in range(count)),
        intro=draw(st.none() | st.just("Welcome to the session.")),
        outro=draw(st.none() | st.just("Good work.")),
        prepare_ms=draw(st.integers(0, 15_000)), prepare_fitted=draw(st.booleans()),
        lead_in_ms=draw(st.sampled_from([0, 1000]) | st.integers(0, 10_000)),
    )
