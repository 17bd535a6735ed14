'use strict'
// The page's "pg Pool (recommended for production)" sample, runnable: one Pool per scenario.
// The harness picks the scenario (HARNESS_SCENARIO) and its parameters (HARNESS_PARAMS);
// the connection comes from the standard PG* variables. stdout carries only JSON Lines
// (checkpoints and the one result); human output goes to stderr.
const fs = require('fs')
const readline = require('readline')
const { Pool, Client, DatabaseError, types } = require('pg')

// node-pg turns a `date` into a JS Date at local midnight, which shifts the day as soon as it
// is printed in another time zone. Keep the server's own 'YYYY-MM-DD' text instead.
types.setTypeParser(types.builtins.DATE, (text) => text)

// [HELPER sslFromEnv] Node's TLS options for libpq's PGSSLMODE and PGSSLROOTCERT (node-postgres reads only PGSSLMODE; `false` when TLS is off)
// node-pg reads PGSSLMODE (treating every mode as verify-full) but not PGSSLROOTCERT:
// map libpq's modes and root certificate onto Node's TLS options.
function sslFromEnv() {
  const mode = process.env.PGSSLMODE
  if (!mode || mode === 'disable' || mode === 'allow') return false
  const ca = process.env.PGSSLROOTCERT ? fs.readFileSync(process.env.PGSSLROOTCERT) : undefined
  if (mode === 'verify-full') return { ca }
  const skipHostname = () => undefined // verify-ca: check the chain, not the host name
  if (mode === 'verify-ca' || ca) return { ca, checkServerIdentity: skipHostname }
  return { rejectUnauthorized: false } // require/prefer without a root certificate: encrypt only
}

// The page's sample, which every scenario runs through. Its values are the defaults; the
// scenario's abstract pool settings (params.pool) override them. node-pg itself reads PGPORT,
// PGDATABASE, PGUSER, PGPASSWORD and PGAPPNAME (application_name) from the environment.
// [START node_pg_pool]
function createPool(settings = {}) {
  const pool = new Pool({
    host: process.env.PGHOST || 'localhost',
    ssl: sslFromEnv(), // TLS as PGSSLMODE and PGSSLROOTCERT say
    max: settings.max ?? 20, // max connections in pool
    idleTimeoutMillis: settings.idle_timeout_ms ?? 30000, // close idle after 30s
    connectionTimeoutMillis: settings.acquire_timeout_ms ?? 2000,
    min: settings.min_idle ?? 0, // only stops idle eviction below it; never pre-creates
  })
  // When the server kills an idle client, the pool drops it and emits 'error': without a
  // listener that crashes the process (node-postgres #2635).
  pool.on('error', (err) => console.error(`pool: idle client dropped: ${err.message}`))
  return pool
}

// Pool automatically manages connections: pool.query checks a client out and back in.
async function userById(pool, id = 1) {
  const res = await pool.query('SELECT id, name FROM users WHERE id = $1', [id])
  return res.rows
}
// [END node_pg_pool]

async function withPool(settings, work) {
  const pool = createPool(settings)
  try {
    return await work(pool)
  } finally {
    if (!pool.ending) await pool.end()
  }
}

// A checked-out client, always released (the page's "always use try-finally"). After an
// error, release(err) discards the client, so a broken transaction never goes back idle.
async function withClient(pool, work) {
  const client = await pool.connect()
  let failure
  try {
    return await work(client)
  } catch (err) {
    failure = err
    throw err
  } finally {
    client.release(failure)
  }
}

// `n` tasks at once; a summary of how they ended.
async function burst(n, task) {
  const summary = { succeeded: 0, failed: 0, errors: [] }
  await Promise.all(
    Array.from({ length: n }, async () => {
      try {
        await task()
        summary.succeeded++
      } catch (err) {
        summary.failed++
        summary.errors.push(err.code || err.message) // SQLSTATE when the server sent one
      }
    })
  )
  return summary
}

const sleep = (queryable, seconds) => queryable.query('SELECT pg_sleep($1)', [seconds])

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n') // stdout to a pipe is synchronous on Linux
}

