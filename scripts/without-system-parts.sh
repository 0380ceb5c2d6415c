#!/bin/sh
# Run "$@" with the system's espeak-ng (library, data, program) and ffmpeg hidden, to prove that
# `pip install` alone gives a working voicecoach (through the espeakng-loader and imageio-ffmpeg wheels).
#
# Uses a private mount namespace with overlayfs whiteouts: nothing changes outside the command.
# Needs root (or user namespaces); exits 77 when the namespace cannot be made, so callers can skip.
#
#   sudo sh scripts/without-system-parts.sh .venv/bin/voicecoach build -q -o /tmp/check
set -u
multiarch=$(dirname "$(readlink -f "$(ls /usr/lib/*/libespeak-ng.so.1 2>/dev/null | head -n 1)" 2>/dev/null)" 2>/dev/null)
[ -n "$multiarch" ] && [ -d "$multiarch" ] || multiarch=/usr/lib/$(uname -m)-linux-gnu
work=$(mktemp -d /tmp/voicecoach-nosys.XXXXXX)
trap 'rm -rf "$work"' EXIT
unshare -m sh -c '
set -e
work=$1; lib=$2; shift 2
for d in lib bin; do mkdir -p "$work/$d/up" "$work/$d/work"; done
for f in libespeak-ng.so.1 $(cd "$lib" && ls libespeak-ng.so.1.* 2>/dev/null) espeak-ng-data; do mknod "$work/lib/up/$f" c 0 0; done
for f in ffmpeg ffprobe espeak-ng espeak speak-ng; do mknod "$work/bin/up/$f" c 0 0; done
mount -t overlay overlay -o "lowerdir=$lib,upperdir=$work/lib/up,workdir=$work/lib/work" "$lib" || exit 77
mount -t overlay overlay -o "lowerdir=/usr/bin,upperdir=$work/bin/up,workdir=$work/bin/work" /usr/bin || exit 77
if command -v ffmpeg >/dev/null 2>&1 || [ -e "$lib/libespeak-ng.so.1" ]; then echo "could not hide the system parts" >&2; exit 77; fi
exec "$@"
' sh "$work" "$multiarch" "$@"
status=$?
[ $status -eq 1 ] && ! unshare -m true 2>/dev/null && status=77
exit $status
