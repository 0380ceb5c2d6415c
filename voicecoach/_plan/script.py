"""The plan as a person reads it: ``voicecoach script``'s text."""

from __future__ import annotations

from pathlib import Path

from .._routine.durations import format_clock, format_s
from .._routine.languages import phrases_for
from .._routine.model import Music
from .steps import Gap, Hold, Line, Plan, Talk


def format_script(plan: Plan, voice: str | None = None) -> str:
    """The plan as a person reads it: what is said, each hold and each rest, in order.

    ``voice`` says who speaks ("pyttsx3 (espeak-ng 1.51), voice gmw/de"); a line
    the lexicon changes shows what is said instead of the written words.
    """
    holds = plan.holds
    exercises = len({hold.exercise_index for hold in holds})
    words = phrases_for(plan.language)
    lines = [plan.title,
             f"{exercises} exercise{'s' if exercises != 1 else ''}, {len(holds)} hold{'s' if len(holds) != 1 else ''}, "
             f"at least {format_clock(plan.asked_ms)} of holds and rests plus speech",
             f"in {words.name} ({plan.language})" + (f", spoken by {voice}" if voice else ""),
             *(describe_music(plan.music) if plan.music else ()),
             *([f"no {plan.language} text, said as written in {plan.text_language}: {', '.join(plan.untranslated)}"]
               if plan.untranslated and plan.text_language not in ("", plan.language) else []), ""]
    multi_set = {hold.exercise_index for hold in holds if hold.set > 1}
    multi_rep = {hold.exercise_index for hold in holds if hold.rep > 1}
    for step in plan.steps:
        if isinstance(step, Talk):
            lines.extend(_said(line, plan) for line in step.lines)
        elif isinstance(step, Gap):
            lines.extend(_said(line, plan, indent="    ") for line in step.head)
            what = "prepare" if step.after == "prepare" else "rest"
            spoken = {(True, True): "", (False, True): ", said", (True, False): ", ticked and said"}[
                (step.count.ticks, bool(step.count.words))] if step.count.words else ""
            countdown = f", countdown {step.countdown}{spoken}" if step.countdown else ""
            lines.append(f"  {what:<7} {step.describe()}{countdown}")
            lines.extend(_said(line, plan, indent="    ") for line in step.tail)
        else:
            where = ", ".join(part for part in (
                step.side,
                f"set {step.set}" if step.exercise_index in multi_set else None,
                f"rep {step.rep}" if step.exercise_index in multi_rep else None,
            ) if part)
            if step.tempo:
                lines.extend(_tempo_lines(step, where, plan))
                continue
            lines.append(f"  HOLD    {format_s(step.hold_ms)}  {step.exercise_name}" + (f" ({where})" if where else ""))
            for call in step.calls:
                at = "after the start tone" if call.at_ms is None else f"at {format_s(call.at_ms)}"
                lines.append(f'    say "{call.text}" {at}' + _spoken_as(plan, call.text))
    return "\n".join(lines) + "\n"


def _tempo_lines(step: Hold, where: str, plan: Plan) -> list[str]:
    """A set of tempo reps: its length, one rep's phases and how each is cued, and the counting."""
    tempo = step.tempo
    assert tempo is not None
    reps = f"{tempo.reps} rep{'s' if tempo.reps != 1 else ''} of {format_s(tempo.rep_ms)}"
    lines = [f"  REPS    {format_s(step.hold_ms)}  {step.exercise_name}" + (f" ({where})" if where else "")
             + f": {reps}"]
    if tempo.cue == "voice":
        cues = ", ".join(f'say "{phase.word}" {format_s(phase.ms)}' + _spoken_as(plan, phase.word or "")
                         for phase in tempo.phases)
    else:
        cues = ", ".join(f"{phase.name} {format_s(phase.ms)}" for phase in tempo.phases) + \
            " (a phase tone starts each)"
    lines.append(f"    each rep: {cues}")
    if tempo.counts:
        shown = tempo.counts if len(tempo.counts) <= 4 else (*tempo.counts[:2], "…", tempo.counts[-1])
        lines.append("    counted aloud as each rep ends: " + ", ".join(
            word if word == "…" else f'"{word}"' for word in shown))
    return lines


def describe_music(music: Music) -> list[str]:
    """Which music plays where, for the script: the files in the order they play."""
    def files(tracks: tuple[Path, ...]) -> str:
        names = [music.name_of(path) for path in tracks]
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        return shown + (f" (in this order, music_seed {music.seed}; looping)" if len(names) > 1 else " (looping)")

    lines = [f"music under the {'holds' if music.rest_tracks else 'whole session'}: {files(music.bed_tracks)}"]
    if music.rest_tracks:
        lines.append(f"music in the rests: {files(music.rest_tracks)}")
    lines.append(f"  {-music.gain_db:g} dB under the voice, {-music.duck_db:g} dB lower under every word and tone; "
                 f"crossfade {format_s(music.crossfade_ms)}")
    return lines


def _said(line: Line, plan: Plan, indent: str = "  ") -> str:
    chapter = f"   [chapter: {line.chapter}]" if line.chapter else ""
    return f'{indent}say "{line.text}"{chapter}' + _spoken_as(plan, line.text)


def _spoken_as(plan: Plan, text: str) -> str:
    """``   [spoken: "KAY-gull squeeze"]`` where the lexicon changes what is said, and ``   [in en]`` where a voice
    of another language says it (the routine's own text, with no translation)."""
    spoken = plan.spoken(text)
    other = f"   [in {plan.text_language}]" if text in plan.foreign else ""
    return (f'   [spoken: "{spoken}"]' if spoken != text else "") + other
