// The page's pool sample in Go: github.com/jackc/pgx/v5 with its pool, pgxpool. The harness
// picks the scenario (HARNESS_SCENARIO) and its parameters (HARNESS_PARAMS); the connection
// comes from the standard PG* variables, which pgx reads itself as libpq does. stdout carries
// only JSON Lines (checkpoints and the one result); human output goes to stderr.
package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

// poolSettings are the scenario's abstract pool settings (params.pool); a missing one keeps
// the page's value.
type poolSettings struct {
	Max              *int32 `json:"max"`
	MinIdle          *int32 `json:"min_idle"`
	AcquireTimeoutMS *int64 `json:"acquire_timeout_ms"`
	IdleTimeoutMS    *int64 `json:"idle_timeout_ms"`
}

func (s poolSettings) max() int32 {
	if s.Max != nil {
		return *s.Max
	}
	return 20 // the page's max
}

func (s poolSettings) minIdle() int32 {
	if s.MinIdle != nil {
		return *s.MinIdle
	}
	return 0
}

func (s poolSettings) acquireTimeout() time.Duration {
	if s.AcquireTimeoutMS != nil {
		return time.Duration(*s.AcquireTimeoutMS) * time.Millisecond
	}
	return 2 * time.Second // the page's connection timeout
}

func (s poolSettings) idleTimeout() time.Duration {
	if s.IdleTimeoutMS != nil {
		return time.Duration(*s.IdleTimeoutMS) * time.Millisecond
	}
	return 30 * time.Second // the page's idle timeout
}

// [HELPER connString] the page's defaults (localhost, mydb, postgres, secret, sslmode=verify-full) for each PG* variable that is not set
// pgx reads PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD, PGSSLMODE, PGSSLROOTCERT and
// PGAPPNAME (application_name) itself; a keyword given here would override the variable, so
// only the unset ones get the page's value.
func connString() string {
	defaults := []struct{ env, keyword, value string }{
		{"PGHOST", "host", "localhost"},
		{"PGDATABASE", "dbname", "mydb"},
		{"PGUSER", "user", "postgres"},
		{"PGPASSWORD", "password", "secret"},
		{"PGSSLMODE", "sslmode", "verify-full"}, // verify the certificate and the host name
	}
	var settings []string
	for _, d := range defaults {
		if os.Getenv(d.env) == "" {
			settings = append(settings, d.keyword+"="+d.value)
		}
	}
	return strings.Join(settings, " ")
}

// [HELPER Pool] pgxpool with an acquire timeout, which pgxpool leaves to the caller's context.
type Pool struct {
	*pgxpool.Pool
	AcquireTimeout time.Duration
}

// [START go_pgxpool]
func newPool(ctx context.Context, s poolSettings) (*Pool, error) {
	// TLS as PGSSLMODE and PGSSLROOTCERT say, e.g. sslmode=verify-full sslrootcert=root.crt
	config, err := pgxpool.ParseConfig(connString())
	if err != nil {
		return nil, err
	}
	config.MaxConns = s.max()                  // max connections in pool (20)
	config.MinIdleConns = s.minIdle()          // kept open while idle (0)
	config.MaxConnIdleTime = s.idleTimeout()   // close idle after 30s ...
	config.HealthCheckPeriod = time.Second / 2 // ... as the health check runs (default: every minute)
	config.ShouldPing = func(_ context.Context, p pgxpool.ShouldPingParams) bool {
		return p.IdleDuration > time.Second/2 // check a connection idle for 0.5 s before lending it
	}
	pool, err := pgxpool.NewWithConfig(ctx, config)
	return &Pool{pool, s.acquireTimeout()}, err
}

func (p *Pool) Acquire(ctx context.Context) (*pgxpool.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, p.AcquireTimeout) // wait at most 2 s for a connection
	defer cancel()
	return p.Pool.Acquire(ctx)
}
func userByID(ctx context.Context, pool *Pool, id int32) ([]row, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Release() // back to the pool however this returns
	rows, _ := conn.Query(ctx, "SELECT id, name FROM users WHERE id = $1", id)
	return pgx.CollectRows(rows, pgx.RowToStructByPos[row])
}

// [END go_pgxpool]

type row struct {
	ID   int32  `json:"id"`
	Name string `json:"name"`
}

// withConn lends a pooled connection to work and always releases it. pgxpool closes, rather
// than returns, a connection released inside a transaction or broken.
func withConn[T any](ctx context.Context, pool *Pool, work func(*pgxpool.Conn) (T, error)) (T, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		var zero T
		return zero, err
	}
	defer conn.Release()
	return work(conn)
}

// withPool runs work on a fresh pool and closes the pool afterwards.
func withPool[T any](ctx context.Context, s poolSettings, work func(*Pool) (T, error)) (T, error) {
	pool, err := newPool(ctx, s)
	if err != nil {
		var zero T
		return zero, err
	}
	defer pool.Close()
	return work(pool)
}

func queryRows(ctx context.Context, pool *Pool, sql string, args ...any) ([]row, error) {
	return withConn(ctx, pool, func(conn *pgxpool.Conn) ([]row, error) {
		rows, _ := conn.Query(ctx, sql, args...)
		found, err := pgx.CollectRows(rows, pgx.RowToStructByPos[row])
		if found == nil {
			found = []row{}
		}
		return found, err
	})
}

