"""The mix: tones and speech placed at exact sample offsets, produced chunk by chunk.

The session is never built by appending ``AudioSegment``s one after another
(quadratic: every ``+`` copies everything so far). Each sound is made once,
then each chunk of output is filled from the sounds that overlap it, so the
work is linear in the session's length and memory does not grow with it. Each
kind of sound has its source (speech, tones; the music is a stream)."""

from __future__ import annotations

import bisect
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .._speech.engines.base import Clip
from .timeline import SpeechEvent, Timeline, ToneEvent

with warnings.catch_warnings():
    # pydub looks for ffmpeg on PATH at import and warns when it is not there; voicecoach
    # never asks pydub to run ffmpeg (it finds its own, see parts.ffmpeg_path).
    warnings.filterwarnings("ignore", message="Couldn't find ffmpeg", category=RuntimeWarning)
    from pydub import AudioSegment
    from pydub.generators import Sine

# espeak-ng speaks at 22.05 kHz and the tones are below 1.4 kHz, so a higher rate
# would add nothing audible; it would only double the encoder's work.
SAMPLE_RATE_HZ = 22_050
FADE_MS = 6
CHUNK_S = 10


@dataclass(frozen=True)
class Levels:
    """Gains in dB relative to full scale for each kind of sound."""

    speech_gain_db: float = -1.0
    start_tone_gain_db: float = -8.0
    stop_tone_gain_db: float = -8.0
    tick_gain_db: float = -14.0
    phase_tone_gain_db: float = -14.0  # soft, like a tick

    def shifted(self, gain_db: float) -> Levels:
        """Every sound ``gain_db`` louder (or quieter): the balance between them stays."""
        return Levels(self.speech_gain_db + gain_db, self.start_tone_gain_db + gain_db,
                      self.stop_tone_gain_db + gain_db, self.tick_gain_db + gain_db,
                      self.phase_tone_gain_db + gain_db)

    def with_tones(self, tone_gain_db: float) -> Levels:
        """The tones ``tone_gain_db`` louder relative to the speech (``audio.tone_gain_db``)."""
        return Levels(self.speech_gain_db, self.start_tone_gain_db + tone_gain_db,
                      self.stop_tone_gain_db + tone_gain_db, self.tick_gain_db + tone_gain_db,
                      self.phase_tone_gain_db + tone_gain_db)

    def tone_gain_db(self, tone: str) -> float:
        return {"start": self.start_tone_gain_db, "stop": self.stop_tone_gain_db, "tick": self.tick_gain_db,
                "phase": self.phase_tone_gain_db}[tone]


def tone_segment(freq_hz: int, duration_ms: int, gain_db: float, sample_rate_hz: int = SAMPLE_RATE_HZ) -> AudioSegment:
    """A sine beep with short raised-cosine fades, so it starts and ends without a click.

    pydub's own ``fade_in`` ramps the gain linearly in dB from -120 dB, which keeps
    the tone inaudible for most of the fade and so moves its audible onset late;
    an amplitude ramp reaches half level at half the fade.
    """
    segment = Sine(freq_hz, sample_rate=sample_rate_hz, bit_depth=16).to_audio_segment(duration=duration_ms,
                                                                                     volume=gain_db)
    samples = segment_samples(segment.set_channels(1)).astype(np.float64)
    fade_frames = min(len(samples) // 2, FADE_MS * sample_rate_hz // 1000)
    ramp = 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, fade_frames, endpoint=False))
    samples[:fade_frames] *= ramp
    samples[len(samples) - fade_frames:] *= ramp[::-1]
    return segment._spawn(np.round(samples).astype("<i2").tobytes())


def speech_segment(clip: Clip, gain_db: float, sample_rate_hz: int = SAMPLE_RATE_HZ) -> AudioSegment:
    segment = AudioSegment(data=clip.samples, sample_width=2, frame_rate=clip.sample_rate_hz, channels=1)
    return segment.set_frame_rate(sample_rate_hz).apply_gain(gain_db)


def segment_samples(segment: AudioSegment) -> np.ndarray:
    return np.frombuffer(segment.raw_data, dtype="<i2")


