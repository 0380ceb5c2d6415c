"""``voicecoach import``: an exercise article or handout (.txt, .md, .html) -> a draft routine, offline, by rules.

The article is turned into lines (HTML: its text, without head, navigation,
asides and footer; headings as ``#`` lines; a table of exercises read by its
columns, ``article_html``). An exercise is a heading, numbered ("1.Resistance
to Flexion", "2) Side plank", "## 1. Clam"), Markdown (``## Ankle circles``), a
bullet that ends with a colon ("- Calf raises:") or whose text follows its
colon ("- Bridge: Lie on your back..."), or a table row, whose section says at
least one number of the routine: a hold, reps, sets, sides or a rest
(``article_text``). When an article's headings are of several kinds, the kind
that heads the most such sections is the exercises' ("## 1. Clam" over "##
Before you begin"); a numbered heading between two of them is an exercise even
without a number ("3. Arm circles", "Go slowly"). Background prose and other
headings are left out; "2 times a day" is how often, not reps. Each value found
is written as it reads in the article; each value not found is assumed (the
defaults of docs/routine-format.md) and says so in a comment on its line.
Sentences that only say the values are not kept as instructions. The draft
always validates, and its summary gives its length and flags what looks
implausible (``IMPLAUSIBLE``).
"""

from __future__ import annotations

import html
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .._errors import RoutineError
from .article_html import TABLE_LINE, TableRow, html_lines
from .article_text import DURATION, Values, has_sides, read_values, section_text
from .durations import UNITS_S, format_clock, format_s, show_value, to_ms
from .limits import MAX_DURATION_S, MAX_NAME_CHARS, MAX_REPS, MAX_SETS, MAX_TEXT_CHARS, MIN_HOLD_MS
from .model import FITTED_REST_MS, Routine
from .read import parse_routine
from .slug import slugify

ASSUMED_HOLD_S = 5.0
MAX_HEADING_WORDS = 9
MAX_BULLET_NAME_WORDS = 6
# What a draft flags in its summary: a session over 30 minutes, a hold over 2 minutes, more than 5 sets.
IMPLAUSIBLE = {"session_ms": 30 * 60_000, "hold_s": 120.0, "sets": 5}
_LABELS = {"tip", "tips", "note", "notes", "dose", "dosage", "equipment", "you will need", "why", "caution", "warning",
           "important", "progression", "progress", "goal", "aim", "focus", "remember", "safety", "frequency",
           "how often", "tags", "posted", "date", "name", "patient", "physio", "review", "reps", "sets", "hold",
           "rest", "when", "where", "source", "see", "example"}


class ArticleError(RoutineError):
    """The article cannot become a routine (no exercises in it, or it cannot be read)."""


@dataclass
class Draft:
    """One section of the article that may be an exercise: its heading and text, and what they give."""

    name: str
    kind: str = "bullet"  # how it is headed: "markdown", "numbered", "bullet" or "table"
    family: str = "bullet"  # headings of one family are one list: "numbered", "markdown2", "bullet", "table"
    lines: list[str] = field(default_factory=list)
    cells: TableRow | None = None
    values: Values = field(default_factory=Values)


@dataclass(frozen=True)
class Imported:
    """The draft routine's text and what it says about itself; ``summary`` is one line: the draft's length
    (its holds and rests as written, speech aside) and what looks implausible, each with its sentence."""

    text: str
    exercises: int
    found: int
    assumed: int
    length_ms: int = 0
    flags: tuple[str, ...] = ()
    summary: str = ""


def import_article(path: Path) -> Imported:
    """Read the article at ``path`` and write its draft routine (which validates)."""
    try:
        raw = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise ArticleError("no such file; give the path of an article (.txt, .md or .html)", file=str(path)) from None
    except OSError as error:
        raise ArticleError(f"cannot be read ({error.strerror})", file=str(path)) from None
    is_html = path.suffix.lower() in (".html", ".htm") or raw.lstrip().lower().startswith(("<!doctype", "<html"))
    raw = _CONTROL.sub(" ", raw)  # a terminal's escapes are no part of an exercise (and no routine may hold them)
    lines, tables = html_lines(raw) if is_html else ([line.rstrip() for line in raw.splitlines()], [])
    title, drafts = read_exercises(lines, tables)
    if not drafts:
        raise ArticleError("has no exercises voicecoach can find; give each exercise a numbered or bulleted heading "
                           '("1. Calf raises", "## Calf raises" or "- Calf raises:") followed by its hold, reps or '
                           'sets ("hold for 5 seconds", "repeat 10 times")', file=str(path))
    return write_routine(title or path.stem.replace("-", " ").capitalize(), bool(title), drafts, path.name)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_NUMBERED = re.compile(r"^\s*(?:step\s+)?(\d{1,2})\s*[.):\-]\s*(\S.*)$", re.I)
