package dev.lorastream.engine.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reader of one safetensors file: an 8-byte little-endian header length N, N bytes of JSON
 * describing each tensor (dtype, shape, data offsets relative to the data start), then the data.
 * Tensors are read on demand (F32, F16, BF16 and F64 are converted to float32).
 */
public final class SafetensorsFile implements AutoCloseable {

    /** One tensor's entry in the header. */
    public record TensorInfo(String name, String dtype, long[] shape, long begin, long end) {
        public long numel() {
            long n = 1;
            for (long d : shape) n *= d;
            return n;
        }

        public String shapeString() { return Arrays.toString(shape); }
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    static final int CHUNK = 1 << 22;

    private final Path path;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, FileChannel channel, long dataStart, Map<String, TensorInfo> tensors, Map<String, String> metadata) {
        this.path = path;
        this.channel = channel;
        this.dataStart = dataStart;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    public static SafetensorsFile open(Path path) {
        FileChannel ch = null;
        try {
            ch = FileChannel.open(path, StandardOpenOption.READ);
            long size = ch.size();
            if (size < 8) throw new ModelFormatException(path + ": not a safetensors file (shorter than 8 bytes)");
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0);
            long headerLen = lenBuf.flip().getLong();
            if (headerLen <= 0 || headerLen > 100_000_000L || 8 + headerLen > size) {
                throw new ModelFormatException(path + ": bad safetensors header length " + headerLen + " (file size " + size + ")");
            }
            ByteBuffer header = ByteBuffer.allocate((int) headerLen);
            readFully(ch, header, 8);
            JsonNode root;
            try {
                root = JSON.readTree(new String(header.array(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new ModelFormatException(path + ": safetensors header is not valid JSON: " + e.getMessage(), e);
            }
            if (root == null || !root.isObject()) throw new ModelFormatException(path + ": safetensors header is not a JSON object");
            long dataStart = 8 + headerLen;
            long dataLen = size - dataStart;
            Map<String, TensorInfo> tensors = new LinkedHashMap<>();
            Map<String, String> metadata = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (e.getKey().equals("__metadata__")) {
                    e.getValue().fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                    continue;
                }
                tensors.put(e.getKey(), parseInfo(path, e.getKey(), e.getValue(), dataLen));
            }
            return new SafetensorsFile(path, ch, dataStart, Collections.unmodifiableMap(tensors), Collections.unmodifiableMap(metadata));
        } catch (IOException e) {
            closeQuietly(ch);
            throw new ModelFormatException(path + ": cannot read: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            closeQuietly(ch);
            throw e;
        }
    }

    private static TensorInfo parseInfo(Path path, String name, JsonNode node, long dataLen) {
        JsonNode dtype = node.get("dtype"), shape = node.get("shape"), offsets = node.get("data_offsets");
        if (dtype == null || shape == null || !shape.isArray() || offsets == null || !offsets.isArray() || offsets.size() != 2) {
            throw new ModelFormatException(path + ": tensor '" + name + "': header entry needs dtype, shape and data_offsets [begin, end]");
        }
        long[] dims = new long[shape.size()];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = shape.get(i).asLong(-1);
            if (dims[i] < 0) throw new ModelFormatException(path + ": tensor '" + name + "': negative dimension in shape " + shape);
        }
        long begin = offsets.get(0).asLong(-1), end = offsets.get(1).asLong(-1);
        if (begin < 0 || end < begin || end > dataLen) {
            throw new ModelFormatException(path + ": tensor '" + name + "': data_offsets [" + begin + ", " + end + "] outside the data section of " + dataLen + " bytes");
        }
        TensorInfo info = new TensorInfo(name, dtype.asText(), dims, begin, end);
        DType dt = DType.fromSafetensors(info.dtype());
        if (dt != null && info.numel() * dt.bytes() != end - begin) {
            throw new ModelFormatException(path + ": tensor '" + name + "': " + info.dtype() + " " + info.shapeString()
                    + " needs " + info.numel() * dt.bytes() + " bytes, data_offsets span " + (end - begin));
        }
        return info;
    }

    public Path path() { return path; }

    /** Tensor entries in header order. */
    public Map<String, TensorInfo> tensors() { return tensors; }

    /** The header's {@code __metadata__}, empty when absent. */
    public Map<String, String> metadata() { return metadata; }

    public boolean has(String name) { return tensors.containsKey(name); }

    public TensorInfo info(String name) {
        TensorInfo info = tensors.get(name);
        if (info == null) throw new ModelFormatException(path + ": no tensor '" + name + "'");
        return info;
    }

    /** Reads a tensor as float32, whatever its floating dtype. */
    public FloatTensor read(String name) {
        TensorInfo info = info(name);
        DType dt = DType.fromSafetensors(info.dtype());
        if (dt == null) throw new ModelFormatException(path + ": tensor '" + name + "': dtype " + info.dtype() + " is not a floating type (F32, F16, BF16, F64)");
        long n = info.numel();
        if (n > Integer.MAX_VALUE - 8) throw new ModelFormatException(path + ": tensor '" + name + "' has " + n + " elements, more than one Java array holds");
        int[] shape = new int[info.shape().length];
        for (int i = 0; i < shape.length; i++) shape[i] = Math.toIntExact(info.shape()[i]);
        float[] out = new float[(int) n];
        int perChunk = readBufferBytes(n, dt) / dt.bytes();
        ByteBuffer buf = ByteBuffer.allocate(perChunk * dt.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        long pos = dataStart + info.begin();
        int done = 0;
        try {
            while (done < n) {
                int count = (int) Math.min(perChunk, n - done);
                buf.clear().limit(count * dt.bytes());
                readFully(channel, buf, pos);
                buf.flip();
                if (dt == DType.F32) {
                    buf.asFloatBuffer().get(out, done, count); // bulk: the buffer is little-endian like the file
                } else {
                    for (int i = 0; i < count; i++) out[done + i] = dt.read(buf);
                }
                done += count;
                pos += (long) count * dt.bytes();
            }
        } catch (IOException e) {
            throw new ModelFormatException(path + ": tensor '" + name + "': read failed: " + e.getMessage(), e);
        }
        return new FloatTensor(shape, out);
    }

    /** Bytes of the buffer {@link #read} goes through: one chunk, or the whole tensor when it is smaller (an adapter's are). */
    static int readBufferBytes(long numel, DType dt) {
        return (int) Math.min(CHUNK / dt.bytes(), numel) * dt.bytes();
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        while (buf.hasRemaining()) {
            int r = ch.read(buf, pos);
            if (r < 0) throw new IOException("unexpected end of file at " + pos);
            pos += r;
        }
    }

    private static void closeQuietly(FileChannel ch) {
        if (ch == null) return;
        try {
            ch.close();
        } catch (IOException ignored) {
            // already failing
        }
    }

    @Override
    public void close() {
        closeQuietly(channel);
    }
}
