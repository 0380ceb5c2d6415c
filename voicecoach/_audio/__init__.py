"""Stages 4 to 6, the sound: layout (every sound at an absolute time: the ``Timeline``), the mix (speech, tones,
music), the gain (by ``voicecoach._loudness``), and the MP3 (ffmpeg's LAME, joined pieces, its exact length)."""