_MARKDOWN = re.compile(r"^\s*(#{1,6})\s+(\S.*?)\s*#*\s*$")
_BULLET_HEADING = re.compile(r"^\s*[-*•]\s+(\S.{0,80}?):\s*$")
_BULLET_INLINE = re.compile(r"^[-*•]\s+([^\s:][^:]{0,59}?):\s+(\S.*)$")  # "- Bridge: Lie on your back ..."
_RULE = re.compile(r"^\s*(?:-{3,}|\*{3,}|_{3,})\s*$")
_LABEL = re.compile(r"^[^\s\-*•#].{0,60}:\s*$")


@dataclass(frozen=True)
class _Heading:
    kind: str  # "h1", "markdown", "numbered" or "bullet"
    name: str
    family: str
    text: str = ""  # what follows the name on its line ("- Bridge: Lie on your back ...")


def _heading(line: str) -> _Heading | None:
    """The heading a line could be of an exercise (or of the article: "h1")."""
    markdown = _MARKDOWN.match(line)
    if markdown:
        text, level = markdown.group(2), len(markdown.group(1))
        numbered = _NUMBERED.match(text)
        return _Heading("h1" if level == 1 else "markdown", numbered.group(2) if numbered else text,
                        "numbered" if numbered else f"markdown{level}")
    bullet = _BULLET_HEADING.match(line)
    if bullet:
        return _Heading("bullet", bullet.group(1), "bullet")
    inline = _BULLET_INLINE.match(line)
    if inline and _is_name(inline.group(1)):
        return _Heading("bullet", inline.group(1), "bullet", inline.group(2))
    numbered = _NUMBERED.match(line)
    if numbered and len(numbered.group(2).split()) <= MAX_HEADING_WORDS and not numbered.group(2).rstrip().endswith(
            (".", "!", "?", ",", ";")):
        return _Heading("numbered", numbered.group(2), "numbered")
    return None


def _is_name(text: str) -> bool:
    """Whether the words before a bullet's colon name an exercise ("90/90 hamstring stretch"), not a label ("Tip",
    "You will need") or a sentence."""
    words = _clean(text).split()
    return 0 < len(words) <= MAX_BULLET_NAME_WORDS and " ".join(words).lower() not in _LABELS and \
        bool(re.search(r"[A-Za-z]", text)) and not re.search(r"[.!?;,]$", text.strip())


def read_exercises(lines: list[str], tables: list[list[TableRow]] | None = None) -> tuple[str | None, list[Draft]]:
    """The article's title and its exercises: each heading's section (or table row), read for its values."""
    title = None
    sections: list[Draft] = []
    current: Draft | None = None
    for line in lines:
        if line.startswith(TABLE_LINE):
            sections += [Draft(_clean(row["name"]), "table", "table", cells=row)
                         for row in (tables or [])[int(line[len(TABLE_LINE):])]]
            current = None
            continue
        heading = _heading(line)
        if heading and heading.kind == "h1":
            title = title or _clean(heading.name)
            current = None
            continue
        if heading:
            current = Draft(_clean(heading.name).rstrip(":"), heading.kind, heading.family,
                            [heading.text] if heading.text else [])
            sections.append(current)
            continue
        if title is None and line.strip() and not sections:
            title = _clean(line)  # a plain-text article's first line
            continue
        if current is None:
            continue
        if _RULE.match(line) or (_LABEL.match(line) and not line.startswith((" ", "\t"))):
            current = None  # "---", or "Tips from the class:": the exercises are over
            continue
        if current.kind == "bullet" and line.strip() and not line.startswith((" ", "\t")):
            current = None  # a bulleted exercise's text is indented under it; this line is not
            continue
        current.lines.append(line)
    _trim_last(sections)
    for draft in sections:
        draft.values = _values(draft)
    return title, _exercises(sections)


def _paragraphs(lines: list[str]) -> list[list[str]]:
    paragraphs: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            paragraphs[-1].append(line)
        elif paragraphs[-1]:
            paragraphs.append([])
    return [paragraph for paragraph in paragraphs if paragraph]


