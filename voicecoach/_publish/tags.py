"""The MP3's ID3 tags: title, album, track, cover, lyrics, chapters, and the hashes that tie it to its timeline
and build."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from mutagen import MutagenError
from mutagen.id3 import (
    APIC,
    CHAP,
    COMM,
    CTOC,
    ID3,
    SYLT,
    TALB,
    TCON,
    TDRC,
    TIT2,
    TLAN,
    TLEN,
    TPE1,
    TPOS,
    TRCK,
    TSSE,
    TXXX,
    USLT,
    CTOCFlags,
    PictureType,
)

from .._audio.timeline import Timeline
from .._errors import OutputError, RoutineError
from .._routine.languages import phrases_for
from .._routine.model import ProgramDay
from .cover import CoverError, cover_png, embedded_cover, image_mime
from .lyrics import lrc_text, synced_lines

TIMELINE_HASH_TAG = "voicecoach timeline sha256"
BUILD_KEY_TAG = "voicecoach build key"
SOUND_KEY_TAG = "voicecoach sound key"  # what the audio alone is made of: sessions with one share their audio
PROGRAM_DAY_TAG = "voicecoach program day"  # a program's session: its week and day, weekday and date (JSON)


@dataclass(frozen=True)
class Tags:
    title: str
    album: str
    artist: str = "voicecoach"
    comment: str | None = None
    genre: str = "Fitness"
    track: tuple[int, int] | None = None  # (number, of how many) within a batch
    version: str | None = None  # shown on the generated cover under the title
    exercises: int = 0
    cover: bytes | None = None  # the routine's own image file, decoded and encoded anew when written; None: generated
    year: int | None = None
    build_key: str | None = None  # what made this session (batch: a session with the same key is up to date)
    sound_key: str | None = None  # what made its audio (batch: an identical day's audio is copied, not encoded)
    day: ProgramDay | None = None  # a program's session: its week (also as the disc number) and day


def tag_values(tags: ID3, description: str) -> list[str]:
    """The texts of the TXXX frames of ``tags`` with this description (the timeline hash, the build key)."""
    return [str(frame.text[0]) for frame in tags.getall("TXXX") if frame.desc == description]


class _ChaptersInOrder(ID3):
    """ID3 tags whose CHAP frames are written in time order, the CTOC just before them.

    mutagen sorts the frames it does not rank by their size, so chapters came out in byte-size order, and
    ffmpeg (among others) lists chapters in file order: "Intro, Outro, Ankle circles...". Every other frame
    keeps mutagen's order.
    """

    def _write(self, config):  # type: ignore[no-untyped-def]
        from mutagen.id3._tags import save_frame

        chapters = sorted((frame for frame in self.values() if frame.FrameID == "CHAP"),
                          key=lambda frame: frame.start_time)
        tables = [frame for frame in self.values() if frame.FrameID == "CTOC"]
        others = ID3()
        for frame in self.values():
            if frame.FrameID not in ("CHAP", "CTOC"):
                others.add(frame)
        return bytearray(others._write(config)) + bytearray().join(
            save_frame(frame, config=config) for frame in (*tables, *chapters))


def write_tags(mp3: Path, timeline: Timeline, tags: Tags, timeline_json: str | None = None,
               target: str | Path | None = None) -> None:
    """ID3v2.3 tags and chapters (CHAP frames listed in a top-level CTOC)."""
    words = phrases_for(timeline.language)
    language = words.id3_language  # ISO 639-2, for the language fields and TLAN
    id3 = _ChaptersInOrder()
    id3.add(TIT2(encoding=3, text=tags.title))
    id3.add(TLAN(encoding=3, text=language))
    id3.add(TPE1(encoding=3, text=tags.artist))
    id3.add(TALB(encoding=3, text=tags.album))
    id3.add(TCON(encoding=3, text=tags.genre))
    if tags.track:
        id3.add(TRCK(encoding=3, text=f"{tags.track[0]}/{tags.track[1]}"))
    if tags.day:
        id3.add(TPOS(encoding=3, text=f"{tags.day.week}/{tags.day.weeks}"))  # players group a week as a disc
    id3.add(TLEN(encoding=3, text=str(timeline.duration_ms)))
    id3.add(TSSE(encoding=3, text="voicecoach"))
    if tags.comment:
        id3.add(COMM(encoding=3, lang=language, desc="", text=tags.comment))
    chapter_ids = [f"chp{number}" for number in range(len(timeline.chapters))]
    id3.add(CTOC(element_id="toc", flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED, child_element_ids=chapter_ids,
                 sub_frames=[TIT2(encoding=3, text=words.label("chapters"))]))
    for chapter_id, chapter in zip(chapter_ids, timeline.chapters):
        id3.add(CHAP(element_id=chapter_id, start_time=chapter.start_ms, end_time=chapter.end_ms,
                     start_offset=0xFFFFFFFF, end_offset=0xFFFFFFFF,
                     sub_frames=[TIT2(encoding=3, text=chapter.title)]))
    if tags.cover:
        try:
            cover = embedded_cover(tags.cover)  # only pixels decoded here reach the MP3, never the file's bytes
        except CoverError as error:
            raise RoutineError(f"the image changed since the routine was loaded, and now {error}",
                               field="cover") from None
    else:
        cover = cover_png(tags.album, tags.exercises, timeline.duration_ms, tags.version, timeline.language)
    id3.add(APIC(encoding=3, mime=image_mime(cover) or "image/png", type=PictureType.COVER_FRONT, desc="Cover",
                 data=cover))
    if tags.year:
        id3.add(TDRC(encoding=3, text=str(tags.year)))
    # Lyrics: LRC text (what most Android players show) and synced entries (SYLT, in ms).
    id3.add(USLT(encoding=3, lang=language, desc="", text=lrc_text(timeline, tags.album)))
    id3.add(SYLT(encoding=3, lang=language, format=2, type=1, desc="", text=synced_lines(timeline)))
    if timeline_json is not None:
        id3.add(TXXX(encoding=3, desc=TIMELINE_HASH_TAG, text=timeline_sha256(timeline_json)))
    if tags.build_key:
        id3.add(TXXX(encoding=3, desc=BUILD_KEY_TAG, text=tags.build_key))
    if tags.sound_key:
        id3.add(TXXX(encoding=3, desc=SOUND_KEY_TAG, text=tags.sound_key))
    if tags.day:
        id3.add(TXXX(encoding=3, desc=PROGRAM_DAY_TAG, text=json.dumps(tags.day.to_dict())))
    try:
        id3.save(str(mp3), v2_version=3)
    except (OSError, MutagenError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise OutputError(f"cannot be written ({reason}); free some space or choose another folder with "
                          "{@output_dir}", file=str(target or mp3)) from None


def program_day(tags: ID3) -> ProgramDay | None:
    """The program day an MP3's tags say it is (``PROGRAM_DAY_TAG``), or None."""
    for text in tag_values(tags, PROGRAM_DAY_TAG)[:1]:
        try:
            return ProgramDay.from_dict(json.loads(text[:1000]))
        except (ValueError, RecursionError):
            return None
    return None


def timeline_sha256(timeline_json: str) -> str:
    return hashlib.sha256(timeline_json.encode("utf-8")).hexdigest()