func queryOne[T any](ctx context.Context, pool *Pool, sql string, args ...any) (T, error) {
	return withConn(ctx, pool, func(conn *pgxpool.Conn) (T, error) {
		var value T
		err := conn.QueryRow(ctx, sql, args...).Scan(&value)
		return value, err
	})
}

// errorCode is the SQLSTATE of a server error, else the error's message.
func errorCode(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return err.Error()
}

func sqlstateOf(err error) *string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		fmt.Fprintf(os.Stderr, "expected failure: %s %s\n", pgErr.Code, pgErr.Message)
		return &pgErr.Code
	}
	return nil
}

type burstSummary struct {
	Succeeded int      `json:"succeeded"`
	Failed    int      `json:"failed"`
	Errors    []string `json:"errors"`
}

// burst runs n tasks at once and summarises how they ended.
func burst(n int, task func() error) burstSummary {
	summary := burstSummary{Errors: []string{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := task()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				fmt.Fprintln(os.Stderr, "task failed:", err)
				summary.Failed++
				summary.Errors = append(summary.Errors, errorCode(err))
			} else {
				summary.Succeeded++
			}
		}()
	}
	wg.Wait()
	return summary
}

func sleepTask(ctx context.Context, pool *Pool, seconds float64) func() error {
	return func() error {
		_, err := withConn(ctx, pool, func(conn *pgxpool.Conn) (pgconn.CommandTag, error) {
			return conn.Exec(ctx, "SELECT pg_sleep($1)", seconds)
		})
		return err
	}
}

var stdin = bufio.NewReader(os.Stdin)

func emit(line map[string]any) {
	text, err := json.Marshal(line)
	if err != nil {
		panic(err)
	}
	os.Stdout.Write(append(text, '\n')) // unbuffered: each line reaches the harness at once
}

// checkpoint tells the harness where we are, then waits for its one-line reply on stdin.
func checkpoint(name string) error {
	emit(map[string]any{"type": "checkpoint", "name": name})
	if _, err := stdin.ReadString('\n'); err != nil {
		return fmt.Errorf("stdin at checkpoint %s: %w", name, err)
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// The scenario's parameters; each scenario reads the keys it needs.
type params struct {
	Pool             poolSettings `json:"pool"`
	ID               int32        `json:"id"`
	Names            []string     `json:"names"`
	CommittedID      int32        `json:"committed_id"`
	RolledBackID     int32        `json:"rolled_back_id"`
	FailedID         int32        `json:"failed_id"`
	DuplicateID      int32        `json:"duplicate_id"`
	RowID            int32        `json:"row_id"`
	NamePrefix       string       `json:"name_prefix"`
	BadSQL           string       `json:"bad_sql"`
	Values           typeValues   `json:"values"`
	Concurrency      int          `json:"concurrency"`
	Burst            int          `json:"burst"`
	Requests         int          `json:"requests"`
	Queries          int          `json:"queries"`
	Connections      int          `json:"connections"`
	SleepSeconds     float64      `json:"sleep_seconds"`
	Sizes            []int32      `json:"sizes"`
	CPURows          int64        `json:"cpu_rows"`
	Services         int          `json:"services"`
	AcquireTimeoutMS *int64       `json:"acquire_timeout_ms"`
	Waves            int          `json:"waves"`
	WaveIntervalMS   int          `json:"wave_interval_ms"`
	WaveSize         int          `json:"wave_size"`
	LongPerWave      int          `json:"long_per_wave"`
	LongRows         int64        `json:"long_rows"`
	ShortRows        int64        `json:"short_rows"`
	Retry            retryPolicy  `json:"retry"`
	Writers          int          `json:"writers"`
	IntervalMS       int          `json:"interval_ms"`
	StreamBeforeSecs float64      `json:"stream_before_seconds"`
	StreamAfterSecs  float64      `json:"stream_after_seconds"`
	Name             string       `json:"name"`
	IDs              []int32      `json:"ids"`
	Setting          string       `json:"setting"`
	Value            string       `json:"value"`
	Key              int64        `json:"key"`
}

type typeValues struct {
	Int8        string  `json:"int8"`
	Numeric     string  `json:"numeric"`
	Text        string  `json:"text"`
	Bool        bool    `json:"bool"`
	Timestamptz string  `json:"timestamptz"`
	Date        string  `json:"date"`
	Bytea       string  `json:"bytea"`
	JSONB       any     `json:"jsonb"`
	IntArray    []int32 `json:"int_array"`
	Null        *string `json:"null"`
}

type scenario func(ctx context.Context, p params) (any, error)

var scenarios = map[string]scenario{
	"connect_now":                connectNow,
	"select_rows":                selectRows,
	"param_query":                paramQuery,
	"active_users":               activeUsers,
	"related_rows":               relatedRows,
	"transaction":                transaction,
	"error_sqlstate":             errorSQLState,
	"types":                      types,
	"pool_bounded":               poolBounded,
	"pool_reuse":                 poolReuse,
	"pool_release":               poolRelease,
	"pool_release_on_error":      poolReleaseOnError,
	"pool_acquire_timeout":       poolAcquireTimeout,
	"pool_idle_timeout":          poolIdleTimeout,
	"pool_recovery_terminate":    recovery,
	"pool_recovery_restart":      recovery,
	"no_pool_exhaustion":         noPoolExhaustion,
	"story_pool_sizing":          storyPoolSizing,
	"story_pool_exhaustion":      storyPoolExhaustion,
	"story_pause_resume_cutover": ledgerStream,
	"story_pause_resume_limit":   ledgerStream,
	"tls_verify_full":            tlsVerifyFull,
	"tls_wrong_ca":               refusedConnect,
	"tls_wrong_host":             refusedConnect,
	"plaintext_refused":          refusedConnect,
	"auth_wrong_password":        refusedConnect,
	"connect_latency":            connectLatency,
	"connect_latency_tls":        connectLatency,
	"prepared_statement_reuse":   preparedStatementReuse,
	"session_set":                sessionSet,
	"advisory_lock":              advisoryLock,
}

func main() {
	name := os.Getenv("HARNESS_SCENARIO")
	run, ok := scenarios[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "unknown scenario %q\n", name)
		os.Exit(2)
	}
	var p params
	raw := os.Getenv("HARNESS_PARAMS")
	if raw == "" {
		raw = "{}"
	}
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		fmt.Fprintln(os.Stderr, "HARNESS_PARAMS:", err)
		os.Exit(1)
	}
	data, err := run(context.Background(), p)
	if err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
	emit(map[string]any{"type": "result", "scenario": name, "data": data})
}

