// A minimal pgx example (github.com/jackc/pgx/v5 with its pool, pgxpool): the harness's core
// scenarios, written from docs/adding-a-driver.md as a new contributor would. The harness's
// tests copy it into a temporary examples tree to prove that a new language needs one folder.
package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

type row struct {
	ID   int32  `json:"id"`
	Name string `json:"name"`
}

type handler func(ctx context.Context, pool *pgxpool.Pool, params json.RawMessage) (any, error)

var scenarios = map[string]handler{
	"connect_now":    connectNow,
	"select_rows":    selectRows,
	"param_query":    paramQuery,
	"active_users":   activeUsers,
	"related_rows":   relatedRows,
	"transaction":    transaction,
	"error_sqlstate": errorSQLState,
	"types":          types,
}

func main() {
	scenario := os.Getenv("HARNESS_SCENARIO")
	run, ok := scenarios[scenario]
	if !ok {
		fmt.Fprintf(os.Stderr, "unknown scenario %q\n", scenario)
		os.Exit(2)
	}
	ctx := context.Background()
	// An empty connection string: pgx reads PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE,
	// PGSSLMODE and PGAPPNAME itself, like libpq.
	pool, err := pgxpool.New(ctx, "")
	if err != nil {
		fmt.Fprintln(os.Stderr, "pool:", err)
		os.Exit(1)
	}
	data, err := run(ctx, pool, json.RawMessage(os.Getenv("HARNESS_PARAMS")))
	pool.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, scenario+":", err)
		os.Exit(1)
	}
	line, err := json.Marshal(map[string]any{"type": "result", "scenario": scenario, "data": data})
	if err != nil {
		fmt.Fprintln(os.Stderr, "result:", err)
		os.Exit(1)
	}
	fmt.Println(string(line))
}

func queryRows(ctx context.Context, pool *pgxpool.Pool, sql string, args ...any) ([]row, error) {
	rows, _ := pool.Query(ctx, sql, args...)
	found, err := pgx.CollectRows(rows, pgx.RowToStructByPos[row])
	if found == nil {
		found = []row{}
	}
	return found, err
}

func connectNow(ctx context.Context, pool *pgxpool.Pool, _ json.RawMessage) (any, error) {
	var now time.Time
	if err := pool.QueryRow(ctx, "SELECT NOW()").Scan(&now); err != nil {
		return nil, err
	}
	fmt.Fprintln(os.Stderr, now)
	return map[string]any{"now": now.Format(time.RFC3339Nano)}, nil
}

func selectRows(ctx context.Context, pool *pgxpool.Pool, _ json.RawMessage) (any, error) {
	rows, err := queryRows(ctx, pool, "SELECT id, name FROM users ORDER BY id")
	return map[string]any{"rows": rows}, err
}

func activeUsers(ctx context.Context, pool *pgxpool.Pool, _ json.RawMessage) (any, error) {
	rows, err := queryRows(ctx, pool, "SELECT id, name FROM users WHERE active ORDER BY id")
	return map[string]any{"rows": rows}, err
}

type holding struct {
	Symbol string `json:"symbol"`
	Shares int32  `json:"shares"`
}

type userWithHoldings struct {
	ID       int32     `json:"id"`
	Name     string    `json:"name"`
	Holdings []holding `json:"holdings"`
}

