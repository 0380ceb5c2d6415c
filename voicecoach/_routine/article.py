"""``voicecoach import``: an exercise article or handout (.txt, .md, .html) -> a draft routine, offline, by rules.

The article is turned into lines (HTML: its text, without head, navigation,
asides and footer; headings as ``#`` lines). An exercise is a heading, numbered
("1.Resistance to Flexion", "2) Side plank"), Markdown (``## Ankle circles``) or
a bullet that ends with a colon ("- Calf raises:"), whose section says at least
one number of the routine: a hold, reps, sets, sides or a rest. Background prose
and headings without numbers are left out; "2 times a day" is how often, not
reps. Each value found is written as it reads in the article; each value not
found is assumed (the defaults of docs/routine-format.md) and says so in a
comment on its line. The draft always validates.
"""

from __future__ import annotations

import html
import html.parser
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .._errors import RoutineError
from .durations import UNITS_S, format_s, to_ms
from .read import parse_routine
from .resolve import DEFAULT_REST_S

ASSUMED_HOLD_S = 5.0
MAX_HEADING_WORDS = 9
_SKIPPED_TAGS = {"head", "script", "style", "nav", "header", "footer", "aside", "form", "noscript", "svg", "button"}
_BLOCK_TAGS = {"p", "div", "li", "ul", "ol", "br", "tr", "table", "section", "article", "main", "blockquote", "hr",
               "dd", "dt", "h1", "h2", "h3", "h4", "h5", "h6"}
_NUMBER = r"\d+(?:\.\d+)?"
_DURATION = re.compile(rf"(?<![\w.])({_NUMBER})(?:\s*(?:-|–|to)\s*{_NUMBER})?\s*"
                       r"(hours?|hrs?|minutes?|mins?|min|seconds?|secs?|sec|s)(?![\w-])", re.I)
_HOW_OFTEN = re.compile(r"^\s*(?:a|an|per|each|every)\s+(?:day|week|month|hour|half hour)\b", re.I)
_REST_BEFORE = re.compile(r"\brest(?:ing)?\s+(?:for\s+)?(?:about\s+|around\s+)?$", re.I)
_SETS_OF = re.compile(r"(?<![\w.])(\d+)\s+sets?\s+of\s+(\d+)\b", re.I)
_DO_THIS_X = re.compile(r"\bdo\s+(?:this|it|them)\s+x\s?(\d+)\b", re.I)
_SETS = re.compile(r"(?<![\w.])(\d+)\s+sets?\b", re.I)
_TIMES = re.compile(r"(?<![\w.])(\d+|twice|once)\s+times?\b|\b(twice)\b", re.I)
_X_REPS = re.compile(r"(?<![\w])x\s?(\d+)\b", re.I)
_REPS = re.compile(r"(?<![\w.])(\d+)\s*(?:repetitions?|reps?)\b", re.I)
_SIDES = re.compile(r"\bboth\s+(?:feet|legs|sides|arms)\b|\b(?:each|either)\s+(?:side|leg|foot|arm)\b|"
                    r"\b(?:repeat|switch|swap|change|then)\b[^.]{0,25}?\bother\s+(?:side|leg|foot|arm)\b|"
                    r"\bswitch\s+sides\b", re.I)
_VERBS = set("""add advance aim avoid begin bend brace breathe bring circle clasp close count cross curl do draw drop
engage exhale extend face feel flex focus get go grab grasp hinge hold hop hug imagine inhale interlace jump keep
kneel lean let lie lift look lower lunge march move open place point press prop pull push put raise reach relax
release repeat return rise roll rotate round shift sit slide squat squeeze stand start stay step straighten stretch
swing switch take tighten tilt try tuck turn use walk""".split())
_LEADS = {"first", "then", "next", "now", "finally", "slowly", "gently", "carefully", "again"}


class ArticleError(RoutineError):
    """The article cannot become a routine (no exercises in it, or it cannot be read)."""


@dataclass
class Draft:
    """One exercise as the article gives it; None where the article does not say."""

    name: str
    lines: list[str] = field(default_factory=list)
    hold_s: float | None = None
    reps: int | None = None
    sets: int | None = None
    sides: bool = False
    rest_s: float | None = None
    instructions: str | None = None

    @property
    def found(self) -> int:
        return sum(value is not None for value in (self.hold_s, self.reps, self.sets, self.rest_s)) + self.sides


@dataclass(frozen=True)
class Imported:
    """The draft routine's text and what it says about itself."""

    text: str
    exercises: int
    found: int
    assumed: int