const userRows = "SELECT id, name FROM users"
const insertUser = "INSERT INTO users (id, name, active) VALUES ($1, $2, $3)"

func connectNow(ctx context.Context, p params) (any, error) {
	return withPool(ctx, p.Pool, func(pool *Pool) (any, error) {
		now, err := queryOne[time.Time](ctx, pool, "SELECT NOW()")
		fmt.Fprintln(os.Stderr, now)
		return map[string]any{"now": now.UTC().Format(time.RFC3339Nano)}, err
	})
}

func selectRows(ctx context.Context, p params) (any, error) {
	return withPool(ctx, p.Pool, func(pool *Pool) (any, error) {
		rows, err := queryRows(ctx, pool, userRows+" ORDER BY id")
		return map[string]any{"rows": rows}, err
	})
}

func activeUsers(ctx context.Context, p params) (any, error) {
	return withPool(ctx, p.Pool, func(pool *Pool) (any, error) {
		rows, err := queryRows(ctx, pool, userRows+" WHERE active ORDER BY id")
		return map[string]any{"rows": rows}, err
	})
}

type holding struct {
	Symbol string `json:"symbol"`
	Shares int64  `json:"shares"`
}

type userWithHoldings struct {
	ID       int32     `json:"id"`
	Name     string    `json:"name"`
	Holdings []holding `json:"holdings"`
}

// Every active user with their holdings in one query: the LEFT JOIN keeps a user who holds
// nothing (one row of NULLs), where a query per user would be an N+1.
func relatedRows(ctx context.Context, p params) (any, error) {
	return withPool(ctx, p.Pool, func(pool *Pool) (any, error) {
		return withConn(ctx, pool, func(conn *pgxpool.Conn) (any, error) {
			rows, err := conn.Query(ctx, "SELECT u.id, u.name, h.symbol, h.shares FROM users u"+
				" LEFT JOIN holdings h ON h.user_id = u.id WHERE u.active ORDER BY u.id, h.id")
			if err != nil {
				return nil, err
			}
			defer rows.Close()
			users := []userWithHoldings{}
			for rows.Next() {
				var id int32
				var name string
				var symbol *string
				var shares *int64
				if err := rows.Scan(&id, &name, &symbol, &shares); err != nil {
					return nil, err
				}
				if len(users) == 0 || users[len(users)-1].ID != id {
					users = append(users, userWithHoldings{ID: id, Name: name, Holdings: []holding{}})
				}
				if symbol != nil {
					last := &users[len(users)-1]
					last.Holdings = append(last.Holdings, holding{Symbol: *symbol, Shares: *shares})
				}
			}
			return map[string]any{"users": users}, rows.Err()
		})
	})
}

// Values travel as bind parameters ($1), never spliced into the SQL text.
func paramQuery(ctx context.Context, p params) (any, error) {
	return withPool(ctx, p.Pool, func(pool *Pool) (any, error) {
		byID, err := userByID(ctx, pool, p.ID)
		if err != nil {
			return nil, err
		}
		byName := [][]row{}
		for _, name := range p.Names {
			rows, err := queryRows(ctx, pool, userRows+" WHERE name = $1 ORDER BY id", name)
			if err != nil {
				return nil, err
			}
			byName = append(byName, rows)
		}
		return map[string]any{"by_id": byID, "by_name": byName}, nil
	})
}

