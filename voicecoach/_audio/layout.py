"""Stage 4, layout: the plan's steps placed at absolute times, given each phrase's length, by the timing rules."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from .._errors import LayoutError
from .._plan.steps import Count, Gap, Hold, Line, Plan, Talk, Tempo
from .._routine.durations import format_s
from .._routine.limits import MAX_SESSION_MS
from .timeline import (
    KIND_ORDER,
    Chapter,
    Event,
    GapEvent,
    HoldEvent,
    PhaseEvent,
    SpeechEvent,
    Timeline,
    ToneEvent,
    ToneKind,
)


@dataclass(frozen=True)
class Timing:
    """The fixed numbers of the timing rules, in one place."""

    start_tone_ms: int = 300
    stop_tone_ms: int = 300
    tick_ms: int = 80
    phase_ms: int = 80                # the soft tone that starts each phase of a tempo rep
    start_freq_hz: int = 880
    stop_freq_hz: int = 660
    tick_freq_hz: int = 1320
    phase_freq_hz: int = 1100
    speech_after_tone_ms: int = 100   # speech starts at least this long after a tone or tick ends
    speech_before_tone_ms: int = 250  # speech ends at least this long before a tone or tick begins
    # A countdown number ends at least this long before the next second's sound (its tick or number, or the tone
    # that ends the countdown): shorter than speech_before_tone_ms so that every count 1 to 10 of every language
    # fits between its tick and the next one with countdown_style: both (Italian "quattro" is 614 ms at 160 wpm).
    count_before_tick_ms: int = 150
    tone_after_tone_ms: int = 100     # silence between two tones that have no speech between them
    sentence_pause_ms: int = 250      # between two sentences said one after the other
    tail_ms: int = 1000               # silence after the last word
    # The first sound starts this long after the lead-in: an MP3 encoder spreads a sound's onset back by up to a
    # frame (26 ms at 22.05 kHz), and the lead-in is digital silence to its last sample.
    after_lead_in_ms: int = 30

    def tone_ms(self, tone: ToneKind) -> int:
        return {"start": self.start_tone_ms, "stop": self.stop_tone_ms, "tick": self.tick_ms,
                "phase": self.phase_ms}[tone]

    def freq_hz(self, tone: ToneKind) -> int:
        return {"start": self.start_freq_hz, "stop": self.stop_freq_hz, "tick": self.tick_freq_hz,
                "phase": self.phase_freq_hz}[tone]


def layout_session(plan: Plan, speech_ms: Mapping[str, int], timing: Timing = Timing(),
                   strict: bool = False) -> Timeline:
    """Place every sound of ``plan`` in time. ``speech_ms`` gives each phrase's length."""
    stream = LayoutStream(plan, speech_ms, timing, strict)
    for _ in stream.steps():
        pass
    return stream.timeline()


class LayoutStream:
    """The layout one step at a time, so that rendering can begin before every phrase is known.

    After each step, ``steps()`` yields the sounds that step placed and the time
    before which the session is settled: nothing placed later starts earlier.
    ``speech_ms`` is only asked for a phrase when the step that says it is laid out.
    """

    def __init__(self, plan: Plan, speech_ms: Mapping[str, int], timing: Timing = Timing(),
                 strict: bool = False) -> None:
        untranslated = untranslated_warning(plan)
        if strict and untranslated:  # before any step: nothing is laid out for a session that is refused
            raise LayoutError(f"{untranslated}; or build without {{@strict}}", file=plan.source.file)
        self._builder = _Builder(plan, speech_ms, timing, strict, now_ms=first_sound_ms(plan, timing))

    def steps(self) -> Iterator[tuple[list[SpeechEvent | ToneEvent], int]]:
        builder = self._builder
        for step in builder.plan.steps:
            placed_before = len(builder.events)
            if isinstance(step, Talk):
                builder.talk(step)
            elif isinstance(step, Gap):
                builder.gap(step)
            else:
                builder.hold(step)
            new = [e for e in builder.events[placed_before:] if isinstance(e, (SpeechEvent, ToneEvent))]
            yield new, builder.now_ms

    def timeline(self) -> Timeline:
        return self._builder.finish()


