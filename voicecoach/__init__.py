"""voicecoach: turn a routine written in YAML into a narrated, exactly timed MP3 session.

The library works without the CLI; the stages, in the order data flows:
``routine`` (load, validate) -> ``plan`` (the narrated script) -> ``speech``
(engine + cache) -> ``layout`` (absolute times) -> ``render`` (samples) ->
``export`` (MP3, tags, sidecars). ``build.build_session`` runs them all.
"""

__version__ = "0.1.0"
