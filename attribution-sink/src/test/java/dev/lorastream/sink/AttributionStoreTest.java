package dev.lorastream.sink;

import dev.lorastream.schemas.AttributionEvent;
import dev.lorastream.sink.internal.ParquetLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.List;
import java.util.stream.Stream;

import static dev.lorastream.sink.Events.simple;
import static dev.lorastream.sink.Events.sourced;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AttributionStoreTest {
    @TempDir Path dir;

    @Test
    void theSameEventsWrittenTwiceAreCountedOnce() throws Exception {
        // Given a batch of three events
        List<SourcedEvent> batch = sourced(0, simple("e1"), simple("e2"), simple("e3"));
        try (AttributionStore store = AttributionStore.open(dir, true)) {
            // When it is written, then written again (a replay after a crash before the offset commit)
            AttributionStore.WriteResult first = store.write(batch);
            AttributionStore.WriteResult replay = store.write(batch);

            // Then the replay inserts nothing
            assertThat(first.inserted()).isEqualTo(3);
            assertThat(replay.inserted()).isZero();
            assertThat(replay.duplicates()).isEqualTo(3);
            assertThat(replay.parquetFiles()).isEmpty();
            assertThat(store.rowCount()).isEqualTo(3);
        }
        try (Connection c = Duck.readOnly(dir)) {
            assertThat(Duck.scalar(c, "SELECT count(*) FROM attribution_contributor")).isEqualTo(6);
        }
        assertParquetRows(dir, 3, 6);
    }

    @Test
    void rowsPerRequestCountsOnlyTheIdsAskedFor() throws Exception {
        try (AttributionStore store = AttributionStore.open(dir, false)) {
            store.write(sourced(0, simple("e1"), simple("e2"), simple("e3")));
            assertThat(store.rowsPerRequest(List.of("req-e1", "req-e3", "req-unknown"))).containsOnly(
                    java.util.Map.entry("req-e1", 1L), java.util.Map.entry("req-e3", 1L));
            assertThat(store.rowsPerRequest(List.of())).isEmpty();
        }
    }

    @Test
    void aDuplicateWithinOneBatchIsStoredOnceWithTheFirstOccurrence() throws Exception {
        // Given a batch in which e1 appears twice, first at offset 0
        List<SourcedEvent> batch = sourced(0, simple("e1"), simple("e2"), simple("e1"));
        try (AttributionStore store = AttributionStore.open(dir, true)) {
            // When it is written
            AttributionStore.WriteResult result = store.write(batch);

            // Then e1 is stored once
            assertThat(result.inserted()).isEqualTo(2);
            assertThat(result.duplicates()).isEqualTo(1);
            assertThat(store.rowCount()).isEqualTo(2);
        }
        try (Connection c = Duck.readOnly(dir)) {
            assertThat(Duck.scalar(c, "SELECT source_offset FROM attribution WHERE event_id = 'e1'")).isZero();
        }
        assertParquetRows(dir, 2, 4);
    }

    @Test
    void parquetFilesHoldOnlyTheRowsEachBatchInserted() throws Exception {
        try (AttributionStore store = AttributionStore.open(dir, true)) {
            // Given a first batch e1, e2
            store.write(sourced(0, simple("e1"), simple("e2")));
            // When a second batch overlaps it (e2 again) and adds e3
            AttributionStore.WriteResult second = store.write(sourced(2, simple("e2"), simple("e3")));

            // Then the second batch's file holds e3 only
            assertThat(second.parquetFiles()).hasSize(1);
            try (Connection c = Duck.memory()) {
                assertThat(Duck.strings(c, "SELECT event_id FROM read_parquet('" + second.parquetFiles().getFirst() + "')"))
                        .containsExactly("e3");
            }
        }
        assertThat(ParquetLayout.count(ParquetLayout.in(dir).attributionDir())).isEqualTo(2);
        assertParquetRows(dir, 3, 6);
    }

    @Test
    void aReplayAfterReopeningTheStoreIsCountedOnce() throws Exception {
        List<SourcedEvent> batch = sourced(0, simple("e1"), simple("e2"));
        try (AttributionStore store = AttributionStore.open(dir, true)) {
            store.write(batch);
        }
        // When another process (a restarted sink) replays the batch
        try (AttributionStore store = AttributionStore.open(dir, true)) {
            AttributionStore.WriteResult replay = store.write(batch);
            // Then nothing is added, neither rows nor Parquet files
            assertThat(replay.inserted()).isZero();
            assertThat(store.rowCount()).isEqualTo(2);
        }
        assertThat(ParquetLayout.count(ParquetLayout.in(dir).attributionDir())).isEqualTo(1);
        assertParquetRows(dir, 2, 4);
    }

    @Test
    void aFailingEventRollsBackTheWholeBatch() throws Exception {
        // Given a batch whose third event breaks a NOT NULL constraint (tenant missing)
        AttributionEvent broken = simple("e3");
        broken.setTenant(null);
        try (AttributionStore store = AttributionStore.open(dir, true)) {
            // When it is written
            assertThatThrownBy(() -> store.write(sourced(0, simple("e1"), simple("e2"), broken)))
                    .isInstanceOf(StoreException.class)
                    .hasMessageContaining("attribution.duckdb");

            // Then none of it is stored, nor queued for Parquet, and the store still works
            assertThat(store.rowCount()).isZero();
            assertThat(ParquetLayout.count(ParquetLayout.in(dir).attributionDir())).isZero();
            assertThat(store.write(sourced(0, simple("e1"))).inserted()).isEqualTo(1);
        }
        assertParquetRows(dir, 1, 2);
    }

    @Test
    void rowsCommittedButNotYetExportedAreExportedWhenTheStoreReopens() throws Exception {
        // Given a store whose process stopped after a commit and before the Parquet export
        try (AttributionStore store = AttributionStore.open(dir, true)) {
            store.write(sourced(0, simple("e1"), simple("e2")));
        }
        Path attributionDir = ParquetLayout.in(dir).attributionDir();
        Path contributorDir = ParquetLayout.in(dir).contributorDir();
        deleteParquet(attributionDir);
        deleteParquet(contributorDir);
        try (Connection c = DriverManager.getConnection("jdbc:duckdb:" + dir.resolve(AttributionStore.DB_FILE));
             Statement s = c.createStatement()) {
            s.execute("INSERT INTO parquet_export_pending SELECT 'part-0000000000001-p0-o0', event_id FROM attribution");
        }
        // When the store is opened again
        try (AttributionStore ignored = AttributionStore.open(dir, true)) {
            // Then the pending rows are in Parquet, once
            assertParquetRows(dir, 2, 4);
        }
        try (Connection c = Duck.readOnly(dir)) {
            assertThat(Duck.scalar(c, "SELECT count(*) FROM parquet_export_pending")).isZero();
        }
    }

    @Test
    void noParquetFilesWhenExportIsOff() {
        try (AttributionStore store = AttributionStore.open(dir, false)) {
            AttributionStore.WriteResult result = store.write(sourced(0, simple("e1")));
            assertThat(result.inserted()).isEqualTo(1);
            assertThat(result.parquetFiles()).isEmpty();
        }
        assertThat(ParquetLayout.count(ParquetLayout.in(dir).attributionDir())).isZero();
    }

    @Test
    void backboneEventsKeepANullAdapterAndNoContributors() throws Exception {
        try (AttributionStore store = AttributionStore.open(dir, true)) {
            store.write(sourced(0, Events.event("b1", "t", null, 3, 4, 1.0)));
        }
        try (Connection c = Duck.readOnly(dir)) {
            assertThat(Duck.scalar(c, "SELECT count(*) FROM attribution WHERE adapter_id IS NULL")).isEqualTo(1);
            assertThat(Duck.scalar(c, "SELECT count(*) FROM attribution_contributor")).isZero();
            assertThat(Duck.strings(c, "SELECT strftime(served_at, '%Y-%m-%d') FROM attribution")).containsExactly("2025-03-01");
        }
    }

    private static void assertParquetRows(Path dataDir, long events, long contributors) throws Exception {
        ParquetLayout layout = ParquetLayout.in(dataDir);
        try (Connection c = Duck.memory()) {
            assertThat(Duck.scalar(c, "SELECT count(*) FROM " + Duck.parquet(layout.attributionDir()))).isEqualTo(events);
            assertThat(Duck.scalar(c, "SELECT count(DISTINCT event_id) FROM " + Duck.parquet(layout.attributionDir()))).isEqualTo(events);
            assertThat(Duck.scalar(c, "SELECT count(*) FROM " + Duck.parquet(layout.contributorDir()))).isEqualTo(contributors);
            assertThat(Duck.scalar(c, "SELECT count(DISTINCT (event_id, contributor_id)) FROM " + Duck.parquet(layout.contributorDir())))
                    .isEqualTo(contributors);
        }
    }

    private static void deleteParquet(Path dir) throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) Files.delete(f);
        }
    }
}
