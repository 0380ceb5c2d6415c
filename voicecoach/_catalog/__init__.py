"""Catalogs: many routines, each with many sessions (variants times a matrix), built at once, incrementally, by a
runner (here, a process pool, or Dask), with playlists, manifests and ``catalog.json``."""
