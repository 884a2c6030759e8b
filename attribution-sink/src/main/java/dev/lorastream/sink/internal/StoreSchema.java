package dev.lorastream.sink.internal;

/** Table definitions shared by the store (DuckDB file) and the report (DuckDB file or Parquet files). */
public final class StoreSchema {
    public static final String DB_FILE = "attribution.duckdb";
    public static final String ATTRIBUTION = "attribution";
    public static final String CONTRIBUTOR = "attribution_contributor";
    /** Outbox of rows committed but not yet in a Parquet file, by part name. */
    public static final String EXPORT_PENDING = "parquet_export_pending";

    private static final String ATTRIBUTION_COLUMNS = """
            (
              event_id VARCHAR PRIMARY KEY,
              request_id VARCHAR NOT NULL,
              tenant VARCHAR NOT NULL,
              adapter_id VARCHAR,
              adapter_version VARCHAR,
              base_model VARCHAR NOT NULL,
              prompt_tokens INTEGER NOT NULL,
              completion_tokens INTEGER NOT NULL,
              compute_ms DOUBLE NOT NULL,
              worker_id VARCHAR NOT NULL,
              execution_provider VARCHAR NOT NULL,
              served_at TIMESTAMP NOT NULL,
              source_partition INTEGER NOT NULL,
              source_offset BIGINT NOT NULL
            )""";

    private static final String CONTRIBUTOR_COLUMNS = """
            (
              event_id VARCHAR NOT NULL,
              contributor_id VARCHAR NOT NULL,
              share DOUBLE NOT NULL,
              PRIMARY KEY (event_id, contributor_id)
            )""";

    public static final String CREATE_ATTRIBUTION = "CREATE TABLE IF NOT EXISTS " + ATTRIBUTION + " " + ATTRIBUTION_COLUMNS;
    public static final String CREATE_CONTRIBUTOR = "CREATE TABLE IF NOT EXISTS " + CONTRIBUTOR + " " + CONTRIBUTOR_COLUMNS;
    public static final String CREATE_EXPORT_PENDING = "CREATE TABLE IF NOT EXISTS " + EXPORT_PENDING
            + " (part VARCHAR NOT NULL, event_id VARCHAR NOT NULL)";

    public static final String INSERT_ATTRIBUTION = "INSERT INTO " + ATTRIBUTION
            + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, epoch_ms(?), ?, ?) ON CONFLICT DO NOTHING";
    public static final String INSERT_CONTRIBUTOR = "INSERT INTO " + CONTRIBUTOR + " VALUES (?, ?, ?) ON CONFLICT DO NOTHING";
    public static final String INSERT_EXPORT_PENDING = "INSERT INTO " + EXPORT_PENDING + " VALUES (?, ?)";

    private StoreSchema() {}

    /** A SQL string literal (single quotes doubled), for statements such as COPY that take no parameters. */
    public static String literal(String text) {
        return "'" + text.replace("'", "''") + "'";
    }
}
