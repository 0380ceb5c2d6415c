"""The MP3 encoder: ffmpeg (LAME) fed mono 16-bit PCM, into a file (so that it can write the gapless header)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path

from .._errors import MissingPartError, OutputError
from .._parts import FFMPEG_INSTALL_HINT, ffmpeg_path

DEFAULT_BITRATE_KBPS = 64
# LAME (through ffmpeg) gives back every sound at 0.95 of its level: measured on sines from 100 Hz to 8 kHz at
# 32, 64 and 128 kbps, decoded by ffmpeg, -0.446 dB each time. The loudness target is aimed this much higher.
ENCODER_GAIN_DB = -0.446
SAMPLE_RATES_HZ = (22_050, 44_100, 48_000)


def encode_command(source: str | Path, output: str | Path, sample_rate_hz: int, bitrate_kbps: int) -> list[str]:
    """The ffmpeg command that encodes mono 16-bit PCM from ``source`` (a file, or ``pipe:0``) to MP3."""
    return [ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-y",
            "-f", "s16le", "-ar", str(sample_rate_hz), "-ac", "1", "-i", str(source),
            "-c:a", "libmp3lame", "-b:a", f"{bitrate_kbps}k", "-ar", str(sample_rate_hz),
            "-id3v2_version", "0", "-write_id3v1", "0", "-write_xing", "1",
            "-f", "mp3", str(output)]


def encode_mp3(chunks: Iterable[bytes], partial: Path, sample_rate_hz: int, bitrate_kbps: int,
               on_chunk: Callable[[], None] | None = None, target: str | Path | None = None) -> None:
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


def check_mp3_format(sample_rate_hz: int, bitrate_kbps: int) -> None:
    """Refuse, before any work, a bitrate the MP3 format has no frames for at this sample rate."""
    if sample_rate_hz not in SAMPLE_RATES_HZ:
        raise OutputError(f"{sample_rate_hz} Hz is not offered; use one of "
                          + ", ".join(str(rate) for rate in SAMPLE_RATES_HZ), field="{@sample_rate_hz}")
    highest = 160 if sample_rate_hz < 32_000 else 320
    if not 8 <= bitrate_kbps <= highest:
        raise OutputError(f"an MP3 at {sample_rate_hz} Hz has bitrates from 8 to {highest} kbps, not {bitrate_kbps}; "
                          "lower {@bitrate_kbps}, or use {@sample_rate_hz} 44100 for more", field="{@bitrate_kbps}")
