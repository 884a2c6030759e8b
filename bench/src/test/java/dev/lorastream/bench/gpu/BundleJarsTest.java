package dev.lorastream.bench.gpu;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class BundleJarsTest {

    @Test
    void keepsClassesAndLinuxX64NativesOnly() {
        assertThat(BundleJars.keep("org/example/Foo.class")).isTrue();
        assertThat(BundleJars.keep("META-INF/MANIFEST.MF")).isTrue();
        assertThat(BundleJars.keep("native/lib/linux-x86_64/cpu/libtokenizers.so")).isTrue();
        assertThat(BundleJars.keep("linux/amd64/libzstd-jni-1.5.7-17.so")).isTrue();
        assertThat(BundleJars.keep("org/xerial/snappy/native/Linux/x86_64/libsnappyjava.so")).isTrue();
        assertThat(BundleJars.keep("com/sun/jna/linux-x86-64/libjnidispatch.so")).isTrue();

        assertThat(BundleJars.keep("native/lib/linux-aarch64/cpu/libtokenizers.so")).isFalse();
        assertThat(BundleJars.keep("com/sun/jna/linux-x86/libjnidispatch.so")).isFalse();
        assertThat(BundleJars.keep("linux/i386/libzstd-jni-1.5.7-17.so")).isFalse();
        assertThat(BundleJars.keep("net/jpountz/util/windows/amd64/liblz4-java.dll")).isFalse();
        assertThat(BundleJars.keep("net/jpountz/util/darwin/x86_64/liblz4-java.dylib")).isFalse();
        assertThat(BundleJars.keep("ai/onnxruntime/native/linux-x64/libonnxruntime.so")).isFalse();
        assertThat(BundleJars.keep("ai/onnxruntime/native/osx-aarch64/libonnxruntime.dylib.dSYM/Contents/Info.plist")).isFalse();
    }
}