@dataclass
class _Builder:
    plan: Plan
    speech_ms: Mapping[str, int]
    timing: Timing
    strict: bool
    now_ms: int = 0  # the session starts with the lead-in's silence: the plan's first sound is here
    after_stop_tone: bool = False
    events: list[Event] = field(default_factory=list)
    # The rests that grew, by whose they are (an exercise's name, or prepare): (the message, how much it grew).
    growths: dict[tuple[str, str], list[tuple[str, int]]] = field(default_factory=dict)

    def length(self, text: str) -> int:
        return self.speech_ms[text]

    def block_ms(self, lines: tuple[Line, ...]) -> int:
        if not lines:
            return 0
        return sum(self.length(line.text) for line in lines) + self.timing.sentence_pause_ms * (len(lines) - 1)

    def say(self, lines: tuple[Line, ...], start_ms: int) -> int:
        """Place ``lines`` one after another from ``start_ms``; return where the last ends."""
        at_ms = start_ms
        for position, line in enumerate(lines):
            if position:
                at_ms += self.timing.sentence_pause_ms
            end_ms = at_ms + self.length(line.text)
            self.events.append(SpeechEvent(at_ms, end_ms, line.text, line.chapter))
            at_ms = end_ms
        return at_ms

    def tone(self, tone: ToneKind, at_ms: int) -> ToneEvent:
        event = ToneEvent(at_ms, at_ms + self.timing.tone_ms(tone), tone, self.timing.freq_hz(tone))
        self.events.append(event)
        return event

    def countdown(self, end_ms: int, countdown: int, count: Count) -> tuple[list[ToneEvent], list[SpeechEvent]]:
        """The last ``countdown`` seconds before ``end_ms``: a tick on each whole second, the number said there,
        or both (then the number follows its tick by the clearance after a tone).

        A number must end the countdown's own clearance (``count_before_tick_ms``) before the next second's sound
        (or the tone at ``end_ms``); one that cannot is a LayoutError naming the exercise.
        """
        t = self.timing
        tones, said = [], []
        for k in range(countdown, 0, -1):
            at_ms = end_ms - k * 1000
            if count.ticks:
                tones.append(self.tone("tick", at_ms))
            if count.words:
                word = count.words[k - 1]
                start_ms = at_ms + (t.tick_ms + t.speech_after_tone_ms if count.ticks else 0)
                room_ms = at_ms + 1000 - t.count_before_tick_ms - start_ms
                if self.length(word) > room_ms:
                    raise LayoutError(
                        f'{count.exercise}: the count "{word}" lasts {format_s(self.length(word))}, but a number has '
                        f"{format_s(room_ms)} in its second; use a faster voice.rate, countdown_style: ticks, "
                        "or a shorter countdown", file=self.plan.source.file)
                said.append(SpeechEvent(start_ms, start_ms + self.length(word), word))
        self.events.extend(said)
        return tones, said

    def talk(self, talk: Talk) -> None:
        start_ms = self.now_ms
        if self.after_stop_tone:
            start_ms += self.timing.stop_tone_ms + self.timing.speech_after_tone_ms
        elif self.events:  # not the opening speech, which starts as the lead-in ends
            start_ms += self.timing.sentence_pause_ms
        self.now_ms = self.say(talk.lines, start_ms)
        self.after_stop_tone = False

    def gap(self, gap: Gap) -> None:
        t = self.timing
        start_ms = self.now_ms
        speech_ms = self.block_ms(gap.head) + self.block_ms(gap.tail)
        if gap.head and gap.tail:
            speech_ms += t.sentence_pause_ms
        if self.after_stop_tone:
            lead_ms = t.stop_tone_ms + t.speech_after_tone_ms
            silent_need_ms = t.stop_tone_ms + t.tone_after_tone_ms
        else:  # after the opening speech
            lead_ms = t.sentence_pause_ms
            silent_need_ms = t.speech_before_tone_ms
        before_countdown_ms = lead_ms + speech_ms + t.speech_before_tone_ms if speech_ms else silent_need_ms
        if gap.fitted:  # left out of the routine: its speech, then its time after it; asked for as it is
            final_ms = _grown_length_ms(before_countdown_ms + gap.asked_ms, before_countdown_ms, gap.countdown)
            asked_ms = final_ms
        else:
            final_ms = _grown_length_ms(gap.asked_ms, before_countdown_ms, gap.countdown)
            asked_ms = gap.asked_ms
        end_ms = start_ms + final_ms
        has_ticks = _has_ticks(final_ms, gap.countdown)
        if final_ms > asked_ms:
            self.grew(gap, final_ms)
        self.events.append(GapEvent(start_ms, end_ms, gap.after, asked_ms))
        self.say(gap.head, start_ms + lead_ms)
        countdown_start_ms = end_ms - gap.countdown * 1000 if has_ticks else end_ms
        self.say(gap.tail, countdown_start_ms - t.speech_before_tone_ms - self.block_ms(gap.tail))
        if has_ticks:
            self.countdown(end_ms, gap.countdown, gap.count)
        self.now_ms = end_ms
        self.after_stop_tone = False

    def grew(self, gap: Gap, final_ms: int) -> None:
        message = f"{gap.name} grew from {format_s(gap.asked_ms)} to {format_s(final_ms)} to fit its speech"
        if self.strict:
            raise self.plan.source.error(
                gap.field,
                f"{message}; set it to at least {format_s(final_ms).replace(' ', '')}, or build without {{@strict}}")
        whose = ("prepare", "") if gap.after == "prepare" else ("exercise", gap.exercise or gap.name)
        self.growths.setdefault(whose, []).append((message, final_ms - gap.asked_ms))

    def hold(self, hold: Hold) -> None:
        t = self.timing
        start_ms, end_ms = self.now_ms, self.now_ms + hold.hold_ms
        tones = [self.tone("start", start_ms)]
        self.events.append(HoldEvent(start_ms, end_ms, hold.exercise_id, hold.side, hold.set, hold.rep))
        placed: list[SpeechEvent] = []
        if _has_ticks(hold.hold_ms, hold.countdown):
            ticks, numbers = self.countdown(end_ms, hold.countdown, hold.count)
            tones += ticks
            placed += numbers
        said = self.tempo(hold, hold.tempo, start_ms, tones) if hold.tempo else []
        stop = self.tone("stop", end_ms)
        tones.append(stop)
        if hold.tempo:
            self.check_tempo_words(hold, tones, said)
            self.events.extend(said)
        counted = len(placed)
        for call in hold.calls:
            at_ms = start_ms + (call.at_ms if call.at_ms is not None else t.start_tone_ms + t.speech_after_tone_ms)
            event = SpeechEvent(at_ms, at_ms + self.length(call.text), call.text)
            clash = self.clash(event, tones, placed)
            if clash:
                line, field_text = self.plan.source.locate(call.field)
                raise LayoutError(
                    f'{hold.exercise_name}: the {call.what} call "{call.text}" does not fit in its '
                    f"{format_s(hold.hold_ms)} hold ({clash}); shorten it, lengthen the hold, or lower countdown",
                    file=self.plan.source.file, line=line, field=field_text)
            placed.append(event)
        self.events.extend(placed[counted:])  # the numbers are placed already
        self.now_ms = end_ms
        self.after_stop_tone = True

    def tempo(self, hold: Hold, tempo: Tempo, start_ms: int, tones: list[ToneEvent]) -> list[SpeechEvent]:
        """The phases of every rep of a tempo set: each starts with a phase tone (the set's first with its start
        tone) or its word; the number of the rep just done is said as the next one begins (right after its
        phase tone, or instead of its first word). The last number follows the stop tone (the plan puts it
        first in the rest)."""
        t = self.timing
        said: list[SpeechEvent] = []
        for rep in range(tempo.reps):
            at_ms = start_ms + rep * tempo.rep_ms
            for position, phase in enumerate(tempo.phases):
                self.events.append(PhaseEvent(at_ms, at_ms + phase.ms, hold.exercise_id, phase.name, rep + 1,
                                              hold.set))
                set_start = rep == 0 and position == 0
                if tempo.cue == "tone" and not set_start:
                    tones.append(self.tone("phase", at_ms))
                word = phase.word
                if position == 0 and rep > 0 and tempo.counts:
                    word = tempo.counts[rep - 1]
                if word is not None:
                    say_ms = at_ms
                    if set_start:
                        say_ms += t.start_tone_ms + t.speech_after_tone_ms
                    elif tempo.cue == "tone":
                        say_ms += t.phase_ms + t.speech_after_tone_ms
                    said.append(SpeechEvent(say_ms, say_ms + self.length(word), word))
                at_ms += phase.ms
        return said

    def check_tempo_words(self, hold: Hold, tones: list[ToneEvent], said: list[SpeechEvent]) -> None:
        """Every word of a tempo set clear of the tones and of each other, or a LayoutError naming the exercise."""
        assert hold.tempo is not None
        for position, event in enumerate(said):
            clash = self.clash(event, tones, said[:position])
            if clash:
                voice = hold.tempo.cue == "voice"
                raise LayoutError(
                    f'{hold.exercise_name}: "{event.text}" lasts {format_s(event.end_ms - event.start_ms)} and does '
                    f"not fit in its phase of the {hold.tempo.describe()} tempo ({clash}); use longer phases or a "
                    "faster voice.rate" + (", or phase_cue: tone" if voice else ", or count: silent"),
                    file=self.plan.source.file)

    def clash(self, speech: SpeechEvent, tones: list[ToneEvent], placed: list[SpeechEvent]) -> str | None:
        t = self.timing
        for tone in tones:
            if not (speech.end_ms + t.speech_before_tone_ms <= tone.start_ms
                    or speech.start_ms >= tone.end_ms + t.speech_after_tone_ms):
                where = format_s(tone.start_ms - (self.now_ms))
                return f"it would run into the {tone.tone} tone at {where}"
        for other in placed:
            if not (speech.end_ms + t.speech_after_tone_ms <= other.start_ms
                    or speech.start_ms >= other.end_ms + t.speech_after_tone_ms):
                return f'it would overlap "{other.text}"'
        return None

    def finish(self) -> Timeline:
        if self.after_stop_tone:  # a plan always ends with a Talk; this keeps a bare one honest
            self.now_ms += self.timing.stop_tone_ms
        duration_ms = self.now_ms + self.timing.tail_ms
        if duration_ms > MAX_SESSION_MS:
            raise LayoutError(f"the session would last {format_s(duration_ms)}; a session is at most 12 hours, "
                              "so use fewer sets or reps, shorter holds or shorter rests",
                              file=self.plan.source.file)
        events = sorted(self.events, key=lambda e: (e.start_ms, KIND_ORDER[e.kind]))
        return Timeline(self.plan.title, duration_ms, tuple(events), _chapters(events, duration_ms),
                        tuple(self.warnings()), language=self.plan.language)

    def warnings(self) -> list[str]:
        """One line per exercise whose rests grew (and one for prepare): the rest itself when only one grew."""
        untranslated = untranslated_warning(self.plan)
        found = [untranslated] if untranslated else []
        for (_, name), grown in self.growths.items():
            if len(grown) == 1:
                found.append(grown[0][0])
                continue
            most_ms = -(-max(ms for _, ms in grown) // 100) * 100  # up to: rounded up to a tenth of a second
            found.append(f"rests of {name} grew by up to {format_s(most_ms)} to fit their speech")
        return found


def first_sound_ms(plan: Plan, timing: Timing = Timing()) -> int:
    """Where the session's first sound (its opening speech, and the music) starts: after the lead-in and the
    encoder's reach back; at 0 without a lead-in."""
    return plan.lead_in_ms + timing.after_lead_in_ms if plan.lead_in_ms else 0


def untranslated_warning(plan: Plan) -> str | None:
    """One line naming the fields with no text in the session's language (the first four), or None."""
    if not plan.untranslated or plan.text_language in ("", plan.language):
        return None
    fields = ", ".join(plan.untranslated[:4]) + (f" and {len(plan.untranslated) - 4} more"
                                                  if len(plan.untranslated) > 4 else "")
    return (f"no {plan.language} text for {fields}: said as written by a voice for {plan.text_language} (a name "
            f"inside a {plan.language} cue, by the {plan.language} voice); add `{plan.language}: ...` under each")


def _has_ticks(length_ms: int, countdown: int) -> bool:
    """The contract: ticks only when the interval is longer than N+1 seconds."""
    return countdown > 0 and length_ms > (countdown + 1) * 1000


def _grown_length_ms(asked_ms: int, before_countdown_ms: int, countdown: int) -> int:
    """The shortest length >= asked that fits the gap's sounds, with ticks when the final length has them."""
    with_ticks_ms = before_countdown_ms + countdown * 1000
    if _has_ticks(asked_ms, countdown):
        return max(asked_ms, with_ticks_ms)
    if before_countdown_ms <= asked_ms:
        return asked_ms
    if not _has_ticks(before_countdown_ms, countdown):
        return before_countdown_ms
    # Growing past N+1 s brings the countdown in, which needs its own room.
    return with_ticks_ms


def _chapters(events: list[Event], duration_ms: int) -> tuple[Chapter, ...]:
    starts = [(e.chapter, e.start_ms) for e in events if isinstance(e, SpeechEvent) and e.chapter]
    chapters = []
    for position, (title, start_ms) in enumerate(starts):
        first_ms = 0 if position == 0 else start_ms
        end_ms = starts[position + 1][1] if position + 1 < len(starts) else duration_ms
        chapters.append(Chapter(title, first_ms, end_ms))
    return tuple(chapters)
