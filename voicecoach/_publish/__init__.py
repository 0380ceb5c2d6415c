"""Stage 7, publishing: the names of a session's files, its lyrics and subtitles, its cover, the podcast feed
and the phone page that serves them."""
