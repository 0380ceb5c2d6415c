"""What is said and when, for players: LRC (synced lyrics), SRT and WebVTT subtitles, and ID3 SYLT entries.

Pure: a timeline in, text out. Every format lists the spoken lines at the
times the timeline gives them, so what a player shows is what is heard.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from .._audio.timeline import SpeechEvent, Timeline
from .._errors import OutputError
from .._routine.durations import format_clock

SUBTITLE_FORMATS = ("srt", "vtt")


def check_subtitle_formats(formats: object) -> tuple[str, ...]:
    """The subtitle formats asked for, as a tuple; anything but srt and vtt is one line (before any work)."""
    asked = (formats,) if isinstance(formats, str) else tuple(formats) if isinstance(formats, (tuple, list)) else \
        (formats,)
    unknown = [name for name in asked if name not in SUBTITLE_FORMATS]
    if unknown:
        raise OutputError(f'"{unknown[0]}" is not a subtitle format; use srt, vtt or both',
                          field="{@subtitle_formats}")
    return tuple(str(name) for name in asked)


def spoken(timeline: Timeline) -> Iterator[SpeechEvent]:
    for event in timeline.events:
        if isinstance(event, SpeechEvent):
            yield event


def _one_line(text: str) -> str:
    """Runs of white space as one space, except the non-breaking ones a language's typography asks for (French
    puts one before a colon)."""
    return re.sub(r"[^\S\u00a0\u202f]+", " ", text).strip()


def lrc_text(timeline: Timeline, album: str) -> str:
    """Synced lyrics: each spoken line at its start, ``[mm:ss.xx]``."""
    lines = [f"[ti:{timeline.title}]", "[ar:voicecoach]", f"[al:{album}]",
             f"[length:{format_clock(timeline.duration_ms)}]"]
    lines += [f"[{_lrc_time(event.start_ms)}]{_one_line(event.text)}" for event in spoken(timeline)]
    return "\n".join(lines) + "\n"


def srt_text(timeline: Timeline) -> str:
    """SubRip subtitles: a numbered cue per spoken line, ``00:01:02,345 --> 00:01:04,000``."""
    cues = [f"{number}\n{_clock(event.start_ms, ',')} --> {_clock(event.end_ms, ',')}\n{_one_line(event.text)}\n"
            for number, event in enumerate(spoken(timeline), start=1)]
    return "\n".join(cues)


def vtt_text(timeline: Timeline) -> str:
    """WebVTT subtitles, as browsers and most players read them."""
    cues = [f"{_clock(event.start_ms, '.')} --> {_clock(event.end_ms, '.')}\n{_one_line(event.text)}\n"
            for event in spoken(timeline)]
    return "WEBVTT\n\n" + "\n".join(cues)


def subtitle_text(timeline: Timeline, subtitle_format: str) -> str:
    return {"srt": srt_text, "vtt": vtt_text}[subtitle_format](timeline)


def synced_lines(timeline: Timeline) -> list[tuple[str, int]]:
    """(text, start in ms) for each spoken line: the entries of an ID3 SYLT frame."""
    return [(_one_line(event.text), event.start_ms) for event in spoken(timeline)]


def _lrc_time(ms: int) -> str:
    centiseconds = (ms + 5) // 10
    minutes, centiseconds = divmod(centiseconds, 6000)
    return f"{minutes:02d}:{centiseconds // 100:02d}.{centiseconds % 100:02d}"


def _clock(ms: int, separator: str) -> str:
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{separator}{millis:03d}"
