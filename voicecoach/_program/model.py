"""A program as written: its weeks and days, its start date, and how each field changes from week to week.

``read_program`` checks the shape of a ``program:`` section (or a program file) and says, in one line with its
line number, what is wrong; what the values do to the routine is checked when the days are made (``expand``).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .._errors import RoutineError
from .._routine.document import PROGRAM_SCHEMA
from .._routine.durations import DURATION_HINT, parse_duration_s, show_value
from .._routine.yamlsource import Path as YamlPath
from .._routine.yamlsource import SourceMap

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MAX_WEEKS = 104  # two years of weeks; at most 7 days each
MAX_MAGNITUDE = Decimal(10) ** 9  # a number in a rule (from, step, to, max) is at most this large
MAX_DECIMALS = 6  # ... and has at most this many decimals (a duration is made in whole milliseconds)
MS_DECIMALS = 3
LAST_DATE = datetime.date.max  # 9999-12-31: a program's last week ends by then
NOT_CHANGING = {"title": "the title names the program's album and its files"}  # fields a program cannot change
PROGRAM_FIELDS = tuple(PROGRAM_SCHEMA["properties"])
RULE_FIELDS = ("from", "step", "every", "max", "min", "to")
_EVERY = re.compile(r"^\s*([0-9]{1,3})?\s*weeks?\s*$", re.IGNORECASE)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_PLAIN_NUMBER = re.compile(r"-?([0-9]+(\.[0-9]*)?|\.[0-9]+)")  # a number written as text: '5', '-0.5'
_DAY_NUMBER = re.compile(r"[0-9]{1,3}")


@dataclass(frozen=True)
class Quantity:
    """A number as a rule writes it: ``amount`` exactly, in seconds for a duration (``unit`` "s")."""

    amount: Decimal
    unit: str = ""  # "s": a duration (written 5s, 1m30s); "": a plain number (sets, rest_scale)

    @property
    def decimals(self) -> int:
        """How many decimals it is written with; a duration's, at most three (it is made in whole ms)."""
        exponent = self.amount.normalize().as_tuple().exponent
        decimals = max(0, -exponent) if isinstance(exponent, int) else 0
        return min(decimals, MS_DECIMALS) if self.unit == "s" else decimals


@dataclass(frozen=True)
class PerWeek:
    """One value per week, as written (``[5s, 5s, 8s, 8s]``)."""

    values: tuple[Any, ...]


@dataclass(frozen=True)
class Stepped:
    """``{from: 5s, step: 2s, every: 1 week, max: 15s}``: ``step`` added every ``every_weeks`` weeks, up to (or,
    with a negative step, down to) ``limit``."""

    start: Quantity
    step: Quantity
    every_weeks: int = 1
    limit: Quantity | None = None


@dataclass(frozen=True)
class Spread:
    """``{from: 2, to: 4}``: from the first week to the last in even steps, rounded half up to as many decimals
    as the more precise of the two is written with."""

    start: Quantity
    end: Quantity


@dataclass(frozen=True)
class Fixed:
    """The same value every week (a day's change: ``fri: {rest_scale: 1.5}``)."""

    value: Any


Rule = PerWeek | Stepped | Spread | Fixed


@dataclass(frozen=True)
class Change:
    """How one field (a ``--set`` path) changes, and where that was written."""

    path: str
    rule: Rule
    where: YamlPath  # in the program's file, e.g. ("program", "progression", "exercises.quads.hold")


@dataclass(frozen=True)
class DaySlot:
    """One day of each week: its number in the week, its weekday (if the program names them), how many days after
    the week's first day it falls, and its own changes."""

    number: int
    weekday: str | None
    offset_days: int
    changes: tuple[Change, ...] = ()


@dataclass(frozen=True)
class Program:
    weeks: int
    days: tuple[DaySlot, ...]
    progression: tuple[Change, ...]
    start: datetime.date | None = None
    deload: frozenset[int] = frozenset()
    source: SourceMap = field(default_factory=lambda: SourceMap("<program>"), compare=False, repr=False)
    at: YamlPath = ("program",)  # where the program is in its file: () for a program file

    @property
    def paths(self) -> tuple[str, ...]:
        """Every field the program changes, in the order written (the progression's, then the days')."""
        return tuple(dict.fromkeys([change.path for change in self.progression]
                                   + [change.path for day in self.days for change in day.changes]))

    def date_of(self, week: int, day: DaySlot) -> datetime.date | None:
        return self.start + datetime.timedelta(days=7 * (week - 1) + day.offset_days) if self.start else None

    def error(self, path: YamlPath, message: str) -> RoutineError:
        return self.source.error(self.at + path, message)


