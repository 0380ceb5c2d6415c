"""Programs given hostile or odd input: each is one line naming where, what is wrong and what would be right (and
exit code 2 from the command line), never a traceback, a hang or a silently wrong program."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from voicecoach._cli.app import app
from voicecoach._errors import RoutineError
from voicecoach._program.expand import program_specs
from voicecoach._program.load import open_program
from voicecoach._program.table import program_table

from .test_program import ROUTINE, expanded, refused, write  # one knee routine and its helpers


def file_refused(path: Path) -> str:
    with pytest.raises(RoutineError) as caught:
        routine_file, plan = open_program(path)
        program_specs(routine_file, plan)
    return str(caught.value).replace(str(path.parent) + "/", "")


def values(specs, path: str) -> list:
    return [next(setting.value for setting in spec.made if setting.path == path) for spec in specs]


# ---------------------------------------------------------------- what crashed: now one line, exit code 2


@pytest.mark.parametrize("command", ["script --program", "validate"])
def test_a_start_so_late_that_the_last_days_have_no_date_is_one_line(tmp_path, command):
    path = write(tmp_path, "program: {weeks: 2, days: [mon], start: 9999-12-31}\n")
    result = CliRunner().invoke(app, [*command.split(), str(path)])
    assert result.exit_code == 2
    assert result.stderr == (f"{path}:11: program.start: 9999-12-31 is too late: the program's 2 weeks would end "
                             "after 9999-12-31, the last date there is; start on 9999-12-18 or earlier\n")


def test_the_latest_start_it_names_is_taken(tmp_path):
    _, _, specs = expanded(tmp_path, "program: {weeks: 104, days_per_week: 7, start: 9998-01-03}\n")
    assert specs[-1].day.date.isoformat() == "9999-12-31"
    assert refused(tmp_path, "program: {weeks: 104, days_per_week: 7, start: 9998-01-04}\n") == (
        "knee.yaml:11: program.start: 9998-01-04 is too late: the program's 104 weeks would end after 9999-12-31, "
        "the last date there is; start on 9998-01-03 or earlier")


@pytest.mark.parametrize("key", ["²", "١", "1.0", "-1"])
def test_a_day_number_that_is_not_plain_digits_is_refused(tmp_path, key):
    assert refused(tmp_path, f"program: {{weeks: 2, days_per_week: 3, days: {{'{key}': {{rest_scale: 2}}}}}}\n") == (
        f'knee.yaml:11: program.days.{key}: "{key}" is not a day number; with days_per_week: 3, write a day '
        "number from 1 to 3")


def test_a_list_as_a_week_s_value_is_refused_on_its_line(tmp_path):
    assert refused(tmp_path, """\
program:
  weeks: 2
  days: [mon]
  progression:
    exercises.quads.sides:
      - [left]
      - [left, right]
