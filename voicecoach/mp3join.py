"""Join MP3s that LAME encoded from overlapping pieces of one session into one gapless MP3, frame for frame.

A session is long and LAME uses one core, so a build with cores to spare
encodes it in pieces at once and joins them here. It is exact because:

- each piece is cut where the session is digitally silent for a while, at a
  multiple of the frame length, and is encoded with some of that silence
  before and after it (``PREROLL_FRAMES``), so LAME's frames of every piece fall
  on the same grid as a single encode's: with the same encoder delay, frame
  ``j`` of a piece starting at sample ``s`` is frame ``s / frame_length + j``
  of the session;
- the join keeps, of each piece, only the frames of its own part; the frames
  around a join encode silence, so the MDCT overlap and the decoder's
  filterbank carry nothing across it, and a silent frame reads no main data,
  so LAME's bit reservoir cannot point a later frame across the join (it
  reaches back at most 255 bytes, little more than one frame);
- the first piece's Info frame (written by ffmpeg) is rewritten for the whole:
  the frame and byte counts, the seek table, the last piece's padding (the
  encoder delay is the same for all), the music's length and CRC, and the
  tag's CRC, so a decoder trims exactly the delay and padding of one encode.

``tests/test_mp3join.py`` decodes a joined session and finds it sample for
sample as long as a single encode, identical to it around every join, and
every tone at its time.
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

PREROLL_FRAMES = 8  # silence encoded before and after a piece's own part, in frames
_BITRATES_KBPS = {1: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
                  2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)}
_RATES_HZ = {1: (44_100, 48_000, 32_000), 2: (22_050, 24_000, 16_000)}
# The Info tag in a mono Layer III frame: after the 4-byte header and the side information.
_SIDE_INFO_BYTES = {1: 17, 2: 9}
_INFO_TAG_CRC_SPAN = 190  # ffmpeg's tag CRC covers the frame's first 190 bytes (with the CRC field zeroed)


def frame_length(sample_rate_hz: int) -> int:
    """Samples per Layer III frame: 1152 for MPEG-1 (32 kHz and up), 576 for MPEG-2 (below)."""
    return 1152 if sample_rate_hz >= 32_000 else 576


@dataclass(frozen=True)
class Piece:
    """An encoded piece: its MP3 bytes, and which of its audio frames belong to the session."""

    mp3: bytes
    first_frame: int  # index among the piece's audio frames (the Info frame not counted)
    frames: int | None  # how many from there; None: to the end (the last piece)


def frames_of(data: bytes) -> list[tuple[int, int]]:
    """(offset, size) of every MPEG audio frame in ``data``, which starts with one."""
    found = []
    position = 0
    while position + 4 <= len(data):
        header = struct.unpack_from(">I", data, position)[0]
        if header >> 21 != 0x7FF:
            raise ValueError(f"no MPEG frame at byte {position}")
        version = 1 if (header >> 19) & 3 == 3 else 2
        bitrate_kbps = _BITRATES_KBPS[version][(header >> 12) & 0xF]
        rate_hz = _RATES_HZ[version][(header >> 10) & 3]
        size = (144_000 if version == 1 else 72_000) * bitrate_kbps // rate_hz + ((header >> 9) & 1)
        if size <= 4:
            raise ValueError(f"a frame of {size} bytes at byte {position}")
        found.append((position, size))
        position += size
    if position != len(data):
        raise ValueError("the last frame is cut short")
    return found


def join(pieces: Sequence[Piece]) -> bytes:
    """One MP3 from the kept frames of ``pieces``, with the first piece's Info frame rewritten for the whole."""
    kept: list[bytes] = []
    last_info = b""
    info = bytearray()
    offset = 0
    for number, piece in enumerate(pieces):
        frames = frames_of(piece.mp3)
        head = piece.mp3[frames[0][0]:frames[0][0] + frames[0][1]]
        tag = _tag_offset(head)
        if piece.mp3[tag:tag + 4] not in (b"Info", b"Xing"):
            raise ValueError("a piece has no Info frame; it must be encoded to a file")
        if number == 0:
            info, offset = bytearray(head), tag
        last_info = head
        audio = frames[1:]
        end = len(audio) if piece.frames is None else piece.first_frame + piece.frames
        if end > len(audio) or piece.first_frame > end:
            raise ValueError(f"piece {number} has {len(audio)} frames, not the {end} it should")
        kept.extend(piece.mp3[position:position + size] for position, size in audio[piece.first_frame:end])
    audio_bytes = b"".join(kept)
    total_bytes = len(info) + len(audio_bytes)
    lame = offset + 120  # after "Info", flags, frames, bytes, the 100-byte seek table and the quality
    struct.pack_into(">I", info, offset + 8, len(kept))
    struct.pack_into(">I", info, offset + 12, total_bytes)
    sizes = [len(frame) for frame in kept]
    starts = [0]
    for size in sizes[:-1]:
        starts.append(starts[-1] + size)
    info[offset + 16:offset + 116] = bytes(
        min(255, (len(info) + starts[min(len(kept) - 1, percent * len(kept) // 100)]) * 256 // total_bytes)
        for percent in range(100))
    info[lame + 21:lame + 24] = last_info[lame + 21:lame + 24]  # the encoder delay (same) and the last padding
    struct.pack_into(">I", info, lame + 28, total_bytes)
    struct.pack_into(">H", info, lame + 32, crc16(audio_bytes))
    struct.pack_into(">H", info, lame + 34, 0)
    struct.pack_into(">H", info, lame + 34, _crc_bytewise(bytes(info[:_INFO_TAG_CRC_SPAN])))
    return bytes(info) + audio_bytes


def _tag_offset(frame: bytes) -> int:
    header = struct.unpack_from(">I", frame, 0)[0]
    version = 1 if (header >> 19) & 3 == 3 else 2
    mono = (header >> 6) & 3 == 3
    if not mono:
        raise ValueError("only mono MP3s are joined")
    return 4 + _SIDE_INFO_BYTES[version]


def crc16(data: bytes) -> int:
    """CRC-16/ARC (polynomial 0x8005, reflected, initial value 0), the LAME tag's, of ``data``.

    Byte by byte in Python this takes about a second for a 15-minute MP3, so the
    data is cut into equal blocks whose CRCs are computed side by side with
    numpy, then chained: with an initial value of 0 the CRC is linear, so the
    CRC of X then Y is the CRC of X carried through len(Y) zero bytes, XOR the
    CRC of Y. Leading zero bytes change nothing, so the data is padded in front.
    """
    block = 512
    padded = np.frombuffer(bytes(-len(data) % block) + data, dtype=np.uint8).reshape(-1, block)
    table = np.array(_crc_table(), dtype=np.uint16)
    states = np.zeros(len(padded), dtype=np.uint16)
    for column in range(block):
        states = (states >> 8) ^ table[(states ^ padded[:, column]) & 0xFF]
    low, high = _zero_bytes_tables(block)
    crc = 0
    for state in states.tolist():
        crc = low[crc & 0xFF] ^ high[crc >> 8] ^ state
    return crc


@functools.cache
def _crc_table() -> tuple[int, ...]:
    table = []
    for value in range(256):
        for _ in range(8):
            value = (value >> 1) ^ 0xA001 if value & 1 else value >> 1
        table.append(value)
    return tuple(table)


def _crc_bytewise(data: bytes, crc: int = 0) -> int:
    table = _crc_table()
    for byte in data:
        crc = (crc >> 8) ^ table[(crc ^ byte) & 0xFF]
    return crc


@functools.cache
def _zero_bytes_tables(count: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The state after ``count`` zero bytes, from each low byte and each high byte of the state (it is linear)."""
    zeros = bytes(count)
    return (tuple(_crc_bytewise(zeros, value) for value in range(256)),
            tuple(_crc_bytewise(zeros, value << 8) for value in range(256)))
