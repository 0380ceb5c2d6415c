"""Programs, the pure part: the file read, each week's values, the days and their dates, the checks (each with
its exact line), and the table. No speech: the end-to-end builds are in test_program_build.py."""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voicecoach._errors import RoutineError
from voicecoach._program.expand import duration_text, program_days, program_specs, value_in_week
from voicecoach._program.load import open_program
from voicecoach._program.model import Quantity, Spread, Stepped
from voicecoach._program.table import program_table
from voicecoach._routine.durations import parse_duration_s, to_ms

ROUTINE = """\
title: Knee home programme
exercises:
  - name: Quad squeeze
    id: quads
    hold: 5s
    sets: 2
    cue: Squeeze
  - name: Heel slide
    id: slides
    hold: 5s
"""


def write(tmp_path: Path, program: str, name: str = "knee.yaml") -> Path:
    path = tmp_path / name
    path.write_text(ROUTINE + program, encoding="utf-8")
    return path


def expanded(tmp_path: Path, program: str):
    routine_file, plan = open_program(write(tmp_path, program))
    return routine_file, plan, program_specs(routine_file, plan)


def refused(tmp_path: Path, program: str) -> str:
    with pytest.raises(RoutineError) as caught:
        expanded(tmp_path, program)
    return str(caught.value).replace(str(tmp_path) + "/", "")


# ---------------------------------------------------------------- each week's value


def seconds(text: str) -> Quantity:
    return Quantity(Decimal(repr(parse_duration_s(text))), "s")


def test_a_step_every_week_stops_at_its_max():
    rule = Stepped(seconds("5s"), seconds("2s"), 1, seconds("10s"))
    assert [value_in_week(rule, week, 6) for week in range(1, 7)] == ["5s", "7s", "9s", "10s", "10s", "10s"]


def test_a_step_every_two_weeks_changes_on_odd_weeks():
    rule = Stepped(Quantity(Decimal(2)), Quantity(Decimal(1)), 2)
    assert [value_in_week(rule, week, 6) for week in range(1, 7)] == [2, 2, 3, 3, 4, 4]


def test_a_step_down_stops_at_its_min():
    rule = Stepped(Quantity(Decimal("1.5")), Quantity(Decimal("-0.25")), 1, Quantity(Decimal("1")))
    assert [value_in_week(rule, week, 4) for week in range(1, 5)] == [1.5, 1.25, 1.0, 1.0]


def test_from_to_is_spread_evenly_and_rounded_half_up_to_whole_numbers():
    rule = Spread(Quantity(Decimal(2)), Quantity(Decimal(4)))
    # 2, 2.4, 2.8, 3.2, 3.6, 4
    assert [value_in_week(rule, week, 6) for week in range(1, 7)] == [2, 2, 3, 3, 4, 4]


def test_from_to_keeps_the_decimals_of_its_more_precise_end():
    rule = Spread(seconds("5s"), seconds("7.5s"))
    assert [value_in_week(rule, week, 4) for week in range(1, 5)] == ["5s", "5.8s", "6.7s", "7.5s"]


def test_from_to_over_one_week_is_its_start():
    assert value_in_week(Spread(Quantity(Decimal(2)), Quantity(Decimal(4))), 1, 1) == 2


def test_durations_are_written_as_a_routine_writes_them():
    assert [duration_text(Decimal(value)) for value in ("7.5", "90", "720", "3600", "14402", "0")] == [
        "7.5s", "1m30s", "12m", "1h", "4h2s", "0s"]


@given(st.decimals(min_value=0, max_value=14_400, places=3))
@settings(max_examples=200, deadline=None)
def test_a_duration_text_reads_back_as_its_milliseconds(amount):
    assert to_ms(parse_duration_s(duration_text(amount))) == int(amount * 1000)


@given(start=st.integers(1, 50), end=st.integers(1, 50), weeks=st.integers(2, 20))
@settings(max_examples=200, deadline=None)
def test_a_spread_starts_and_ends_on_its_values_and_never_turns_back(start, end, weeks):
    rule = Spread(Quantity(Decimal(start)), Quantity(Decimal(end)))
    values = [value_in_week(rule, week, weeks) for week in range(1, weeks + 1)]
    assert values[0] == start and values[-1] == end
    assert values == sorted(values, reverse=end < start)