// Every active user with their holdings in one query: the LEFT JOIN keeps a user who holds
// nothing (one row of NULLs), where a query per user would be an N+1.
func relatedRows(ctx context.Context, pool *pgxpool.Pool, _ json.RawMessage) (any, error) {
	rows, err := pool.Query(ctx, "SELECT u.id, u.name, h.symbol, h.shares FROM users u"+
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
		var shares *int32
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
}

func paramQuery(ctx context.Context, pool *pgxpool.Pool, raw json.RawMessage) (any, error) {
	var p struct {
		ID    int32    `json:"id"`
		Names []string `json:"names"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, err
	}
	// pgx sends each value as a bound parameter of a prepared statement ($1).
	byID, err := queryRows(ctx, pool, "SELECT id, name FROM users WHERE id = $1", p.ID)
	if err != nil {
		return nil, err
	}
	byName := [][]row{}
	for _, name := range p.Names {
		rows, err := queryRows(ctx, pool, "SELECT id, name FROM users WHERE name = $1 ORDER BY id", name)
		if err != nil {
			return nil, err
		}
		byName = append(byName, rows)
	}
	return map[string]any{"by_id": byID, "by_name": byName}, nil
}

func sqlstate(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		fmt.Fprintf(os.Stderr, "expected failure: %s %s\n", pgErr.Code, pgErr.Message)
		return pgErr.Code
	}
	return ""
}

func transaction(ctx context.Context, pool *pgxpool.Pool, raw json.RawMessage) (any, error) {
	var p struct {
		CommittedID  int32  `json:"committed_id"`
		RolledBackID int32  `json:"rolled_back_id"`
		FailedID     int32  `json:"failed_id"`
		DuplicateID  int32  `json:"duplicate_id"`
		NamePrefix   string `json:"name_prefix"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, err
	}
	insert := func(tx pgx.Tx, id int32) error {
		_, err := tx.Exec(ctx, "INSERT INTO users (id, name, active) VALUES ($1, $2, $3)",
			id, fmt.Sprintf("%s %d", p.NamePrefix, id), true)
		return err
	}
	// pgx.BeginFunc commits when the function returns nil and rolls back otherwise.
	if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return insert(tx, p.CommittedID) }); err != nil {
		return nil, err
	}
	errRollback := errors.New("roll back on purpose")
	if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := insert(tx, p.RolledBackID); err != nil {
			return err
		}
		return errRollback
	}); !errors.Is(err, errRollback) {
		return nil, fmt.Errorf("the rolled-back insert: %v", err)
	}
	failed := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := insert(tx, p.FailedID); err != nil {
			return err
		}
		return insert(tx, p.DuplicateID)
	})
	rows, _ := pool.Query(ctx, "SELECT id FROM users WHERE id >= 1000 ORDER BY id")
	visible, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, err
	}
	return map[string]any{"visible": visible, "failed_sqlstate": sqlstate(failed)}, nil
}

func errorSQLState(ctx context.Context, pool *pgxpool.Pool, raw json.RawMessage) (any, error) {
	var p struct {
		DuplicateID int32  `json:"duplicate_id"`
		BadSQL      string `json:"bad_sql"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, err
	}
	_, unique := pool.Exec(ctx, "INSERT INTO users (id, name) VALUES ($1, $2)",
		p.DuplicateID, fmt.Sprintf("duplicate %d", p.DuplicateID))
	_, syntax := pool.Exec(ctx, p.BadSQL)
	var after int32
	if err := pool.QueryRow(ctx, "SELECT 1").Scan(&after); err != nil {
		return nil, err
	}
	return map[string]any{"unique_violation": sqlstate(unique), "syntax_error": sqlstate(syntax), "after": after}, nil
}

func types(ctx context.Context, pool *pgxpool.Pool, raw json.RawMessage) (any, error) {
	var p struct {
		Values struct {
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
		} `json:"values"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, err
	}
	v := p.Values
	// The driver's native types for each column.
	i8, err := strconv.ParseInt(v.Int8, 10, 64)
	if err != nil {
		return nil, err
	}
	var num pgtype.Numeric
	if err := num.Scan(v.Numeric); err != nil {
		return nil, err
	}
	ts, err := time.Parse(time.RFC3339Nano, v.Timestamptz)
	if err != nil {
		return nil, err
	}
	d, err := time.Parse("2006-01-02", v.Date)
	if err != nil {
		return nil, err
	}
	bin, err := hex.DecodeString(v.Bytea)
	if err != nil {
		return nil, err
	}
	var id int32
	if err := pool.QueryRow(ctx,
		"INSERT INTO type_probe (i8, num, txt, flag, ts, d, bin, doc, arr, nothing)"+
			" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
		i8, num, v.Text, v.Bool, ts, d, bin, v.JSONB, v.IntArray, v.Null).Scan(&id); err != nil {
		return nil, err
	}
	var (
		outI8   int64
		outNum  pgtype.Numeric
		outText string
		outBool bool
		outTS   time.Time
		outDate time.Time
		outBin  []byte
		outDoc  any
		outArr  []int32
		outNull *string
	)
	if err := pool.QueryRow(ctx,
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
		"timestamptz": outTS.Format(time.RFC3339Nano),
		"date":        outDate.Format("2006-01-02"),
		"bytea":       hex.EncodeToString(outBin),
		"jsonb":       outDoc,
		"int_array":   outArr,
		"null":        outNull,
	}}, nil
}