def _trim_last(sections: list[Draft]) -> None:
    """A list of "1. Name" lines has no end: when every other item's text is as many paragraphs, the last one's is
    too, and what follows it (closing prose, tags) is not the last exercise's."""
    numbered = [draft for draft in sections if draft.kind == "numbered"]
    if len(numbered) < 3 or numbered[-1] is not sections[-1]:
        return
    shapes = {len(_paragraphs(draft.lines)) for draft in numbered[:-1]}
    if len(shapes) == 1:
        numbered[-1].lines = [line for paragraph in _paragraphs(numbered[-1].lines)[:shapes.pop()]
                              for line in paragraph]


def _exercises(sections: list[Draft]) -> list[Draft]:
    """The sections that are exercises: those with values, of the family (or families) of headings that has the
    most of them, and a numbered one between two of those that has instructions but no value."""
    counts = Counter(draft.family for draft in sections if draft.values.found)
    if not counts:
        return []
    most = max(counts.values())
    chosen = [draft for draft in sections if counts[draft.family] == most]
    valued = [index for index, draft in enumerate(chosen) if draft.values.found]
    return [draft for index, draft in enumerate(chosen) if draft.values.found or (
        draft.family == "numbered" and valued[0] < index < valued[-1] and draft.values.instructions)]


def _clean(text: str) -> str:
    text = re.sub(r"[*_`]+", "", html.unescape(text))
    return " ".join(text.split()).strip(" -–:")


def _values(draft: Draft) -> Values:
    """What a section gives; a table row's columns decide their values ("–" in a cell: none), its "How to do it"
    text the rest."""
    if draft.cells is None:
        return read_values(section_text(draft.lines))
    row = draft.cells
    values = read_values(section_text([row.get("how", "")]))
    for kind in ("sets", "reps", "hold", "rest"):
        if kind not in row:
            continue
        cell = row[kind]
        number: float | None = None
        if kind in ("hold", "rest"):
            duration = DURATION.search(cell)
            bare = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*", cell)
            number = float(duration.group(1)) * UNITS_S[duration.group(2).lower()] if duration else \
                float(bare.group(1)) if bare else None
        else:
            count = re.match(r"\s*(\d+)", cell)  # "8–12 each side" asks 8 of everyone
            number = int(count.group(1)) if count else None
        setattr(values, f"{kind}_s" if kind in ("hold", "rest") else kind, number)
        values.said.pop(kind, None)
        if number is not None:
            values.said[kind] = f"{kind.capitalize()}: {cell}"
    if not values.sides and any(has_sides(row.get(kind, "")) for kind in ("sets", "reps", "hold", "name")):
        values.sides = True
        values.said["sides"] = next(row[kind] for kind in ("sets", "reps", "hold", "name")
                                    if has_sides(row.get(kind, "")))
    return values


def write_routine(title: str, title_found: bool, drafts: list[Draft], source_name: str) -> Imported:
    """The draft routine as YAML, each value found or assumed saying so; checked to validate, and summed up."""
    found = assumed = 0

    def line(key: str, value: object, from_text: bool, indent: str = "    ", default: bool = False) -> str:
        nonlocal found, assumed
        if from_text:
            found += 1
            note = ""
        else:
            assumed += 1
            note = "  # not in the text; the default" if default else "  # not in the text; assumed"
        return f"{indent}{key}: {_scalar(value)}{note}"

    def left_out(key: str) -> str:
        nonlocal assumed
        assumed += 1
        free_s = FITTED_REST_MS[key] // 1000
        return f"    # {key}: not in the text; left out, it lasts what is said in it plus {free_s} s"

    out = [f"# Imported from {source_name} by `voicecoach import`: check every value (those the article does not",
           "# give say so), then build it with `voicecoach build`. The format: docs/routine-format.md",
           line("title", title, title_found, indent=""), "exercises:"]
    ids: set[str] = set()
    for position, draft in enumerate(drafts):
        values = _within_limits(draft.values)
        reps, sets = values.reps or 1, values.sets or 1
        out.append(f"  - name: {_scalar(_display(draft))}")
        found += 1
        slug = base = slugify(_display(draft), fallback=f"exercise-{position + 1}")
        while slug in ids:  # two exercises of one name ("Bridge" in two stages) need ids of their own
            slug = f"{base}-{int(slug.removeprefix(base).lstrip('-') or 1) + 1}"
        if slug != base:
            out.append(f"    id: {_scalar(slug)}")
        ids.add(slug)
        if values.instructions:
            out.append(f"    instructions: {_scalar(values.instructions)}")
        out.append(line("hold", _duration(values.hold_s if values.hold_s else ASSUMED_HOLD_S),
                        values.hold_s is not None))
        if values.reps is not None:
            out.append(line("reps", values.reps, True))
        if values.sets is not None:
            out.append(line("sets", values.sets, True))
        if values.sides:
            out.append(line("sides", True, True))
        rest_key = "set_rest" if sets > 1 else "rep_rest" if reps > 1 else None
        # A rest the text does not give is left out, so that it lasts its speech plus a free time and never
        # grows with a warning; the comment says so, and how to give one.
        if rest_key:
            out.append(line(rest_key, _duration(values.rest_s), True) if values.rest_s is not None
                       else left_out(rest_key))
        if position + 1 < len(drafts):
            out.append(line("rest", _duration(values.rest_s), True) if values.rest_s is not None and not rest_key
                       else left_out("rest"))
    text = "\n".join(out) + "\n"
    routine = parse_routine(text, source_name)  # a draft that does not validate is a bug here, not the user's
    length_ms, flags = _implausible(routine, drafts)
    summary = f"The draft lasts at least {format_clock(length_ms)} (holds and rests; speech adds more). " + (
        f"Check: {'; '.join(flags)}" if flags else "Nothing looks implausible")
    return Imported(text, len(drafts), found, assumed, length_ms, tuple(flags), summary)