// Tell the harness where we are, then wait for its 'continue' line on stdin.
let stdin, stdinLines
async function checkpoint(name) {
  emit({ type: 'checkpoint', name })
  stdin ??= readline.createInterface({ input: process.stdin })
  stdinLines ??= stdin[Symbol.asyncIterator]()
  const { done } = await stdinLines.next()
  if (done) throw new Error(`stdin closed at checkpoint ${name}`)
}

const USER_ROWS = 'SELECT id, name FROM users'
const INSERT_USER = 'INSERT INTO users (id, name, active) VALUES ($1, $2, $3)'
const OWN_SSL_ROW = 'SELECT ssl, version, cipher FROM pg_stat_ssl WHERE pid = pg_backend_pid()'

// Runs `sql` and returns the SQLSTATE it fails with; succeeding is a bug in the scenario.
async function sqlstateOf(queryable, sql, values) {
  try {
    await queryable.query(sql, values)
  } catch (err) {
    if (!err.code) throw err // not a server error (e.g. the connection broke)
    return err.code
  }
  throw new Error(`expected an error from: ${sql}`)
}

// Node's codes for a server certificate that TLS verification refused (OpenSSL's X509 errors
// and the host-name check); pg passes the TLS socket's error on as it is.
const CERT_ERRORS = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_SIGNATURE_FAILURE',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE', 'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY', 'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED', 'CERT_CHAIN_TOO_LONG', 'CERT_REVOKED', 'INVALID_CA', 'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE', 'CERT_UNTRUSTED', 'CERT_REJECTED', 'HOSTNAME_MISMATCH', 'ERR_TLS_CERT_ALTNAME_INVALID',
])

// A failed connection as data. Only a DatabaseError (the server's ErrorResponse) carries a
// SQLSTATE in `code`; on other errors `code` is Node's (a TLS or socket code).
function connectError(err) {
  const sqlstate = err instanceof DatabaseError ? err.code : null
  let kind = 'other'
  if (CERT_ERRORS.has(err.code)) kind = 'certificate'
  else if (sqlstate === '28000') kind = 'refused' // pg_hba.conf rejected the connection
  else if (sqlstate === '28P01') kind = 'auth'
  return { kind, type: err.constructor.name, sqlstate, message: err.message }
}

// Durations in ms, to the microsecond.
const ms = (value) => Math.round(value * 1000) / 1000

// The pool's first query opens its first connection; where the driver or the server must
// refuse it, pool.query rejects with the connect error, which is the result. withPool ends
// the pool (nothing stays open or scheduled, so the process exits at once).
function refusedConnect(p) {
  return withPool(p.pool, async (pool) => {
    const start = performance.now()
    let error
    try {
      await pool.query('SELECT 1')
      error = { kind: 'none', type: 'none', sqlstate: null, message: 'connected' }
    } catch (err) {
      console.error(`connect failed: ${err.code}: ${err.message}`)
      error = connectError(err)
    }
    return { error, elapsed_ms: ms(performance.now() - start) }
  })
}

// The cost of a new connection against a query through the pool. A fresh connection is
// what the pool does for each new client: new Client(pool.options).connect(), timed until
// it resolves (TCP, TLS when PGSSLMODE asks, SCRAM, backend start), outside the pool.
function connectLatency(p) {
  return withPool(p.pool, async (pool) => {
    const connectMs = []
    for (let i = 0; i < p.connections; i++) {
      const client = new Client(pool.options)
      const start = performance.now()
      await client.connect()
      connectMs.push(ms(performance.now() - start))
      await client.end()
    }
    await pool.query('SELECT 1') // warm-up: the pool opens its connection here
    const queryMs = []
    for (let i = 0; i < p.queries; i++) {
      const start = performance.now()
      await pool.query('SELECT 1') // acquire, query, release
      queryMs.push(ms(performance.now() - start))
    }
    return { connect_ms: connectMs, query_ms: queryMs, pooled: true }
  })
}

// Every active user, then all their holdings in one more query (= ANY($1)): two statements
// however many users, where a query per user would be an N+1.
async function usersWithHoldings(db) {
  const users = (await db.query(`${USER_ROWS} WHERE active ORDER BY id`)).rows
  const held = await db.query('SELECT user_id, symbol, shares FROM holdings WHERE user_id = ANY($1) ORDER BY id',
    [users.map((u) => u.id)])
  return users.map((u) => ({
    ...u,
    holdings: held.rows.filter((h) => h.user_id === u.id).map(({ symbol, shares }) => ({ symbol, shares })),
  }))
}

