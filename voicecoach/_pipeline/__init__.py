"""The pipeline: one session from a routine to its files, the one path every build takes.

``build`` runs the stages for one session (speech synthesized while the session
is written, on a second thread); ``session.write_session`` is every session's
path once its speech exists (layout, mix, encode, publish), for build, batch
and Dask alike; ``strategies`` are the ways the encoder is fed."""
