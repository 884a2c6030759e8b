#!/usr/bin/env bash
# Builds the self-contained GPU bundle from this checkout and splits it into parts:
#   a jlink runtime of the build JDK, the runtime class path (worker, engine, gpu-check, the in-process broker),
#   ONNX Runtime's CUDA native libraries from Maven Central, and run scripts (bin/),
#   as one tar.xz cut into parts of at most --part-mib MiB, part i in <out>/<i>/ (default out: gpu-parts,
#   gpu-parts-cuda12 for that flavor; both git-ignored) with SHA256SUMS and
#   assemble.sh. On the GPU host: copy every part folder's files into one folder, then
#   assemble.sh THAT_FOLDER DEST  ->  DEST/lorastream-gpu/bin/{doctor,gpu-check,worker}.
#
# usage: bench/build-bundle.sh [--flavor cuda13|cuda12] [--sm 90[,100..]] [--part-mib 61] [--out DIR] [--xz-level 6] [--skip-maven]
#   cuda13 (default): libonnxruntime.so.1, providers_shared, providers_cuda from
#          org.bytedeco:onnxruntime:1.28.0-1.5.14:jar:linux-x86_64-gpu (CUDA 13, cuDNN 9) and the JNI
#          library from com.microsoft.onnxruntime:onnxruntime_gpu:1.28.0 (same ORT version).
#   cuda12: all four from com.microsoft.onnxruntime:onnxruntime_gpu:1.28.0 (CUDA 12, cuDNN 9); about
#          twice the size (its CUDA provider is 622 MB).
#   --sm 90: keep only the CUDA provider's cubins for these GPU architectures (90 = H100/H200; the others
#          are zeroed in place by dev.lorastream.bench.gpu.FatbinPrune, which compresses them away): the cuda13
#          bundle goes from 180 MB (3 parts) to about 80 MB (2 parts). The provider is then the first file of
#          the archive, so part 1 alone holds it (on-host.sh fatbin-check loads it on the GPU).
# Needs: JDK 25 (jlink), Maven with access to Maven Central, xz, tar, split, sha256sum.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
flavor=cuda13 part_mib=61 out="" xz_level=6 skip_maven=0 sm=all
while [ $# -gt 0 ]; do
  case "$1" in
    --flavor) flavor="$2"; shift 2 ;;
    --sm) sm="$2"; shift 2 ;;
    --part-mib) part_mib="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --xz-level) xz_level="$2"; shift 2 ;;
    --skip-maven) skip_maven=1; shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "build-bundle: unknown option $1" >&2; exit 2 ;;
  esac
done
case "$flavor" in cuda13|cuda12) ;; *) echo "build-bundle: --flavor is cuda13 or cuda12" >&2; exit 2 ;; esac
[ -n "$out" ] || { [ "$flavor" = cuda13 ] && out="$root/gpu-parts" || out="$root/gpu-parts-$flavor"; }
for tool in xz tar split sha256sum mvn; do command -v "$tool" >/dev/null || { echo "build-bundle: $tool is missing" >&2; exit 1; }; done
JAVA_HOME="${JAVA_HOME:-$("$root/scripts/find-jdk.sh")}"; export JAVA_HOME
ORT_VERSION=1.28.0
BYTEDECO=org.bytedeco:onnxruntime:1.28.0-1.5.14:jar:linux-x86_64-gpu
ORT_GPU=com.microsoft.onnxruntime:onnxruntime_gpu:$ORT_VERSION
name=lorastream-gpu
build="$root/bench/target/bundle"
artifacts="$root/bench/target/artifacts"
t0=$(date +%s)
log() { echo "build-bundle: [$(( $(date +%s) - t0 ))s] $*" >&2; }

# 1. the application: gpu-consumer (engine + worker) and bench (gpu-check), runtime class path in bench/target/lib
if [ "$skip_maven" = 0 ]; then
  # bench and every module it needs (engine, gpu-consumer, platform, router-streams, ingest, schemas, the parent pom)
  log "mvn -pl bench -am install"
  (cd "$root" && mvn -B -q -pl bench -am install -DskipTests) >&2
fi
[ -f "$root/bench/target/bench.jar" ] && [ -d "$root/bench/target/lib" ] || { echo "build-bundle: bench/target/bench.jar or bench/target/lib missing (run without --skip-maven)" >&2; exit 1; }

# 2. ONNX Runtime's native libraries from Maven Central (cached in bench/target/artifacts)
fetch() { # groupId:artifactId:version[:type:classifier] -> path of the jar
  local coords="$1" g a v t c f
  IFS=: read -r g a v t c <<<"$coords"
  f="$artifacts/$a-$v${c:+-$c}.jar"
  if [ ! -s "$f" ]; then
    log "fetching $coords"
    mkdir -p "$artifacts"
    (cd "$artifacts" && mvn -B -q org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy -Dartifact="$coords" -DoutputDirectory="$artifacts" -Dmdep.overWriteReleases=true) >&2
  fi
  echo "$f"
}
rm -rf "$build"
stage="$build/$name"
mkdir -p "$stage/native" "$stage/lib" "$stage/bin"
ortgpu="$(fetch "$ORT_GPU")"
if [ "$flavor" = cuda13 ]; then
  bd="$(fetch "$BYTEDECO")"
  p=org/bytedeco/onnxruntime/linux-x86_64-gpu
  unzip -q -j -o "$bd" "$p/libonnxruntime.so.1" "$p/libonnxruntime_providers_shared.so" "$p/libonnxruntime_providers_cuda.so" -d "$stage/native"
  mv "$stage/native/libonnxruntime.so.1" "$stage/native/libonnxruntime.so"
  unzip -q -j -o "$ortgpu" ai/onnxruntime/native/linux-x64/libonnxruntime4j_jni.so -d "$stage/native"
  cuda_major=13 natives_from="$BYTEDECO (libonnxruntime.so.1 as libonnxruntime.so, providers_shared, providers_cuda); $ORT_GPU (libonnxruntime4j_jni.so)"