# ---------------------------------------------------------------- days, dates and deload weeks


def test_days_follow_the_start_date_and_weeks_are_seven_days_apart(tmp_path):
    _, plan, specs = expanded(tmp_path, """\
program:
  weeks: 2
  days: [fri, mon, wed]
  start: 2027-01-04
  progression:
    exercises.quads.hold: [5s, 6s]
""")
    assert [(spec.day.week, spec.day.day, spec.day.weekday, spec.day.date.isoformat()) for spec in specs] == [
        (1, 1, "mon", "2027-01-04"), (1, 2, "wed", "2027-01-06"), (1, 3, "fri", "2027-01-08"),
        (2, 1, "mon", "2027-01-11"), (2, 2, "wed", "2027-01-13"), (2, 3, "fri", "2027-01-15")]


def test_a_week_is_the_seven_days_from_the_start(tmp_path):
    _, plan, _ = expanded(tmp_path, """\
program:
  weeks: 1
  days: [mon, wed, fri]
  start: 2027-01-06
""")
    days = program_days(plan)
    assert [(day.weekday, day.date) for day, _ in days] == [
        ("wed", datetime.date(2027, 1, 6)), ("fri", datetime.date(2027, 1, 8)), ("mon", datetime.date(2027, 1, 11))]


def test_days_per_week_spreads_the_days_over_the_week(tmp_path):
    _, plan, _ = expanded(tmp_path, "program: {weeks: 1, days_per_week: 3, start: 2027-01-04}\n")
    assert [day.date.isoformat() for day, _ in program_days(plan)] == ["2027-01-04", "2027-01-06", "2027-01-08"]


def test_a_deload_week_repeats_the_week_before_and_the_next_week_goes_on(tmp_path):
    _, _, specs = expanded(tmp_path, """\
program:
  weeks: 5
  days_per_week: 1
  deload: [4]
  progression:
    exercises.quads.hold: {from: 5s, step: 1s}
""")
    assert [spec.made[0].value for spec in specs] == ["5s", "6s", "7s", "7s", "9s"]


def test_a_day_of_its_own_wins_over_the_progression(tmp_path):
    _, _, specs = expanded(tmp_path, """\
program:
  weeks: 2
  days:
    mon:
    fri: {exercises.quads.sets: 1, rest_scale: [1.5, 2]}
  progression:
    exercises.quads.sets: [2, 3]
""")
    assert [{setting.path: setting.value for setting in spec.made} for spec in specs] == [
        {"exercises.quads.sets": 2}, {"exercises.quads.sets": 1, "rest_scale": 1.5},
        {"exercises.quads.sets": 3}, {"exercises.quads.sets": 1, "rest_scale": 2}]


def test_a_program_file_names_its_routine(tmp_path):
    (tmp_path / "knee.yaml").write_text(ROUTINE, encoding="utf-8")
    (tmp_path / "knee-program.yaml").write_text("""\
routine: knee.yaml
weeks: 2
days: [tue, thu]
progression:
  exercises.slides.hold: [5s, 8s]
""", encoding="utf-8")
    routine_file, plan = open_program(tmp_path / "knee-program.yaml")
    specs = program_specs(routine_file, plan)
    assert routine_file.base.title == "Knee home programme"
    assert [spec.routine(routine_file).session_title for spec in specs] == [
        "Week 1 · Day 1", "Week 1 · Day 2", "Week 2 · Day 1", "Week 2 · Day 2"]
    assert [spec.routine(routine_file).exercises[1].hold_ms for spec in specs] == [5000, 5000, 8000, 8000]


def test_sessions_are_titled_in_their_language_and_named_in_program_order(tmp_path):
    routine_file, _, specs = expanded(tmp_path, "language: de\nprogram: {weeks: 10, days_per_week: 2}\n")
    routines = [spec.routine(routine_file) for spec in specs]
    assert routines[3].session_title == "Woche 2 · Tag 2"
    assert routines[3].album == "Knee home programme"
    assert [routine.slug for routine in routines[:2]] == ["knee-home-programme--week-01--day-1",
                                                         "knee-home-programme--week-01--day-2"]
    assert [routine.slug for routine in routines] == sorted(routine.slug for routine in routines)


