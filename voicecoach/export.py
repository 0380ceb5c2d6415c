"""Stage 6: files. The MP3 (encoded by ffmpeg into a file, tagged by mutagen) and its sidecars.

Every file is written as a ``files.PendingFile`` (no name until it is complete)
and published only when all files of the session are complete, so an
interrupted build leaves the previous files or none, never a half-written one.
The MP3 carries the SHA-256 of its timeline (ID3 ``TXXX:voicecoach timeline
sha256``), so a reader can check that a timeline belongs to its MP3.

The MP3 goes to a file, not a pipe: only then can ffmpeg seek back and write
the LAME/Info header with the encoder delay and padding, which gapless-aware
decoders need to start at the first sample (without it they start ~50 ms late).
"""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from mutagen import MutagenError
from mutagen.id3 import (APIC, CHAP, COMM, CTOC, ID3, SYLT, TALB, TCON, TDRC, TIT2, TLAN, TLEN, TPE1, TRCK, TSSE, TXXX,
                         USLT, CTOCFlags, PictureType)

from .errors import MissingPartError, OutputError
from .cover import cover_png, image_mime
from .files import PendingFile, sweep_stale
from .layout import Timeline
from .lyrics import lrc_text, synced_lines
from .parts import FFMPEG_INSTALL_HINT, ffmpeg_path
from .phrases import phrases_for

DEFAULT_BITRATE_KBPS = 64
# LAME (through ffmpeg) gives back every sound at 0.95 of its level: measured on sines from 100 Hz to 8 kHz at
# 32, 64 and 128 kbps, decoded by ffmpeg, -0.446 dB each time. The loudness target is aimed this much higher.
ENCODER_GAIN_DB = -0.446
TIMELINE_HASH_TAG = "voicecoach timeline sha256"
BUILD_KEY_TAG = "voicecoach build key"
SAMPLE_RATES_HZ = (22_050, 44_100, 48_000)


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
    cover: bytes | None = None  # the routine's own image; None: one is generated
    year: int | None = None
    build_key: str | None = None  # what made this session (batch: a session with the same key is up to date)


def encode_command(source: str | Path, output: str | Path, sample_rate_hz: int, bitrate_kbps: int) -> list[str]:
    """The ffmpeg command that encodes mono 16-bit PCM from ``source`` (a file, or ``pipe:0``) to MP3."""
    return [ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-y",
            "-f", "s16le", "-ar", str(sample_rate_hz), "-ac", "1", "-i", str(source),
            "-c:a", "libmp3lame", "-b:a", f"{bitrate_kbps}k", "-ar", str(sample_rate_hz),
            "-id3v2_version", "0", "-write_id3v1", "0", "-write_xing", "1",
            "-f", "mp3", str(output)]


def encode_mp3(chunks: Iterable[bytes], partial: Path, sample_rate_hz: int, bitrate_kbps: int,
               on_chunk: Callable[[], None] | None = None, target: Path | None = None) -> None:
    """Encode mono 16-bit PCM chunks into the MP3 file ``partial``; ffmpeg is stopped if anything fails.

    ``target`` is the name the file will have once published, for error messages.
    """
    command = encode_command("pipe:0", partial, sample_rate_hz, bitrate_kbps)
    process = None
    try:
        try:
            # In its own process group: Ctrl-C in the terminal reaches only us, and we stop ffmpeg.
            process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.PIPE, process_group=0)
        except OSError as error:
            raise MissingPartError(f"ffmpeg could not be started ({error.strerror}); {FFMPEG_INSTALL_HINT}") from None
        assert process.stdin is not None and process.stderr is not None
        try:
            for chunk in chunks:
                process.stdin.write(chunk)
                if on_chunk:
                    on_chunk()
            process.stdin.close()
        except BrokenPipeError:
            pass  # ffmpeg stopped early; its exit code and stderr say why
        error_text = process.stderr.read().decode(errors="replace").strip()
        if process.wait() != 0:
            reason = error_text.splitlines()[-1] if error_text else "no reason given"
            raise OutputError(f"ffmpeg could not encode the MP3: {reason}", file=str(target or partial))
    except BaseException:
        if process is not None:
            process.kill()
            process.wait()
        raise


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
               target: Path | None = None) -> None:
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
    cover = tags.cover or cover_png(tags.album, tags.exercises, timeline.duration_ms, tags.version,
                                      timeline.language)
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
    try:
        id3.save(str(mp3), v2_version=3)
    except (OSError, MutagenError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise OutputError(f"cannot be written ({reason}); free some space or choose another folder with "
                          "{@output_dir}", file=str(target or mp3)) from None


def timeline_sha256(timeline_json: str) -> str:
    return hashlib.sha256(timeline_json.encode("utf-8")).hexdigest()


def check_mp3_format(sample_rate_hz: int, bitrate_kbps: int) -> None:
    """Refuse, before any work, a bitrate the MP3 format has no frames for at this sample rate."""
    if sample_rate_hz not in SAMPLE_RATES_HZ:
        raise OutputError(f"{sample_rate_hz} Hz is not offered; use one of "
                          + ", ".join(str(rate) for rate in SAMPLE_RATES_HZ), field="{@sample_rate_hz}")
    highest = 160 if sample_rate_hz < 32_000 else 320
    if not 8 <= bitrate_kbps <= highest:
        raise OutputError(f"an MP3 at {sample_rate_hz} Hz has bitrates from 8 to {highest} kbps, not {bitrate_kbps}; "
                          "lower {@bitrate_kbps}, or use {@sample_rate_hz} 44100 for more", field="{@bitrate_kbps}")


def check_writable(folder: Path) -> None:
    """Fail before any synthesis when the output folder cannot take files; clear out stale leftovers."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = PendingFile(folder / ".voicecoach-write-test")
        if probe.path.name.endswith(".part"):  # a named file: make sure it can really be created
            probe.path.touch()
        probe.discard()
    except OSError as error:
        raise OutputError(f"the output folder cannot be written ({error.strerror}); choose another with "
                          "{@output_dir}", file=str(folder)) from None
    sweep_stale(folder)
