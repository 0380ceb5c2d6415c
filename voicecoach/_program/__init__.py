"""Programs: a progression of sessions over weeks (``model`` as written, ``expand`` into sessions, ``table``)."""