# ---------------------------------------------------------------- what is refused, in one line each


def test_a_list_of_the_wrong_length_is_refused(tmp_path):
    assert refused(tmp_path, """\
program:
  weeks: 4
  days: [mon, wed, fri]
  progression:
    exercises.quads.hold: [5s, 6s, 7s]
""") == "knee.yaml:15: program.progression.exercises.quads.hold: has 3 values for 4 weeks; give one value per week"


def test_a_path_that_does_not_exist_is_refused_naming_the_week_and_day(tmp_path):
    assert refused(tmp_path, """\
program:
  weeks: 4
  days: [mon, wed, fri]
  progression:
    exercises.quad.hold: [5s, 6s, 7s, 8s]
""") == ('knee.yaml:15: program.progression.exercises.quad.hold: week 1, day 1 (mon), where it makes 5s: '
         'no exercise has the id "quad"; did you mean "quads"? (ids: quads, slides)')


def test_a_field_that_does_not_exist_is_refused(tmp_path):
    assert refused(tmp_path, """\
program:
  weeks: 2
  days_per_week: 2
  progression:
    exercises.quads.hould: [5s, 6s]
""") == ('knee.yaml:15: program.progression.exercises.quads.hould: week 1, day 1, where it makes 5s: '
         'unknown key "hould"; did you mean "hold"?')


def test_a_step_past_the_limits_is_refused_in_the_week_it_gets_there(tmp_path):
    assert refused(tmp_path, """\
program:
  weeks: 6
  days: [mon, wed, fri]
  start: 2027-01-04
  progression:
    exercises.quads.hold: {from: 5s, step: 1h}
""") == ("knee.yaml:16: program.progression.exercises.quads.hold: week 5, day 1 (mon, 2027-02-01), where it makes "
         "4h5s: 4 h 5 s is longer than the 4 hour limit; write at most 4h, e.g. 30s, 2m or 1h")


def test_a_set_count_of_zero_is_refused(tmp_path):
    assert refused(tmp_path, """\
program:
  weeks: 3
  days_per_week: 1
  progression:
    exercises.quads.sets: {from: 2, step: -1}
""") == ("knee.yaml:15: program.progression.exercises.quads.sets: week 3, day 1, where it makes 0: "
         "0 is out of range; use a value from 1 to 1000")


def test_a_day_of_its_own_is_named_where_it_is_written(tmp_path):
    assert refused(tmp_path, """\
program:
  weeks: 2
  days:
    mon:
    fri: {exercises.quads.hold: 0.1s}
""") == ("knee.yaml:15: program.days.fri.exercises.quads.hold: week 1, day 2 (fri), where it makes 0.1s: "
         "0.1 s is too short; a hold lasts at least 0.5 s (its start tone must fit), e.g. 5s")


