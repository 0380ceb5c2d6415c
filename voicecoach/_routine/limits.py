"""Every limit a routine is held to, in one place (docs/routine-format.md, section 7.9, lists them)."""

from __future__ import annotations

MAX_DURATION_S = 4 * 3600
MAX_SESSION_MS = 12 * 3600 * 1000
MAX_HOLDS = 20_000  # sides x sets x reps over a routine's exercises (a tempo's reps counted one by one)
MAX_SETS = MAX_REPS = 1000  # an exercise's sets, and its reps in a set
MIN_HOLD_MS = 500
MAX_LEAD_IN_S = 10  # the silence before the first sound (a device wakes within a second or two)
MAX_FILE_BYTES = 1_000_000
MIN_TIME_SCALE, MAX_TIME_SCALE = 0.1, 10.0
MIN_PHASE_MS = 500  # the start tone and its clearance (400 ms) end before the next phase tone
MAX_EXERCISES = 500  # a routine's exercises (a catalog builds many routines at once)
MAX_NAME_CHARS = 200  # a title, an exercise's name, a side's label, a tempo phase's name
MAX_TEXT_CHARS = 2_000  # an intro, outro, description, instructions, cue or release
# The least a session can last is checked before any synthesis with every phrase at its fastest: this many ms for
# each letter or digit of its words of two or more. espeak-ng at its fastest (rate 400) takes 13 ms or more (28 ms
# in English prose); a lone letter can take nothing (espeak-ng says French "a a a a ..." as three of them).
MIN_SPEECH_MS_PER_CHAR = 5
MAX_SPOKEN_CHARS = 3_000  # one phrase as it is spoken, after the lexicon (espeak-ng crashes on tens of kB)
MAX_FILE_NAME_CHARS = 200  # a session's file name (title, variant and overrides): its files' hidden staging names
# (".NAME.timeline.json.<pid>.<hex>.part") must stay within the 255 bytes a file system allows
