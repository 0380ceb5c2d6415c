"""The outside programs voicecoach needs, found once: espeak-ng (a library) and ffmpeg.

System packages are preferred. Without them, the PyPI wheels ``espeakng-loader``
and ``imageio-ffmpeg`` (both dependencies) supply their own copies, so that
``pip install`` alone gives a working tool.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import shutil

from ._errors import MissingPartError

ESPEAK_INSTALL_HINT = "install it with `sudo apt-get install espeak-ng` (or `pip install espeakng-loader`)"
FFMPEG_INSTALL_HINT = "install it with `sudo apt-get install ffmpeg` (or `pip install imageio-ffmpeg`)"


@functools.cache
def prepare_espeak() -> str:
    """Make sure pyttsx3 will find a working libespeak-ng; call before importing pyttsx3.

    Returns where the library came from (system or wheel), for diagnostics.
    The wheel's library registers itself as ``libespeak-ng.so.1``, so pyttsx3's own
    ``cdll.LoadLibrary`` picks up the copy loaded here. Without ESPEAK_DATA_PATH
    the wheel's espeak-ng calls exit(1), killing the process with no exception,
    so it is set before anything else touches the library.
    """
    for name in filter(None, (ctypes.util.find_library("espeak-ng"), "libespeak-ng.so.1")):
        try:
            ctypes.CDLL(name)  # find_library alone can name a library that will not load
            return f"system ({name})"
        except OSError:
            continue
    try:
        import espeakng_loader
    except ImportError:
        raise MissingPartError(f"espeak-ng is missing; {ESPEAK_INSTALL_HINT}") from None
    try:
        library = espeakng_loader.get_library_path()
        os.environ["ESPEAK_DATA_PATH"] = espeakng_loader.get_data_path()
        ctypes.CDLL(library, mode=ctypes.RTLD_GLOBAL)
    except OSError as error:
        raise MissingPartError(f"espeak-ng could not be loaded ({error}); {ESPEAK_INSTALL_HINT}") from None
    return f"espeakng-loader wheel ({library})"


@functools.cache
def ffmpeg_path() -> str:
    """The ffmpeg to run: the system's, else the one the imageio-ffmpeg wheel ships."""
    chosen = os.environ.get("VOICECOACH_FFMPEG")
    if chosen:
        if not (os.path.isfile(chosen) and os.access(chosen, os.X_OK)):
            raise MissingPartError(f"ffmpeg is missing: VOICECOACH_FFMPEG={chosen} is not a program; fix or unset "
                                   f"it, or {FFMPEG_INSTALL_HINT}")
        return chosen
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError):
        raise MissingPartError(f"ffmpeg is missing; {FFMPEG_INSTALL_HINT}") from None
