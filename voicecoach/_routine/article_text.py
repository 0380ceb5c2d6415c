"""An exercise's text as ``voicecoach import`` reads it: its values (hold, reps, sets, sides, rest), the sentence
each came from, and its instructions, without the sentences (or the parts of them) that only give those values.

A section's lines become sentences: each bullet is one item and each paragraph
another, and an item gets a full stop when it has none ("- 10 reps", "**Dose:**
3x10, 2 sec hold, each arm"). Values are read from the whole text, the first of
each kind winning; "2 times a day" is how often, never reps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .durations import UNITS_S

_NUMBER = r"\d+(?:\.\d+)?"
_RANGE = r"(?:\s*(?:-|–|—|to)\s*\d+(?:\.\d+)?)?"
_UNIT = r"(?:hours?|hrs?|minutes?|mins?|min|seconds?|secs?|sec|s)(?![\w-])"
DURATION = re.compile(rf"(?<![\w.])({_NUMBER}){_RANGE}\s*({_UNIT})", re.I)
_HOW_OFTEN = re.compile(r"^\s*(?:a|an|per|each|every)\s+(?:day|week|month|hour|half hour)\b", re.I)
_NOT_A_LENGTH_BEFORE = re.compile(  # "within 30 minutes", "up to 4 times", "over 70s", "in your 40s"
    r"\b(?:within|every|up to|over|under|in\s+(?:my|your|his|her|their|our|the))\s+$", re.I)
_REST_BEFORE = re.compile(r"\brest(?:ing)?\s+(?:for\s+)?(?:about\s+|around\s+)?$", re.I)
_REST_AFTER = re.compile(r"^\s*(?:of\s+)?rest\b", re.I)
_SETS_X_REPS = re.compile(r"(?<![\w.])(\d+)\s*[x×]\s*(\d+)\b(?!\s*(?:sets?\b|%|cm\b|mm\b|kg\b|m\b|in\b))", re.I)
_SETS_OF = re.compile(r"(?<![\w.])(\d+)\s+sets?\s+of\s+(\d+)\b", re.I)
_DO_THIS_X = re.compile(r"\bdo\s+(?:this|it|them)\s+x\s?(\d+)\b", re.I)
_SETS = re.compile(r"(?<![\w.])(\d+)\s+sets?\b", re.I)
_NTH_SET = re.compile(r"\b(?:do|then|and)\s+(?:a|one more|another)\s+(second|third|fourth|fifth)\s+set\b", re.I)
_REPS = re.compile(r"(?<![\w.])(\d+)\s*(?:repetitions?|reps?)\b", re.I)
_X_REPS = re.compile(r"(?<![\w])x\s?(\d+)\b(?!\s*sets?\b)", re.I)
_TIMES = re.compile(r"(?<![\w.])(\d+|twice|once)\s+times?\b|\b(twice)\b", re.I)
_DO_N = re.compile(r"\bdo\s+(\d+)(?=\s*(?:[,.;]|$|\s+(?:then|and|more)\b))", re.I)
_EACH_N = re.compile(rf"(?<![\w.])(\d+){_RANGE}\s+(?:steps\b|each\s+(?:side|leg|arm|foot|way)\b)", re.I)
_SIDE_WORD = r"(?:sides?|legs?|arms?|foot|feet|knees?|hips?|shoulders?)"
_SIDES = re.compile(
    r"\b(?:for|with|on)\s+both\s+(?:feet|legs|sides|arms)\b"  # "for both feet", not "Lift both arms"
    r"|\b(?:each|either)\s+(?:side|leg|foot|arm|way)\b"
    r"|\b(?:repeat|switch|swap|change|then|do(?!\s+not)|work)\b[^.]{0,25}?\b(?:other|opposite)\s+"
    r"(?:side|leg|foot|arm|knee|hip|shoulder)\b"
    r"|\b(?:switch|swap|change)\s+(?:sides|legs|arms|feet|over)\b"
    r"|\bthen\s+(?:switch|swap|change)\b", re.I)
_VERBS = set("""add advance aim arch avoid begin bend brace breathe bring circle clasp close come count cross curl do
draw drop engage exhale extend face feel flex focus get go grab grasp hinge hold hop hug imagine inhale interlace jump
keep kneel lean let lie lift look loop lower lunge march move open place point press prop pull push put raise reach
relax release repeat rest return rise roll rotate round shift sit slide squat squeeze stand start stay step straighten
stretch swing switch take tighten tilt try tuck turn use walk""".split())
_LEADS = {"first", "then", "next", "now", "finally", "slowly", "gently", "carefully", "again", "and"}
# What a sentence's values are said with: gone once the values are in the fields (numbers stay if they are
# not values: "90 degrees", "about 10 cm").
_TIMING = re.compile("|".join((
    r"\b(?:up\s+to\s+)?(?:\d+|once|twice)\s+(?:times?\s+)?(?:a|an|per|each|every)\s+(?:day|week|month)\b",
    rf"(?:\b(?:for|of)\s+)?(?:\b(?:about|around|approximately)\s+)?(?<!within )(?<!every )(?<!up to )(?<!over )"
    rf"(?<!under ){DURATION.pattern}(?!\s+(?:a|an|per|each|every)\s+(?:day|week|month|hour|half hour)\b)"
    r"(?:\s+(?:hold|rest)\b)?(?:\s+(?:between\s+sets|in\s+between|(?:for|on)\s+each\s+\w+))?",
    r"(?<![\w.])\d+\s+sets?\s+of\s+\d+(?:\s+(?:reps?|repetitions?))?(?:\s+of\s+(?:the\s+)?exercise)?",
    r"(?<![\w.])\d+\s*[x×]\s*\d+\b",
    r"(?<![\w.])\d+\s*(?:repetitions?|reps?|sets?|steps)\b(?:\s+of\s+(?:the\s+)?exercise)?(?:\s+in\s+total)?",
    r"(?<![\w])x\s?\d+\b",
    r"(?<![\w.])(?:\d+|twice|once)\s+times?\b|\btwice\b",
    r"(?<=\bdo\s)\s*\d+\b",
    rf"(?<![\w.])\d+(?:\s*(?:-|–|—|to)\s*\d+)?\s+each\s+{_SIDE_WORD}",
    r"\b(?:do\s+)?(?:a|one more|another)\s+(?:second|third|fourth|fifth)\s+set\b",
    rf"\b(?:(?:on|for|with|to)\s+)?(?:each|either)\s+(?:{_SIDE_WORD}|way)\b",
    r"\b(?:on|for|with)\s+both\s+(?:feet|legs|sides|arms)\b",
    r"\b(?:then\s+|and\s+)?(?:(?:roll|turn)\s+over\s+and\s+)?(?:repeat|do|work|switch\s+to)\s+(?:(?:on|with)\s+)?"
    rf"the\s+(?:other|opposite)\s+{_SIDE_WORD}",
    rf"\b(?:(?:then|and)\s+(?:switch|swap|change)(?:\s+(?:{_SIDE_WORD}|over))?|(?:switch|swap|change)\s+"
    rf"(?:{_SIDE_WORD}|over))(?:\s+and\s+do\s+the\s+(?:left|right|other)(?:\s+(?:{_SIDE_WORD}|one))?)?",
)), re.I)
_FILLERS = set("""a about again an and another arm arms as at be between do does each exercise feet foot for go
going hold holding in is it keep leg legs movement of on one or position rep repeat reps rest resting same set sets
side sides so stay that the them then this time times to total you your""".split())
_MARK = "\x01"


@dataclass
class Values:
    """What a section's text gives; None where it does not say. ``said`` is the sentence each value came from."""

    hold_s: float | None = None
    reps: int | None = None
    sets: int | None = None
    sides: bool = False
    rest_s: float | None = None
    instructions: str | None = None
    said: dict[str, str] = field(default_factory=dict)

    @property
    def found(self) -> int:
        return sum(value is not None for value in (self.hold_s, self.reps, self.sets, self.rest_s)) + self.sides


