"""voicecoach: turn a routine written in YAML into a narrated, exactly timed MP3 session.

The library works without the CLI; the stages, in the order data flows:
``routine``/``variants`` (load, validate, merge) -> ``plan`` (the narrated
script) -> ``speech`` (``engines`` + cache) -> ``layout`` (absolute times) ->
``render`` (the mix) -> ``loudness`` (the gain) -> ``export`` (MP3, tags) ->
``files`` (publish). ``pipeline.write_session`` is every session's one path
after speech; ``build.build_file`` and ``batch.build_batch`` run it all.
"""

__version__ = "0.1.0"