@pytest.mark.parametrize("program, line", [
    ("program: {days: [mon]}\n", "knee.yaml:11: program: has no weeks; add e.g. `weeks: 6`"),
    ("program: {weeks: 1000, days: [mon]}\n",
     "knee.yaml:11: program.weeks: 1000 is not a number of weeks; write a whole number from 1 to 104, e.g. "
     "`weeks: 6`"),
    ("program: {weeks: 2}\n", "knee.yaml:11: program: has no days; add e.g. `days: [mon, wed, fri]` or "
                              "`days_per_week: 3`"),
    ("program: {weeks: 2, days: [mon, funday]}\n",
     'knee.yaml:11: program.days[1]: "funday" is not a day of the week; write mon, tue, wed, thu, fri, sat or sun'),
    ("program: {weeks: 2, days: [mon, monday]}\n",
     "knee.yaml:11: program.days: names mon twice; name each day of the week once"),
    ("program: {weeks: 2, days: [mon], start: 2027-02-30}\n",
     'knee.yaml:11: program.start: "2027-02-30" is not a date; write the first day as YYYY-MM-DD, e.g. '
     "`start: 2027-01-04`"),
    ("program: {weeks: 4, days: [mon], deload: [1]}\n",
     "knee.yaml:11: program.deload[0]: week 1 has no week before it to repeat; a deload week is 2 or later"),
    ("program: {weeks: 4, days: [mon], progression: {exercises.quads.hold: {from: 5s, to: 9s, step: 1s}}}\n",
     "knee.yaml:11: program.progression.exercises.quads.hold.step: goes with `step`, not with `to`; give either "
     "{from, to} or {from, step, every, max}"),
    ("program: {weeks: 4, days: [mon], progression: {exercises.quads.hold: {from: 5s, step: 1s, min: 2s}}}\n",
     "knee.yaml:11: program.progression.exercises.quads.hold.min: goes the other way from the step; a step up "
     "stops at max, a step down at min"),
    ("program: {weeks: 4, days: [mon], progression: {exercises.quads.sets: {from: 1.0e+300, step: 1}}}\n",
     "knee.yaml:11: program.progression.exercises.quads.sets.from: 1e+300 is far too large; a rule's numbers "
     "are at most 1,000,000,000"),
    ("program: {weeks: 4, days: [mon], progression: {exercises.quads.hold: {from: 5 sex, step: 1s}}}\n",
     'knee.yaml:11: program.progression.exercises.quads.hold.from: "5 sex" is not a duration; write 5s, 1m30s '
     "or 90"),
    ("program: {weeks: 4, days: [mon], progression: {variants.x: [1, 2, 3, 4]}}\n",
     "knee.yaml:11: program.progression.variants.x: variants cannot change from week to week; change the fields "
     "of the routine, e.g. `exercises.squat.hold`"),
    ("program: {weeks: 4, days: [mon], progression: {exercises.quads.hold: 5s}}\n",
     "knee.yaml:11: program.progression.exercises.quads.hold: is not a list of one value per week or a rule; "
     "write e.g. `[5s, 6s, 7s]`, `{from: 5s, step: 1s, max: 10s}` or `{from: 2, to: 4}`"),
])
def test_a_program_of_the_wrong_shape_is_refused_in_one_line(tmp_path, program, line):
    assert refused(tmp_path, program) == line


def test_a_routine_without_a_program_says_how_to_add_one(tmp_path):
    with pytest.raises(RoutineError) as caught:
        open_program(write(tmp_path, ""))
    assert str(caught.value).endswith("knee.yaml: has no program; add a `program:` section (weeks, days, "
                                      "progression), or give a program file that names this routine "
                                      "(`routine: knee.yaml`)")


def test_a_variant_cannot_hold_a_program(tmp_path):
    with pytest.raises(RoutineError) as caught:
        expanded(tmp_path, "program: {weeks: 1, days: [mon]}\nvariants:\n  gentle: {program: {weeks: 2}}\n")
    assert "variants.gentle.program: a variant cannot hold a program" in str(caught.value)


# ---------------------------------------------------------------- the table


def test_the_table_shows_every_day_with_the_values_that_change(tmp_path):
    routine_file, plan, specs = expanded(tmp_path, """\
program:
  weeks: 3
  days: [mon, fri]
  start: 2027-01-04
  deload: [3]
  progression:
    exercises.quads.hold: {from: 5s, step: 2s}
    exercises.quads.sets: [2, 3, 3]
""")
    assert program_table(routine_file.base.title, plan, specs) == """\
Knee home programme: 3 weeks, 2 days a week (mon, fri), from 2027-01-04; deload week 3
week  day  when            quads.hold  quads.sets  same as
   1    1  mon 2027-01-04  5s          2
   1    2  fri 2027-01-08  5s          2           w1 d1
   2    1  mon 2027-01-11  7s          3
   2    2  fri 2027-01-15  7s          3           w2 d1
   3    1  mon 2027-01-18  7s          3           w2 d1, deload
   3    2  fri 2027-01-22  7s          3           w2 d1, deload
6 sessions, 2 distinct (each built once; "same as" names the day whose audio a day shares)
"""