const scenarios = {
  connect_now: (p) =>
    withPool(p.pool, async (pool) => {
      const res = await pool.query('SELECT NOW()')
      console.error(res.rows[0])
      return { now: res.rows[0].now.toISOString() }
    }),

  select_rows: (p) =>
    withPool(p.pool, async (pool) => ({ rows: (await pool.query(`${USER_ROWS} ORDER BY id`)).rows })),

  active_users: (p) =>
    withPool(p.pool, async (pool) => ({ rows: (await pool.query(`${USER_ROWS} WHERE active ORDER BY id`)).rows })),

  related_rows: (p) => withPool(p.pool, async (pool) => ({ users: await usersWithHoldings(pool) })),

  // Values travel as bind parameters ($1), never spliced into the SQL text.
  param_query: (p) =>
    withPool(p.pool, async (pool) => {
      const byId = await userById(pool, p.id)
      const byName = []
      for (const name of p.names) {
        byName.push((await pool.query(`${USER_ROWS} WHERE name = $1 ORDER BY id`, [name])).rows)
      }
      return { by_id: byId, by_name: byName }
    }),

  // A transaction needs one client for all its statements: pool.query may use a different
  // client each time.
  transaction: (p) =>
    withPool(p.pool, (pool) =>
      withClient(pool, async (client) => {
        const row = (id) => [id, `${p.name_prefix} ${id}`, true]
        await client.query('BEGIN')
        await client.query(INSERT_USER, row(p.committed_id))
        await client.query('COMMIT')

        await client.query('BEGIN')
        await client.query(INSERT_USER, row(p.rolled_back_id))
        await client.query('ROLLBACK')

        // A failed statement aborts the whole transaction: the first insert must vanish too.
        await client.query('BEGIN')
        await client.query(INSERT_USER, row(p.failed_id))
        const failedSqlstate = await sqlstateOf(client, INSERT_USER, row(p.duplicate_id))
        await client.query('ROLLBACK')

        const visible = (await client.query('SELECT id FROM users WHERE id >= 1000 ORDER BY id')).rows
        return { visible: visible.map((r) => r.id), failed_sqlstate: failedSqlstate }
      })
    ),

  // pool.query discards the client after an error; the pool hands out a fresh one.
  error_sqlstate: (p) =>
    withPool(p.pool, async (pool) => ({
      unique_violation: await sqlstateOf(pool, INSERT_USER, [p.duplicate_id, 'duplicate probe', true]),
      syntax_error: await sqlstateOf(pool, p.bad_sql),
      after: (await pool.query('SELECT 1 AS one')).rows[0].one,
    })),

  types: (p) =>
    withPool(p.pool, async (pool) => {
      const v = p.values
      await pool.query(
        `INSERT INTO type_probe (i8, num, txt, flag, ts, d, bin, doc, arr, nothing)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [
          BigInt(v.int8), // a JS number would round 2^53 + 1
          v.numeric, // node-pg has no decimal type: numeric travels as a string
          v.text,
          v.bool,
          new Date(v.timestamptz),
          v.date, // as text: a JS Date would be sent as local time and could land on another day
          Buffer.from(v.bytea, 'hex'),
          JSON.stringify(v.jsonb), // node-pg would send a JS array as a Postgres array, not JSON
          v.int_array,
          v.null,
        ]
      )
      const r = (await pool.query('SELECT * FROM type_probe ORDER BY id DESC LIMIT 1')).rows[0]
      return {
        values: {
          int8: r.i8, // int8 comes back as a string by default: no precision lost
          numeric: r.num,
          text: r.txt,
          bool: r.flag,
          timestamptz: r.ts.toISOString(),
          date: r.d,
          bytea: r.bin.toString('hex'),
          jsonb: r.doc,
          int_array: r.arr,
          null: r.nothing,
        },
      }
    }),

  pool_bounded: (p) =>
    withPool(p.pool, async (pool) => {
      const start = performance.now()
      const summary = await burst(p.concurrency, () => sleep(pool, p.sleep_seconds))
      return { ...summary, elapsed_ms: Math.round(performance.now() - start) }
    }),

  pool_reuse: (p) =>
    withPool(p.pool, async (pool) => {
      const pids = []
      for (let i = 0; i < p.queries; i++) {
        pids.push((await pool.query('SELECT pg_backend_pid() AS pid')).rows[0].pid)
      }
      return { pids }
    }),

  pool_release: (p) =>
    withPool(p.pool, async (pool) => {
      const summary = await burst(p.concurrency, () =>
        withClient(pool, async (client) => {
          await client.query('BEGIN')
          await sleep(client, p.sleep_seconds ?? 0)
          await client.query('COMMIT')
        })
      )
      await checkpoint('after_work')
      await pool.end()
      await checkpoint('after_close')
      return summary
    }),

  // A statement fails inside a transaction on a checked-out client: withClient releases it
  // with the error, so the pool discards it rather than lend out a broken transaction.
  pool_release_on_error: (p) =>
    withPool(p.pool, async (pool) => {
      const row = (id) => [id, `${p.name_prefix} ${id}`, true]
      let pid, failedSqlstate
      try {
        await withClient(pool, async (client) => {
          pid = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid
          await client.query('BEGIN')
          await client.query(INSERT_USER, row(p.row_id))
          await client.query(INSERT_USER, row(p.duplicate_id)) // taken: 23505
          await client.query('COMMIT')
        })
      } catch (err) {
        if (!err.code) throw err // not the server's error: a real failure
        failedSqlstate = err.code
      }
      await checkpoint('after_error')
      const after = (await pool.query('SELECT 1 AS one')).rows[0].one
      await pool.end()
      await checkpoint('after_close')
      return { pid, failed_sqlstate: failedSqlstate, after }
    }),

  pool_acquire_timeout: (p) =>
    withPool(p.pool, async (pool) => {
      const held = await pool.connect()
      const start = performance.now()
      let error = null
      try {
        const second = await pool.connect()
        second.release() // not expected: the harness sees error null
      } catch (err) {
        // pg-pool's own queue timeout is a plain Error with this message (no code, no class).
        const kind = err.message === 'timeout exceeded when trying to connect' ? 'pool_timeout' : 'other'
        error = { kind, type: err.constructor.name, message: err.message }
      }
      const elapsed = Math.round(performance.now() - start)
      held.release()
      return { error, elapsed_ms: elapsed }
    }),

  pool_idle_timeout: (p) =>
    withPool(p.pool, async (pool) => {
      const summary = await burst(p.burst, () => sleep(pool, p.sleep_seconds))
      await checkpoint('after_burst') // the harness watches idle connections close meanwhile
      return { ...summary, idle_timeout_ms: pool.options.idleTimeoutMillis }
    }),

  pool_recovery_terminate: (p) => recovery(p),
  pool_recovery_restart: (p) => recovery(p),

  // The same burst through a pool of each size: every request at once, half CPU-bound on the
  // server, half waiting; per request the wait for a pooled client and the whole latency.
  story_pool_sizing: async (p) => {
    const results = []
    for (const size of p.sizes) {
      await checkpoint(`before_${size}`)
      const started = performance.now()
      const timings = await withPool({ max: size, acquire_timeout_ms: 120000 }, (pool) =>
        Promise.all(Array.from({ length: p.requests }, async (_, i) => {
          const start = performance.now()
          const acquired = await withClient(pool, async (client) => {
            const at = performance.now()
            if (i % 2) await client.query('SELECT pg_sleep($1)', [p.sleep_seconds])
            else await client.query('SELECT sum(i) FROM generate_series(1, $1) AS i', [p.cpu_rows])
            return at
          })
          return [acquired - start, performance.now() - start]
        })))
      const elapsedMs = performance.now() - started
      await checkpoint(`after_${size}`)
      results.push({ size, elapsed_ms: ms(elapsedMs), wait_ms: timings.map(([w]) => ms(w)),
        latency_ms: timings.map(([, t]) => ms(t)) })
    }
    return { sizes: results }
  },

  // The page's first story: params.services services, each with a pool of its own (the page's
  // createPool, max params.pool.max), under one steady load. Every wave_interval_ms each service
  // gets wave_size requests at once; long_per_wave of them hold their connection for a long
  // query (work on the server: a sum over long_rows rows, short_rows for the rest). A request
  // whose connection the server refuses (53300) is retried as a service would (node-postgres has
  // no retry of its own): params.retry's attempts, backing off backoff_ms, doubling, at most
  // backoff_max_ms; its latency runs from its first attempt. Refused at its last attempt, it is
  // counted, not thrown.
  story_pool_exhaustion: async (p) => {
    const pools = Array.from({ length: p.services }, () => createPool(p.pool))
    const results = pools.map(() => ({ succeeded: 0, refused: 0, failed: 0, retries: 0, errors: [], wait_ms: [], latency_ms: [] }))
    const request = async (pool, result, rows) => {
      const start = performance.now()
      for (let attempt = 1; ; attempt++) {
        try {
          const acquired = await withClient(pool, async (client) => {
            const at = performance.now() // the wait for a pooled client ends here
            await client.query('SELECT sum(i) FROM generate_series(1, $1) AS i', [rows])
            return at
          })
          result.wait_ms.push(ms(acquired - start))
          result.latency_ms.push(ms(performance.now() - start))
          result.succeeded++
          return
        } catch (err) {
          if (err.code === '53300' && attempt < p.retry.attempts) { // too many connections for role
            result.retries++
            const backoff = Math.min(p.retry.backoff_ms * 2 ** (attempt - 1), p.retry.backoff_max_ms)
            await new Promise((resolve) => setTimeout(resolve, backoff))
            continue
          }
          if (err.code === '53300') result.refused++
          else result.failed++
          const what = err.code || err.message
          if (!result.errors.includes(what)) result.errors.push(what)
          return
        }
      }
    }
    try {
      const started = performance.now()
      const requests = []
      for (let wave = 0; wave < p.waves; wave++) {
        const due = started + wave * p.wave_interval_ms // a steady pace, whatever the last wave is doing
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())))
        pools.forEach((pool, i) => {
          for (let j = 0; j < p.wave_size; j++) {
            requests.push(request(pool, results[i], j < p.long_per_wave ? p.long_rows : p.short_rows))
          }
        })
      }
      await Promise.all(requests)
      return { services: results, elapsed_ms: ms(performance.now() - started) }
    } finally {
      await Promise.all(pools.map((pool) => pool.end()))
    }
  },
  // The page's cutover story, seen from a service: a steady stream of short write transactions.
  // It knows nothing of PgBouncer's PAUSE/RESUME; the harness does that at `streaming`.
  story_pause_resume_cutover: (p) => ledgerStream(p),
  story_pause_resume_limit: (p) => ledgerStream(p),

  no_pool_exhaustion: async (p) => {
    const pooled = await withPool(p.pool, (pool) => burst(p.requests, () => sleep(pool, p.sleep_seconds)))
    await checkpoint('after_pooled') // the pool is closed: the harness counts its connections
    // The pitfall the page warns about: a connection per request.
    const unpooled = await burst(p.requests, async () => {
      const client = new Client({ host: process.env.PGHOST, ssl: sslFromEnv() })
      client.on('error', (err) => console.error(`client: ${err.message}`))
      await client.connect()
      try {
        await sleep(client, p.sleep_seconds)
      } finally {
        await client.end()
      }
    })
    return { pooled, unpooled }
  },

  // The backend's own view of the session; the pool keeps it open (idle) over the
  // checkpoint while the harness looks at pg_stat_ssl too.
  tls_verify_full: (p) =>
    withPool(p.pool, async (pool) => {
      const row = (await pool.query(OWN_SSL_ROW)).rows[0]
      console.error(row)
      await checkpoint('connected')
      return row
    }),

  tls_wrong_ca: (p) => refusedConnect(p),
  tls_wrong_host: (p) => refusedConnect(p),
  plaintext_refused: (p) => refusedConnect(p),
  auth_wrong_password: (p) => refusedConnect(p),

  // sslFromEnv decides: PGSSLMODE is disable for one, verify-full for the other.
  connect_latency: (p) => connectLatency(p),
  connect_latency_tls: (p) => connectLatency(p),

  // Session state, for the PgBouncer matrix (docs/pgbouncer.md): a statement prepared by name
  // and a session setting live in one server session, which transaction pooling does not keep.
  // A query config with a `name` is parsed once per pooled client, then executed by that name:
  // one checked-out client, so every execution finds it.
  prepared_statement_reuse: (p) =>
    withPool(p.pool, (pool) =>
      withClient(pool, async (client) => {
        const results = []
        for (const id of p.ids) {
          results.push((await client.query({ name: p.name, text: `${USER_ROWS} WHERE id = $1`, values: [id] })).rows)
          if (results.length === 1) await checkpoint('prepared') // the harness may replace server connections here
        }
        return { results }
      })
    ),

  // set_config(name, value, false) is SET for the session, with the value bound. Two clients
  // are checked out; client 1 sets it, client 2 reads it, client 1 reads it back. At the
  // checkpoints the harness may replace server connections.
  session_set: (p) =>
    withPool(p.pool, (pool) =>
      withClient(pool, (first) =>
        withClient(pool, async (second) => {
          const read = async (client) =>
            (await client.query('SELECT current_setting($1, true) AS value', [p.setting])).rows[0].value
          await checkpoint('connected')
          await first.query('SELECT set_config($1, $2, false)', [p.setting, p.value])
          const otherClientRead = await read(second)
          await checkpoint('before_read_back')
          return { read_back: await read(first), other_client_read: otherClientRead }
        })
      )
    ),

  // A session advisory lock: client 1 takes it, client 2 tries it, client 1 unlocks it.
  advisory_lock: (p) =>
    withPool(p.pool, (pool) =>
      withClient(pool, (first) =>
        withClient(pool, async (second) => {
          await checkpoint('connected')
          await first.query('SELECT pg_advisory_lock($1)', [p.key])
          const tried = await second.query('SELECT pg_try_advisory_lock($1) AS got', [p.key])
          await checkpoint('before_unlock')
          const unlocked = await first.query('SELECT pg_advisory_unlock($1) AS released', [p.key])
          return { other_client_got_it: tried.rows[0].got, unlocked: unlocked.rows[0].released }
        })
      )
    ),
}

// `writers` loops, each BEGIN / INSERT a ledger row with an id it made / COMMIT every
// interval_ms. An id counts as acknowledged only once COMMIT returned; a failed transaction is
// reported with its error, never retried under the same id.
function ledgerStream(p) {
  return withPool(p.pool, async (pool) => {
    const report = { acknowledged: [], failed: [], latency_ms: [] }
    let streaming = true
    const writer = async (w) => {
      for (let n = 1; streaming; n++) {
        const id = w * 1000000 + n
        const start = performance.now()
        try {
          await withClient(pool, async (client) => {
            await client.query('BEGIN')
            await client.query('INSERT INTO ledger (id, writer) VALUES ($1, $2)', [id, w])
            await client.query('COMMIT')
          })
          report.acknowledged.push(id)
        } catch (err) {
          console.error(`transaction ${id} failed: ${err.code}: ${err.message}`)
          report.failed.push({ id, sqlstate: err.code ?? null, message: err.message })
        }
        report.latency_ms.push([id, ms(performance.now() - start)]) // acquire to COMMIT (or the error)
        await new Promise((resolve) => setTimeout(resolve, p.interval_ms))
      }
    }
    const writers = Array.from({ length: p.writers }, (_, i) => writer(i + 1))
    await new Promise((resolve) => setTimeout(resolve, p.stream_before_seconds * 1000))
    await checkpoint('streaming')
    await new Promise((resolve) => setTimeout(resolve, p.stream_after_seconds * 1000))
    streaming = false
    await Promise.all(writers)
    return report
  })
}

// Backends killed (or the server restarted) between two bursts: the pool drops the dead
// idle clients (its 'error' event) and the second burst connects afresh.
function recovery(p) {
  return withPool(p.pool, async (pool) => {
    const first = await burst(p.concurrency, () => sleep(pool, p.sleep_seconds))
    await checkpoint('between_bursts')
    const second = await burst(p.concurrency, () => sleep(pool, p.sleep_seconds))
    return { first, second }
  })
}

async function main() {
  const scenario = process.env.HARNESS_SCENARIO
  const run = Object.hasOwn(scenarios, scenario) ? scenarios[scenario] : undefined
  if (!run) {
    console.error(`unknown scenario: ${scenario}`)
    process.exitCode = 2
    return
  }
  const params = JSON.parse(process.env.HARNESS_PARAMS || '{}')
  try {
    const data = await run(params)
    emit({ type: 'result', scenario, data })
  } finally {
    stdin?.close() // an open stdin would keep the process alive
  }
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