def read_program(data: Any, source: SourceMap, at: YamlPath = ("program",)) -> Program:
    """The program written at ``at`` in a document (``data`` is that section), its shape checked."""
    def error(path: YamlPath, message: str) -> RoutineError:
        return source.error(at + path, message)

    if not isinstance(data, dict):
        raise error((), "is not a mapping; write e.g. `program: {weeks: 6, days: [mon, wed, fri], progression: "
                        "{exercises.squat.hold: {from: 5s, step: 1s}}}`")
    for key in data:
        if key not in PROGRAM_FIELDS and not (at == () and key == "routine"):
            raise error((key,), f"is not a program field; a program has {', '.join(PROGRAM_FIELDS)}")
    weeks = data.get("weeks")
    if weeks is None:
        raise error((), "has no weeks; add e.g. `weeks: 6`")
    if isinstance(weeks, bool) or not isinstance(weeks, int) or not 1 <= weeks <= MAX_WEEKS:
        raise error(("weeks",), f"{_show(weeks)} is not a number of weeks; write a whole number from 1 to "
                                f"{MAX_WEEKS}, e.g. `weeks: 6`")
    start = _start(data.get("start"), error)
    if start is not None:
        _check_last_date(start, weeks, error)
    days = _days(data, start, weeks, error)
    progression = data.get("progression") or {}
    if not isinstance(progression, dict):
        raise error(("progression",), "is not a mapping; write each field that changes and how, e.g. "
                                      "`exercises.squat.hold: [5s, 6s, 7s]`")
    changes = tuple(_change(path, rule, ("progression", path), weeks, error, fixed_allowed=False)
                    for path, rule in progression.items())
    deload = _deload(data.get("deload"), weeks, error)
    return Program(weeks, days, changes, start, deload, source, at)


