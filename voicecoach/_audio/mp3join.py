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

Whatever made an MP3 (one encode or a join), ``set_length`` then writes its
exact length into the Info frame: ffmpeg's own padding is short by a frame
when the music ends in the last 46 samples of a frame (at 22.05 kHz; LAME then
adds a frame that ffmpeg's count leaves out), and the file decoded up to 46
samples long.

``tests/test_mp3join.py`` decodes a joined session and finds it sample for
sample as long as a single encode, identical to it around every join, and
every tone at its time.
"""

from __future__ import annotations

import functools
import io
import struct
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

PREROLL_FRAMES = 8  # silence encoded before and after a piece's own part, in frames
READ_BYTES = 1 << 20  # the join reads its pieces a megabyte at a time
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
    """An encoded piece: its MP3 file, and which of its audio frames belong to the session.

    ``sizes`` are its frames' sizes (``frames_of``), when already read: each piece
    of a build is read by its own thread as soon as LAME has written it.
    """

    path: Path
    first_frame: int  # index among the piece's audio frames (the Info frame not counted)
    frames: int | None  # how many from there; None: to the end (the last piece)
    sizes: array | None = None


def frames_of(data: bytes | BinaryIO | Path) -> array:
    """The size of every MPEG audio frame in an MP3 (bytes, a file or its path), which starts with one.

    A file is read a block at a time and the answer is a compact array (2 bytes
    a frame; a two-hour session has 275,000), so memory stays flat.
    """
    if isinstance(data, Path):
        with open(data, "rb") as handle:
            return frames_of(handle)
    stream = io.BytesIO(data) if isinstance(data, (bytes, bytearray)) else data
    sizes = array("H")
    position = 0
    buffer, buffer_start = b"", 0
    while True:
        if position + 4 > buffer_start + len(buffer):  # the next header is not in the block read: read on
            stream.seek(position)
            buffer, buffer_start = stream.read(READ_BYTES), position
            if len(buffer) < 4:
                break
        size = _frame_size(struct.unpack_from(">I", buffer, position - buffer_start)[0], position)
        sizes.append(size)
        position += size
    stream.seek(0, io.SEEK_END)
    if position != stream.tell():
        raise ValueError("the last frame is cut short")
    return sizes


def _frame_size(header: int, position: int = 0) -> int:
    """The size in bytes of the MPEG audio frame with this 4-byte header (found at byte ``position``)."""
    if header >> 21 != 0x7FF:
        raise ValueError(f"no MPEG frame at byte {position}")
    version = 1 if (header >> 19) & 3 == 3 else 2
    bitrate_kbps = _BITRATES_KBPS[version][(header >> 12) & 0xF]
    rate_hz = _RATES_HZ[version][(header >> 10) & 3]
    size = (144_000 if version == 1 else 72_000) * bitrate_kbps // rate_hz + ((header >> 9) & 1)
    if size <= 4:
        raise ValueError(f"a frame of {size} bytes at byte {position}")
    return size


def join(pieces: Sequence[Piece], output: BinaryIO) -> None:
    """Write to ``output`` one MP3 from the kept frames of ``pieces``, with the first piece's Info frame
    rewritten for the whole. Two passes over the pieces' files, a block at a time: memory stays flat."""
    ranges: list[tuple[Path, int, int]] = []  # (file, first byte, end byte) kept of each piece
    sizes = array("H")
    info, offset, last_info = bytearray(), 0, b""
    for number, piece in enumerate(pieces):
        frame_sizes = piece.sizes if piece.sizes is not None else frames_of(piece.path)
        with open(piece.path, "rb") as handle:
            head = handle.read(frame_sizes[0])
        tag = _tag_offset(head)
        if head[tag:tag + 4] not in (b"Info", b"Xing"):
            raise ValueError("a piece has no Info frame; it must be encoded to a file")
        if number == 0:
            info, offset = bytearray(head), tag
        last_info = head
        audio_frames = len(frame_sizes) - 1  # the first is the Info frame
        end = audio_frames if piece.frames is None else piece.first_frame + piece.frames
        if end > audio_frames or piece.first_frame >= end:
            raise ValueError(f"piece {number} has {audio_frames} frames, not the {end} it should")
        kept = frame_sizes[1 + piece.first_frame:1 + end]
        start = sum(frame_sizes[:1 + piece.first_frame])
        ranges.append((piece.path, start, start + sum(kept)))
        sizes.extend(kept)
    audio_bytes = sum(end - start for _, start, end in ranges)
    crc = Crc16()
    for block in _blocks(ranges):
        crc.update(block)
    total_bytes = len(info) + audio_bytes
    lame = offset + 120  # after "Info", flags, frames, bytes, the 100-byte seek table and the quality
    struct.pack_into(">I", info, offset + 8, len(sizes))
    struct.pack_into(">I", info, offset + 12, total_bytes)
    starts = np.concatenate(([0], np.cumsum(np.frombuffer(sizes, dtype=np.uint16)[:-1], dtype=np.int64)))
    info[offset + 16:offset + 116] = bytes(
        min(255, int(len(info) + starts[min(len(sizes) - 1, percent * len(sizes) // 100)]) * 256 // total_bytes)
        for percent in range(100))
    info[lame + 21:lame + 24] = last_info[lame + 21:lame + 24]  # the encoder delay (same) and the last padding
    struct.pack_into(">I", info, lame + 28, total_bytes)
    struct.pack_into(">H", info, lame + 32, crc.value)
    struct.pack_into(">H", info, lame + 34, 0)
    struct.pack_into(">H", info, lame + 34, _crc_bytewise(bytes(info[:_INFO_TAG_CRC_SPAN])))
    output.write(bytes(info))
    for block in _blocks(ranges):
        output.write(block)


def set_length(path: Path, samples: int) -> None:
    """Make the MP3 at ``path`` (as an encode or ``join`` left it, before any ID3 tag) decode to exactly
    ``samples`` samples: its Info frame's padding is set from its frame count and encoder delay, and the tag's
    CRC written again. Only the padding changes, so a file already right is left as it is.

    Decoded length = frames x frame length - delay - padding (how ffmpeg and the LAME tag's readers trim).
    ValueError if the file has no Info frame with a frame count, or if the padding needed is not what an
    encoder could have left (the file would not hold that many samples): a bug, not an input.
    """
    with open(path, "r+b") as handle:
        head = handle.read(4)
        if len(head) < 4:
            raise ValueError(f"{path} is not an MP3")
        handle.seek(0)
        info = bytearray(handle.read(_frame_size(struct.unpack(">I", head)[0])))
        tag = _tag_offset(info)
        flags = struct.unpack_from(">I", info, tag + 4)[0]
        if info[tag:tag + 4] not in (b"Info", b"Xing") or not flags & 1:
            raise ValueError(f"{path} has no Info frame with a frame count")
        frames = struct.unpack_from(">I", info, tag + 8)[0]
        lame = tag + 120
        delay = int.from_bytes(info[lame + 21:lame + 24], "big") >> 12
        length = 1152 if (info[1] >> 3) & 3 == 3 else 576
        padding = frames * length - delay - samples
        if not 0 <= padding < min(4096, 3 * length):
            raise ValueError(f"{path} has {frames} frames after a delay of {delay}: not {samples} samples")
        info[lame + 21:lame + 24] = ((delay << 12) | padding).to_bytes(3, "big")
        struct.pack_into(">H", info, lame + 34, 0)
        struct.pack_into(">H", info, lame + 34, _crc_bytewise(bytes(info[:_INFO_TAG_CRC_SPAN])))
        handle.seek(0)
        handle.write(info)


def _blocks(ranges: Sequence[tuple[Path, int, int]]) -> Iterator[bytes]:
    for path, start, end in ranges:
        with open(path, "rb") as handle:
            handle.seek(start)
            left = end - start
            while left:
                block = handle.read(min(READ_BYTES, left))
                if not block:
                    raise ValueError(f"{path} ended early")
                left -= len(block)
                yield block


def _tag_offset(frame: bytes | bytearray) -> int:
    header = struct.unpack_from(">I", frame, 0)[0]
    version = 1 if (header >> 19) & 3 == 3 else 2
    mono = (header >> 6) & 3 == 3
    if not mono:
        raise ValueError("only mono MP3s are joined")
    return 4 + _SIDE_INFO_BYTES[version]


class Crc16:
    """CRC-16/ARC (polynomial 0x8005, reflected, initial value 0), the LAME tag's, fed a block at a time.

    Byte by byte in Python it takes about a second for a 15-minute MP3, so the
    data is cut into 512-byte blocks whose CRCs are computed side by side with
    numpy, then chained: with an initial value of 0 the CRC is linear, so the
    CRC of X then Y is the CRC of X carried through len(Y) zero bytes, XOR the
    CRC of Y. The last bytes short of a block are done one by one.
    """

    BLOCK = 512

    def __init__(self) -> None:
        self._crc = 0
        self._rest = b""

    def update(self, data: bytes) -> None:
        data = self._rest + data
        whole = len(data) - len(data) % self.BLOCK
        self._rest = data[whole:]
        if not whole:
            return
        blocks = np.frombuffer(data, dtype=np.uint8, count=whole).reshape(-1, self.BLOCK)
        table = np.array(_crc_table(), dtype=np.uint16)
        states = np.zeros(len(blocks), dtype=np.uint16)
        for column in range(self.BLOCK):
            states = (states >> 8) ^ table[(states ^ blocks[:, column]) & 0xFF]
        low, high = _zero_bytes_tables(self.BLOCK)
        crc = self._crc
        for state in states.tolist():
            crc = low[crc & 0xFF] ^ high[crc >> 8] ^ state
        self._crc = crc

    @property
    def value(self) -> int:
        return _crc_bytewise(self._rest, self._crc)


def crc16(data: bytes) -> int:
    """The CRC-16/ARC of ``data``."""
    crc = Crc16()
    crc.update(data)
    return crc.value


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