def import_article(path: Path) -> Imported:
    """Read the article at ``path`` and write its draft routine (which validates)."""
    try:
        raw = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise ArticleError("no such file; give the path of an article (.txt, .md or .html)", file=str(path)) from None
    except OSError as error:
        raise ArticleError(f"cannot be read ({error.strerror})", file=str(path)) from None
    is_html = path.suffix.lower() in (".html", ".htm") or raw.lstrip().lower().startswith(("<!doctype", "<html"))
    lines = html_lines(raw) if is_html else [line.rstrip() for line in raw.splitlines()]
    title, drafts = read_exercises(lines)
    if not drafts:
        raise ArticleError("has no exercises voicecoach can find; give each exercise a numbered or bulleted heading "
                           '("1. Calf raises", "## Calf raises" or "- Calf raises:") followed by its hold, reps or '
                           'sets ("hold for 5 seconds", "repeat 10 times")', file=str(path))
    return write_routine(title or path.stem.replace("-", " ").capitalize(), bool(title), drafts, path.name)


class _TextOfHtml(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = [""]
        self.skipping = 0
        self.title = ""
        self.in_title = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in _SKIPPED_TAGS:
            self.skipping += 1
        if tag == "title":
            self.in_title = True
        if tag in _BLOCK_TAGS:
            self.lines.append("")
        if tag == "li" and not self.skipping:
            self.lines[-1] = "- "
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6") and not self.skipping:
            self.lines[-1] = "#" * int(tag[1]) + " "

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self.skipping = max(0, self.skipping - 1)
        if tag == "title":
            self.in_title = False
        if tag in _BLOCK_TAGS:
            self.lines.append("")

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title += data
        if not self.skipping:
            self.lines[-1] += " ".join(data.split()) if data.strip() else (" " if data else "")


def html_lines(text: str) -> list[str]:
    """An HTML page's text as lines: headings as Markdown headings, list items as bullets."""
    parser = _TextOfHtml()
    parser.feed(text)
    parser.close()
    return [" ".join(line.split()).replace(" ,", ",") for line in parser.lines]


_NUMBERED = re.compile(r"^\s*(?:step\s+)?\d{1,2}\s*[.):\-]\s*(\S.*)$", re.I)
_MARKDOWN = re.compile(r"^\s*(#{1,6})\s+(\S.*?)\s*#*\s*$")
_BULLET_HEADING = re.compile(r"^\s*[-*•]\s+(\S.{0,80}?):\s*$")
_RULE = re.compile(r"^\s*(?:-{3,}|\*{3,}|_{3,})\s*$")
_LABEL = re.compile(r"^[^\s\-*•#].{0,60}:\s*$")


def _heading(line: str) -> tuple[str, str] | None:
    """(kind, text) of a line that could head an exercise."""
    markdown = _MARKDOWN.match(line)
    if markdown:
        text = markdown.group(2)
        numbered = _NUMBERED.match(text)
        return ("h1" if len(markdown.group(1)) == 1 else "markdown"), (numbered.group(1) if numbered else text)
    bullet = _BULLET_HEADING.match(line)
    if bullet:
        return "bullet", bullet.group(1)
    numbered = _NUMBERED.match(line)
    if numbered and len(numbered.group(1).split()) <= MAX_HEADING_WORDS and not numbered.group(1).rstrip().endswith(
            (".", "!", "?", ",", ";")):
        return "numbered", numbered.group(1)
    return None


def read_exercises(lines: list[str]) -> tuple[str | None, list[Draft]]:
    """The article's title and its exercises: each heading's section, read for its numbers."""
    title = None
    sections: list[tuple[str, Draft]] = []
    current: tuple[str, Draft] | None = None
    for line in lines:
        heading = _heading(line)
        if heading and heading[0] == "h1":
            title = title or _clean(heading[1])
            current = None
            continue
        if heading:
            current = (heading[0], Draft(_clean(heading[1]).rstrip(":")))
            sections.append(current)
            continue
        if title is None and line.strip() and not sections:
            title = _clean(line)  # a plain-text article's first line
            continue
        if current is None:
            continue
        kind, draft = current
        if _RULE.match(line) or (_LABEL.match(line) and not line.startswith((" ", "\t"))):
            current = None  # "---", or "Tips from the class:": the exercises are over
            continue
        if kind == "bullet" and line.strip() and not line.startswith((" ", "\t")):
            current = None  # a bulleted exercise's text is indented under it; this line is not
            continue
        draft.lines.append(line)
    drafts = [_read(draft) for _, draft in sections]
    return title, [draft for draft in drafts if draft.found]


def _clean(text: str) -> str:
    text = re.sub(r"[*_`]+", "", html.unescape(text))
    return " ".join(text.split()).strip(" -–:")


def _read(draft: Draft) -> Draft:
    text = " ".join(" ".join(_clean_bullet(line) for line in draft.lines).split())
    for match in _DURATION.finditer(text):
        if _HOW_OFTEN.match(text[match.end():]) or re.search(r"\b(?:within|every|up to)\s+$", text[:match.start()]):
            continue
        seconds = float(match.group(1)) * UNITS_S[match.group(2).lower()]
        if _REST_BEFORE.search(text[max(0, match.start() - 25):match.start()]):
            draft.rest_s = draft.rest_s if draft.rest_s is not None else seconds
        elif draft.hold_s is None:
            draft.hold_s = seconds
    sets_of = _SETS_OF.search(text)
    if sets_of:
        draft.sets, draft.reps = int(sets_of.group(1)), int(sets_of.group(2))
    do_this = _DO_THIS_X.search(text)
    if do_this and draft.sets is None:
        draft.sets = int(do_this.group(1))
    sets = _SETS.search(text)
    if sets and draft.sets is None:
        draft.sets = int(sets.group(1))
    if draft.reps is None:
        for pattern in (_REPS, _X_REPS, _TIMES):
            for match in pattern.finditer(text):
                if pattern is _X_REPS and do_this and match.start() >= do_this.start() and \
                        match.end() <= do_this.end():
                    continue
                if pattern is _TIMES and (_HOW_OFTEN.match(text[match.end():]) or
                                          re.search(r"\b(?:up to|or)\s+$", text[:match.start()])):
                    continue
                word = next(group for group in match.groups() if group).lower()
                draft.reps = {"twice": 2, "once": 1}.get(word) or int(word)
                break
            if draft.reps is not None:
                break
    draft.sides = bool(_SIDES.search(text))
    draft.instructions = _instructions(text) or None
    return draft


def _clean_bullet(line: str) -> str:
    """A line of a section: a bullet is a sentence of its own (it gets a full stop); other lines run on."""
    bullet = re.match(r"^\s*[-*•]\s+", line)
    line = line[bullet.end():].strip() if bullet else line.strip()
    return line + "." if bullet and line and not re.search(r"[.!?:;]$", line) else line


def _instructions(text: str) -> str:
    """The section's imperative sentences ("Lie on your back...", "Then, sit..."), without the bare numbers."""
    kept = []
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        words = re.findall(r"[A-Za-z']+", sentence)
        if not words:
            continue
        first = words[0].lower()
        if first in _LEADS and len(words) > 1:
            first = words[1].lower()
        if first not in _VERBS and "," in sentence[:60]:
            after = re.findall(r"[A-Za-z']+", sentence.split(",", 1)[1])
            first = after[0].lower() if after else first
        if first not in _VERBS:
            continue
        rest = re.sub(r"\b(?:\d+|twice|once)\s+times?\s+(?:a|an|per|each|every)\s+\w+", "", sentence, flags=re.I)
        rest = _DURATION.sub("", _SETS_OF.sub("", _TIMES.sub("", _X_REPS.sub("", _REPS.sub("", rest)))))
        rest = re.sub(r"\b(?:hold|repeat|rest|do this|do it|for|about|each side|on each side|each leg|"
                      r"between sets|sets?|reps?|of|the|exercise)\b", "", rest, flags=re.I)
        if len(re.findall(r"[A-Za-z']+", rest)) >= 3:
            kept.append(sentence.strip())
    return " ".join(kept)


def write_routine(title: str, title_found: bool, drafts: list[Draft], source_name: str) -> Imported:
    """The draft routine as YAML, each value found or assumed saying so; checked to validate."""
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

    out = [f"# Imported from {source_name} by `voicecoach import`: check every value (those the article does not",
           "# give say so), then build it with `voicecoach build`. The format: docs/routine-format.md",
           line("title", title, title_found, indent=""), "exercises:"]
    for position, draft in enumerate(drafts):
        reps, sets = draft.reps or 1, draft.sets or 1
        out.append(f"  - name: {_scalar(draft.name[:1].upper() + draft.name[1:])}")
        found += 1
        if draft.instructions:
            out.append(f"    instructions: {_scalar(draft.instructions)}")
        out.append(line("hold", _duration(draft.hold_s if draft.hold_s else ASSUMED_HOLD_S), draft.hold_s is not None))
        if draft.reps is not None:
            out.append(line("reps", draft.reps, True))
        if draft.sets is not None:
            out.append(line("sets", draft.sets, True))
        if draft.sides:
            out.append(line("sides", True, True))
        rest_key = "set_rest" if sets > 1 else "rep_rest" if reps > 1 else None
        if rest_key:
            value = draft.rest_s if draft.rest_s is not None else DEFAULT_REST_S[rest_key]
            out.append(line(rest_key, _duration(value), draft.rest_s is not None, default=True))
        if position + 1 < len(drafts):
            value = draft.rest_s if draft.rest_s is not None and not rest_key else DEFAULT_REST_S["rest"]
            out.append(line("rest", _duration(value), draft.rest_s is not None and not rest_key, default=True))
    text = "\n".join(out) + "\n"
    parse_routine(text, source_name)  # a draft that does not validate is a bug here, not the user's
    return Imported(text, len(drafts), found, assumed)


def _duration(seconds: float) -> str:
    return format_s(to_ms(seconds)).replace(" ", "")


def _scalar(value: object) -> str:
    return yaml.safe_dump(value, default_flow_style=True, width=10_000, allow_unicode=True).strip() \
        .removesuffix("\n...").removesuffix("...").strip()