// A transaction needs one connection for all its statements: each pool.Exec may use another.
func transaction(ctx context.Context, p params) (any, error) {
	return withPool(ctx, p.Pool, func(pool *Pool) (any, error) {
		return withConn(ctx, pool, func(conn *pgxpool.Conn) (any, error) {
			insert := func(tx pgx.Tx, id int32) error {
				_, err := tx.Exec(ctx, insertUser, id, fmt.Sprintf("%s %d", p.NamePrefix, id), true)
				return err
			}
			// pgx.BeginFunc commits when the function returns nil and rolls back otherwise.
			if err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error { return insert(tx, p.CommittedID) }); err != nil {
				return nil, err
			}
			errRollback := errors.New("roll back on purpose")
			if err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
				if err := insert(tx, p.RolledBackID); err != nil {
					return err
				}
				return errRollback
			}); !errors.Is(err, errRollback) {
				return nil, fmt.Errorf("the rolled-back insert: %v", err)
			}
			// A failed statement aborts the whole transaction: the first insert must vanish too.
			failed := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
				if err := insert(tx, p.FailedID); err != nil {
					return err
				}
				return insert(tx, p.DuplicateID)
			})
			rows, _ := conn.Query(ctx, "SELECT id FROM users WHERE id >= 1000 ORDER BY id")
			visible, err := pgx.CollectRows(rows, pgx.RowTo[int32])
			if visible == nil {
				visible = []int32{}
			}
			return map[string]any{"visible": visible, "failed_sqlstate": sqlstateOf(failed)}, err
		})
	})
}

func errorSQLState(ctx context.Context, p params) (any, error) {
	return withPool(ctx, p.Pool, func(pool *Pool) (any, error) {
		exec := func(sql string, args ...any) error {
			_, err := withConn(ctx, pool, func(conn *pgxpool.Conn) (pgconn.CommandTag, error) {
				return conn.Exec(ctx, sql, args...)
			})
			return err
		}
		unique := exec(insertUser, p.DuplicateID, fmt.Sprintf("duplicate %d", p.DuplicateID), true)
		syntax := exec(p.BadSQL)
		after, err := queryOne[int32](ctx, pool, "SELECT 1")
		return map[string]any{"unique_violation": sqlstateOf(unique), "syntax_error": sqlstateOf(syntax), "after": after}, err
	})
}

func types(ctx context.Context, p params) (any, error) {
	v := p.Values
	// The driver's native types for each column.
	i8, err := strconv.ParseInt(v.Int8, 10, 64)
	if err != nil {
		return nil, err
	}
	var num pgtype.Numeric // exact: a float64 would round
	if err := num.Scan(v.Numeric); err != nil {
		return nil, err
	}
	ts, err := time.Parse(time.RFC3339Nano, v.Timestamptz)
	if err != nil {
		return nil, err
	}
	day, err := time.Parse("2006-01-02", v.Date)
	if err != nil {
		return nil, err
	}
	date := pgtype.Date{Time: day, Valid: true} // a date, never an instant in some time zone
	bin, err := hex.DecodeString(v.Bytea)
	if err != nil {
		return nil, err
	}
	// jsonb as its JSON text, cast in the SQL: the exec and simple_protocol modes (the PgBouncer
	// fix) take a parameter's type from its Go type, and a Go map has none.
	doc, err := json.Marshal(v.JSONB)
	if err != nil {
		return nil, err
	}
	return withPool(ctx, p.Pool, func(pool *Pool) (any, error) {
		return withConn(ctx, pool, func(conn *pgxpool.Conn) (any, error) {
			var id int32
			if err := conn.QueryRow(ctx,
				"INSERT INTO type_probe (i8, num, txt, flag, ts, d, bin, doc, arr, nothing)"+
					" VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10) RETURNING id",
				i8, num, v.Text, v.Bool, ts, date, bin, string(doc), v.IntArray, v.Null).Scan(&id); err != nil {
				return nil, err
			}
			var (
				outI8   int64
				outNum  pgtype.Numeric
				outText string
				outBool bool
				outTS   time.Time
				outDate pgtype.Date
				outBin  []byte
				outDoc  any
				outArr  []int32
				outNull *string
			)
			if err := conn.QueryRow(ctx,
				"SELECT i8, num, txt, flag, ts, d, bin, doc, arr, nothing FROM type_probe WHERE id = $1", id).
				Scan(&outI8, &outNum, &outText, &outBool, &outTS, &outDate, &outBin, &outDoc, &outArr, &outNull); err != nil {
				return nil, err
			}
			numText, err := outNum.Value() // the decimal as text, scale kept
			if err != nil {
				return nil, err
			}
			return map[string]any{"values": map[string]any{
				"int8":        strconv.FormatInt(outI8, 10),
				"numeric":     numText,
				"text":        outText,
				"bool":        outBool,
				"timestamptz": outTS.UTC().Format(time.RFC3339Nano),
				"date":        outDate.Time.Format("2006-01-02"),
				"bytea":       hex.EncodeToString(outBin),
				"jsonb":       outDoc,
				"int_array":   outArr,
				"null":        outNull,
			}}, nil
		})
	})
}

func poolBounded(ctx context.Context, p params) (any, error) {
	return withPool(ctx, p.Pool, func(pool *Pool) (any, error) {
		start := time.Now()
		summary := burst(p.Concurrency, sleepTask(ctx, pool, p.SleepSeconds))
		return map[string]any{"succeeded": summary.Succeeded, "failed": summary.Failed,
			"errors": summary.Errors, "elapsed_ms": time.Since(start).Milliseconds()}, nil
	})
}

func poolReuse(ctx context.Context, p params) (any, error) {
	return withPool(ctx, p.Pool, func(pool *Pool) (any, error) {
		pids := []uint32{}
		for i := 0; i < p.Queries; i++ {
			pid, err := queryOne[uint32](ctx, pool, "SELECT pg_backend_pid()")
			if err != nil {
				return nil, err
			}
			pids = append(pids, pid)
		}
		return map[string]any{"pids": pids}, nil
	})
}

