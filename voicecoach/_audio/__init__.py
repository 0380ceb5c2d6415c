"""Stages 4 to 6, the sound: layout (every sound at an absolute time: the ``Timeline``), the mix (speech, tones,
music), loudness and the gain, and the MP3 (ffmpeg's LAME, joined pieces, exact length, ID3 tags)."""
