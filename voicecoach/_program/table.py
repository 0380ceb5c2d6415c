"""The whole program at a glance: one row per day, one column per field the program changes (pure)."""

from __future__ import annotations

from collections.abc import Sequence

from .._catalog.specs import SessionSpec
from .model import Program


def program_table(title: str, program: Program, specs: Sequence[SessionSpec]) -> str:
    """Weeks by days, with the value of every field that changes, and which days are alike (built once)::

        Knee programme: 4 weeks, 3 days a week (mon, wed, fri), from 2027-01-04
        week  day  when            quads.hold  quads.sets  same as
           1    1  mon 2027-01-04  5s          2
           1    2  wed 2027-01-06  5s          2           w1 d1
    """
    paths = program.paths
    days = [spec for spec in specs if spec.day is not None]
    if not days:
        return f"{title}: no days\n"
    weekdays = [slot.weekday for slot in program.days if slot.weekday]
    head = (f"{title}: {program.weeks} week{'s' if program.weeks != 1 else ''}, {len(program.days)} "
            f"day{'s' if len(program.days) != 1 else ''} a week" + (f" ({', '.join(weekdays)})" if weekdays else "")
            + (f", from {program.start.isoformat()}" if program.start else ""))
    if program.deload:
        head += f"; deload week{'s' if len(program.deload) > 1 else ''} {', '.join(map(str, sorted(program.deload)))}"
    columns = ["week", "day", *(["when"] if program.start or weekdays else []),
               *(_short(path) for path in paths), "same as"]
    rows = []
    first_of: dict[tuple, str] = {}
    for spec in days:
        day = spec.day
        assert day is not None
        values = {setting.path: setting.text for setting in spec.made}
        identity = (spec.variant, spec.made, spec.settings)
        name = f"w{day.week} d{day.day}"
        same = first_of.setdefault(identity, name)
        date = " ".join(part for part in (day.weekday, day.date.isoformat() if day.date else None) if part)
        note = ", ".join(part for part in ("" if same == name else same,
                                           "deload" if day.week in program.deload else "") if part)
        rows.append([str(day.week), str(day.day), *([date] if "when" in columns else []),
                     *(values.get(path, "") for path in paths), note])
    widths = [max(len(column), *(len(row[index]) for row in rows)) for index, column in enumerate(columns)]
    numeric = {0, 1}

    def line(cells: Sequence[str]) -> str:
        return "  ".join(cell.rjust(width) if index in numeric else cell.ljust(width)
                         for index, (cell, width) in enumerate(zip(cells, widths))).rstrip()

    distinct = len(set(first_of.values()))
    foot = (f"{len(rows)} sessions, {distinct} distinct (each built once; \"same as\" names the day whose audio "
            "a day shares)")
    return "\n".join([head, line(columns), *(line(row) for row in rows), foot]) + "\n"


def _short(path: str) -> str:
    """``exercises.quads.hold`` -> ``quads.hold``: the column heading."""
    return path[len("exercises."):] if path.startswith("exercises.") else path
