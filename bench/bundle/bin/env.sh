# Sourced by the bundle's commands: the bundled Java, ONNX Runtime's native folder, and the CUDA
# libraries of the host on LD_LIBRARY_PATH. Override with LORASTREAM_CUDA_LIBS (colon-separated
# folders holding libcudart/libcublas/libcublasLt), CUDA_HOME, and JAVA_OPTS.
bundle="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cuda_major="$(sed -n 's/^cuda_major=//p' "$bundle/BUNDLE.txt" 2>/dev/null)"; cuda_major="${cuda_major:-13}"
if [ -z "${LORASTREAM_CUDA_LIBS:-}" ]; then
  libs=""
  for d in ${CUDA_HOME:+"$CUDA_HOME/targets/x86_64-linux/lib" "$CUDA_HOME/lib64"} \
           "/usr/local/cuda-$cuda_major.0/targets/x86_64-linux/lib" /usr/local/cuda-"$cuda_major"*/targets/x86_64-linux/lib \
           /usr/local/cuda/targets/x86_64-linux/lib /usr/local/cuda/lib64 /usr/lib/x86_64-linux-gnu; do
    [ -d "$d" ] || continue
    case ":$libs:" in *":$d:"*) continue ;; esac
    for lib in "libcudart.so.$cuda_major" "libcublasLt.so.$cuda_major" "libcublas.so.$cuda_major" libcudnn.so.9; do
      if compgen -G "$d/$lib*" >/dev/null; then libs="${libs:+$libs:}$d"; break; fi
    done
  done
  LORASTREAM_CUDA_LIBS="$libs"
fi
export LD_LIBRARY_PATH="${LORASTREAM_CUDA_LIBS}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
JAVA="$bundle/runtime/bin/java"
JAVA_FLAGS=(--enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow
  "-Donnxruntime.native.path=$bundle/native" -cp "$bundle/lib/*")