def pcm_bytes(samples: np.ndarray, gain: float = 1.0) -> bytes:
    """Mixed samples (16-bit units, whole or not) as mono 16-bit little-endian PCM: times ``gain``, rounded,
    clipped to full scale."""
    if gain != 1.0:
        samples = samples * gain
    if samples.dtype.kind == "f":
        samples = np.rint(samples)
    return np.clip(samples, -32768, 32767).astype("<i2").tobytes()


def session_length_frames(timeline: Timeline, sample_rate_hz: int = SAMPLE_RATE_HZ) -> int:
    return ms_to_frame(timeline.duration_ms, sample_rate_hz)


def ms_to_frame(ms: int, sample_rate_hz: int) -> int:
    return (ms * sample_rate_hz + 500) // 1000


class SoundSource(Protocol):
    """Where the samples of one kind of placed sound come from: speech clips and tones (the music, which lasts,
    is a ``StreamSource``).

    ``samples(event)`` gives the sound's samples at the session's rate and the gain
    still to apply when mixing (None when they are at their level already), or
    None when the event is not this source's kind. ``key(event)`` names the
    distinct sound, so that each is made once however often it is placed.
    """

    def key(self, event: SpeechEvent | ToneEvent) -> tuple | None: ...

    def samples(self, event: SpeechEvent | ToneEvent) -> tuple[np.ndarray, float | None]: ...


class SpeechSource:
    """Speech events from their clips, at the speech level."""

    def __init__(self, clips: Mapping[str, Clip], sample_rate_hz: int, levels: Levels) -> None:
        self.clips, self.sample_rate_hz, self.levels = clips, sample_rate_hz, levels

    def key(self, event: SpeechEvent | ToneEvent) -> tuple | None:
        return ("speech", event.text) if isinstance(event, SpeechEvent) else None

    def samples(self, event: SpeechEvent | ToneEvent) -> tuple[np.ndarray, float | None]:
        assert isinstance(event, SpeechEvent)
        clip = self.clips[event.text]
        if clip.sample_rate_hz == self.sample_rate_hz:
            # The clip's own bytes, not a copy: its level is applied as it is mixed in.
            return np.frombuffer(clip.samples, dtype="<i2"), 10 ** (self.levels.speech_gain_db / 20)
        return segment_samples(speech_segment(clip, self.levels.speech_gain_db, self.sample_rate_hz)), None


class ToneSource:
    """The start, stop and tick tones, made at their level."""

    def __init__(self, sample_rate_hz: int, levels: Levels) -> None:
        self.sample_rate_hz, self.levels = sample_rate_hz, levels

    def key(self, event: SpeechEvent | ToneEvent) -> tuple | None:
        if not isinstance(event, ToneEvent):
            return None
        return ("tone", event.tone, event.freq_hz, event.end_ms - event.start_ms)

    def samples(self, event: SpeechEvent | ToneEvent) -> tuple[np.ndarray, float | None]:
        assert isinstance(event, ToneEvent)
        return segment_samples(tone_segment(event.freq_hz, event.end_ms - event.start_ms,
                                     self.levels.tone_gain_db(event.tone), self.sample_rate_hz)), None


class StreamSource(Protocol):
    """A sound that lasts (the music bed): its samples for any stretch, asked for in order, in 16-bit units
    (not rounded), or None where it is silent."""

    def render(self, start_frame: int, end_frame: int) -> np.ndarray | None: ...