def _show(value: Any) -> str:
    """A value as it was written (YAML's spelling: ``true``, ``null``, ``[5s]``), cut short."""
    text = show_value(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _start(value: Any, error: Any) -> datetime.date | None:
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        raise error(("start",), f"{value.isoformat(sep=' ')} has a time of day; the start is a day, so write only "
                                f"its date, e.g. `start: {value.date().isoformat()}`")
    if isinstance(value, datetime.date):
        return value
    text = value.strip() if isinstance(value, str) else None
    try:
        if text is None or not _DATE.fullmatch(text):
            raise ValueError(text)
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise error(("start",), f"{_show(value)} is not a date; write the first day as YYYY-MM-DD, e.g. "
                                "`start: 2027-01-04`") from None


def _check_last_date(start: datetime.date, weeks: int, error: Any) -> None:
    """That every day of the program has a date: its last week ends by 9999-12-31 (a date has four digits)."""
    if (LAST_DATE - start).days < 7 * weeks - 1:
        latest = LAST_DATE - datetime.timedelta(days=7 * weeks - 1)
        raise error(("start",), f"{start.isoformat()} is too late: the program's {weeks} week"
                                f"{'s' if weeks != 1 else ''} would end after {LAST_DATE.isoformat()}, the last "
                                f"date there is; start on {latest.isoformat()} or earlier")


def _weekday(value: Any, path: YamlPath, error: Any) -> int:
    text = str(value).strip().lower() if isinstance(value, str) else ""
    for number, (short, name) in enumerate(zip(WEEKDAYS, WEEKDAY_NAMES)):
        if text in (short, name):
            return number
    raise error(path, f"{_show(value)} is not a day of the week; write mon, tue, wed, thu, fri, sat or sun")


def _days(data: dict, start: datetime.date | None, weeks: int, error: Any) -> tuple[DaySlot, ...]:
    written, per_week = data.get("days"), data.get("days_per_week")
    if per_week is not None:
        if isinstance(per_week, bool) or not isinstance(per_week, int) or not 1 <= per_week <= 7:
            raise error(("days_per_week",), f"{_show(per_week)} is not a number of days; write 1 to 7, e.g. "
                                            "`days_per_week: 3`")
        changes: dict[int, tuple[Change, ...]] = {}
        if written is not None:
            if not isinstance(written, dict):
                raise error(("days",), "names the days, and so does days_per_week; keep one of them (a mapping "
                                       "of day numbers to changes, e.g. `days: {3: {rest_scale: 1.5}}`, may go "
                                       "with days_per_week)")
            for key, day_changes in written.items():
                text = key.strip() if isinstance(key, str) else ""
                number = int(text) if _DAY_NUMBER.fullmatch(text) else 0
                if not 1 <= number <= per_week:
                    raise error(("days", key), f"{_show(key)} is not a day number; with days_per_week: {per_week}, "
                                               f"write a day number from 1 to {per_week}")
                if number in changes:
                    raise error(("days", key), f"names day {number} twice; give each day's changes once")
                changes[number] = _day_changes(day_changes, ("days", key), weeks, error)
        # Spread over the week: 3 days fall on its days 0, 2 and 4 (Monday, Wednesday and Friday from a Monday).
        return tuple(DaySlot(number, None, (number - 1) * 7 // per_week, changes.get(number, ()))
                     for number in range(1, per_week + 1))
    if written is None:
        raise error((), "has no days; add e.g. `days: [mon, wed, fri]` or `days_per_week: 3`")
    if isinstance(written, (dict, list)) and not written:
        raise error(("days",), "names no days; name at least one, e.g. `days: [mon, wed, fri]`")
    if isinstance(written, dict):
        keys = list(written)
        indexes = [_weekday(key, ("days", key), error) for key in keys]
        _no_day_twice(indexes, error)
        per_day = {index: _day_changes(written[key], ("days", key), weeks, error)
                   for index, key in zip(indexes, keys)}
    elif isinstance(written, list):
        indexes = [_weekday(item, ("days", position), error) for position, item in enumerate(written)]
        _no_day_twice(indexes, error)
        per_day = {}
    else:
        raise error(("days",), "is not a list of days; write e.g. `days: [mon, wed, fri]`")
    first = start.weekday() if start else 0  # a week is the seven days from `start` on
    ordered = sorted(indexes, key=lambda index: (index - first) % 7)
    return tuple(DaySlot(number, WEEKDAYS[index], (index - first) % 7, per_day.get(index, ()))
                 for number, index in enumerate(ordered, start=1))


def _no_day_twice(indexes: list[int], error: Any) -> None:
    if len(set(indexes)) != len(indexes):
        twice = next(WEEKDAYS[index] for index in indexes if indexes.count(index) > 1)
        raise error(("days",), f"names {twice} twice; name each day of the week once")


def _day_changes(data: Any, path: YamlPath, weeks: int, error: Any) -> tuple[Change, ...]:
    if data is None:
        return ()
    if not isinstance(data, dict):
        raise error(path, "is not a mapping of changes; write e.g. `fri: {rest_scale: 1.5}` (or nothing)")
    return tuple(_change(key, rule, (*path, key), weeks, error, fixed_allowed=True) for key, rule in data.items())


def _change(path: Any, rule: Any, where: YamlPath, weeks: int, error: Any, fixed_allowed: bool) -> Change:
    if not isinstance(path, str) or not path or any(not part for part in path.split(".")):
        raise error(where, "is not a field's dotted path; write it as for --set, e.g. `exercises.squat.hold`")
    parts = path.split(".")
    if parts[0] in ("variants", "program"):
        raise error(where, f"{parts[0]} cannot change from week to week; change the fields of the "
                           "routine, e.g. `exercises.squat.hold`")
    if path in NOT_CHANGING:
        raise error(where, f"cannot change from week to week: {NOT_CHANGING[path]}; change the fields of the "
                           "routine, e.g. `exercises.squat.hold`")
    if parts[0] == "exercises" and len(parts) < 3:
        example = f"exercises.{parts[1]}.hold" if len(parts) == 2 else "exercises.squat.hold"
        raise error(where, f"names {'an exercise' if len(parts) == 2 else 'the exercises'}, not a field; write "
                           f"the field that changes, e.g. `{example}`")
    if parts[0] == "exercises" and parts[2] == "id":
        raise error(where, "an exercise's id cannot change from week to week; it is how the program finds the "
                           "exercise")
    if isinstance(rule, list):
        if len(rule) != weeks:
            raise error(where, f"has {len(rule)} value{'s' if len(rule) != 1 else ''} for {weeks} "
                               f"week{'s' if weeks != 1 else ''}; give one value per week")
        for week, value in enumerate(rule, start=1):
            _single(value, (*where, week - 1), f"week {week}'s value", error)
        return Change(path, PerWeek(tuple(rule)), where)
    if isinstance(rule, dict):
        return Change(path, _rule(rule, where, error), where)
    if fixed_allowed and rule is not None:
        return Change(path, Fixed(rule), where)
    raise error(where, "is not a list of one value per week or a rule; write e.g. `[5s, 6s, 7s]`, "
                       "`{from: 5s, step: 1s, max: 10s}` or `{from: 2, to: 4}`")


def _single(value: Any, where: YamlPath, what: str, error: Any) -> None:
    """That a value a program makes is one value (a number, a duration, a text), not a list or a mapping."""
    if isinstance(value, list):
        raise error(where, f"{what} {_show(value)} is a list; a program makes one value a week (a number, a "
                           "duration or a text), e.g. `[5s, 6s, 7s]`")
    if isinstance(value, dict):
        raise error(where, f"{what} {_show(value)} is a mapping; a program makes one value a week (a number, a "
                           "duration or a text): change each of its fields by its own path, e.g. `voice.rate`")


def _rule(rule: dict, where: YamlPath, error: Any) -> Stepped | Spread:
    for key in rule:
        if key not in RULE_FIELDS:
            raise error((*where, key), "is not part of a rule; a rule is {from, step, every, max or min} or "
                                       "{from, to}")
    if "from" not in rule:
        raise error(where, "has no `from`; start the rule with the first week's value, e.g. `from: 5s`")
    if "to" in rule:
        extra = [key for key in ("step", "every", "max", "min") if key in rule]
        if extra:
            raise error((*where, extra[0]), "goes with `step`, not with `to`; give either {from, to} or "
                                            "{from, step, every, max}")
    elif "step" not in rule:
        raise error(where, "has no `step` or `to`; write e.g. `{from: 5s, step: 1s}` or `{from: 2, to: 4}`")
    if "max" in rule and "min" in rule:
        raise error((*where, "min"), "and max are both given; a rule goes one way: max for a step up, min for a "
                                     "step down")
    # A duration if any of its numbers is written as one (5s, 1m30s); a number written as text ('5') is a number.
    durations = any(isinstance(rule.get(key), str) and not _PLAIN_NUMBER.fullmatch(rule[key].strip())
                    for key in ("from", "step", "to", "max", "min"))
    unit = "s" if durations else ""

    def quantity(key: str) -> Quantity:
        value = rule[key]
        path = (*where, key)
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise error(path, f"{_show(value)} is not a number or a duration; write e.g. 5, 1.5 or 5s")
        if isinstance(value, str):
            amount = _amount_of_text(value, durations, path, error)
        else:
            amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        if amount.is_nan():
            raise error(path, f"{_show(value)} is not a number; write e.g. 5, 1.5 or 5s")
        if not amount.is_finite() or abs(amount) > MAX_MAGNITUDE:
            raise error(path, f"{_show(value)} is far too large; a rule's numbers are at most {MAX_MAGNITUDE:,}")
        if unit == "s" and amount < 0 and key != "step":
            raise error(path, f"{_show(value)} is negative; only a step may be (a step down)")
        found = Quantity(amount, unit)
        if unit == "" and found.decimals > MAX_DECIMALS:
            raise error(path, f"{_show(value)} has more than {MAX_DECIMALS} decimals; write it with at most "
                              f"{MAX_DECIMALS}, e.g. 0.125")
        return found

    if "to" in rule:
        return Spread(quantity("from"), quantity("to"))
    every = rule.get("every", 1)
    match = _EVERY.match(every) if isinstance(every, str) else None
    count = int(match[1] or 1) if match else every
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_WEEKS:
        raise error((*where, "every"), f"{_show(every)} is not a number of weeks; write e.g. `every: 2 weeks` "
                                       "or `every: 2`")
    limit = next((quantity(key) for key in ("max", "min") if key in rule), None)
    step = quantity("step")
    if limit is not None and ("max" in rule) != (step.amount >= 0):
        raise error((*where, "max" if "max" in rule else "min"),
                    "goes the other way from the step; a step up stops at max, a step down at min")
    return Stepped(quantity("from"), step, count, limit)


def _amount_of_text(value: str, durations: bool, path: YamlPath, error: Any) -> Decimal:
    """A rule's number written as text: a duration (``5s``, ``-2s`` for a step down) in seconds, or a number
    written in quotes (``'5'``)."""
    text = value.strip()
    if not durations:
        return Decimal(text)  # a plain number: _PLAIN_NUMBER matched it
    negative = text.startswith("-")
    try:
        seconds = parse_duration_s(text[1:].strip() if negative else text)
    except ValueError as problem:
        raise error(path, f"{_show(value)} is not a duration; {DURATION_HINT}" if negative else str(problem)) \
            from None
    amount = Decimal(repr(seconds))
    return -amount if negative else amount


def _deload(value: Any, weeks: int, error: Any) -> frozenset[int]:
    if value is None:
        return frozenset()
    items = value if isinstance(value, list) else [value]
    found: set[int] = set()
    for position, week in enumerate(items):
        path = ("deload", position) if isinstance(value, list) else ("deload",)
        if weeks == 1:
            raise error(path, "a program of one week has no week to deload (a deload week repeats the week "
                              "before it); remove deload, or add weeks")
        if isinstance(week, bool) or not isinstance(week, int) or not 1 <= week <= weeks:
            raise error(path, f"{_show(week)} is not a week of the program; write week numbers from 2 to {weeks}, "
                              "e.g. `deload: [4]`")
        if week == 1:
            raise error(path, "week 1 has no week before it to repeat; a deload week is 2 or later")
        if week in found:
            raise error(path, f"names week {week} twice; name each deload week once")
        found.add(week)
    return frozenset(found)