func poolRelease(ctx context.Context, p params) (any, error) {
	pool, err := newPool(ctx, p.Pool)
	if err != nil {
		return nil, err
	}
	defer pool.Close() // a second Close is a no-op
	summary := burst(p.Concurrency, func() error {
		_, err := withConn(ctx, pool, func(conn *pgxpool.Conn) (struct{}, error) {
			return struct{}{}, pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
				_, err := tx.Exec(ctx, "SELECT pg_sleep($1)", p.SleepSeconds)
				return err
			})
		})
		return err
	})
	if err := checkpoint("after_work"); err != nil {
		return nil, err
	}
	pool.Close()
	if err := checkpoint("after_close"); err != nil {
		return nil, err
	}
	return summary, nil
}

// A statement fails inside a transaction on an acquired connection: the deferred Rollback
// ends the transaction and the deferred Release returns the connection idle.
func poolReleaseOnError(ctx context.Context, p params) (any, error) {
	pool, err := newPool(ctx, p.Pool)
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	var pid uint32
	failedInsert := func() error {
		conn, err := pool.Acquire(ctx)
		if err != nil {
			return err
		}
		defer conn.Release()
		if err := conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
			return err
		}
		tx, err := conn.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)                               // a no-op after Commit
		for _, id := range []int32{p.RowID, p.DuplicateID} { // the second id is taken: 23505
			if _, err := tx.Exec(ctx, insertUser, id, fmt.Sprintf("%s %d", p.NamePrefix, id), true); err != nil {
				return err
			}
		}
		return tx.Commit(ctx)
	}
	failed := sqlstateOf(failedInsert())
	if failed == nil {
		return nil, errors.New("the duplicate insert did not fail with a server error")
	}
	if err := checkpoint("after_error"); err != nil {
		return nil, err
	}
	after, err := queryOne[int32](ctx, pool, "SELECT 1")
	if err != nil {
		return nil, err
	}
	pool.Close()
	if err := checkpoint("after_close"); err != nil {
		return nil, err
	}
	return map[string]any{"pid": pid, "failed_sqlstate": *failed, "after": after}, nil
}

// pgxpool has no acquire timeout of its own: Pool.Acquire's context deadline is it.
func poolAcquireTimeout(ctx context.Context, p params) (any, error) {
	return withPool(ctx, p.Pool, func(pool *Pool) (any, error) {
		held, err := pool.Acquire(ctx)
		if err != nil {
			return nil, err
		}
		defer held.Release()
		start := time.Now()
		second, err := pool.Acquire(ctx)
		elapsed := time.Since(start).Milliseconds()
		if err == nil {
			second.Release() // not expected: the harness sees error null
			return map[string]any{"error": nil, "elapsed_ms": elapsed}, nil
		}
		kind := "other"
		if errors.Is(err, context.DeadlineExceeded) {
			kind = "pool_timeout"
		}
		fmt.Fprintln(os.Stderr, "acquire failed:", err)
		return map[string]any{"error": map[string]any{"kind": kind, "type": fmt.Sprintf("%T", err),
			"message": err.Error()}, "elapsed_ms": elapsed}, nil
	})
}

func poolIdleTimeout(ctx context.Context, p params) (any, error) {
	return withPool(ctx, p.Pool, func(pool *Pool) (any, error) {
		summary := burst(p.Burst, sleepTask(ctx, pool, p.SleepSeconds))
		if err := checkpoint("after_burst"); err != nil { // the harness watches idle connections close
			return nil, err
		}
		return map[string]any{"succeeded": summary.Succeeded, "failed": summary.Failed, "errors": summary.Errors,
			"idle_timeout_ms": pool.Config().MaxConnIdleTime.Milliseconds()}, nil
	})
}

// Backends killed (or the server restarted) between two bursts: ShouldPing checks each
// connection idle over 0.5 s before lending it, so the dead ones are dropped, not lent.
func recovery(ctx context.Context, p params) (any, error) {
	return withPool(ctx, p.Pool, func(pool *Pool) (any, error) {
		first := burst(p.Concurrency, sleepTask(ctx, pool, p.SleepSeconds))
		if err := checkpoint("between_bursts"); err != nil {
			return nil, err
		}
		second := burst(p.Concurrency, sleepTask(ctx, pool, p.SleepSeconds))
		return map[string]any{"first": first, "second": second}, nil
	})
}

// The pitfall the page warns about, beside the pool: a connection per request.
func noPoolExhaustion(ctx context.Context, p params) (any, error) {
	pooled, err := withPool(ctx, p.Pool, func(pool *Pool) (burstSummary, error) {
		return burst(p.Requests, sleepTask(ctx, pool, p.SleepSeconds)), nil
	})
	if err != nil {
		return nil, err
	}
	if err := checkpoint("after_pooled"); err != nil { // the pool is closed: the harness counts its connections
		return nil, err
	}
	config, err := pgx.ParseConfig(connString())
	if err != nil {
		return nil, err
	}
	unpooled := burst(p.Requests, func() error {
		conn, err := pgx.ConnectConfig(ctx, config)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, "SELECT pg_sleep($1)", p.SleepSeconds)
		return err
	})
	return map[string]any{"pooled": pooled, "unpooled": unpooled}, nil
}

