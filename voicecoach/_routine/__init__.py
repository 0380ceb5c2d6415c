"""Stage 1, the routine: a YAML file (or text) read, validated, merged with a variant and ``--set`` overrides,
and resolved into the frozen ``Routine`` that every later stage reads.

``load`` is the one loader (a file and every variant checked, the files it
names found by ``attachments``); ``read`` reads the file within its limits;
``document`` validates with pydantic and ``messages`` turns its errors into
one line; ``resolve`` makes the ``model``; ``settings`` and ``merge`` apply
overrides; ``languages`` and ``lexicon`` say how things are spoken; ``schema``
is the JSON Schema for editors; ``article`` imports a draft from a handout."""