def section_text(lines: list[str]) -> str:
    """A section's lines as one text: each bullet and each paragraph a sentence (or more) of its own."""
    items: list[str] = []
    current: list[str] = []

    def close() -> None:
        text = " ".join(" ".join(current).split())
        if text:
            items.append(text if re.search(r"[.!?]$", text) else text.rstrip(":;,") + ".")
        current.clear()

    for line in lines:
        bullet = re.match(r"^\s*[-*•]\s+", line)
        if bullet or not line.strip():
            close()
        if line.strip():
            current.append(line[bullet.end():] if bullet else line)
    close()
    return " ".join(items)


def sentences(text: str) -> list[tuple[int, str]]:
    """Each sentence of ``text`` with where it starts."""
    return [(match.start(), match.group()) for match in re.finditer(r"\S.*?(?:[.!?](?=\s|$)|$)", text)]


def read_values(text: str) -> Values:
    """The values ``text`` gives, the sentence each came from, and its instructions."""
    values = Values()
    said = sentences(text)

    def sentence_at(position: int) -> str:
        return next((sentence for start, sentence in reversed(said) if start <= position), text)

    for match in DURATION.finditer(text):
        before, after = text[:match.start()], text[match.end():]
        if _HOW_OFTEN.match(after) or _NOT_A_LENGTH_BEFORE.search(before):
            continue
        seconds = float(match.group(1)) * UNITS_S[match.group(2).lower()]
        if _REST_BEFORE.search(before[-25:]) or _REST_AFTER.match(after):
            if values.rest_s is None:
                values.rest_s, values.said["rest"] = seconds, sentence_at(match.start())
        elif values.hold_s is None:
            values.hold_s, values.said["hold"] = seconds, sentence_at(match.start())
    both = _SETS_X_REPS.search(text) or _SETS_OF.search(text)
    if both:
        values.sets, values.reps = int(both.group(1)), int(both.group(2))
        values.said["sets"] = values.said["reps"] = sentence_at(both.start())
    do_this = _DO_THIS_X.search(text)
    for pattern in (_DO_THIS_X, _SETS, _NTH_SET):
        sets = pattern.search(text)
        if sets and values.sets is None:
            word = sets.group(1).lower()
            values.sets = int(word) if word.isdigit() else ("second", "third", "fourth", "fifth").index(word) + 2
            values.said["sets"] = sentence_at(sets.start())
    for pattern in (_REPS, _X_REPS, _TIMES, _DO_N, _EACH_N):
        if values.reps is not None:
            break
        for match in pattern.finditer(text):
            if pattern is _X_REPS and do_this and do_this.start() <= match.start() < do_this.end():
                continue
            if pattern is _TIMES and (_HOW_OFTEN.match(text[match.end():]) or
                                      re.search(r"\b(?:up to|or)\s+$", text[:match.start()])):
                continue
            word = next(group for group in match.groups() if group).lower()
            values.reps = {"twice": 2, "once": 1}.get(word) or int(word)
            values.said["reps"] = sentence_at(match.start())
            break
    sides = _SIDES.search(text)
    if sides:
        values.sides, values.said["sides"] = True, sentence_at(sides.start())
    values.instructions = instructions(text) or None
    return values


