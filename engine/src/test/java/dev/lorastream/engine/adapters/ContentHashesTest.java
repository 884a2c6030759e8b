package dev.lorastream.engine.adapters;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

class ContentHashesTest {
    private static final String[] FILES = {"a.json", "w.bin", "meta.json"};

    @Test
    void hashesOnceWhileTheFilesStayTheSame(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("a.json"), "{}");
        Files.write(dir.resolve("w.bin"), new byte[] {1, 2, 3});
        settle(dir.resolve("a.json"), dir.resolve("w.bin"));
        ContentHashes hashes = new ContentHashes(8);
        AtomicInteger computed = new AtomicInteger();
        String first = hashes.hash(dir, FILES, d -> "h" + computed.incrementAndGet());
        String again = hashes.hash(dir, FILES, d -> "h" + computed.incrementAndGet());
        assertEquals(first, again);
        assertEquals(1, computed.get());
    }

    @Test
    void aJustWrittenFileIsHashedEveryTime(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("a.json"), "{}");
        ContentHashes hashes = new ContentHashes(8);
        AtomicInteger computed = new AtomicInteger();
        hashes.hash(dir, FILES, d -> "h" + computed.incrementAndGet());
        hashes.hash(dir, FILES, d -> "h" + computed.incrementAndGet());
        assertEquals(2, computed.get(), "modified within the timestamp granularity: not trusted yet");
    }

    /** Moves the files' modification time into the past, as if written a minute ago. */
    private static void settle(Path... files) throws Exception {
        for (Path f : files) Files.setLastModifiedTime(f, FileTime.from(Instant.now().minusSeconds(60)));
    }

    @Test
    void hashesAgainWhenAFileChangesAppearsOrLeaves(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("a.json"), "{}");
        Path w = dir.resolve("w.bin");
        Files.write(w, new byte[] {1, 2, 3});
        settle(dir.resolve("a.json"), w);
        ContentHashes hashes = new ContentHashes(8);
        AtomicInteger computed = new AtomicInteger();
        String h1 = hashes.hash(dir, FILES, d -> "h" + computed.incrementAndGet());
        // same size, different bytes, modification time moved: computed again
        Files.write(w, new byte[] {9, 9, 9});
        Files.setLastModifiedTime(w, FileTime.from(Instant.now().minusSeconds(30)));
        String h2 = hashes.hash(dir, FILES, d -> "h" + computed.incrementAndGet());
        assertNotEquals(h1, h2);
        Files.writeString(dir.resolve("meta.json"), "{\"version\":\"1\"}");
        settle(dir.resolve("meta.json"));
        hashes.hash(dir, FILES, d -> "h" + computed.incrementAndGet());
        Files.delete(dir.resolve("meta.json"));
        hashes.hash(dir, FILES, d -> "h" + computed.incrementAndGet());
        assertEquals(4, computed.get());
    }

    @Test
    void theRealHashIsRememberedAndFollowsTheWeights(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve(AdapterConfig.FILE), "{}");
        Path w = dir.resolve(AdapterLoader.WEIGHTS_FILE);
        Files.write(w, new byte[] {1, 2, 3});
        settle(dir.resolve(AdapterConfig.FILE), w);
        String h1 = AdapterLoader.contentHash(dir);
        assertEquals(h1, AdapterLoader.contentHash(dir));
        Files.write(w, new byte[] {1, 2, 4});
        Files.setLastModifiedTime(w, FileTime.from(Instant.now().minusSeconds(30)));
        assertNotEquals(h1, AdapterLoader.contentHash(dir));
    }
}
