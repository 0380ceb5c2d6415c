"""A program made into its sessions: each week's values (pure), one session spec per day, and every one of them
checked as a routine is, so that a value the routine cannot take stops the build before anything is made."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from .._catalog.specs import SessionSpec
from .._errors import LayoutError, RoutineError, VoicecoachError
from .._plan.planner import plan_session
from .._routine.durations import parse_duration_s
from .._routine.load import RoutineFile, is_program_file, routine_file_of
from .._routine.model import ProgramDay
from .._routine.read import read_routine_source
from .._routine.resolve import check_said
from .._routine.settings import Setting
from .._routine.yamlsource import format_path
from .load import open_program
from .model import Change, DaySlot, Fixed, PerWeek, Program, Quantity, Rule, Stepped

_EXERCISE = re.compile(r"exercises\[(\d+)\]")


def value_in_week(rule: Rule, week: int, weeks: int) -> Any:
    """What ``rule`` makes in ``week`` (1 to ``weeks``): a duration as text (``"7.5s"``), a number as a number."""
    if isinstance(rule, Fixed):
        return rule.value
    if isinstance(rule, PerWeek):
        return rule.values[week - 1]
    if isinstance(rule, Stepped):
        amount = rule.start.amount + rule.step.amount * ((week - 1) // rule.every_weeks)
        if rule.limit is not None:
            amount = min(amount, rule.limit.amount) if rule.step.amount >= 0 else max(amount, rule.limit.amount)
        decimals = max(rule.start.decimals, rule.step.decimals, rule.limit.decimals if rule.limit else 0)
        return _written(amount, rule.start, decimals)
    share = Decimal(week - 1) / Decimal(weeks - 1) if weeks > 1 else Decimal(0)
    decimals = max(rule.start.decimals, rule.end.decimals)
    amount = (rule.start.amount + (rule.end.amount - rule.start.amount) * share).quantize(
        Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return _written(amount, rule.start, decimals)


def _written(amount: Decimal, like: Quantity, decimals: int) -> Any:
    amount = amount.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    if like.unit == "s":
        return duration_text(amount)
    return int(amount) if decimals == 0 else float(amount)


def duration_text(seconds: Decimal) -> str:
    """Seconds as a routine writes a duration: ``7.5s``, ``1m30s``, ``12m``, ``1h5m``; negative amounts stay
    negative seconds (a routine refuses them, with its own message)."""
    if seconds < 0:
        return f"{format(seconds.normalize(), 'f')}s"
    whole, fraction = divmod(seconds, 1)
    hours, rest = divmod(int(whole), 3600)
    minutes, secs = divmod(rest, 60)
    sec_text = format((Decimal(secs) + fraction).normalize(), "f")
    parts = [f"{hours}h" if hours else "", f"{minutes}m" if minutes else "",
             f"{sec_text}s" if secs or fraction or not (hours or minutes) else ""]
    return "".join(parts)


def value_week(program: Program, week: int) -> int:
    """The week whose values ``week`` has: a deload week repeats the week before it (and that one, if it is a
    deload week too, the one before)."""
    while week in program.deload and week > 1:
        week -= 1
    return week


def day_values(program: Program, week: int, slot: DaySlot) -> dict[str, tuple[Any, Change]]:
    """Each changed field's value on a day, and the change that made it: the progression's, then the day's own
    (which win)."""
    made = value_week(program, week)
    values: dict[str, tuple[Any, Change]] = {}
    for change in (*program.progression, *slot.changes):
        values[change.path] = (value_in_week(change.rule, made, program.weeks), change)
    return values


def program_days(program: Program) -> tuple[tuple[ProgramDay, DaySlot], ...]:
    """Every day of the program in order: week 1's days, then week 2's, ..."""
    return tuple((ProgramDay(week, slot.number, program.weeks, len(program.days), slot.weekday,
                             program.date_of(week, slot)), slot)
                 for week in range(1, program.weeks + 1) for slot in program.days)


def day_settings(program: Program, day: ProgramDay, slot: DaySlot) -> tuple[Setting, ...]:
    """A day's values as settings (applied like ``--set``), each naming where the program wrote it."""
    return tuple(Setting(path, value, _text(value), flag="{@program}", written_at=_where(program, change))
                 for path, (value, change) in day_values(program, day.week, slot).items())