def instructions(text: str) -> str:
    """The imperative sentences of ``text`` ("Lie on your back...", "Then, sit..."), without what only gives
    values: "Hold 20s, x2, each leg." goes, "Hold 3 seconds and lower slowly." becomes "Lower slowly."."""
    kept = []
    for _, sentence in sentences(text):
        if not _is_instruction(sentence):
            continue
        spoken = _without_values(sentence)
        if spoken:
            kept.append(spoken)
    return " ".join(kept)


def _is_instruction(sentence: str) -> bool:
    words = re.findall(r"[A-Za-z']+", sentence)
    if not words:
        return False
    if _first_verb(words):
        return True
    for mark in (",", ":"):  # "With your top hand, gently press ...", "Tip: breathe out ..."
        head, _, tail = sentence.partition(mark)
        if tail and len(head) <= 60 and _first_verb(re.findall(r"[A-Za-z']+", tail)):
            return True
    return False


def _first_verb(words: list[str]) -> bool:
    index = 0
    while index < len(words) - 1 and words[index].lower() in _LEADS:
        index += 1
    return bool(words) and words[index].lower() in _VERBS


def _content(text: str) -> int:
    return sum(word.lower() not in _FILLERS for word in re.findall(r"[A-Za-z']+", text))


def _without_values(sentence: str) -> str:
    """``sentence`` without its value phrases, or "" when what is left says too little to be worth saying."""
    marked = _TIMING.sub(_MARK, sentence)
    if marked == sentence:
        return sentence.strip()
    end = sentence.rstrip()[-1] if sentence.rstrip()[-1:] in ".!?" else "."
    marked = marked.rstrip().rstrip(".!?")
    parts = re.split(r"(,\s*|;\s*|:\s*|\s+(?=(?:and|but)\b)|(?<!\band)\s+(?=then\b))", marked)
    kept, last = "", -1
    for index in range(0, len(parts), 2):
        clause = parts[index]
        if _content(clause.replace(_MARK, " ")) == 0:
            continue
        if kept:  # after a clause left out, the separator that followed the last clause kept: "toes, then ..."
            kept += parts[last + 1]
        kept, last = kept + clause, index
    if _content(kept.replace(_MARK, " ")) < 2:
        return ""
    kept = re.sub(rf"\s*{_MARK}\s*", " ", kept)
    kept = re.sub(r"\s+([,;:])", r"\1", " ".join(kept.split()))
    kept = re.sub(r"([,;:])(?:\s*[,;:])+", r"\1", kept).strip(" ,;:")
    kept = re.sub(r"^(?:and|but)\s+", "", kept, flags=re.I)
    return kept[:1].upper() + kept[1:] + end


def has_sides(text: str) -> bool:
    """Whether ``text`` asks for the exercise on each side ("each leg", "then change legs", "for both feet")."""
    return bool(_SIDES.search(text))
