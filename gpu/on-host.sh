#!/usr/bin/env bash
# On a GPU host that receives the bundle part by part (one part per transfer, /tmp kept between
# transfers only while the host stays busy): run from the repository root there.
#   gpu/on-host.sh receive N        copy gpu-parts/N/* into $STAGE (default /tmp/stage) and verify what has arrived
#   gpu/on-host.sh check N          receive N, assemble into $DEST (default /tmp/lorastream), then run the checks:
#                                   doctor, gpu-check check (demo: CUDA vs CPU), the node placement on CUDA,
#                                   device-probe, and gpu-check check --bench-mid; results to $OUT (default ./gpu-out)
# Every step has its own time limit; a failing step is reported and the next one still runs.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STAGE="${STAGE:-/tmp/stage}" DEST="${DEST:-/tmp/lorastream}" OUT="${OUT:-$root/gpu-out}"
cmd="${1:?usage: on-host.sh receive|check N}" n="${2:?part number}"
mkdir -p "$STAGE" "$OUT"
t0=$(date +%s)
say() { echo "on-host: [$(( $(date +%s) - t0 ))s] $*"; }

receive() {
  cp "$root/gpu-parts/$1/"* "$STAGE/" && say "part $1 copied to $STAGE" || say "part $1: gpu-parts/$1 missing here"
  ls -la "$STAGE"
  bash "$STAGE/assemble.sh" --check-only "$STAGE" || true
}

case "$cmd" in
  receive)
    receive "$n"
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | head -2
    df -h /tmp | tail -1
    ;;
  check)
    receive "$n"
    # parts that arrived with earlier transfers but are not in $STAGE (a fresh /tmp): take them from the checkout if there
    for d in "$root"/gpu-parts/*/; do cp -n "$d"* "$STAGE/" 2>/dev/null; done
    rm -rf "$DEST" && mkdir -p "$DEST"
    say "assemble"
    bash "$STAGE/assemble.sh" "$STAGE" "$DEST" || { say "assemble FAILED"; exit 1; }
    b="$DEST/lorastream-gpu"
    say "assembled: $(du -sh "$b" | cut -f1)"
    timeout 60 "$b/bin/doctor" >"$OUT/doctor.txt" 2>&1; say "doctor: rc $?"; cat "$OUT/doctor.txt"
    work=/tmp/lorastream-check
    say "gpu-check check (demo backbone and adapters, cuda vs cpu)"
    timeout 180 "$b/bin/gpu-check" check --out "$OUT" --work "$work" 2>&1 | tee "$OUT/console.log"; say "check: rc ${PIPESTATUS[0]}"
    graph="$(ls "$work"/demo/backbone/.lorastream-cache/*.onnx 2>/dev/null | head -1)"
    if [ -n "$graph" ]; then
      timeout 60 "$b/bin/gpu-check" placement --graph "$graph" --provider cuda >"$OUT/placement-full.log" 2>&1; say "placement: rc $?"
      grep -E 'VerifyEachNodeIsAssignedToAnEp|placement:|Exception|rror' "$OUT/placement-full.log" | cut -c1-300 | head -400 >"$OUT/placement.txt"
      rm -f "$OUT/placement-full.log"
      head -20 "$OUT/placement.txt"
    fi
    say "device-probe"
    timeout 90 "$b/bin/gpu-check" device-probe --provider cuda --out "$OUT" 2>&1 | tee -a "$OUT/console.log"; say "device-probe: rc ${PIPESTATUS[0]}"
    say "gpu-check check --bench-mid"
    mkdir -p "$OUT/bench"
    JAVA_OPTS="${JAVA_OPTS:--Xmx24g}" timeout "${BENCH_LIMIT:-240}" "$b/bin/gpu-check" check --out "$OUT/bench" --work "$work" --repeats 1 --bench-mid \
      2>&1 | tee -a "$OUT/console.log"; say "bench: rc ${PIPESTATUS[0]}"
    nvidia-smi 2>&1 | head -20
    say "done"
    ;;
  *) echo "usage: on-host.sh receive|check N" >&2; exit 2 ;;
esac
