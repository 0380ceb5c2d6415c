"""Which music plays when: the tracks of the bed and the rests laid along the timeline, crossfaded."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from .._routine.model import Music
from .timeline import HoldEvent, MusicEvent, Timeline

# ---------------------------------------------------------------- the schedule (pure)


class _Player:
    """One playlist, looping, paused while the other plays: where it is, and what it plays next."""

    def __init__(self, tracks: Sequence[str], lengths_ms: Mapping[str, int], crossfade_ms: int) -> None:
        self.tracks, self.lengths_ms, self.crossfade_ms = tracks, lengths_ms, crossfade_ms
        self.index, self.offset_ms = 0, 0

    def play(self, start_ms: int, end_ms: int, fade_in_ms: int, fade_out_ms: int) -> list[MusicEvent]:
        events = []
        at_ms, fade_ms = start_ms, fade_in_ms
        while True:
            track = self.tracks[self.index % len(self.tracks)]
            left_ms = self.lengths_ms[track] - self.offset_ms
            if at_ms + left_ms >= end_ms:
                events.append(MusicEvent(at_ms, end_ms, track, self.offset_ms, fade_ms, fade_out_ms))
                self.offset_ms += end_ms - at_ms
                if self.offset_ms >= self.lengths_ms[track]:
                    self.index, self.offset_ms = self.index + 1, 0
                return events
            following = self.tracks[(self.index + 1) % len(self.tracks)]
            cross_ms = min(self.crossfade_ms, left_ms // 2, self.lengths_ms[following] // 2)
            events.append(MusicEvent(at_ms, at_ms + left_ms, track, self.offset_ms, fade_ms, cross_ms))
            at_ms += left_ms - cross_ms
            fade_ms = cross_ms
            self.index, self.offset_ms = self.index + 1, 0


def schedule_music(timeline: Timeline, music: Music, lengths_ms: Mapping[Path, int],
                   start_ms: int | None = None) -> tuple[MusicEvent, ...]:
    """What plays when: the holds' music under the holds and the rests' music elsewhere (or the bed throughout),
    from the session's first sound to its end.

    The lead-in stays digital silence, music or not: the music starts at ``start_ms`` (None: the first sound's
    start, ``layout.first_sound_ms`` in every planned session; 0 for a timeline with no sound). Each switch between the
    two is a crossfade of ``crossfade_ms`` centred on the start or stop tone (shorter when a hold or rest is
    shorter); a track that ends crossfades into the next one.
    """
    names = {path: music.name_of(path) for path in (*music.bed_tracks, *music.rest_tracks)}
    lengths = {names[path]: length for path, length in lengths_ms.items() if path in names}
    players = {"bed": _Player([names[path] for path in music.bed_tracks], lengths, music.crossfade_ms)}
    duration_ms = timeline.duration_ms
    from_ms = music_start_ms(timeline) if start_ms is None else start_ms
    sections: list[tuple[int, int, str]] = []
    if music.rest_tracks:
        players["rest"] = _Player([names[path] for path in music.rest_tracks], lengths, music.crossfade_ms)
        at_ms = from_ms
        for hold in (event for event in timeline.events if isinstance(event, HoldEvent)):
            sections += [(at_ms, hold.start_ms, "rest"), (max(at_ms, hold.start_ms), hold.end_ms, "bed")]
            at_ms = max(at_ms, hold.end_ms)
        sections.append((at_ms, duration_ms, "rest"))
        sections = _merged([section for section in sections if section[1] > section[0]])
    else:
        sections = [(from_ms, duration_ms, "bed")] if duration_ms > from_ms else []
    events: list[MusicEvent] = []
    for position, (start_ms, end_ms, player) in enumerate(sections):
        fade_in_ms = _switch_ms(music, sections, position - 1) if position else 0
        fade_out_ms = _switch_ms(music, sections, position) if position + 1 < len(sections) else 0
        events += players[player].play(start_ms - fade_in_ms // 2, end_ms + fade_out_ms - fade_out_ms // 2,
                                       fade_in_ms, fade_out_ms)
    return tuple(events)


def music_start_ms(timeline: Timeline) -> int:
    """Where the music starts: at the session's first sound, just after the lead-in (0 when it has none)."""
    return min((event.start_ms for event in timeline.sounds), default=0)


def _merged(sections: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    merged: list[tuple[int, int, str]] = []
    for start_ms, end_ms, player in sections:
        if merged and merged[-1][2] == player:
            merged[-1] = (merged[-1][0], end_ms, player)
        else:
            merged.append((start_ms, end_ms, player))
    return merged


def _switch_ms(music: Music, sections: list[tuple[int, int, str]], before: int) -> int:
    """The crossfade between section ``before`` and the next: no longer than either."""
    first, second = sections[before], sections[before + 1]
    return min(music.crossfade_ms, first[1] - first[0], second[1] - second[0])