type timing struct{ wait, latency time.Duration }

func timingsMS(timings []timing) (wait, latency []float64) {
	wait, latency = []float64{}, []float64{}
	for _, t := range timings {
		wait = append(wait, ms(t.wait))
		latency = append(latency, ms(t.latency))
	}
	return wait, latency
}

// The same burst through a pool of each size: every request at once, half CPU-bound on the
// server, half waiting; per request the wait for a pooled connection and the whole latency.
func storyPoolSizing(ctx context.Context, p params) (any, error) {
	results := []map[string]any{}
	for _, size := range p.Sizes {
		if err := checkpoint(fmt.Sprintf("before_%d", size)); err != nil {
			return nil, err
		}
		maxConns, acquire := size, int64(120000)
		started := time.Now()
		timings, err := withPool(ctx, poolSettings{Max: &maxConns, AcquireTimeoutMS: &acquire},
			func(pool *Pool) ([]timing, error) {
				timings := make([]timing, p.Requests)
				errs := make([]error, p.Requests)
				var wg sync.WaitGroup
				for i := 0; i < p.Requests; i++ {
					wg.Add(1)
					go func(i int) {
						defer wg.Done()
						start := time.Now()
						acquired, err := withConn(ctx, pool, func(conn *pgxpool.Conn) (time.Time, error) {
							at := time.Now()
							var err error
							if i%2 == 1 {
								_, err = conn.Exec(ctx, "SELECT pg_sleep($1)", p.SleepSeconds)
							} else {
								_, err = conn.Exec(ctx, "SELECT sum(i) FROM generate_series(1, $1) AS i", p.CPURows)
							}
							return at, err
						})
						timings[i] = timing{acquired.Sub(start), time.Since(start)}
						errs[i] = err
					}(i)
				}
				wg.Wait()
				return timings, errors.Join(errs...)
			})
		elapsed := time.Since(started)
		if err != nil {
			return nil, err
		}
		if err := checkpoint(fmt.Sprintf("after_%d", size)); err != nil {
			return nil, err
		}
		wait, latency := timingsMS(timings)
		results = append(results, map[string]any{"size": size, "elapsed_ms": ms(elapsed), "wait_ms": wait, "latency_ms": latency})
	}
	return map[string]any{"sizes": results}, nil
}

// How a service retries a request the server refused (53300): story_pool_exhaustion's params.retry.
type retryPolicy struct {
	Attempts     int     `json:"attempts"`
	BackoffMS    float64 `json:"backoff_ms"`
	BackoffMaxMS float64 `json:"backoff_max_ms"`
}

type serviceResult struct {
	Succeeded int       `json:"succeeded"`
	Refused   int       `json:"refused"`
	Failed    int       `json:"failed"`
	Retries   int       `json:"retries"`
	Errors    []string  `json:"errors"`
	WaitMS    []float64 `json:"wait_ms"`
	LatencyMS []float64 `json:"latency_ms"`
	mu        sync.Mutex
}

// The page's first story: params.services services, each with a pool of its own (the sample's
// newPool, max params.pool.max), under one steady load. Every wave_interval_ms each service
// gets wave_size requests at once; long_per_wave of them hold their connection for a long
// query (work on the server: a sum over long_rows rows, short_rows for the rest). A request
// whose connection the server refuses (53300) is retried as a service would (pgxpool's Acquire
// does not retry a refused connect): params.retry's attempts, backing off backoff_ms, doubling,
// at most backoff_max_ms; its latency runs from its first attempt. Refused at its last attempt,
// it is counted, not thrown.
func storyPoolExhaustion(ctx context.Context, p params) (any, error) {
	settings := p.Pool
	if settings.AcquireTimeoutMS == nil {
		settings.AcquireTimeoutMS = p.AcquireTimeoutMS
	}
	pools := make([]*Pool, p.Services)
	results := make([]*serviceResult, p.Services)
	for i := range pools {
		pool, err := newPool(ctx, settings)
		if err != nil {
			return nil, err
		}
		defer pool.Close()
		pools[i], results[i] = pool, &serviceResult{Errors: []string{}, WaitMS: []float64{}, LatencyMS: []float64{}}
	}
	request := func(pool *Pool, result *serviceResult, rows int64) {
		start := time.Now()
		var acquired time.Time
		var err error
		for attempt := 1; ; attempt++ {
			acquired, err = withConn(ctx, pool, func(conn *pgxpool.Conn) (time.Time, error) {
				at := time.Now() // the wait for a pooled connection ends here
				_, err := conn.Exec(ctx, "SELECT sum(i) FROM generate_series(1, $1::int) AS i", rows)
				return at, err
			})
			if err == nil || errorCode(err) != "53300" || attempt >= p.Retry.Attempts {
				break
			}
			result.mu.Lock()
			result.Retries++
			result.mu.Unlock()
			backoff := math.Min(p.Retry.BackoffMS*math.Pow(2, float64(attempt-1)), p.Retry.BackoffMaxMS)
			time.Sleep(time.Duration(backoff * float64(time.Millisecond)))
		}
		result.mu.Lock()
		defer result.mu.Unlock()
		if err == nil {
			result.WaitMS = append(result.WaitMS, ms(acquired.Sub(start)))
			result.LatencyMS = append(result.LatencyMS, ms(time.Since(start)))
			result.Succeeded++
			return
		}
		what := errorCode(err)
		if what == "53300" { // too many connections for role
			result.Refused++
		} else {
			result.Failed++
		}
		for _, seen := range result.Errors {
			if seen == what {
				return
			}
		}
		result.Errors = append(result.Errors, what)
	}
	started := time.Now()
	var wg sync.WaitGroup
	for wave := 0; wave < p.Waves; wave++ {
		due := started.Add(time.Duration(wave*p.WaveIntervalMS) * time.Millisecond) // a steady pace
		time.Sleep(time.Until(due))
		for i, pool := range pools {
			for j := 0; j < p.WaveSize; j++ {
				rows := p.ShortRows
				if j < p.LongPerWave {
					rows = p.LongRows
				}
				wg.Add(1)
				go func(pool *Pool, result *serviceResult) {
					defer wg.Done()
					request(pool, result, rows)
				}(pool, results[i])
			}
		}
	}
	wg.Wait()
	return map[string]any{"services": results, "elapsed_ms": ms(time.Since(started))}, nil
}