else
  p=ai/onnxruntime/native/linux-x64
  unzip -q -j -o "$ortgpu" "$p/libonnxruntime.so" "$p/libonnxruntime_providers_shared.so" "$p/libonnxruntime_providers_cuda.so" "$p/libonnxruntime4j_jni.so" -d "$stage/native"
  cuda_major=12 natives_from="$ORT_GPU (all four)"
fi

if [ "$sm" != all ]; then
  log "pruning the CUDA provider's cubins to sm $sm"
  "$JAVA_HOME/bin/java" -cp "$root/bench/target/bench.jar" dev.lorastream.bench.gpu.FatbinPrune "$stage/native/libonnxruntime_providers_cuda.so" "$sm" >&2
fi

# 3. the Java runtime: jlink of the build JDK (modules uncompressed: xz packs them better than jlink's zip)
log "jlink"
"$JAVA_HOME/bin/jlink" --add-modules java.se,jdk.unsupported,jdk.crypto.ec,jdk.zipfs \
  --strip-debug --no-header-files --no-man-pages --compress=zip-0 --output "$stage/runtime"

# 4. the jars: lean copies (natives of other platforms and ONNX Runtime's CPU natives left out, entries stored)
log "jars"
"$JAVA_HOME/bin/java" -cp "$root/bench/target/bench.jar" dev.lorastream.bench.gpu.BundleJars "$stage/lib" \
  "$root"/bench/target/lib/*.jar "$root/bench/target/bench.jar" >"$build/jars.txt"

# 5. run scripts and the description
cp "$root"/bench/bundle/bin/* "$stage/bin/"
chmod +x "$stage"/bin/gpu-check "$stage"/bin/worker "$stage"/bin/doctor
cp "$root/bench/assemble.sh" "$stage/bin/"
commit="$(cd "$root" && git rev-parse --short HEAD 2>/dev/null || echo unknown)"
dirty="$(cd "$root" && [ -n "$(git status --porcelain 2>/dev/null)" ] && echo "+uncommitted changes" || true)"
{
  echo "name=$name"
  echo "flavor=$flavor"
  echo "cuda_major=$cuda_major"
  echo "onnxruntime=$ORT_VERSION"
  echo "commit=$commit$dirty"
  echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "java=$("$stage/runtime/bin/java" -version 2>&1 | head -1)"
  echo "natives_from=$natives_from"
  echo "cuda_provider_cubins=sm $sm"
  echo "needs_on_host=CUDA $cuda_major (libcudart, libcublas, libcublasLt), cuDNN 9, an NVIDIA driver; nothing else"
  echo "# sha256 of the native libraries"
  (cd "$stage/native" && sha256sum ./*.so)
  echo "# jars (lean copies): name, bytes in -> out"
  cat "$build/jars.txt"
} >"$stage/BUNDLE.txt"

# 6. one tar.xz, the CUDA provider last (so the first part alone already holds java, the app and the core library),
#    or first when pruned (so the first part alone holds it, for on-host.sh fatbin-check)
log "tar | xz -$xz_level"
archive="$build/$name.tar.xz"
provider="$name/native/libonnxruntime_providers_cuda.so"
(cd "$build" && { [ "$sm" = all ] || echo "$provider"; find "$name" ! -type d ! -name libonnxruntime_providers_cuda.so | LC_ALL=C sort; [ "$sm" != all ] || echo "$provider"; } \
  | tar --owner=0 --group=0 --numeric-owner --mtime='2026-01-01 00:00Z' --no-recursion -cf - -T - \
  | xz -"$xz_level" -T0 >"$archive")

# 7. parts of at most part_mib MiB, equal sizes, each in its own folder with the sums and assemble.sh
size=$(stat -c %s "$archive")
max=$((part_mib * 1024 * 1024))
n=$(( (size + max - 1) / max ))
per=$(( (size + n - 1) / n ))
rm -rf "$out"
mkdir -p "$out"
(cd "$build" && rm -f "$name.tar.xz.part-"* && split -a 1 -d --numeric-suffixes=1 -b "$per" "$name.tar.xz" "$name.tar.xz.part-")
sums="$build/SHA256SUMS"
(cd "$build" && sha256sum "$name.tar.xz" "$name.tar.xz.part-"* >"$sums")
for i in $(seq 1 "$n"); do
  mkdir -p "$out/$i"
  mv "$build/$name.tar.xz.part-$i" "$out/$i/"
  cp "$sums" "$out/$i/SHA256SUMS"
  cp "$root/bench/assemble.sh" "$out/$i/assemble.sh"
done
log "bundle $(du -sh "$stage" | cut -f1) unpacked, $archive: $size bytes, $n parts:"
for i in $(seq 1 "$n"); do
  printf '  %s/%s/%s  %s bytes (%s MiB)\n' "$out" "$i" "$name.tar.xz.part-$i" "$(stat -c %s "$out/$i/$name.tar.xz.part-$i")" \
    "$(( $(stat -c %s "$out/$i/$name.tar.xz.part-$i") / 1048576 ))"
done
echo "on the host: copy the files of every part folder into one folder S, then: bash S/assemble.sh S DEST && DEST/$name/bin/doctor"
