package example;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.pool.HikariPool.PoolInitializationException;
import org.postgresql.PGStatement;
import org.postgresql.util.PGobject;

import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertificateException;
import java.sql.Array;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.net.ssl.SSLHandshakeException;

/**
 * The page's "JDBC + HikariCP" sample ({@link #connectNow()}), plus the harness scenarios run
 * through the same pool configuration. Connection settings come from the libpq environment
 * (PGHOST, PGPORT, ...), the scenario from HARNESS_SCENARIO and HARNESS_PARAMS. stdout carries
 * JSON Lines only; everything for humans goes to stderr.
 */
public final class Main {
    private static final ObjectMapper JSON = new ObjectMapper();
    // UTF-8 whatever the platform locale is (a container's POSIX locale would turn names into '?').
    private static final PrintStream OUT =
            new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
    private static final BufferedReader IN =
            new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));

    // The page's sample, which every scenario runs through: the pool's configuration with the
    // page's values (poolConfig maps a scenario's pool settings onto it) and its query.
    // [START java_hikaricp]
    static HikariConfig pageConfig() {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(jdbcUrl());   // jdbc:postgresql://localhost:5432/mydb, from PG* where set
        config.setUsername(env("PGUSER", "postgres"));
        config.setPassword(env("PGPASSWORD", "secret"));
        config.setMaximumPoolSize(10);
        return config;
    }

    static Instant selectNow(HikariDataSource ds) throws SQLException {
        try (Connection conn = ds.getConnection();
             PreparedStatement ps = conn.prepareStatement(
                "SELECT NOW()")) {
            ResultSet rs = ps.executeQuery();
            rs.next();
            Timestamp now = rs.getTimestamp(1);
            System.out.println(now);
            return now.toInstant();
        }
    }
    // [END java_hikaricp]

    static Instant connectNow() throws SQLException {
        try (HikariDataSource ds = new HikariDataSource(pageConfig())) {   // closed: no backend outlives us
            return selectNow(ds);
        }
    }

    // [HELPER jdbcUrl] builds jdbc:postgresql://host:port/db?sslmode=...&sslrootcert=... from PGHOST, PGPORT, PGDATABASE, PGSSLMODE, PGSSLROOTCERT (pgjdbc reads no PG* variable)
    /**
     * pgjdbc does not read PG* itself (unlike libpq), so build its URL from them.
     * PGUSER/PGPASSWORD go to HikariConfig.setUsername/setPassword, as on the page.
     */
    static String jdbcUrl() {
        String host = env("PGHOST", "localhost");
        if (host.contains(":")) host = "[" + host + "]";   // IPv6 literal
        StringBuilder url = new StringBuilder("jdbc:postgresql://")
                .append(host).append(':').append(env("PGPORT", "5432"))
                .append('/').append(enc(env("PGDATABASE", "mydb")));
        // pgjdbc's own names for application_name, sslmode and sslrootcert (PEM works).
        String[][] params = {
                {"ApplicationName", System.getenv("PGAPPNAME")},
                {"sslmode", System.getenv("PGSSLMODE")},
                {"sslrootcert", System.getenv("PGSSLROOTCERT")}};
        char sep = '?';
        for (String[] p : params) {
            if (p[1] == null || p[1].isEmpty()) continue;
            url.append(sep).append(p[0]).append('=').append(enc(p[1]));
            sep = '&';
        }
        return url.toString();
    }

    /** The sample's pool; see poolConfig. */
    static HikariDataSource openPool(JsonNode pool) {
        return new HikariDataSource(poolConfig(pool));
    }

    /** The sample's configuration, with params.pool mapped onto it; absent settings keep the page's values. */
    static HikariConfig poolConfig(JsonNode pool) {
        HikariConfig config = pageConfig();
        config.setMaximumPoolSize(pool.path("max").asInt(10));
        // Unset, minimumIdle = maximumPoolSize: the page's fixed-size pool.
        if (pool.has("min_idle")) config.setMinimumIdle(pool.get("min_idle").asInt());
        if (pool.has("acquire_timeout_ms")) config.setConnectionTimeout(pool.get("acquire_timeout_ms").asLong());
        if (pool.has("idle_timeout_ms")) config.setIdleTimeout(idleTimeoutMs(pool));
        return config;
    }

    /**
     * HikariCP's floor for idleTimeout is 10 s; below it, it silently falls back to its 600 s
     * default. Raise the wish to the floor instead, and report what was used.
     */
    static long idleTimeoutMs(JsonNode pool) {
        return Math.max(pool.get("idle_timeout_ms").asLong(), 10_000L);
    }

    public static void main(String[] args) {
        System.setOut(System.err);   // stdout is the harness's (OUT): what the sample prints goes to stderr
        String scenario = env("HARNESS_SCENARIO", "");
        try {
            JsonNode params = JSON.readTree(env("HARNESS_PARAMS", "{}"));
            ObjectNode data = run(scenario, params);
            if (data == null) {
                System.err.println("unknown scenario: " + scenario);
                System.exit(2);
            }
            ObjectNode result = JSON.createObjectNode();
            result.put("type", "result").put("scenario", scenario).set("data", data);
            emit(result);
            System.exit(0);
        } catch (Exception e) {
            System.err.println("scenario " + scenario + " failed:");
            e.printStackTrace();
            System.exit(1);
        }
    }

    /** Runs one scenario; null for an unknown name. Every pool is closed before returning. */
    static ObjectNode run(String scenario, JsonNode params) throws Exception {
        ObjectNode data = JSON.createObjectNode();
        JsonNode poolParams = params.path("pool");
        switch (scenario) {
            case "connect_now":
                data.put("now", connectNow().toString());
                return data;
            case "select_rows":
            case "active_users":
            case "related_rows":
            case "param_query":
            case "transaction":
            case "error_sqlstate":
            case "types":
                try (HikariDataSource ds = openPool(poolParams)) {
                    core(scenario, ds, params, data);
                }
                return data;
            case "pool_bounded":
                try (HikariDataSource ds = openPool(poolParams)) {
                    long t0 = System.nanoTime();
                    data.setAll(burst(ds, params.path("concurrency").asInt(), sleepOf(params), false));
                    data.put("elapsed_ms", (System.nanoTime() - t0) / 1_000_000);
                }
                return data;
            case "pool_reuse":
                try (HikariDataSource ds = openPool(poolParams)) {
                    ArrayNode pids = data.putArray("pids");
                    for (int i = 0; i < params.path("queries").asInt(); i++) {
                        try (Connection conn = ds.getConnection();
                             PreparedStatement ps = conn.prepareStatement("SELECT pg_backend_pid()");
                             ResultSet rs = ps.executeQuery()) {
                            rs.next();
                            pids.add(rs.getInt(1));
                        }
                    }
                }
                return data;
            case "pool_release": {
                HikariDataSource ds = openPool(poolParams);
                try {
                    data.setAll(burst(ds, params.path("concurrency").asInt(), sleepOf(params), true));
                    checkpoint("after_work");
                } finally {
                    ds.close();
                }
                checkpoint("after_close");
                return data;
            }
            case "pool_release_on_error": {
                // A statement fails inside a transaction on a borrowed connection. Closing it (the
                // try-with-resources) hands it back; HikariCP rolls back an unfinished transaction
                // on return, so the pool never lends it out mid-transaction.
                HikariDataSource ds = openPool(poolParams);
                try {
                    try (Connection conn = ds.getConnection()) {
                        try (PreparedStatement ps = conn.prepareStatement("SELECT pg_backend_pid()");
                             ResultSet rs = ps.executeQuery()) {
                            rs.next();
                            data.put("pid", rs.getInt(1));
                        }
                        conn.setAutoCommit(false);   // JDBC's BEGIN
                        String prefix = params.path("name_prefix").asText();
                        for (String key : new String[] {"row_id", "duplicate_id"}) {   // the second is taken: 23505
                            int id = params.path(key).asInt();
                            insertUser(conn, id, prefix + " " + id);
                        }
                        conn.commit();
                    } catch (SQLException e) {
                        System.err.println("expected failure: " + e.getMessage());
                        data.put("failed_sqlstate", e.getSQLState());
                    }
                    checkpoint("after_error");
                    try (Connection conn = ds.getConnection();
                         PreparedStatement ps = conn.prepareStatement("SELECT 1");
                         ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        data.put("after", rs.getInt(1));
                    }
                } finally {
                    ds.close();
                }
                checkpoint("after_close");
                return data;
            }
            case "pool_acquire_timeout":
                try (HikariDataSource ds = openPool(poolParams);
                     Connection held = ds.getConnection()) {   // the pool's only connection
                    long t0 = System.nanoTime();
                    try (Connection second = ds.getConnection()) {
                        data.putNull("error");                    // not expected: the harness flags it
                    } catch (SQLException e) {
                        boolean poolTimeout = e instanceof SQLTransientConnectionException
                                && String.valueOf(e.getMessage()).contains("Connection is not available, request timed out");
                        data.putObject("error")
                                .put("kind", poolTimeout ? "pool_timeout" : "other")
                                .put("type", e.getClass().getName())
                                .put("message", e.getMessage());
                    }
                    data.put("elapsed_ms", (System.nanoTime() - t0) / 1_000_000);
                }
                return data;
            case "pool_idle_timeout": {
                // HikariCP retires idle connections from its housekeeper, which runs every 30 s by
                // default, so retirement could lag the idle timeout by up to 30 s. The pool reads
                // this property when it is created: set it first.
                System.setProperty("com.zaxxer.hikari.housekeeping.periodMs", "500");
                try (HikariDataSource ds = openPool(poolParams)) {
                    data.setAll(burst(ds, params.path("burst").asInt(), sleepOf(params), false));
                    data.put("idle_timeout_ms", ds.getIdleTimeout());
                    checkpoint("after_burst");
                }
                return data;
            }
            case "pool_recovery_terminate":
            case "pool_recovery_restart":
                // No retry logic here: HikariCP evicts a connection that raised 08xxx/57P01 and
                // checks a connection idle for more than 500 ms with isValid() before lending it,
                // so the second burst gets live connections after the fault.
                try (HikariDataSource ds = openPool(poolParams)) {
                    int n = params.path("concurrency").asInt();
                    data.set("first", burst(ds, n, sleepOf(params), false));
                    checkpoint("between_bursts");
                    data.set("second", burst(ds, n, sleepOf(params), false));
                }
                return data;
            case "story_pool_sizing": {
                ArrayNode results = data.putArray("sizes");
                for (JsonNode size : params.path("sizes")) results.add(poolSizeRun(size.asInt(), params));
                return data;
            }
            case "story_pool_exhaustion":
                data.set("services", poolExhaustion(params));
                return data;
            case "story_pause_resume_cutover":
            case "story_pause_resume_limit":
                return ledgerStream(params);
            case "no_pool_exhaustion": {
                int n = params.path("requests").asInt();
                try (HikariDataSource ds = openPool(poolParams)) {
                    data.set("pooled", burst(ds, n, sleepOf(params), false));
                }   // closed first, so its connections do not count against the unpooled run
                checkpoint("after_pooled");   // the harness counts the pooled half's connections
                data.set("unpooled", burst(null, n, sleepOf(params), false));
                return data;
            }
            case "tls_verify_full":
                // The pool's connections carry sslmode=verify-full&sslrootcert=... from the URL.
                try (HikariDataSource ds = openPool(poolParams);
                     Connection conn = ds.getConnection();
                     PreparedStatement ps = conn.prepareStatement(
                             "SELECT ssl, version, cipher FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
                     ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    data.put("ssl", rs.getBoolean("ssl"))
                            .put("version", rs.getString("version"))
                            .put("cipher", rs.getString("cipher"));
                    checkpoint("connected");   // the harness reads pg_stat_ssl while we hold it
                }
                return data;
            case "tls_wrong_ca":
            case "tls_wrong_host":
            case "plaintext_refused":
            case "auth_wrong_password":
                return failedConnect(poolParams);
            case "connect_latency":
            case "connect_latency_tls":   // the environment says TLS or not
                return connectLatency(poolParams, params.path("connections").asInt(), params.path("queries").asInt());
            case "prepared_statement_reuse":
                try (HikariDataSource ds = openPool(poolParams); Connection conn = ds.getConnection()) {
                    data.set("results", preparedStatementReuse(conn, params));
                }
                return data;
            case "session_set":
                // Both connections are borrowed before the SET (the pool has made them by then).
                try (HikariDataSource ds = openPool(poolParams);
                     Connection first = ds.getConnection(); Connection second = ds.getConnection()) {
                    // Client 1 sets it, client 2 reads it, client 1 reads it back; at the checkpoints
                    // the harness may replace server connections.
                    String setting = params.path("setting").asText();
                    String read = "SELECT current_setting(?, true)";
                    checkpoint("connected");
                    singleValue(first, "SELECT set_config(?, ?, false)", setting, params.path("value").asText());
                    String otherClientRead = singleValue(second, read, setting);
                    checkpoint("before_read_back");
                    data.put("read_back", singleValue(first, read, setting)).put("other_client_read", otherClientRead);
                }
                return data;
            case "advisory_lock":
                // A session advisory lock: client 1 takes it, client 2 tries it, client 1 unlocks it.
                try (HikariDataSource ds = openPool(poolParams);
                     Connection first = ds.getConnection(); Connection second = ds.getConnection()) {
                    long key = params.path("key").asLong();
                    checkpoint("connected");
                    lockCall(first, "SELECT pg_advisory_lock(?)", key);
                    Boolean tried = lockCall(second, "SELECT pg_try_advisory_lock(?)", key);
                    checkpoint("before_unlock");
                    data.put("other_client_got_it", tried)
                        .put("unlocked", lockCall(first, "SELECT pg_advisory_unlock(?)", key));
                }
                return data;
            default:
                return null;
        }
    }

    // ---------------------------------------------------------------------------------------
    // Session state, for the PgBouncer matrix (docs/pgbouncer.md): a statement prepared by name
    // and a session setting live in one server session, which transaction pooling does not keep.
    // Each statement below runs in its own transaction (the pool's connections autocommit).
    // ---------------------------------------------------------------------------------------

    /**
     * One PreparedStatement executed once per id. pgjdbc names a statement on the server (S_1,
     * ...) only after prepareThreshold (5) executions; PGStatement.setPrepareThreshold(1), its
     * documented per-statement setting, names it from the first, as code that prepares on purpose.
     */
    static ArrayNode preparedStatementReuse(Connection conn, JsonNode params) throws Exception {
        ArrayNode results = JSON.createArrayNode();
        try (PreparedStatement ps = conn.prepareStatement("SELECT id, name FROM users WHERE id = ?")) {
            ps.unwrap(PGStatement.class).setPrepareThreshold(1);
            for (JsonNode id : params.path("ids")) {
                ps.setInt(1, id.asInt());
                ArrayNode rows = results.addArray();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) rows.addObject().put("id", rs.getInt("id")).put("name", rs.getString("name"));
                }
                if (results.size() == 1) checkpoint("prepared");   // the harness may replace server connections here
            }
        }
        return results;
    }

    /**
     * An advisory lock function on `key`; what it answered. pg_advisory_lock answers void, which is
     * not read (pgjdbc would look the void type up in pg_type first): null.
     */
    static Boolean lockCall(Connection conn, String sql, long key) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            ps.setLong(1, key);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return sql.contains("pg_advisory_lock(") ? null : rs.getBoolean(1);
            }
        }
    }

    /** One statement with text parameters; its one value (null for SQL NULL). set_config is SET, value bound. */
    static String singleValue(Connection conn, String sql, String... args) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) ps.setString(i + 1, args[i]);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    // ---------------------------------------------------------------------------------------
    // The connection lifecycle: TLS, pg_hba.conf, SCRAM, and what a new connection costs.
    // ---------------------------------------------------------------------------------------

    /**
     * Opens the pool and runs SELECT 1, where the connect is expected to fail. HikariCP's default
     * initializationFailTimeout (1 ms) makes the pool's constructor try one connection and throw
     * PoolInitializationException with the driver's error as the cause (after a 1 s pause of its
     * own), so no pool is left behind.
     */
    static ObjectNode failedConnect(JsonNode pool) {
        ObjectNode data = JSON.createObjectNode();
        HikariConfig config = poolConfig(pool);
        long t0 = System.nanoTime();   // the attempt starts with the pool's constructor
        try (HikariDataSource ds = new HikariDataSource(config);
             Connection conn = ds.getConnection();
             PreparedStatement ps = conn.prepareStatement("SELECT 1");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            data.putObject("error").put("kind", "none").put("type", "none")
                    .putNull("sqlstate").put("message", "connected");   // not expected: the harness flags it
        } catch (SQLException | PoolInitializationException e) {
            data.put("elapsed_ms", (System.nanoTime() - t0) / 1e6);
            System.err.println("expected connect failure: " + e);
            data.set("error", connectError(e));
        }
        if (!data.has("elapsed_ms")) data.put("elapsed_ms", (System.nanoTime() - t0) / 1e6);
        return data;
    }

    /**
     * Classifies a failed connect from the driver's own error, found in the cause chain (HikariCP
     * wraps it): a certificate the JDK refused, else pgjdbc's SQLState.
     */
    static ObjectNode connectError(Throwable e) {
        SQLException driver = null;
        Throwable cert = null;
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (driver == null && t instanceof SQLException s && s.getSQLState() != null) driver = s;
            if (cert == null && (t instanceof SSLHandshakeException
                    || t instanceof CertPathBuilderException || t instanceof CertificateException)) cert = t;
        }
        Throwable reported = driver != null ? driver : e;
        String message = String.valueOf(reported.getMessage());
        String sqlstate = driver != null ? driver.getSQLState() : null;
        String kind;
        if (cert != null || message.contains("PKIX path building failed")
                || message.contains("could not be verified by hostnameverifier")) {   // pgjdbc's host-name check
            kind = "certificate";
            // pgjdbc says "SSL error: <the JDK's reason>"; name the JDK's exception too.
            if (cert != null && !message.contains(String.valueOf(cert.getMessage()))) {
                message += " (" + cert.getClass().getName() + ": " + cert.getMessage() + ")";
            }
        } else if ("28000".equals(sqlstate)) {
            kind = "refused";     // no pg_hba.conf entry (here: hostssl only, we came without TLS)
        } else if ("28P01".equals(sqlstate)) {
            kind = "auth";        // password authentication failed
        } else {
            kind = "other";
        }
        ObjectNode error = JSON.createObjectNode();
        error.put("kind", kind).put("type", reported.getClass().getName()).put("sqlstate", sqlstate)
                .put("message", message);
        return error;
    }

    /**
     * `connections` fresh connections timed from pgjdbc's connect call (what the pool pays for
     * each new member), then `queries` SELECT 1 through the pool: borrow, query, return.
     */
    static ObjectNode connectLatency(JsonNode pool, int connections, int queries) throws Exception {
        ObjectNode data = JSON.createObjectNode();
        String url = jdbcUrl();
        Properties props = driverProperties();
        ArrayNode connectMs = data.putArray("connect_ms");
        for (int i = 0; i < connections; i++) {
            long t0 = System.nanoTime();
            Connection conn = DriverManager.getConnection(url, props);
            connectMs.add((System.nanoTime() - t0) / 1e6);
            conn.close();
        }
        ArrayNode queryMs = data.putArray("query_ms");
        try (HikariDataSource ds = openPool(pool)) {
            // The fixed-size pool opens its other connections in the background; time borrowing
            // from a full pool, not borrowing while the pool's own connects compete for the CPU.
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (ds.getHikariPoolMXBean().getTotalConnections() < ds.getMaximumPoolSize()
                    && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            selectOne(ds);   // warm-up, not counted
            for (int i = 0; i < queries; i++) {
                long t0 = System.nanoTime();
                selectOne(ds);
                queryMs.add((System.nanoTime() - t0) / 1e6);
            }
        }
        data.put("pooled", true);
        return data;
    }

    static void selectOne(HikariDataSource ds) throws SQLException {
        try (Connection conn = ds.getConnection();
             PreparedStatement ps = conn.prepareStatement("SELECT 1");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
        }
    }

    /** The core scenarios, on one pooled connection each. */
    static void core(String scenario, HikariDataSource ds, JsonNode params, ObjectNode data) throws Exception {
        try (Connection conn = ds.getConnection()) {
            switch (scenario) {
                case "select_rows":
                    data.set("rows", rows(conn, "SELECT id, name FROM users ORDER BY id"));
                    break;
                case "active_users":
                    data.set("rows", rows(conn, "SELECT id, name FROM users WHERE active = ? ORDER BY id", true));
                    break;
                case "related_rows":
                    data.set("users", usersWithHoldings(conn));
                    break;
                case "param_query": {
                    ArrayNode byName = JSON.createArrayNode();
                    for (JsonNode name : params.path("names")) {
                        byName.add(rows(conn, "SELECT id, name FROM users WHERE name = ?", name.asText()));
                    }
                    data.set("by_id", rows(conn, "SELECT id, name FROM users WHERE id = ?", params.path("id").asInt()));
                    data.set("by_name", byName);
                    break;
                }
                case "transaction":
                    transaction(conn, params, data);
                    break;
                case "error_sqlstate": {
                    int dup = params.path("duplicate_id").asInt();
                    data.put("unique_violation", sqlstateOf(() -> insertUser(conn, dup, "duplicate " + dup)));
                    data.put("syntax_error", sqlstateOf(() -> {
                        try (PreparedStatement ps = conn.prepareStatement(params.path("bad_sql").asText())) {
                            ps.execute();
                        }
                    }));
                    try (PreparedStatement ps = conn.prepareStatement("SELECT 1");
                         ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        data.put("after", rs.getInt(1));
                    }
                    break;
                }
                case "types":
                    data.set("values", types(conn, params.path("values")));
                    break;
                default:
                    throw new IllegalArgumentException(scenario);
            }
        }
    }

    static void transaction(Connection conn, JsonNode params, ObjectNode data) throws SQLException {
        String prefix = params.path("name_prefix").asText();
        int committed = params.path("committed_id").asInt();
        int rolledBack = params.path("rolled_back_id").asInt();
        int failed = params.path("failed_id").asInt();
        int duplicate = params.path("duplicate_id").asInt();

        conn.setAutoCommit(false);   // JDBC's BEGIN
        insertUser(conn, committed, prefix + " " + committed);
        conn.commit();

        insertUser(conn, rolledBack, prefix + " " + rolledBack);
        conn.rollback();

        try {
            insertUser(conn, failed, prefix + " " + failed);
            insertUser(conn, duplicate, prefix + " " + duplicate);   // primary key taken: 23505
            conn.commit();
            data.putNull("failed_sqlstate");
        } catch (SQLException e) {
            data.put("failed_sqlstate", e.getSQLState());
            conn.rollback();         // the transaction is aborted; drop all of it
        }
        conn.setAutoCommit(true);

        ArrayNode visible = data.putArray("visible");
        try (PreparedStatement ps = conn.prepareStatement("SELECT id FROM users WHERE id >= 1000 ORDER BY id");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) visible.add(rs.getInt(1));
        }
    }

    /** Writes params.values as the driver's native Java types and reads them back canonically. */
    static ObjectNode types(Connection conn, JsonNode v) throws Exception {
        long id;
        try (PreparedStatement ps = conn.prepareStatement(
                "INSERT INTO type_probe (i8, num, txt, flag, ts, d, bin, doc, arr, nothing)"
                        + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id")) {
            ps.setLong(1, Long.parseLong(v.path("int8").asText()));
            ps.setBigDecimal(2, new BigDecimal(v.path("numeric").asText()));
            ps.setString(3, v.path("text").asText());
            ps.setBoolean(4, v.path("bool").asBoolean());
            ps.setObject(5, OffsetDateTime.parse(v.path("timestamptz").asText()));
            ps.setObject(6, LocalDate.parse(v.path("date").asText()));
            ps.setBytes(7, HexFormat.of().parseHex(v.path("bytea").asText()));
            PGobject doc = new PGobject();
            doc.setType("jsonb");
            doc.setValue(JSON.writeValueAsString(v.path("jsonb")));
            ps.setObject(8, doc);
            List<Integer> ints = new ArrayList<>();
            for (JsonNode i : v.path("int_array")) ints.add(i.asInt());
            ps.setArray(9, conn.createArrayOf("int4", ints.toArray()));
            ps.setNull(10, Types.VARCHAR);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                id = rs.getLong(1);
            }
        }

        ObjectNode out = JSON.createObjectNode();
        try (PreparedStatement ps = conn.prepareStatement(
                "SELECT i8, num, txt, flag, ts, d, bin, doc, arr, nothing FROM type_probe WHERE id = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                out.put("int8", Long.toString(rs.getLong("i8")));
                out.put("numeric", rs.getBigDecimal("num").toPlainString());
                out.put("text", rs.getString("txt"));
                out.put("bool", rs.getBoolean("flag"));
                out.put("timestamptz", rs.getObject("ts", OffsetDateTime.class)
                        .format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
                out.put("date", rs.getObject("d", LocalDate.class).toString());
                out.put("bytea", HexFormat.of().formatHex(rs.getBytes("bin")));
                out.set("jsonb", JSON.readTree(rs.getString("doc")));
                ArrayNode arr = out.putArray("int_array");
                Array sqlArray = rs.getArray("arr");
                for (Integer i : (Integer[]) sqlArray.getArray()) arr.add(i);
                sqlArray.free();
                String nothing = rs.getString("nothing");
                if (nothing == null) out.putNull("null"); else out.put("null", nothing);
            }
        }
        return out;
    }

    /**
     * `n` tasks at once, each `SELECT pg_sleep(?)` on its own connection: from the pool, or,
     * with ds == null, straight from DriverManager (a new connection per request, no pool).
     */
    static ObjectNode burst(HikariDataSource ds, int n, double sleepSeconds, boolean explicitTx) throws Exception {
        String url = jdbcUrl();
        Properties props = driverProperties();

        Callable<String> task = () -> {   // null on success, else the SQLSTATE or message
            try (Connection conn = ds != null ? ds.getConnection() : DriverManager.getConnection(url, props)) {
                if (explicitTx) conn.setAutoCommit(false);
                try (PreparedStatement ps = conn.prepareStatement("SELECT pg_sleep(?)")) {
                    ps.setDouble(1, sleepSeconds);
                    ps.executeQuery().close();
                }
                if (explicitTx) conn.commit();
                return null;
            } catch (SQLException e) {
                System.err.println("burst task failed: " + e);
                return e.getSQLState() != null ? e.getSQLState() : String.valueOf(e.getMessage());
            }
        };
        List<Callable<String>> tasks = new ArrayList<>();
        for (int i = 0; i < n; i++) tasks.add(task);

        ExecutorService pool = Executors.newFixedThreadPool(Math.max(n, 1));
        ObjectNode summary = JSON.createObjectNode();
        int ok = 0;
        ArrayNode errors = JSON.createArrayNode();
        try {
            for (Future<String> f : pool.invokeAll(tasks)) {
                String err = f.get();
                if (err == null) ok++; else errors.add(err);
            }
        } finally {
            pool.shutdownNow();
        }
        summary.put("succeeded", ok).put("failed", errors.size()).set("errors", errors);
        return summary;
    }

    // --- small helpers -----------------------------------------------------------------------

    /** The credentials HikariConfig gets, for pgjdbc's DriverManager without the pool. */
    static Properties driverProperties() {
        Properties props = new Properties();
        if (System.getenv("PGUSER") != null) props.setProperty("user", System.getenv("PGUSER"));
        if (System.getenv("PGPASSWORD") != null) props.setProperty("password", System.getenv("PGPASSWORD"));
        return props;
    }

    interface SqlAction { void run() throws SQLException; }

    /** Runs an action that should fail and returns its SQLSTATE (null if it did not fail). */
    static String sqlstateOf(SqlAction action) {
        try {
            action.run();
            return null;
        } catch (SQLException e) {
            System.err.println("expected error: " + e.getMessage());
            return e.getSQLState();
        }
    }

    static void insertUser(Connection conn, int id, String name) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement("INSERT INTO users (id, name, active) VALUES (?, ?, ?)")) {
            ps.setInt(1, id);
            ps.setString(2, name);
            ps.setBoolean(3, true);
            ps.executeUpdate();
        }
    }

    /** Runs a `SELECT id, name ...` with ? parameters; returns [{id, name}, ...]. */
    static ArrayNode rows(Connection conn, String sql, Object... args) throws SQLException {
        ArrayNode rows = JSON.createArrayNode();
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) ps.setObject(i + 1, args[i]);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.addObject().put("id", rs.getInt("id")).put("name", rs.getString("name"));
                }
            }
        }
        return rows;
    }

    /**
     * Every active user with their holdings in one query: the LEFT JOIN keeps a user who holds
     * nothing (one row of NULLs), where a query per user would be an N+1.
     */
    static ArrayNode usersWithHoldings(Connection conn) throws SQLException {
        ArrayNode users = JSON.createArrayNode();
        String sql = "SELECT u.id, u.name, h.symbol, h.shares FROM users u"
                + " LEFT JOIN holdings h ON h.user_id = u.id"
                + " WHERE u.active ORDER BY u.id, h.id";
        try (PreparedStatement ps = conn.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
            ObjectNode user = null;
            while (rs.next()) {
                if (user == null || user.get("id").asInt() != rs.getInt("id")) {
                    user = users.addObject().put("id", rs.getInt("id")).put("name", rs.getString("name"));
                    user.putArray("holdings");
                }
                String symbol = rs.getString("symbol");
                if (symbol != null) {
                    ((ArrayNode) user.get("holdings")).addObject().put("symbol", symbol).put("shares", rs.getInt("shares"));
                }
            }
        }
        return users;
    }

    /**
     * The same burst through a pool of the given size: every request at once, half CPU-bound on
     * the server, half waiting; per request the wait for a pooled connection and the latency.
     */
    static ObjectNode poolSizeRun(int size, JsonNode params) throws Exception {
        int requests = params.path("requests").asInt();
        ObjectNode settings = JSON.createObjectNode().put("max", size).put("acquire_timeout_ms", 120000);
        checkpoint("before_" + size);
        ObjectNode run = JSON.createObjectNode().put("size", size);
        ArrayNode waits = run.putArray("wait_ms");
        ArrayNode latencies = run.putArray("latency_ms");
        long t0 = System.nanoTime();
        try (HikariDataSource ds = openPool(settings)) {
            ExecutorService threads = Executors.newFixedThreadPool(requests);
            try {
                List<Future<double[]>> futures = new ArrayList<>();
                for (int i = 0; i < requests; i++) {
                    final boolean sleeps = i % 2 == 1;
                    futures.add(threads.submit(() -> {
                        long start = System.nanoTime();
                        try (Connection conn = ds.getConnection()) {
                            long acquired = System.nanoTime();
                            String sql = sleeps ? "SELECT pg_sleep(?)" : "SELECT sum(i) FROM generate_series(1, ?) AS i";
                            try (PreparedStatement ps = conn.prepareStatement(sql)) {
                                if (sleeps) ps.setDouble(1, params.path("sleep_seconds").asDouble());
                                else ps.setInt(1, params.path("cpu_rows").asInt());
                                ps.executeQuery().close();
                            }
                            return new double[] {(acquired - start) / 1e6, (System.nanoTime() - start) / 1e6};
                        }
                    }));
                }
                for (Future<double[]> f : futures) {
                    double[] t = f.get();
                    waits.add(t[0]);
                    latencies.add(t[1]);
                }
            } finally {
                threads.shutdown();
            }
        }
        run.put("elapsed_ms", (System.nanoTime() - t0) / 1e6);
        checkpoint("after_" + size);
        return run;
    }

    /**
     * The page's first story: params.services services, each with a HikariCP pool of its own
     * (maximumPoolSize params.pool.max), under one steady load. Every wave_interval_ms each service
     * gets wave_size requests at once; long_per_wave of them hold their connection for a long
     * query (work on the server: a sum over long_rows rows, short_rows for the rest). HikariCP has
     * a retry of its own (a request waits up to connectionTimeout while the pool keeps trying to
     * add connections), so params.retry is not used. A request whose connection the server
     * refuses (53300) is counted, not thrown.
     */
    static ArrayNode poolExhaustion(JsonNode params) throws Exception {
        int services = params.path("services").asInt();
        int waveSize = params.path("wave_size").asInt();
        ArrayNode results = JSON.createArrayNode();
        List<HikariDataSource> pools = new ArrayList<>();
        ExecutorService threads = Executors.newFixedThreadPool(2 * services * waveSize);
        try {
            for (int s = 0; s < services; s++) {
                pools.add(openPool(params.path("pool")));
                ObjectNode result = results.addObject().put("succeeded", 0).put("refused", 0).put("failed", 0).put("retries", 0);
                result.putArray("errors");
                result.putArray("wait_ms");
                result.putArray("latency_ms");
            }
            List<Future<?>> requests = new ArrayList<>();
            long t0 = System.nanoTime();
            for (int wave = 0; wave < params.path("waves").asInt(); wave++) {
                // A steady pace, whatever the last wave is still doing.
                long dueMs = (t0 + wave * params.path("wave_interval_ms").asLong() * 1_000_000L - System.nanoTime()) / 1_000_000L;
                if (dueMs > 0) Thread.sleep(dueMs);
                for (int s = 0; s < services; s++) {
                    for (int i = 0; i < waveSize; i++) {
                        long rows = params.path(i < params.path("long_per_wave").asInt() ? "long_rows" : "short_rows").asLong();
                        HikariDataSource ds = pools.get(s);
                        ObjectNode result = (ObjectNode) results.get(s);
                        requests.add(threads.submit(() -> storyRequest(ds, result, rows)));
                    }
                }
            }
            for (Future<?> f : requests) f.get();
        } finally {
            threads.shutdownNow();
            for (HikariDataSource ds : pools) ds.close();
        }
        return results;
    }

    /** One request of the story: borrow, run the query, give back; its outcome tallied in `result`. */
    static void storyRequest(HikariDataSource ds, ObjectNode result, long rows) {
        long start = System.nanoTime();
        try (Connection conn = ds.getConnection()) {   // an idle connection, or a wait for one
            long acquired = System.nanoTime();
            try (PreparedStatement ps = conn.prepareStatement("SELECT sum(i) FROM generate_series(1, ?) AS i")) {
                ps.setLong(1, rows);
                ps.executeQuery().close();
            }
            long done = System.nanoTime();
            synchronized (result) {
                result.put("succeeded", result.get("succeeded").asInt() + 1);
                ((ArrayNode) result.get("wait_ms")).add((acquired - start) / 1e6);
                ((ArrayNode) result.get("latency_ms")).add((done - start) / 1e6);
            }
        } catch (SQLException e) {
            // HikariCP's timeout carries the SQLSTATE of the pool's last failed connect (53300 when refused).
            String code = e.getSQLState() != null ? e.getSQLState() : String.valueOf(e.getMessage());
            synchronized (result) {
                String outcome = "53300".equals(code) ? "refused" : "failed";
                result.put(outcome, result.get(outcome).asInt() + 1);
                ArrayNode errors = (ArrayNode) result.get("errors");
                for (JsonNode seen : errors) if (seen.asText().equals(code)) return;
                errors.add(code);
                System.err.println("story request failed: " + e);
            }
        }
    }

    /**
     * The page's cutover story, seen from a service: `writers` threads, each committing a short
     * transaction (a ledger row with an id it made) every interval_ms. An id counts as
     * acknowledged only once commit() returned; a failure is reported with its error. It knows
     * nothing of PgBouncer's PAUSE/RESUME: the harness does that at checkpoint `streaming`.
     */
    static ObjectNode ledgerStream(JsonNode params) throws Exception {
        ObjectNode data = JSON.createObjectNode();
        ArrayNode acknowledged = data.putArray("acknowledged");
        ArrayNode failed = data.putArray("failed");
        ArrayNode latencyMs = data.putArray("latency_ms");   // [id, ms from getConnection to commit (or the error)]
        java.util.concurrent.atomic.AtomicBoolean streaming = new java.util.concurrent.atomic.AtomicBoolean(true);
        int writers = params.path("writers").asInt();
        try (HikariDataSource ds = openPool(params.path("pool"))) {
            ExecutorService threads = Executors.newFixedThreadPool(writers);
            try {
                List<Future<?>> running = new ArrayList<>();
                for (int w = 1; w <= writers; w++) {
                    final int writer = w;
                    running.add(threads.submit(() -> {
                        for (long n = 1; streaming.get(); n++) {
                            long id = writer * 1_000_000L + n;
                            long start = System.nanoTime();
                            try (Connection conn = ds.getConnection()) {
                                conn.setAutoCommit(false);   // BEGIN ... commit()
                                try (PreparedStatement ps = conn.prepareStatement("INSERT INTO ledger (id, writer) VALUES (?, ?)")) {
                                    ps.setLong(1, id);
                                    ps.setInt(2, writer);
                                    ps.executeUpdate();
                                }
                                conn.commit();
                                synchronized (data) { acknowledged.add(id); }
                            } catch (SQLException e) {
                                System.err.println("transaction " + id + " failed: " + e);
                                synchronized (data) {
                                    failed.addObject().put("id", id).put("sqlstate", e.getSQLState())
                                            .put("message", String.valueOf(e.getMessage()));
                                }
                            }
                            synchronized (data) {
                                latencyMs.addArray().add(id).add((System.nanoTime() - start) / 1e6);
                            }
                            Thread.sleep(params.path("interval_ms").asLong());
                        }
                        return null;
                    }));
                }
                Thread.sleep((long) (params.path("stream_before_seconds").asDouble() * 1000));
                checkpoint("streaming");
                Thread.sleep((long) (params.path("stream_after_seconds").asDouble() * 1000));
                streaming.set(false);
                for (Future<?> f : running) f.get();
            } finally {
                threads.shutdown();
            }
        }
        return data;
    }

    static double sleepOf(JsonNode params) {
        return params.path("sleep_seconds").asDouble(0.05);   // pool_release passes none
    }

    /** Tells the harness where we are, then waits for its {"type":"continue"} line. */
    static void checkpoint(String name) throws Exception {
        ObjectNode cp = JSON.createObjectNode();
        cp.put("type", "checkpoint").put("name", name);
        emit(cp);
        if (IN.readLine() == null) throw new IllegalStateException("stdin closed at checkpoint " + name);
    }

    static void emit(ObjectNode line) throws Exception {
        OUT.println(JSON.writeValueAsString(line));
        OUT.flush();
    }

    // [HELPER env] the environment variable `name`, or `fallback` when it is unset or empty
    static String env(String name, String fallback) {
        String value = System.getenv(name);
        return value == null || value.isEmpty() ? fallback : value;
    }

    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private Main() {}
}