class ChunkRenderer:
    """The mixer: renders PCM chunks from the sounds laid out on the timeline, from any frame on.

    It keeps only the sounds still to be heard.

    ``add()`` takes events in any order, as long as none starts before the point
    already handed out; ``chunks_until()`` yields every whole chunk before a frame;
    ``finish()`` the rest. Each distinct sound is made once. Memory holds the
    sounds that overlap the chunks not yet produced, not the session.
    """

    def __init__(self, clips: Mapping[str, Clip], sample_rate_hz: int = SAMPLE_RATE_HZ, levels: Levels = Levels(),
                 chunk_frames: int | None = None, start_frame: int = 0,
                 sources: Sequence[SoundSource] | None = None, streams: Sequence[StreamSource] = ()) -> None:
        self.clips = clips
        self.sample_rate_hz = sample_rate_hz
        self.levels = levels
        self.sources: list[SoundSource] = list(sources) if sources is not None else [
            SpeechSource(clips, sample_rate_hz, levels), ToneSource(sample_rate_hz, levels)]
        self.streams = list(streams)
        self.chunk_frames = chunk_frames or CHUNK_S * sample_rate_hz
        self.next_frame = start_frame  # the first frame not yet handed out (a piece of a session starts later)
        # (first frame, samples, gain factor or None when the samples are at their level), by first frame
        self.pending: list[tuple[int, np.ndarray, float | None]] = []
        self.made: dict[tuple, tuple[np.ndarray, float | None]] = {}

    def add(self, events: Iterable[SpeechEvent | ToneEvent]) -> None:
        for event in events:
            start = ms_to_frame(event.start_ms, self.sample_rate_hz)
            if start < self.next_frame:
                raise ValueError(f"{event} starts before frame {self.next_frame}, which is already rendered")
            bisect.insort(self.pending, (start, *self.samples_of(event)), key=lambda item: item[0])

    def chunks_until(self, frame: int) -> Iterator[bytes]:
        """Every whole chunk that ends at or before ``frame``."""
        while self.next_frame + self.chunk_frames <= frame:
            yield self._chunk(self.next_frame + self.chunk_frames)

    def finish(self, total_frames: int) -> Iterator[bytes]:
        """The remaining chunks, up to the session's end."""
        while self.next_frame < total_frames:
            yield self._chunk(min(total_frames, self.next_frame + self.chunk_frames))

    def mixed_until(self, total_frames: int) -> Iterator[np.ndarray]:
        """The remaining chunks as the mix adds them up (16-bit units, neither rounded nor clipped): what a
        loudness meter measures."""
        while self.next_frame < total_frames:
            yield self._mixed(min(total_frames, self.next_frame + self.chunk_frames))

    def _chunk(self, chunk_end: int) -> bytes:
        return pcm_bytes(self._mixed(chunk_end))

    def _mixed(self, chunk_end: int) -> np.ndarray:
        chunk_start = self.next_frame
        chunk: np.ndarray = np.zeros(chunk_end - chunk_start, dtype=np.int32)
        cut = bisect.bisect_left(self.pending, chunk_end, key=lambda item: item[0])
        still_heard = []
        for start, samples, gain in self.pending[:cut]:
            begin, end = max(start, chunk_start), min(start + len(samples), chunk_end)
            if begin < end:
                part = samples[begin - start:end - start]
                mixed = part if gain is None else np.rint(part * gain).astype(np.int32)
                chunk[begin - chunk_start:end - chunk_start] += mixed
            if start + len(samples) > chunk_end:
                still_heard.append((start, samples, gain))
        self.pending = still_heard + self.pending[cut:]  # still sorted: those start before chunk_end
        for stream in self.streams:
            lasting = stream.render(chunk_start, chunk_end)
            if lasting is not None:
                chunk = chunk + lasting
        self.next_frame = chunk_end
        return chunk

    def samples_of(self, event: SpeechEvent | ToneEvent) -> tuple[np.ndarray, float | None]:
        """The sound's samples (each distinct sound made once, by its source) and the gain still to apply."""
        for source in self.sources:
            key = source.key(event)
            if key is not None:
                if key not in self.made:
                    self.made[key] = source.samples(event)
                return self.made[key]
        raise ValueError(f"no source makes {event}")


def render_chunks(timeline: Timeline, clips: Mapping[str, Clip], sample_rate_hz: int = SAMPLE_RATE_HZ,
                  levels: Levels = Levels(),
                  chunk_frames: int | None = None) -> Iterator[bytes]:
    """Yield a laid-out session as mono 16-bit little-endian PCM, one chunk at a time."""
    renderer = ChunkRenderer(clips, sample_rate_hz, levels, chunk_frames)
    renderer.add(timeline.sounds)
    yield from renderer.finish(session_length_frames(timeline, sample_rate_hz))


def render(timeline: Timeline, clips: Mapping[str, Clip], sample_rate_hz: int = SAMPLE_RATE_HZ,
           levels: Levels = Levels()) -> AudioSegment:
    """The whole session as one AudioSegment (joined once, not appended)."""
    data = b"".join(render_chunks(timeline, clips, sample_rate_hz, levels=levels))
    return AudioSegment(data=data, sample_width=2, frame_rate=sample_rate_hz, channels=1)
