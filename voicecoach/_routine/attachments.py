"""The files a routine names (cover, music, a voice file), found beside the routine file and checked to be usable."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

from .._publish.cover import MAX_COVER_BYTES, CoverError, decoded_cover, image_mime
from .._speech.engines import check_voice_file, voice_file_kind
from .model import Routine
from .read import Unreadable, read_regular_file
from .yamlsource import Path as YamlPath


def with_files_found(routine: Routine, folder: Path) -> Routine:
    """The routine with the files it names (``cover:``, ``voice.model``) found next to the routine file and
    checked to be usable."""
    return _with_music(_with_cover(_with_model(routine, folder), folder), folder)


def _with_music(routine: Routine, folder: Path) -> Routine:
    """``music:`` and ``music_rest:`` found next to the routine file: a file, or a folder's files shuffled by
    ``music_seed`` (the same order on every build). Whether each file is audio is found when it is first
    measured (``_audio.music_tracks.measure_tracks``), before anything is written."""
    music = routine.music
    if music is None:
        return routine
    bed, bed_tracks = _music_files(routine, ("music",), music.bed, folder, music.seed)
    rest, rest_tracks = _music_files(routine, ("music_rest",), music.rest, folder, music.seed) \
        if music.rest is not None else (None, ())
    return dataclasses.replace(routine, music=dataclasses.replace(
        music, bed=bed, rest=rest, bed_tracks=bed_tracks, rest_tracks=rest_tracks))


def _music_files(routine: Routine, field: YamlPath, written: Path, folder: Path,
                 seed: int) -> tuple[Path, tuple[Path, ...]]:
    path = written if written.is_absolute() else folder / written
    if path.is_dir():
        try:
            files = sorted(entry for entry in path.iterdir() if entry.is_file() and not entry.name.startswith("."))
        except OSError as error:
            raise routine.source.error(field, f'the folder "{written}" cannot be read ({error.strerror}); check its '
                                              "permissions") from None
        if not files:
            raise routine.source.error(field, f'the folder "{written}" has no files; put music files in it (mp3, '
                                              "m4a, ogg, flac or wav), or give the path of one file")
        random.Random(seed).shuffle(files)
        return path, tuple(files)
    if path.exists() and not path.is_file():  # a pipe or a device: ffmpeg would wait on it, or never end
        raise routine.source.error(field, f'"{written}" is not a regular file (a pipe, a device or a socket); give '
                                          "the path of a music file or folder")
    if not path.is_file():
        where = "" if written.is_absolute() else ", relative to the routine file"
        raise routine.source.error(field, f'"{written}" cannot be read (there is no such file or folder); give the '
                                          f"path of a music file or folder{where}")
    return path, (path,)


def _with_model(routine: Routine, folder: Path) -> Routine:
    """A voice file (``voice.model``), relative to the routine file, checked by its engine."""
    if routine.voice.model is None:
        return routine
    written = str(routine.voice.model)
    path = routine.voice.model if routine.voice.model.is_absolute() else folder / routine.voice.model
    problem = check_voice_file(routine.voice.engine, path)
    if problem is not None:
        raise routine.source.error(("voice", "model"), f'"{written}" cannot be used ({problem}); give the path of '
                                                       f"{voice_file_kind(routine.voice.engine)}, relative to the "
                                                       "routine file")
    return dataclasses.replace(routine, voice=dataclasses.replace(routine.voice, model=path))


def _with_cover(routine: Routine, folder: Path) -> Routine:
    """The routine with its ``cover:`` found next to the routine file and checked to be a usable image: decoded
    whole, at most MAX_COVER_SIDE_PX a side (``_publish.cover``). The build decodes it again and embeds only the
    pixels, encoded anew (``embedded_cover``)."""
    if routine.cover is None:
        return routine
    written = str(routine.cover)
    path = routine.cover if routine.cover.is_absolute() else folder / routine.cover
    try:
        data, size = read_regular_file(path, MAX_COVER_BYTES + 1)
    except Unreadable as problem:
        raise routine.source.error(("cover",), f'"{written}" cannot be read ({problem.reason}); give the path of a '
                                               "PNG or JPEG image, relative to the routine file") from None
    head = data[:16]
    if image_mime(head) is None:
        raise routine.source.error(("cover",), f'"{written}" is not a PNG or JPEG image; phones show only those, '
                                               "so save it as .png or .jpg")
    if size > MAX_COVER_BYTES:
        raise routine.source.error(("cover",), f'"{written}" is {size / 1e6:.1f} MB; a cover is at most '
                                               f"{MAX_COVER_BYTES // 1_000_000} MB (3000 x 3000 px is plenty)")
    try:
        decoded_cover(data)
    except CoverError as error:
        raise routine.source.error(("cover",), f'"{written}" {error}') from None
    return dataclasses.replace(routine, cover=path)