// The page's cutover story, seen from a service: `writers` loops, each committing a short
// write transaction every interval_ms. An id counts as acknowledged only once Commit returned;
// a failed transaction is reported with its error, never retried under the same id.
func ledgerStream(ctx context.Context, p params) (any, error) {
	return withPool(ctx, p.Pool, func(pool *Pool) (any, error) {
		var mu sync.Mutex
		acknowledged, failed, latency := []int64{}, []map[string]any{}, [][2]float64{}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := 1; w <= p.Writers; w++ {
			wg.Add(1)
			go func(w int64) {
				defer wg.Done()
				for n := int64(1); ; n++ {
					select {
					case <-stop:
						return
					default:
					}
					id := w*1000000 + n
					start := time.Now()
					_, err := withConn(ctx, pool, func(conn *pgxpool.Conn) (struct{}, error) {
						return struct{}{}, pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
							_, err := tx.Exec(ctx, "INSERT INTO ledger (id, writer) VALUES ($1, $2)", id, w)
							return err
						})
					})
					mu.Lock()
					if err == nil {
						acknowledged = append(acknowledged, id)
					} else {
						fmt.Fprintf(os.Stderr, "transaction %d failed: %v\n", id, err)
						failed = append(failed, map[string]any{"id": id, "sqlstate": sqlstateOf(err), "message": err.Error()})
					}
					latency = append(latency, [2]float64{float64(id), ms(time.Since(start))}) // acquire to commit (or the error)
					mu.Unlock()
					time.Sleep(time.Duration(p.IntervalMS) * time.Millisecond)
				}
			}(int64(w))
		}
		time.Sleep(time.Duration(p.StreamBeforeSecs * float64(time.Second)))
		if err := checkpoint("streaming"); err != nil {
			close(stop)
			wg.Wait()
			return nil, err
		}
		time.Sleep(time.Duration(p.StreamAfterSecs * float64(time.Second)))
		close(stop)
		wg.Wait()
		return map[string]any{"acknowledged": acknowledged, "failed": failed, "latency_ms": latency}, nil
	})
}

// The backend's own view of the session, kept open over the checkpoint while the harness
// looks at pg_stat_ssl too.
func tlsVerifyFull(ctx context.Context, p params) (any, error) {
	return withPool(ctx, p.Pool, func(pool *Pool) (any, error) {
		return withConn(ctx, pool, func(conn *pgxpool.Conn) (any, error) {
			var ssl bool
			var version, cipher *string
			if err := conn.QueryRow(ctx, "SELECT ssl, version, cipher FROM pg_stat_ssl WHERE pid = pg_backend_pid()").
				Scan(&ssl, &version, &cipher); err != nil {
				return nil, err
			}
			fmt.Fprintln(os.Stderr, "ssl:", ssl, deref(version), deref(cipher))
			if err := checkpoint("connected"); err != nil {
				return nil, err
			}
			return map[string]any{"ssl": ssl, "version": version, "cipher": cipher}, nil
		})
	})
}

func deref(s *string) string {
	if s == nil {
		return "<null>"
	}
	return *s
}

// connectError classifies a failed connection from pgx's error chain: Go's certificate
// errors, else the server's SQLSTATE (28000 from pg_hba.conf, 28P01 a wrong password).
func connectError(err error) map[string]any {
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verification *tls.CertificateVerificationError
	var pgErr *pgconn.PgError
	kind, sqlstate := "other", any(nil)
	switch {
	case errors.As(err, &unknownCA), errors.As(err, &hostname), errors.As(err, &invalid), errors.As(err, &verification):
		kind = "certificate"
	case errors.As(err, &pgErr):
		sqlstate = pgErr.Code
		switch pgErr.Code {
		case "28000":
			kind = "refused"
		case "28P01":
			kind = "auth"
		}
	}
	errType := fmt.Sprintf("%T", err)
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) {
		errType = "*pgconn.ConnectError"
	}
	return map[string]any{"kind": kind, "type": errType, "sqlstate": sqlstate, "message": err.Error()}
}