""") == ("knee.yaml:16: program.progression.exercises.quads.sides[0]: week 1's value [left] is a list; a program "
         "makes one value a week (a number, a duration or a text), e.g. `[5s, 6s, 7s]`")


def test_a_mapping_as_a_week_s_value_is_refused(tmp_path):
    assert refused(tmp_path, "program: {weeks: 2, days: [mon], progression: {voice: [{rate: 140}, {rate: 160}]}}\n"
                   ) == ("knee.yaml:11: program.progression.voice[0]: week 1's value {rate: 140} is a mapping; a "
                         "program makes one value a week (a number, a duration or a text): change each of its "
                         "fields by its own path, e.g. `voice.rate`")


@pytest.mark.parametrize("path, line", [
    ("exercises.quads", "knee.yaml:11: program.progression.exercises.quads: names an exercise, not a field; write "
                        "the field that changes, e.g. `exercises.quads.hold`"),
    ("exercises", "knee.yaml:11: program.progression.exercises: names the exercises, not a field; write the field "
                  "that changes, e.g. `exercises.squat.hold`"),
    ("exercises.quads.id", "knee.yaml:11: program.progression.exercises.quads.id: an exercise's id cannot change "
                           "from week to week; it is how the program finds the exercise"),
    ("title", "knee.yaml:11: program.progression.title: cannot change from week to week: the title names the "
              "program's album and its files; change the fields of the routine, e.g. `exercises.squat.hold`"),
])
def test_a_path_a_program_cannot_change_is_refused_before_any_day(tmp_path, path, line):
    assert refused(tmp_path, f"program: {{weeks: 2, days: [mon], progression: {{{path}: [{{hold: 5s}}, x]}}}}\n"
                   ) == line


@pytest.mark.parametrize("rule, line", [
    ("{from: 1, step: 1.0e-300}", "program.progression.rest_scale.step: 1e-300 has more than 6 decimals; write "
                                  "it with at most 6, e.g. 0.125"),
    ("{from: 1, to: 5.0e-324}", "program.progression.rest_scale.to: 5e-324 has more than 6 decimals; write it "
                                "with at most 6, e.g. 0.125"),
    ("{from: 1.0000001, to: 2}", "program.progression.rest_scale.from: 1.0000001 has more than 6 decimals; write "
                                 "it with at most 6, e.g. 0.125"),
])
def test_a_rule_s_number_with_too_many_decimals_is_refused(tmp_path, rule, line):
    assert refused(tmp_path, f"program: {{weeks: 4, days: [mon], progression: {{rest_scale: {rule}}}}}\n") == (
        "knee.yaml:11: " + line)


@pytest.mark.parametrize("name, shown", [
    ("a" * 300 + ".yaml", '"' + "a" * 36 + "... cannot be opened (File name too long)"),
    ("/".join(["a" * 200] * 30) + ".yaml", '"' + "a" * 36 + "... cannot be opened (File name too long)"),
    ("knee\\0.yaml", '"knee\\x00.yaml" cannot be opened (a file name cannot hold a NUL character)'),
])
def test_a_program_file_naming_an_impossible_file_says_so_on_its_line(tmp_path, name, shown):
    (tmp_path / "program.yaml").write_text(f'routine: "{name}"\nweeks: 2\ndays: [mon]\n', encoding="utf-8")
    assert file_refused(tmp_path / "program.yaml") == (
        f"program.yaml:1: routine: {shown}; name the routine file by its path from this file's folder, "
        "e.g. `routine: knee.yaml`")


# ---------------------------------------------------------------- what was taken, and made a wrong program


def test_a_mapping_of_no_days_is_refused_not_a_program_of_no_sessions(tmp_path):
    assert refused(tmp_path, "program: {weeks: 2, days: {}}\n") == (
        "knee.yaml:11: program.days: names no days; name at least one, e.g. `days: [mon, wed, fri]`")


def test_one_day_number_written_two_ways_is_refused(tmp_path):
    assert refused(tmp_path, "program: {weeks: 2, days_per_week: 2, days: {1: {rest_scale: 2}, '01': "
                             "{rest_scale: 3}}}\n") == (
        "knee.yaml:11: program.days.01: names day 1 twice; give each day's changes once")


def test_a_deload_week_named_twice_is_refused(tmp_path):
    assert refused(tmp_path, "program: {weeks: 4, days: [mon], deload: [3, 3]}\n") == (
        "knee.yaml:11: program.deload[1]: names week 3 twice; name each deload week once")


@pytest.mark.parametrize("start, line", [
    ("20270104", '20270104 is not a date; write the first day as YYYY-MM-DD, e.g. `start: 2027-01-04`'),
    ("'20270104'", '"20270104" is not a date; write the first day as YYYY-MM-DD, e.g. `start: 2027-01-04`'),
    ("2027-W01-1", '"2027-W01-1" is not a date; write the first day as YYYY-MM-DD, e.g. `start: 2027-01-04`'),
    ("2027-01-04 07:30:00", "2027-01-04 07:30:00 has a time of day; the start is a day, so write only its date, "
                            "e.g. `start: 2027-01-04`"),
])
def test_a_start_that_is_not_a_plain_date_is_refused(tmp_path, start, line):
    assert refused(tmp_path, f"program: {{weeks: 2, days: [mon], start: {start}}}\n") == (
        "knee.yaml:11: program.start: " + line)


def test_a_number_in_quotes_is_a_number_not_a_duration(tmp_path):
    _, _, specs = expanded(tmp_path, "program: {weeks: 3, days: [mon], progression: {exercises.quads.sets: "
                                     "{from: '2', step: '1'}, music_gain_db: {from: '-20', step: 2}}}\n")
    assert values(specs, "exercises.quads.sets") == [2, 3, 4]
    assert values(specs, "music_gain_db") == [-20, -18, -16]


def test_a_duration_finer_than_a_millisecond_is_made_in_whole_milliseconds(tmp_path):
    routine_file, plan, specs = expanded(tmp_path, "program: {weeks: 3, days: [mon], progression: "
                                                   "{exercises.quads.hold: {from: 5s, step: 0.0000001s}}}\n")
    assert values(specs, "exercises.quads.hold") == ["5s", "5s", "5s"]
    assert program_table("Knee", plan, specs).splitlines()[-1].startswith("3 sessions, 1 distinct")


def test_the_table_shows_a_number_in_full(tmp_path):
    routine_file, plan, specs = expanded(tmp_path, "program: {weeks: 2, days: [mon], progression: "
                                                   "{rest_scale: {from: 1, step: 0.000001}}}\n")
    rows = program_table("Knee", plan, specs).splitlines()[2:4]
    assert [row.split()[-1] for row in rows] == ["1", "1.000001"]


def test_every_is_read_whatever_its_case(tmp_path):
    _, _, specs = expanded(tmp_path, "program: {weeks: 4, days: [mon], progression: {exercises.quads.sets: "
                                     "{from: 1, step: 1, every: 2 Weeks}}}\n")
    assert values(specs, "exercises.quads.sets") == [1, 1, 2, 2]


# ---------------------------------------------------------------- what was unclear or wrong in its words


@pytest.mark.parametrize("program, line", [
    ("program: {weeks: 2, days: [mon], progression: {exercises.quads.sets: {from: .nan, step: 1}}}\n",
     "knee.yaml:11: program.progression.exercises.quads.sets.from: nan is not a number; write e.g. 5, 1.5 or 5s"),
    ("program: {weeks: 2, days: [mon], progression: {exercises.quads.hold: {from: '-', step: 1s}}}\n",
     'knee.yaml:11: program.progression.exercises.quads.hold.from: "-" is not a duration; write 5s, 1m30s or 90'),
    ("program: {weeks: 2, days: [mon], progression: {exercises.quads.hold: {from: 5s, step: '--1s'}}}\n",
     'knee.yaml:11: program.progression.exercises.quads.hold.step: "--1s" is not a duration; write 5s, 1m30s '
     "or 90"),
    ("program: {weeks: 2, days: [mon], progression: {exercises.quads.hold: {from: 5s, step: 1s, every: null}}}\n",
     "knee.yaml:11: program.progression.exercises.quads.hold.every: null is not a number of weeks; write e.g. "
     "`every: 2 weeks` or `every: 2`"),
    ("program: {weeks: yes, days: [mon]}\n",
     "knee.yaml:11: program.weeks: true is not a number of weeks; write a whole number from 1 to 104, e.g. "
     "`weeks: 6`"),
    ("program: {weeks: 2, days: [mon], start: [2027-01-04]}\n",
     "knee.yaml:11: program.start: [2027-01-04] is not a date; write the first day as YYYY-MM-DD, e.g. "
     "`start: 2027-01-04`"),
    ("program: {weeks: 1, days: [mon], deload: [2]}\n",
     "knee.yaml:11: program.deload[0]: a program of one week has no week to deload (a deload week repeats the "
     "week before it); remove deload, or add weeks"),
    ("program: {weeks: 2, days_per_week: 3, days: {4: {rest_scale: 2}}}\n",
     'knee.yaml:11: program.days.4: "4" is not a day number; with days_per_week: 3, write a day number from 1 to 3'),
    ("program: {weeks: 2, days: [mon], progression: {exercises.quads.sets: [yes, 2]}}\n",
     "knee.yaml:11: program.progression.exercises.quads.sets: week 1, day 1 (mon), where it makes true: true is "
     "not a whole number; write e.g. `sets: 3`"),
    (f"program: {{weeks: 2, days: [mon], progression: {{exercises.quads.sets: [1, {'9' * 40}]}}}}\n",
     "knee.yaml:11: program.progression.exercises.quads.sets: week 2, day 1 (mon), where it makes "
     "999999999999999999999999999...: 9999999999999999999999999999999999999999 is out of range; use a value "
     "from 1 to 1000"),
])
def test_a_mistake_is_named_as_it_was_written(tmp_path, program, line):
    assert refused(tmp_path, program) == line


def program_file(tmp_path: Path, routine: str) -> Path:
    (tmp_path / "knee.yaml").write_text(ROUTINE, encoding="utf-8")
    path = tmp_path / "program.yaml"
    path.write_text(f"routine: {routine}\nweeks: 2\ndays: [mon]\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("routine, what", [
    ("program.yaml", "is this program file itself; name the routine it builds (the file with its title and "
                     "exercises), e.g. `routine: knee.yaml`"),
    ("other.yaml", "is a program file too; name the routine it builds (the file with its title and exercises), "
                   "e.g. `routine: knee.yaml`"),
    ("folder", "is a folder, not a routine file; name the routine file by its path from this file's folder, e.g. "
               "`routine: knee.yaml`"),
    ("/dev/null", "is not a regular file (a pipe, a device or a socket); name the routine file by its path from "
                  "this file's folder, e.g. `routine: knee.yaml`"),
    ("fifo.yaml", "is not a regular file (a pipe, a device or a socket); name the routine file by its path from "
                  "this file's folder, e.g. `routine: knee.yaml`"),
])
def test_a_program_file_naming_what_is_not_a_routine_says_what_it_is(tmp_path, routine, what):
    (tmp_path / "other.yaml").write_text("routine: knee.yaml\nweeks: 3\ndays: [tue]\n", encoding="utf-8")
    (tmp_path / "folder").mkdir()
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "fifo.yaml")
    elif routine == "fifo.yaml":
        pytest.skip("no named pipes here")
    path = program_file(tmp_path, routine)
    result = CliRunner().invoke(app, ["script", "--program", str(path)])
    assert result.exit_code == 2
    assert result.stderr == f'{path}:1: routine: "{routine}" {what}\n'


# ---------------------------------------------------------------- a large program


def test_a_program_s_own_lines_are_not_merged_into_every_day(tmp_path):
    """Each day is the routine with the day's values merged in: the program (its lists of a value a week, and the
    lines of each) is left out of it, so a long program is not copied and scanned again for every day."""
    routine_file, _, specs = expanded(tmp_path, "program:\n  weeks: 104\n  days: [mon, tue, wed, thu, fri, sat, sun]\n"
                                                "  progression:\n    exercises.quads.hold: ["
                                                + ", ".join(f"{5 + week % 7}s" for week in range(104)) + "]\n"
                                                "    exercises.slides.hold: {from: 5s, step: 0.1s}\n")
    assert "program" not in routine_file.data
    assert not [path for path in routine_file.source.lines if path[:1] == ("program",)]
    assert len(specs) == 728
    assert len({spec.made for spec in specs}) == 104
