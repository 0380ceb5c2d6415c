"""The timeline: every sound and every hold, rest and chapter at its time in the MP3, and its JSON form."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

ToneKind = Literal["start", "stop", "tick", "phase"]


@dataclass(frozen=True)
class SpeechEvent:
    start_ms: int
    end_ms: int
    text: str
    chapter: str | None = None
    kind: Literal["speech"] = "speech"


@dataclass(frozen=True)
class ToneEvent:
    start_ms: int
    end_ms: int
    tone: ToneKind
    freq_hz: int
    kind: Literal["tone"] = "tone"


@dataclass(frozen=True)
class HoldEvent:
    start_ms: int
    end_ms: int
    exercise: str
    side: str | None
    set: int
    rep: int
    kind: Literal["hold"] = "hold"


@dataclass(frozen=True)
class PhaseEvent:
    """One phase of one rep of a tempo set: ``down`` of rep 3."""

    start_ms: int
    end_ms: int
    exercise: str
    phase: str
    rep: int
    set: int
    kind: Literal["phase"] = "phase"


@dataclass(frozen=True)
class GapEvent:
    start_ms: int
    end_ms: int
    after: str
    asked_ms: int
    kind: Literal["gap"] = "gap"


@dataclass(frozen=True)
class MusicEvent:
    """A stretch of one music file, played from ``offset_ms`` into it; it fades in and out over its edges
    (a crossfade with the track before or after it, or the switch between holds' and rests' music)."""

    start_ms: int
    end_ms: int
    file: str
    offset_ms: int
    fade_in_ms: int = 0
    fade_out_ms: int = 0
    kind: Literal["music"] = "music"


Event = SpeechEvent | ToneEvent | HoldEvent | PhaseEvent | GapEvent | MusicEvent
KIND_ORDER = {"tone": 0, "hold": 1, "phase": 2, "gap": 3, "speech": 4, "music": 5}


@dataclass(frozen=True)
class Chapter:
    title: str
    start_ms: int
    end_ms: int


@dataclass(frozen=True)
class Timeline:
    title: str
    duration_ms: int
    events: tuple[Event, ...]
    chapters: tuple[Chapter, ...]
    warnings: tuple[str, ...] = ()
    language: str = "en"  # the session's language: its cues, chapter titles and lyrics are in it
    files: tuple[str, ...] = ()  # the files the build wrote beside the MP3 (NAME.lrc, subtitles), by name

    @property
    def sounds(self) -> tuple[SpeechEvent | ToneEvent, ...]:
        """What the coach says and signals, in order: speech and tones (the music plays under them)."""
        return tuple(event for event in self.events if isinstance(event, (SpeechEvent, ToneEvent)))

    @property
    def music(self) -> tuple[MusicEvent, ...]:
        return tuple(event for event in self.events if isinstance(event, MusicEvent))

    def with_music(self, music: tuple[MusicEvent, ...]) -> Timeline:
        """The timeline with its music events (any it had are replaced)."""
        events = [event for event in self.events if not isinstance(event, MusicEvent)] + list(music)
        events.sort(key=lambda e: (e.start_ms, KIND_ORDER[e.kind]))
        return dataclasses.replace(self, events=tuple(events))

    def to_dict(self) -> dict:
        return {
            "title": self.title,
            "language": self.language,
            "duration": _s(self.duration_ms),
            "files": list(self.files),
            "chapters": [{"title": c.title, "start": _s(c.start_ms), "end": _s(c.end_ms)} for c in self.chapters],
            "events": [_event_dict(event) for event in self.events],
            "warnings": list(self.warnings),
        }

    def to_json(self) -> str:
        """The timeline file: one chapter, event or warning per line, as the format shows it.

        Built a line at a time, so a long session never has all its events as dicts at once.
        """
        def block(name: str, items: Iterator[object], last: bool = False) -> Iterator[str]:
            lines = [json.dumps(item, ensure_ascii=False) for item in items]
            if not lines:
                yield f'  "{name}": []' + ("" if last else ",")
                return
            yield f'  "{name}": ['
            yield from (f"    {line}," for line in lines[:-1])
            yield f"    {lines[-1]}"
            yield "  ]" + ("" if last else ",")

        head = [f'  "title": {json.dumps(self.title, ensure_ascii=False)},',
                f'  "language": {json.dumps(self.language)},',
                f'  "duration": {json.dumps(_s(self.duration_ms))},',
                f'  "files": {json.dumps(list(self.files), ensure_ascii=False)},']
        chapters = ({"title": c.title, "start": _s(c.start_ms), "end": _s(c.end_ms)} for c in self.chapters)
        return "\n".join(["{", *head, *block("chapters", chapters),
                           *block("events", (_event_dict(event) for event in self.events)),
                           *block("warnings", iter(self.warnings), last=True), "}"]) + "\n"


    @classmethod
    def from_json(cls, text: str) -> Timeline:
        """A timeline file read back (``to_json``'s inverse); ValueError says what is wrong with a damaged one."""
        try:
            data = json.loads(text)
            return cls(title=str(data["title"]), duration_ms=_ms(data["duration"]),
                       events=tuple(_event_from(item) for item in data["events"]),
                       chapters=tuple(Chapter(str(c["title"]), _ms(c["start"]), _ms(c["end"]))
                                      for c in data["chapters"]),
                       warnings=tuple(str(warning) for warning in data.get("warnings", ())),
                       language=str(data.get("language") or "en"),
                       files=tuple(str(name) for name in data.get("files", ())))
        except (KeyError, TypeError, AttributeError, RecursionError, OverflowError) as error:
            # RecursionError: JSON nested thousands deep; OverflowError: a time of 1e999 (infinity)
            raise ValueError(f"not a voicecoach timeline ({type(error).__name__})") from None


def _s(ms: int) -> float:
    return round(ms / 1000, 3)


def _ms(seconds: object) -> int:
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise TypeError(f"{seconds!r} is not a time in seconds")
    return round(seconds * 1000)


def _event_from(item: dict) -> Event:
    start_ms, end_ms, kind = _ms(item["start"]), _ms(item["end"]), item["kind"]
    if kind == "speech":
        return SpeechEvent(start_ms, end_ms, str(item["text"]))
    if kind == "tone":
        return ToneEvent(start_ms, end_ms, item["tone"], int(item["freq"]))
    if kind == "hold":
        return HoldEvent(start_ms, end_ms, str(item["exercise"]), item["side"], int(item["set"]), int(item["rep"]))
    if kind == "gap":
        return GapEvent(start_ms, end_ms, str(item["after"]), _ms(item["asked"]))
    if kind == "phase":
        return PhaseEvent(start_ms, end_ms, str(item["exercise"]), str(item["phase"]), int(item["rep"]),
                          int(item["set"]))
    if kind == "music":
        return MusicEvent(start_ms, end_ms, str(item["file"]), _ms(item["offset"]), _ms(item.get("fade_in", 0)),
                          _ms(item.get("fade_out", 0)))
    raise KeyError(f"kind {kind!r}")


def _event_dict(event: Event) -> dict:
    head = {"start": _s(event.start_ms), "end": _s(event.end_ms), "kind": event.kind}
    if isinstance(event, SpeechEvent):
        return {**head, "text": event.text}
    if isinstance(event, ToneEvent):
        return {**head, "tone": event.tone, "freq": event.freq_hz}
    if isinstance(event, HoldEvent):
        return {**head, "exercise": event.exercise, "side": event.side, "set": event.set, "rep": event.rep}
    if isinstance(event, PhaseEvent):
        return {**head, "exercise": event.exercise, "phase": event.phase, "rep": event.rep, "set": event.set}
    if isinstance(event, MusicEvent):
        return {**head, "file": event.file, "offset": _s(event.offset_ms), "fade_in": _s(event.fade_in_ms),
                "fade_out": _s(event.fade_out_ms)}
    return {**head, "after": event.after, "asked": _s(event.asked_ms)}
