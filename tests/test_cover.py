"""The generated cover: a shipped font with wide coverage, never an empty box for a glyph it lacks."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageFont

from voicecoach._publish.cover import SIZE_PX, _font_path, cover_png, drawable

FONT = ImageFont.truetype(_font_path(), 100)


@pytest.mark.parametrize("title", ["Утренняя зарядка", "Πρωινή γυμναστική", "Rückenschule für Anfänger",
                                   "Ćwiczenia na kręgosłup", "Ankle & hip (quick)"])
def test_latin_greek_and_cyrillic_titles_are_drawn_whole(title):
    assert drawable(title, FONT) == title


def test_a_title_the_font_cannot_draw_still_gets_a_readable_cover():
    assert drawable("朝のストレッチ", FONT) == ""  # no empty boxes drawn
    image = Image.open(io.BytesIO(cover_png("朝のストレッチ", 3, 300_000, "quick")))
    assert image.size == (SIZE_PX, SIZE_PX)


def test_the_font_ships_with_its_licence():
    font = Path(_font_path())
    assert font.is_file() and font.stat().st_size > 100_000
    assert "Bitstream" in (font.parent / "LICENSE-DejaVu.txt").read_text(encoding="utf-8")


def test_a_long_title_fits_the_cover():
    from voicecoach._publish.cover import _fitted

    font, lines = _fitted("Relieve back pain through your feet with five gentle exercises", SIZE_PX * 8 // 10,
                          ImageFont)
    assert len(lines) <= 5 and all(font.getlength(line) <= SIZE_PX * 8 // 10 for line in lines)