def _text(value: Any) -> str:
    """A value as the table shows it: a number in full (``1.000001``, not ``1``), as short as it reads back."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if not isinstance(value, float):
        return str(value)
    short = f"{value:g}"
    return short if float(short) == value else repr(value)


def _where(program: Program, change: Change) -> str:
    return format_path(program.at + change.where)


def program_specs(routine_file: RoutineFile, program: Program, bases: Sequence[SessionSpec] = (SessionSpec(None),)
                  ) -> tuple[SessionSpec, ...]:
    """One session per day of the program for each of ``bases`` (a variant, a point of a matrix), in program order,
    each checked as a routine is: the first that fails is raised, naming its week, day and field."""
    specs = []
    checked: set[tuple] = set()
    # The values of a day, made once: a deload week has the week before's, and days of their own changes alone
    # differ within a week.
    made: dict[tuple[int, int], tuple[Setting, ...]] = {}
    for base in bases:
        for day, slot in program_days(program):
            key = (value_week(program, day.week), slot.number if slot.changes else 0)
            if key not in made:
                made[key] = day_settings(program, day, slot)
            spec = dataclasses.replace(base, made=made[key], day=day)
            specs.append(spec)
            identity = (spec.variant, spec.made, spec.settings)
            if identity in checked:  # an identical day: checked once
                continue
            checked.add(identity)
            try:
                routine = spec.routine(routine_file)
                plan_session(routine)
                check_said(routine)
            except VoicecoachError as error:
                raise day_error(program, routine_file, spec, error) from None
    return tuple(specs)


def day_error(program: Program, routine_file: RoutineFile, spec: SessionSpec, error: VoicecoachError
              ) -> VoicecoachError:
    """``error`` about a program's session, as one line naming its week, day and the field the program changed
    that led to it (the line it is written on)."""
    if not isinstance(error, (RoutineError, LayoutError)) or spec.day is None:
        return error
    day = spec.day
    change = _culprit(program, list(routine_file.exercise_ids), spec, error)
    where = program.at + change.where if change else program.at
    line = program.source.line_of(where)
    field = format_path(where) or None
    inner_field = error.field if error.field and error.field != field else None
    when = f" ({day.weekday}{', ' + day.date.isoformat() if day.date else ''})" if day.weekday or day.date else ""
    value = next((setting.value for setting in spec.made if change and setting.path == change.path), None)
    made = f", where it makes {_shown(value)}" if value is not None else ""
    message = f"week {day.week}, day {day.day}{when}{made}: " + (f"{inner_field}: " if inner_field else "") \
        + error.message
    return type(error)(message, file=program.source.file, line=line, field=field)


def _shown(value: Any) -> str:
    """A value the program made, as a message shows it: a duration as written, a text quoted and cut short."""
    if isinstance(value, str):
        try:
            parse_duration_s(value)
            return value if len(value) <= 30 else f"{value[:27]}..."
        except ValueError:
            return f'"{value}"' if len(value) <= 30 else f'"{value[:27]}..."'
    text = _text(value)
    return text if len(text) <= 30 else f"{text[:27]}..."


def _culprit(program: Program, exercise_ids: list[str], spec: SessionSpec, error: VoicecoachError
             ) -> Change | None:
    """The change behind ``error``: the one it names, else one of the exercise it is about, else the day's
    first."""
    changes = {setting.path: change for setting in spec.made
               for change in (*program.progression, *_slot_changes(program, spec)) if change.path == setting.path}
    text = f"{error.field or ''} {error.message}"
    for change in changes.values():
        if _where(program, change) in text or f" {change.path}" in f" {text}":
            return change
    found = _EXERCISE.search(error.field or "")
    if found:
        index = int(found[1])
        for change in changes.values():
            parts = change.path.split(".")
            if parts[0] == "exercises" and len(parts) > 2 and parts[1] in exercise_ids[index:index + 1]:
                return change
    return next(iter(changes.values()), None)


def _slot_changes(program: Program, spec: SessionSpec) -> tuple[Change, ...]:
    return next((slot.changes for slot in program.days if spec.day and slot.number == spec.day.day), ())


def check_program(path: Path, display_name: str | None = None) -> tuple[RoutineFile, tuple[int, int] | None]:
    """``validate``'s reading of a file: a routine (with every variant), and when it has a program or is a program
    file, every day of the program checked; the program's (sessions, distinct sessions), or None."""
    data, source = read_routine_source(path, display_name)
    if not (is_program_file(data) or isinstance(data, dict) and "program" in data):
        return routine_file_of(data, source, Path(path).resolve().parent), None
    routine_file, program = open_program(path)
    specs = program_specs(routine_file, program)
    return routine_file, (len(specs), len({(spec.made, spec.settings) for spec in specs}))
