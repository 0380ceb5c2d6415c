"""File names made from titles: readable, and safe on every system whatever the title."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voicecoach._routine.slug import WINDOWS_RESERVED, session_slug, slugify


@pytest.mark.parametrize("title, name", [
    ("Übung eins — heel slides", "ubung-eins-heel-slides"),  # the contract's own example
    ("Relieve back pain through your feet", "relieve-back-pain-through-your-feet"),
    ("../../etc/passwd", "etc-passwd"),
    ("C:\\Users\\me\\plank", "c-users-me-plank"),
    ("CON", "con-session"),
    ("lpt1", "lpt1-session"),
    ("", "session"),
    ("\x00\x07\x1f", "session"),
    ("Straße & Øresund", "strasse-oresund"),
])
def test_titles_become_safe_names(title, name):
    assert session_slug(title) == name


def test_variant_parts_join_with_double_dashes():
    assert session_slug("Calf raises", ("quick", "hold 6s", "rate 180")) == "calf-raises--quick--hold-6s--rate-180"


@given(title=st.text(), parts=st.lists(st.text(max_size=30), max_size=3))
def test_any_title_gives_a_safe_bounded_name(title, parts):
    name = session_slug(title, tuple(parts))
    assert re.fullmatch(r"[a-z0-9]+(-+[a-z0-9]+)*", name)  # no separator, dot, space or control character
    assert len(name) <= 80 + 82 * len(parts) + len("-session")
    assert name not in WINDOWS_RESERVED
    assert len(slugify(title)) <= 80
