#!/usr/bin/env bash
# On a GPU host that receives the bundle part by part (one part per transfer, /tmp kept between
# transfers only while the host stays busy): run from the repository root there.
#   bench/on-host.sh receive N        copy gpu-parts/N/* into $STAGE (default /tmp/stage) and verify what has arrived
#   bench/on-host.sh check N          receive N, assemble into $DEST (default /tmp/lorastream), then run the checks:
#                                   doctor, gpu-check check (demo: CUDA vs CPU), the node placement on CUDA,
#                                   and gpu-check check --bench-mid; results to $OUT (default ./gpu-out)
#   bench/on-host.sh fatbin-check N   receive N (part 1 of a bundle built with --sm: it holds the CUDA provider), unpack
#                                   the provider alone and load each of its fatbins on this GPU (bench/fatbin-check.py)
#   bench/on-host.sh measure N        receive N, assemble, then: doctor; CUDA fp32 vs CPU tokens (demo and 182M
#                                   models, mixed batches); fp16 vs fp32 on CUDA; device tensors vs Java buffers on
#                                   CUDA (CHECKS picks them: cpu,fp16,host); the benchmark (gpu-check bench, Llama-3.2-1B
#                                   shape, BENCH_ARGS); with PEERS_ARGS the PyTorch peers folded in; with NCU_ARGS an
#                                   Nsight Compute kernel summary. Results in $OUT (at most 8 files come back): console.log
#                                   (doctor included), cpu/ fp16/ host/ gpu-check.json, bench/gpu-bench.json, bench/gc.log,
#                                   hf_peers.json, peers.log, ncu.csv (SKIP_CHECKS=1: doctor and the benchmark only)
#   bench/on-host.sh bench NAME       the benchmark again (BENCH_ARGS) on the bundle measure assembled on this lease; results
#                                   and a GC log in $OUT/bench-NAME
#   bench/on-host.sh peers N          receive N, then the PyTorch peers (bench/peers/hf_peers.py, PEERS_ARGS) on this GPU: $OUT/hf_peers.json,
#                                   also kept as $STAGE/hf_peers.json for a later measure on the same lease (BENCH_ARGS --peers ...)
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
    say "gpu-check check --bench-mid"
    mkdir -p "$OUT/bench"
    JAVA_OPTS="${JAVA_OPTS:--Xmx24g}" timeout "${BENCH_LIMIT:-240}" "$b/bin/gpu-check" check --out "$OUT/bench" --work "$work" --repeats 1 --bench-mid \
      2>&1 | tee -a "$OUT/console.log"; say "bench: rc ${PIPESTATUS[0]}"
    nvidia-smi 2>&1 | head -20
    say "done"
    ;;
  fatbin-check)
    receive "$n"
    mkdir -p /tmp/fatbin && (cd "$STAGE" && cat lorastream-gpu.tar.xz.part-1 | xz -dc 2>/dev/null | tar -xf - -C /tmp/fatbin lorastream-gpu/native/libonnxruntime_providers_cuda.so 2>/dev/null)
    lib=/tmp/fatbin/lorastream-gpu/native/libonnxruntime_providers_cuda.so
    ls -la "$lib" || { say "the CUDA provider is not in part 1"; exit 1; }
    timeout 120 python3 "$root/bench/fatbin-check.py" "$lib" | tee "$OUT/fatbin-check.json"; say "fatbin-check: rc ${PIPESTATUS[0]}"
    nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap --format=csv,noheader 2>&1 | head -2
    ;;
  measure)
    receive "$n"
    for d in "$root"/gpu-parts/*/; do cp -n "$d"* "$STAGE/" 2>/dev/null; done
    rm -rf "$DEST" && mkdir -p "$DEST"
    bash "$STAGE/assemble.sh" "$STAGE" "$DEST" >/dev/null || { say "assemble FAILED"; exit 1; }
    b="$DEST/lorastream-gpu"
    say "assembled: $(du -sh "$b" | cut -f1)"
    # a device run returns at most 8 files: the doctor's report and ncu's log go into console.log
    timeout 60 "$b/bin/doctor" >>"$OUT/console.log" 2>&1; say "doctor: rc $?"; grep -E "GPU|NVIDIA|resolve|providers|cubins" "$OUT/console.log" | head -8
    work=/tmp/lorastream-check
    mkdir -p "$OUT/bench"
    export JAVA_OPTS="${JAVA_OPTS:--Xmx32g -Xlog:gc:file=$OUT/bench/gc.log::filecount=0}"
    checks="${CHECKS:-cpu,fp16,host}"   # which correctness checks run before the benchmark
    if [ -z "${SKIP_CHECKS:-}" ]; then   # SKIP_CHECKS=1: the benchmark alone (the correctness checks ran on an earlier lease)
     if [[ ",$checks," == *",cpu,"* ]]; then
      say "1. CUDA fp32 (TF32 off, device tensors) vs CPU: demo and 182M models"
      mkdir -p "$OUT/cpu"; timeout "${LIMIT_CPU:-150}" "$b/bin/gpu-check" check --providers cuda,cpu --out "$OUT/cpu" --work "$work" --repeats 2 --bench-mid 2>&1 \
        | grep -vE "^\s+at |onnxruntime:, (transformer_memcpy|session_state)" | tee -a "$OUT/console.log"; say "check cuda,cpu: rc ${PIPESTATUS[0]}"
     fi
     if [[ ",$checks," == *",fp16,"* ]]; then
      say "2. fp16 vs fp32 on CUDA"
      mkdir -p "$OUT/fp16"; timeout "${LIMIT_FP16:-90}" "$b/bin/gpu-check" check --providers cuda+fp16,cuda --out "$OUT/fp16" --work "$work" --repeats 1 --bench-mid 2>&1 \
        | grep -vE "^\s+at |onnxruntime:, (transformer_memcpy|session_state)" | tee -a "$OUT/console.log"; say "check fp16: rc ${PIPESTATUS[0]}"
     fi
     if [[ ",$checks," == *",host,"* ]]; then
      say "3. the bank and KV cache in Java buffers (copied every step) vs in device memory, CUDA fp32"
      mkdir -p "$OUT/host"; timeout "${LIMIT_HOST:-60}" "$b/bin/gpu-check" check --providers cuda+host,cuda --out "$OUT/host" --work "$work" --repeats 1 --bench-mid 2>&1 \
        | grep -vE "^\s+at |onnxruntime:, (transformer_memcpy|session_state)" | tee -a "$OUT/console.log"; say "check host: rc ${PIPESTATUS[0]}"
     fi
    fi
    say "4. the benchmark: Llama-3.2-1B shape, fp16 (BENCH_ARGS: ${BENCH_ARGS:-})"
    timeout "${LIMIT_BENCH:-240}" "$b/bin/gpu-check" bench --out "$OUT/bench" --work /tmp/lorastream-bench ${BENCH_ARGS:-} 2>&1 \
      | grep -vE "^\s+at |onnxruntime:, (transformer_memcpy|session_state)" | tee -a "$OUT/console.log"; say "bench: rc ${PIPESTATUS[0]}"
    if [ -n "${PEERS_ARGS:-}" ]; then   # the PyTorch peers in the same lease, folded into the benchmark's table
      say "5. peers: python3 bench/peers/hf_peers.py $PEERS_ARGS"
      PYTHONUNBUFFERED=1 timeout "${LIMIT_PEERS:-300}" python3 "$root/bench/peers/hf_peers.py" --out "$OUT/hf_peers.json" $PEERS_ARGS 2>"$OUT/peers.log" | tail -25
      say "peers: rc ${PIPESTATUS[0]}"
      "$b/bin/gpu-check" fold --in "$OUT/bench/gpu-bench.json" --peers "$OUT/hf_peers.json" --out "$OUT/bench/gpu-bench.json" 2>&1 | tail -3
    fi
    if [ -n "${NCU_ARGS:-}" ]; then   # kernel times of a short eager run under Nsight Compute: where a step's GPU time goes
      ncu="$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)"
      say "6. ncu ($ncu): ${NCU_ARGS}"
      timeout "${LIMIT_NCU:-200}" "$ncu" --clock-control none --target-processes all --metrics gpu__time_duration.sum --csv ${NCU_LAUNCHES:---launch-count 3000} \
        "$b/bin/gpu-check" bench --out /tmp/ncu-bench --work /tmp/lorastream-bench $NCU_ARGS >"$OUT/ncu.csv" 2>>"$OUT/console.log"; say "ncu: rc $?"
      python3 "$root/bench/ncu-summary.py" "$OUT/ncu.csv" 2>&1 | tail -40
    fi
    nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv,noheader 2>&1 | head -2
    say "done"
    ;;
  bench)
    # the benchmark again on the bundle a previous measure assembled (same lease): results in $OUT/bench-N, GC log beside them
    b="$DEST/lorastream-gpu"
    [ -x "$b/bin/gpu-check" ] || { say "no assembled bundle at $b (run measure first, on this lease)"; exit 1; }
    mkdir -p "$OUT/bench-$n"
    export JAVA_OPTS="${JAVA_OPTS:--Xmx32g -Xlog:gc:file=$OUT/bench-$n/gc.log::filecount=0}"
    say "benchmark $n: ${BENCH_ARGS:-}"
    timeout "${LIMIT_BENCH:-240}" "$b/bin/gpu-check" bench --out "$OUT/bench-$n" --work /tmp/lorastream-bench ${BENCH_ARGS:-} 2>&1 \
      | grep -vE "^\s+at |onnxruntime:, (transformer_memcpy|session_state)" | tee -a "$OUT/console.log"; say "bench: rc ${PIPESTATUS[0]}"
    say "done"
    ;;
  peers)
    receive "$n"
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | head -2
    say "peers: python3 bench/peers/hf_peers.py ${PEERS_ARGS:-}"
    PYTHONUNBUFFERED=1 timeout "${LIMIT_PEERS:-540}" python3 "$root/bench/peers/hf_peers.py" --out "$OUT/hf_peers.json" ${PEERS_ARGS:-} \
      2>"$OUT/peers.log"; say "peers: rc $?"
    tail -25 "$OUT/peers.log"
    cp "$OUT/hf_peers.json" "$STAGE/hf_peers.json" 2>/dev/null || say "peers: no hf_peers.json"
    say "done"
    ;;
  *) echo "usage: on-host.sh receive|check|fatbin-check|measure|bench|peers N" >&2; exit 2 ;;
esac