// The pool's first Acquire opens its first connection; where the driver or the server must
// refuse it, Acquire returns the connect error, which is the result.
func refusedConnect(ctx context.Context, p params) (any, error) {
	return withPool(ctx, p.Pool, func(pool *Pool) (any, error) {
		start := time.Now()
		_, err := queryOne[int32](ctx, pool, "SELECT 1")
		elapsed := ms(time.Since(start))
		result := map[string]any{"kind": "none", "type": "none", "sqlstate": nil, "message": "connected"}
		if err != nil {
			fmt.Fprintln(os.Stderr, "connect failed:", err)
			result = connectError(err)
		}
		return map[string]any{"error": result, "elapsed_ms": elapsed}, nil
	})
}

// The cost of a new connection against a query through the pool. A fresh connection is what
// the pool makes for each new one: pgx.ConnectConfig with the pool's own ConnConfig, timed
// until it returns (TCP, TLS when PGSSLMODE asks, SCRAM, backend start), outside the pool.
func connectLatency(ctx context.Context, p params) (any, error) {
	return withPool(ctx, p.Pool, func(pool *Pool) (any, error) {
		connectMS := []float64{}
		for i := 0; i < p.Connections; i++ {
			start := time.Now()
			conn, err := pgx.ConnectConfig(ctx, pool.Config().ConnConfig)
			if err != nil {
				return nil, err
			}
			connectMS = append(connectMS, ms(time.Since(start)))
			conn.Close(ctx)
		}
		if _, err := queryOne[int32](ctx, pool, "SELECT 1"); err != nil { // warm-up: the pool connects here
			return nil, err
		}
		queryMS := []float64{}
		for i := 0; i < p.Queries; i++ {
			start := time.Now()
			if _, err := queryOne[int32](ctx, pool, "SELECT 1"); err != nil { // acquire, query, release
				return nil, err
			}
			queryMS = append(queryMS, ms(time.Since(start)))
		}
		return map[string]any{"connect_ms": connectMS, "query_ms": queryMS, "pooled": true}, nil
	})
}

// Session state, for the PgBouncer matrix (docs/pgbouncer.md): a statement prepared by name
// lives in one server session. Prepare is protocol-level (Parse with a name); Query with that
// name executes it, on the one acquired connection.
func preparedStatementReuse(ctx context.Context, p params) (any, error) {
	return withPool(ctx, p.Pool, func(pool *Pool) (any, error) {
		return withConn(ctx, pool, func(conn *pgxpool.Conn) (any, error) {
			if _, err := conn.Conn().Prepare(ctx, p.Name, userRows+" WHERE id = $1"); err != nil {
				return nil, err
			}
			results := [][]row{}
			for _, id := range p.IDs {
				rows, _ := conn.Query(ctx, p.Name, id)
				found, err := pgx.CollectRows(rows, pgx.RowToStructByPos[row])
				if err != nil {
					return nil, err
				}
				if found == nil {
					found = []row{}
				}
				results = append(results, found)
				if len(results) == 1 { // the harness may replace server connections here
					if err := checkpoint("prepared"); err != nil {
						return nil, err
					}
				}
			}
			return map[string]any{"results": results}, nil
		})
	})
}

// twoConns lends two pooled connections at once to work.
func twoConns(ctx context.Context, p params, work func(first, second *pgxpool.Conn) (any, error)) (any, error) {
	return withPool(ctx, p.Pool, func(pool *Pool) (any, error) {
		return withConn(ctx, pool, func(first *pgxpool.Conn) (any, error) {
			return withConn(ctx, pool, func(second *pgxpool.Conn) (any, error) { return work(first, second) })
		})
	})
}

// set_config(name, value, false) is SET for the session, with the value bound: client 1 sets
// it, client 2 reads it, client 1 reads it back.
func sessionSet(ctx context.Context, p params) (any, error) {
	return twoConns(ctx, p, func(first, second *pgxpool.Conn) (any, error) {
		read := func(conn *pgxpool.Conn) (*string, error) {
			var value *string
			err := conn.QueryRow(ctx, "SELECT current_setting($1, true)", p.Setting).Scan(&value)
			return value, err
		}
		if err := checkpoint("connected"); err != nil {
			return nil, err
		}
		if _, err := first.Exec(ctx, "SELECT set_config($1, $2, false)", p.Setting, p.Value); err != nil {
			return nil, err
		}
		other, err := read(second)
		if err != nil {
			return nil, err
		}
		if err := checkpoint("before_read_back"); err != nil {
			return nil, err
		}
		readBack, err := read(first)
		return map[string]any{"read_back": readBack, "other_client_read": other}, err
	})
}

// A session advisory lock: client 1 takes it, client 2 tries it, client 1 unlocks it.
func advisoryLock(ctx context.Context, p params) (any, error) {
	return twoConns(ctx, p, func(first, second *pgxpool.Conn) (any, error) {
		if err := checkpoint("connected"); err != nil {
			return nil, err
		}
		if _, err := first.Exec(ctx, "SELECT pg_advisory_lock($1)", p.Key); err != nil {
			return nil, err
		}
		var got, unlocked bool
		if err := second.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", p.Key).Scan(&got); err != nil {
			return nil, err
		}
		if err := checkpoint("before_unlock"); err != nil {
			return nil, err
		}
		if err := first.QueryRow(ctx, "SELECT pg_advisory_unlock($1)", p.Key).Scan(&unlocked); err != nil {
			return nil, err
		}
		return map[string]any{"other_client_got_it": got, "unlocked": unlocked}, nil
	})
}
