import pytest

from voicecoach._routine.durations import format_s, parse_duration_s, to_ms


@pytest.mark.parametrize("written, seconds", [
    (5, 5.0), (2.5, 2.5), ("5", 5.0), ("5s", 5.0), ("90s", 90.0), ("1m", 60.0), ("1m30s", 90.0),
    ("1:30", 90.0), ("1:00:00", 3600.0), ("1h", 3600.0), ("5 min", 300.0), ("2 minutes", 120.0),
    ("1 m 30 s", 90.0), ("0.5s", 0.5), ("1h 2m 3s", 3723.0), ("0", 0.0),
])
def test_every_documented_form(written, seconds):
    assert parse_duration_s(written) == seconds


@pytest.mark.parametrize("written", ["five seconds", "5x", "", "s", "1m1m", True, None, [5], "1:2:3:4", "-5"])
def test_what_is_not_a_duration_says_how_to_write_one(written):
    with pytest.raises(ValueError, match="write 5s, 1m30s or 90"):
        parse_duration_s(written)


def test_negative_numbers_are_refused():
    with pytest.raises(ValueError, match="-3 is negative"):
        parse_duration_s(-3)


def test_milliseconds_are_exact():
    assert to_ms(parse_duration_s("2.5s")) == 2500
    assert to_ms(0.1 + 0.2) == 300  # float noise does not leak into the layout


@pytest.mark.parametrize("ms, text", [(20000, "20 s"), (23400, "23.4 s"), (300000, "5 min"), (7200000, "2 h"),
                                      (250, "0.25 s"), (57_605_000, "16 h 5 s"), (3_690_500, "1 h 1 min 30.5 s")])
def test_format_s(ms, text):
    assert format_s(ms) == text
