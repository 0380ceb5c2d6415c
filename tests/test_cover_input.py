"""A routine's own cover: decoded when the routine is loaded, bounded in pixels, and embedded only as pixels
voicecoach encoded itself; a cover that is not a real, reasonable image is one line, exit 2, nothing written."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import zlib

import pytest
from mutagen.mp3 import MP3
from PIL import Image, ImageDraw

from voicecoach._pipeline.build import BuildOptions, build_file
from voicecoach._publish import cover

from .conftest import write_routine

ROUTINE = "title: T\ncover: {}\nexercises:\n  - {{name: P, hold: 5s}}\n"


def _picture(width: int, height: int) -> Image.Image:
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    ImageDraw.Draw(image).rectangle((width // 4, height // 4, width // 2, height // 2), fill=(200, 30, 30))
    return image


def _encoded(image: Image.Image, format: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, format=format, **options)
    return out.getvalue()


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "voicecoach", *args], capture_output=True, text=True, timeout=120)


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` px, with no pixels: a few bytes, nothing allocated."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b""))


@pytest.mark.parametrize("name, data", [
    ("cover.png", b"\x89PNG\r\n\x1a\n" + bytes(100)),
    ("cover.jpg", b"\xff\xd8\xff" + bytes(100)),
    ("cut.png", _encoded(Image.effect_noise((300, 300), 60), "PNG")[:20_000]),
])
def test_a_cover_that_is_only_magic_bytes_or_cut_short_is_one_line(tmp_path, name, data):
    (tmp_path / name).write_bytes(data)
    routine = write_routine(tmp_path, ROUTINE.format(name))
    for run in (_run("validate", str(routine)), _run("build", str(routine), "-o", str(tmp_path / "out"))):
        assert run.returncode == 2
        # Pillow's reason, in its own words between the brackets, differs with its version
        assert run.stderr.startswith(f'{routine}:2: cover: "{name}" is not a PNG or JPEG image Pillow can read (')
        assert run.stderr.endswith("); open it in an image editor and save it again as .png or .jpg\n")
        assert run.stderr.count("\n") == 1
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.mark.parametrize("width, height", [(20_000, 20_000), (4097, 16), (16, 100_000)])
def test_a_cover_of_huge_dimensions_is_refused_from_its_header(tmp_path, width, height):
    (tmp_path / "huge.png").write_bytes(_png_header_only(width, height))
    routine = write_routine(tmp_path, ROUTINE.format("huge.png"))
    for run in (_run("validate", str(routine)), _run("build", str(routine), "-o", str(tmp_path / "out"))):
        assert run.returncode == 2
        assert run.stderr == (f'{routine}:2: cover: "huge.png" is {width} x {height} px; a cover is at most 4096 x '
                              "4096 px, so scale it down (1400 x 1400 px is plenty)\n")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.mark.parametrize("name, format", [("cover.png", "PNG"), ("cover.jpg", "JPEG")])
def test_a_large_cover_is_embedded_decoded_scaled_and_encoded_anew(tmp_path, fake_speech, name, format):
    original = _picture(3000, 3000)
    secret = b"not pixels: a comment, a trailer, anything after the image"
    (tmp_path / name).write_bytes(_encoded(original, format) + secret)
    routine = write_routine(tmp_path, ROUTINE.format(name))
    result = build_file(routine, BuildOptions(output_dir=tmp_path / "out", cache_dir=tmp_path / "cache"))
    picture = MP3(result.mp3_path).tags.getall("APIC")[0]
    assert secret not in picture.data
    embedded = Image.open(io.BytesIO(picture.data))
    assert (embedded.format, embedded.size) == (format, (cover.SIZE_PX, cover.SIZE_PX))
    assert picture.mime == f"image/{format.lower()}"
    # the same picture: the red square where it was
    assert embedded.convert("RGB").getpixel((cover.SIZE_PX * 3 // 8, cover.SIZE_PX * 3 // 8))[0] > 150


def test_a_small_cover_keeps_its_size_and_a_photo_is_turned_upright():
    assert Image.open(io.BytesIO(cover.embedded_cover(_encoded(_picture(600, 400), "PNG")))).size == (600, 400)
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: the camera was turned; shown rotated 90 degrees
    turned = cover.embedded_cover(_encoded(_picture(600, 400), "JPEG", exif=exif.tobytes()))
    assert Image.open(io.BytesIO(turned)).size == (400, 600)
    assert b"Exif" not in turned
