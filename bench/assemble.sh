#!/usr/bin/env bash
# Puts the GPU bundle together from its parts and unpacks it.
# usage: assemble.sh [--check-only] STAGE DEST
#   STAGE holds lorastream-gpu.tar.xz.part-1 .. part-N and SHA256SUMS (from any part folder);
#   DEST receives lorastream-gpu/ (bin/doctor, bin/gpu-check, bin/worker, runtime/, lib/, native/).
#   --check-only: verify the parts present against SHA256SUMS, say which are missing, unpack nothing.
# Needs only bash, coreutils, xz and tar.
set -euo pipefail
check_only=0
[ "${1:-}" = "--check-only" ] && { check_only=1; shift; }
stage="${1:?usage: assemble.sh [--check-only] STAGE DEST}"
dest="${2:-}"
[ -f "$stage/SHA256SUMS" ] || { echo "assemble: $stage/SHA256SUMS missing" >&2; exit 1; }
archive="$(awk '$2 ~ /\.tar\.xz$/ {print $2}' "$stage/SHA256SUMS")"
mapfile -t parts < <(awk '$2 ~ /\.part-[0-9]+$/ {print $2}' "$stage/SHA256SUMS" | sort -t- -k2 -n)
missing=0
for p in "${parts[@]}"; do
  if [ ! -f "$stage/$p" ]; then echo "assemble: $p missing" >&2; missing=1; continue; fi
  want="$(awk -v f="$p" '$2 == f {print $1}' "$stage/SHA256SUMS")"
  got="$(sha256sum "$stage/$p" | cut -d' ' -f1)"
  [ "$want" = "$got" ] || { echo "assemble: $p is damaged (sha256 $got, want $want)" >&2; exit 1; }
  echo "assemble: $p ok ($(stat -c %s "$stage/$p") bytes)"
done
[ "$missing" = 0 ] || { echo "assemble: ${#parts[@]} parts expected; copy the missing ones into $stage" >&2; exit 1; }
[ "$check_only" = 1 ] && exit 0
[ -n "$dest" ] || { echo "usage: assemble.sh [--check-only] STAGE DEST" >&2; exit 2; }
mkdir -p "$dest"
# every part matched its sum, so the joined stream is the archive that was split
(cd "$stage" && cat "${parts[@]}") | xz -dc | tar -xf - -C "$dest"
echo "assemble: unpacked $archive from ${#parts[@]} parts into $dest"