def _within_limits(values: Values) -> Values:
    """``values`` without those a routine cannot hold (0 reps, a 9999-set block, a 0.1 s or 8 h hold): each is then
    assumed, as if the text did not give it; instructions cut short at a sentence within the format's limit."""
    if values.hold_s is not None and not MIN_HOLD_MS <= to_ms(values.hold_s) <= MAX_DURATION_S * 1000:
        values.hold_s = None
    if values.rest_s is not None and to_ms(values.rest_s) > MAX_DURATION_S * 1000:
        values.rest_s = None
    if values.reps is not None and not 1 <= values.reps <= MAX_REPS:
        values.reps = None
    if values.sets is not None and not 1 <= values.sets <= MAX_SETS:
        values.sets = None
    text = values.instructions or ""
    while len(text) > MAX_TEXT_CHARS:
        text = text[:MAX_TEXT_CHARS].rsplit(" ", 1)[0] if ". " not in text[:MAX_TEXT_CHARS] else \
            text[:text.rindex(". ", 0, MAX_TEXT_CHARS) + 1]
    values.instructions = text or None
    return values


def _minutes(ms: float) -> str:
    return f"{int(ms) // 60_000} minutes"


def _display(draft: Draft) -> str:
    return (draft.name[:1].upper() + draft.name[1:])[:MAX_NAME_CHARS]


def _implausible(routine: Routine, drafts: list[Draft]) -> tuple[int, list[str]]:
    """The session's least length, from its plan (holds and rests as asked, before any speech), and what is out of
    the ordinary: a session over 30 minutes, a hold over 2 minutes, more than 5 sets, each with its sentence."""
    from .._plan.planner import plan_session  # the next stage, for its sum: only when a draft is summed up
    from .._plan.steps import Gap, Hold

    plan = plan_session(routine)
    spent: Counter[int] = Counter()  # by exercise: its holds, the rests between them and the rest after it
    for step in plan.steps:
        if isinstance(step, Hold):
            spent[step.exercise_index] += step.hold_ms
        elif isinstance(step, Gap) and step.field[:1] == ("exercises",) and isinstance(step.field[1], int):
            spent[step.field[1]] += step.asked_ms
    flags = []
    if plan.asked_ms > IMPLAUSIBLE["session_ms"] and spent:
        longest, longest_ms = spent.most_common(1)[0]
        flags.append(f"the session is over {_minutes(IMPLAUSIBLE['session_ms'])} ({format_clock(longest_ms)} of it "
                     f"in {show_value(_display(drafts[longest]))})")
    for draft in drafts:
        values, name = draft.values, show_value(_display(draft))
        if values.hold_s is not None and values.hold_s > IMPLAUSIBLE["hold_s"]:
            flags.append(f"a {format_s(to_ms(values.hold_s))} hold in {name} ({show_value(values.said['hold'])})")
        if values.sets is not None and values.sets > IMPLAUSIBLE["sets"]:
            flags.append(f"{values.sets} sets of {name} ({show_value(values.said['sets'])})")
    return plan.asked_ms, flags


def _duration(seconds: float) -> str:
    return format_s(to_ms(seconds)).replace(" ", "")


def _scalar(value: object) -> str:
    return yaml.safe_dump(value, default_flow_style=True, width=10_000, allow_unicode=True).strip() \
        .removesuffix("\n...").removesuffix("...").strip()