def test_the_bundled_program_is_valid_and_its_days_alike_within_each_week():
    routine_file, plan = open_program(None)
    specs = program_specs(routine_file, plan)
    assert len(specs) == 24
    assert len({spec.made for spec in specs}) == 8


def test_a_variant_and_a_matrix_over_a_program_are_more_sets_of_its_days(tmp_path):
    from voicecoach._catalog.specs import batch_specs
    from voicecoach._routine.settings import parse_matrix

    routine_file, plan = open_program(write(tmp_path, """\
variants:
  gentle: {rest_scale: 1.5}
program:
  weeks: 2
  days: [mon, thu]
  progression:
    exercises.quads.hold: [5s, 7s]
"""))
    bases = batch_specs(routine_file, ["base", "gentle"], matrix=[parse_matrix("voice.rate=140,180")])
    routines = [spec.routine(routine_file) for spec in program_specs(routine_file, plan, bases)]
    assert len(routines) == 2 * 2 * 4
    assert [(routine.album, routine.session_title, routine.slug) for routine in routines[::4]] == [
        ("Knee home programme (rate 140)", "Week 1 · Day 1", "knee-home-programme--rate-140--week-1--day-1"),
        ("Knee home programme (rate 180)", "Week 1 · Day 1", "knee-home-programme--rate-180--week-1--day-1"),
        ("Knee home programme (gentle, rate 140)", "Week 1 · Day 1",
         "knee-home-programme--gentle--rate-140--week-1--day-1"),
        ("Knee home programme (gentle, rate 180)", "Week 1 · Day 1",
         "knee-home-programme--gentle--rate-180--week-1--day-1")]
    assert [routine.exercises[0].hold_ms for routine in routines[:4]] == [5000, 5000, 7000, 7000]
    assert {routine.voice.rate_wpm for routine in routines[4:8]} == {180}


def test_a_program_file_whose_routine_is_not_there_says_so_on_its_line(tmp_path):
    (tmp_path / "program.yaml").write_text("weeks: 2\ndays: [mon]\nroutine: knees.yaml\n", encoding="utf-8")
    with pytest.raises(RoutineError) as caught:
        open_program(tmp_path / "program.yaml")
    assert str(caught.value) == (f'{tmp_path}/program.yaml:3: routine: "knees.yaml" is not a file beside this one; '
                                 "name the routine file by its path from this file's folder, e.g. "
                                 "`routine: knee.yaml`")


def test_a_folder_with_a_program_file_and_its_routine_is_one_program(tmp_path):
    from voicecoach._program.build import open_programs

    (tmp_path / "knee.yaml").write_text(ROUTINE, encoding="utf-8")
    (tmp_path / "knee-program.yaml").write_text("routine: knee.yaml\nweeks: 2\ndays: [mon]\n", encoding="utf-8")
    ((routine_file, plan, specs),) = open_programs([tmp_path])
    assert routine_file.base.title == "Knee home programme" and len(specs) == 2
    (tmp_path / "knee-program.yaml").unlink()
    with pytest.raises(RoutineError) as caught:
        open_programs([tmp_path])
    assert str(caught.value) == (f"{tmp_path}: holds no program (a routine with a `program:` section, or a program "
                                 "file); add one, or build its routines without --program")


def test_script_shows_one_program_and_says_so_for_a_folder(tmp_path):
    from typer.testing import CliRunner

    from voicecoach._cli.app import app

    result = CliRunner().invoke(app, ["script", "--program", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr == (f"{tmp_path}: is a folder; give one routine with a program, or a program file, to "
                             "show its program\n")


def test_building_a_program_file_as_a_routine_says_how_to_build_it(tmp_path):
    from typer.testing import CliRunner

    from voicecoach._cli.app import app

    (tmp_path / "knee.yaml").write_text(ROUTINE, encoding="utf-8")
    (tmp_path / "program.yaml").write_text("routine: knee.yaml\nweeks: 2\ndays: [mon]\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["build", str(tmp_path / "program.yaml"), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert result.stderr == (f"{tmp_path}/program.yaml:1: routine: this is a program file (it names its routine, and "
                             "has no exercises of its own); build its days with `voicecoach batch --program FILE`, "
                             "or build the routine it names\n")
