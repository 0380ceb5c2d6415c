"""Stage 3, speech: each distinct phrase synthesized once by an engine and kept in the cache for every later build.

``engines`` (the plug-in point: pyttsx3 over espeak-ng, piper, and any an
installed package adds) turn text into a ``Clip``; ``finish`` trims and limits
every clip the same way; ``cache`` keeps them in a store, write-once;
``service`` hands a build its clips in the order they are heard, from the cache
or a pool of engine processes; ``voices`` lists what each engine can speak."""
