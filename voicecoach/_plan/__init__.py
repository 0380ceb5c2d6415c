"""Stage 2, the plan: what will be said and when, as pure data, before any sound exists.

``planner.plan_session(routine)`` turns a resolved routine into a ``Plan`` of
steps (talk, gaps, holds, tempo sets) in the session's language, with the
lexicon's spoken forms; ``script.format_script`` prints it. Nothing here does
I/O: it is tested with hypothesis and a fake engine of exact lengths."""
