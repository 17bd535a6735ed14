'use strict'
// postgres.js (npm `postgres`) made runnable: tagged-template queries and the driver's own pool,
// one `sql` instance per scenario. The harness picks the scenario (HARNESS_SCENARIO) and its
// parameters (HARNESS_PARAMS); the connection comes from the standard PG* variables. stdout
// carries only JSON Lines (checkpoints and the one result); human output goes to stderr.
const fs = require('fs')
const readline = require('readline')
const postgres = require('postgres')

console.log = console.error // what the sample prints goes to stderr: stdout is the harness's

// [HELPER sslFromEnv] Node's TLS options for libpq's PGSSLMODE and PGSSLROOTCERT (postgres.js reads neither; `false` when TLS is off)
// postgres.js reads neither PGSSLMODE nor PGSSLROOTCERT. Its string modes are not libpq's:
// 'require' (and 'prefer', 'allow') set rejectUnauthorized: false, so they verify nothing at
// all, and 'verify-full' checks against Node's built-in CAs only (no root certificate can be
// given). Full verification with our own CA is an object: Node's TLS options. For a host given
// as an IP address postgres.js passes no servername, and Node then checks the certificate
// against 'localhost': `host` names what the check must match.
function sslFromEnv() {
  const mode = process.env.PGSSLMODE
  if (!mode || mode === 'disable' || mode === 'allow') return false
  const ca = process.env.PGSSLROOTCERT ? fs.readFileSync(process.env.PGSSLROOTCERT) : undefined
  const host = process.env.PGHOST || 'localhost'
  if (mode === 'verify-full') return { ca, host, rejectUnauthorized: true }
  const skipHostname = () => undefined // verify-ca: check the chain, not the host name
  if (mode === 'verify-ca' || ca) return { ca, rejectUnauthorized: true, checkServerIdentity: skipHostname }
  return { rejectUnauthorized: false } // require/prefer without a root certificate: encrypt only
}

// [HELPER prepareFromEnv] whether postgres.js may prepare statements (PGJS_PREPARE=false behind PgBouncer in transaction mode)
// postgres.js prepares every query as a named statement on its connection by default. Behind
// PgBouncer in transaction mode (before 1.21's max_prepared_statements) the next transaction
// may run on a server connection that never saw it: there `prepare: false` is the fix.
const prepareFromEnv = () => process.env.PGJS_PREPARE !== 'false'

// The sample, which every scenario runs through. Its values are the page's defaults; the
// scenario's abstract pool settings (params.pool) override them. postgres.js itself reads
// PGPORT, PGDATABASE, PGUSER, PGPASSWORD and PGAPPNAME (application_name) from the environment.
// [START node_postgres_js]
function createSql(settings = {}) {
  return postgres({
    host: process.env.PGHOST || 'localhost',
    ssl: sslFromEnv(), // { ca, rejectUnauthorized: true } for verify-full; never the string 'require'
    max: settings.max ?? 20, // max connections in the pool (postgres.js opens them on demand)
    idle_timeout: (settings.idle_timeout_ms ?? 30000) / 1000, // seconds: close idle after 30s
    connect_timeout: (settings.connect_timeout_ms ?? 2000) / 1000, // seconds to establish a connection
    prepare: prepareFromEnv(), // false behind PgBouncer in transaction mode
    onnotice: (notice) => console.error(`notice: ${notice.message}`),
  })
}

// Values in the template become bind parameters ($1): never spliced into the SQL text.
async function userById(sql, id = 1) {
  return await sql`SELECT id, name FROM users WHERE id = ${id}`
}

// A transaction runs on one connection: sql.begin reserves it, commits when the callback
// returns, rolls back when it throws, and puts the connection back either way.
async function addUsers(sql, users) {
  await sql.begin(async (tx) => {
    for (const [id, name] of users) await tx`INSERT INTO users (id, name, active) VALUES (${id}, ${name}, true)`
  })
}
// [END node_postgres_js]

async function withSql(settings, work) {
  const sql = createSql(settings)
  try {
    return await work(sql)
  } finally {
    await sql.end({ timeout: 5 }) // waits for running queries, then closes every connection
  }
}

// A dedicated connection (sql.reserve()), always released (the page's "always use
// try-finally"): an unreleased one stays out of the pool, and sql.end() waits for it.
async function withReserved(sql, work) {
  const reserved = await sql.reserve()
  try {
    return await work(reserved)
  } finally {
    reserved.release()
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
        summary.errors.push(sqlstate(err) || err.message)
      }
    })
  )
  return summary
}

const sleep = (sql, seconds) => sql`SELECT pg_sleep(${seconds})`

// The server's SQLSTATE, only when the server sent one (postgres.js's own errors, such as
// CONNECT_TIMEOUT, and Node's socket and TLS errors also carry a `code`).
const sqlstate = (err) => (err instanceof postgres.PostgresError ? err.code : null)

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

// Awaits `query` and returns the SQLSTATE it fails with; succeeding is a bug in the scenario.
async function sqlstateOf(query) {
  try {
    await query
  } catch (err) {
    if (!sqlstate(err)) throw err // not a server error (e.g. the connection broke)
    return err.code
  }
  throw new Error('expected the statement to fail')
}

// Node's codes for a server certificate that TLS verification refused (OpenSSL's X509 errors
// and the host-name check); postgres.js passes the TLS socket's error on as it is.
const CERT_ERRORS = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_SIGNATURE_FAILURE',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE', 'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY', 'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED', 'CERT_CHAIN_TOO_LONG', 'CERT_REVOKED', 'INVALID_CA', 'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE', 'CERT_UNTRUSTED', 'CERT_REJECTED', 'HOSTNAME_MISMATCH', 'ERR_TLS_CERT_ALTNAME_INVALID',
])

// A failed connection as data: a PostgresError (the server's ErrorResponse) carries the SQLSTATE.
function connectError(err) {
  const state = sqlstate(err)
  let kind = 'other'
  if (CERT_ERRORS.has(err.code)) kind = 'certificate'
  else if (state === '28000') kind = 'refused' // pg_hba.conf rejected the connection
  else if (state === '28P01') kind = 'auth'
  return { kind, type: err.constructor.name, sqlstate: state, message: err.message }
}

// Durations in ms, to the microsecond.
const ms = (value) => Math.round(value * 1000) / 1000

// The pool's first query opens its first connection; where the driver or the server must
// refuse it, the query rejects with the connect error, which is the result.
function refusedConnect(p) {
  return withSql(p.pool, async (sql) => {
    const start = performance.now()
    let error
    try {
      await sql`SELECT 1`
      error = { kind: 'none', type: 'none', sqlstate: null, message: 'connected' }
    } catch (err) {
      console.error(`connect failed: ${err.code}: ${err.message}`)
      error = connectError(err)
    }
    return { error, elapsed_ms: ms(performance.now() - start) }
  })
}

// The cost of a new connection against a query through the pool. postgres.js has no single
// connection: a fresh instance of one connection, reserve() resolving once that connection is
// open (TCP, TLS when PGSSLMODE asks, SCRAM, backend start, and the array-type lookup that
// postgres.js runs on every new connection before it lends it out).
function connectLatency(p) {
  return withSql(p.pool, async (sql) => {
    const connectMs = []
    for (let i = 0; i < p.connections; i++) {
      const fresh = createSql({ max: 1 })
      const start = performance.now()
      const reserved = await fresh.reserve()
      connectMs.push(ms(performance.now() - start))
      reserved.release()
      await fresh.end()
    }
    await sql`SELECT 1` // warm-up: the pool opens its connection here
    const queryMs = []
    for (let i = 0; i < p.queries; i++) {
      const start = performance.now()
      await sql`SELECT 1` // a pooled connection, the query, back to the pool
      queryMs.push(ms(performance.now() - start))
    }
    return { connect_ms: connectMs, query_ms: queryMs, pooled: true }
  })
}

// Every active user, then all their holdings in one more query (= ANY($1)): two statements
// however many users, where a query per user would be an N+1.
async function usersWithHoldings(sql) {
  const users = await sql`SELECT id, name FROM users WHERE active ORDER BY id`
  const held = await sql`SELECT user_id, symbol, shares FROM holdings
    WHERE user_id = ANY(${sql.array(users.map((u) => u.id), 23)}) ORDER BY id`
  return users.map((u) => ({
    id: u.id,
    name: u.name,
    holdings: held.filter((h) => h.user_id === u.id).map(({ symbol, shares }) => ({ symbol, shares })),
  }))
}

const rows = (result) => result.map((row) => ({ ...row })) // postgres.js's Result is an Array with extras

const scenarios = {
  connect_now: (p) =>
    withSql(p.pool, async (sql) => {
      const [row] = await sql`SELECT NOW() AS now`
      console.log(row)
      return { now: row.now.toISOString() }
    }),

  select_rows: (p) => withSql(p.pool, async (sql) => ({ rows: rows(await sql`SELECT id, name FROM users ORDER BY id`) })),

  active_users: (p) =>
    withSql(p.pool, async (sql) => ({ rows: rows(await sql`SELECT id, name FROM users WHERE active ORDER BY id`) })),

  related_rows: (p) => withSql(p.pool, async (sql) => ({ users: await usersWithHoldings(sql) })),

  param_query: (p) =>
    withSql(p.pool, async (sql) => {
      const byId = rows(await userById(sql, p.id))
      const byName = []
      for (const name of p.names) {
        byName.push(rows(await sql`SELECT id, name FROM users WHERE name = ${name} ORDER BY id`))
      }
      return { by_id: byId, by_name: byName }
    }),

  // Each transaction is a sql.begin: one connection for its statements, COMMIT when the
  // callback returns, ROLLBACK when it throws.
  transaction: (p) =>
    withSql(p.pool, async (sql) => {
      const user = (id) => [id, `${p.name_prefix} ${id}`]
      await addUsers(sql, [user(p.committed_id)])

      const rollBack = new Error('roll back') // thrown to make sql.begin roll back
      await sql.begin(async (tx) => {
        const [id, name] = user(p.rolled_back_id)
        await tx`INSERT INTO users (id, name, active) VALUES (${id}, ${name}, true)`
        throw rollBack
      }).catch((err) => { if (err !== rollBack) throw err })

      // A failed statement aborts the whole transaction: the first insert must vanish too.
      const failedSqlstate = await sqlstateOf(addUsers(sql, [user(p.failed_id), user(p.duplicate_id)]))

      const visible = await sql`SELECT id FROM users WHERE id >= 1000 ORDER BY id`
      return { visible: visible.map((r) => r.id), failed_sqlstate: failedSqlstate }
    }),

  // A failed query leaves its connection usable: postgres.js runs each outside a transaction.
  error_sqlstate: (p) =>
    withSql(p.pool, async (sql) => ({
      unique_violation: await sqlstateOf(sql`INSERT INTO users (id, name, active) VALUES (${p.duplicate_id}, 'duplicate probe', true)`),
      syntax_error: await sqlstateOf(sql.unsafe(p.bad_sql)),
      after: (await sql`SELECT 1 AS one`)[0].one,
    })),

  types: (p) =>
    withSql(p.pool, async (sql) => {
      const v = p.values
      await sql`INSERT INTO type_probe (i8, num, txt, flag, ts, d, bin, doc, arr, nothing) VALUES (
        ${BigInt(v.int8)}, ${v.numeric}, ${v.text}, ${v.bool}, ${new Date(v.timestamptz)}, ${v.date},
        ${Buffer.from(v.bytea, 'hex')}, ${sql.json(v.jsonb)}, ${`{${v.int_array.map((n) => Number(n)).join(',')}}`}::int[], ${v.null})`
      // BigInt: a JS number would round 2^53 + 1; numeric travels as a string (JS has no
      // decimal); the date as its text, which a JS Date would turn into a local instant.
      // postgres.js learns the array types when its first connection opens, after this first
      // query was built: it cannot name int4[] yet (sql.array sends "1,2,3"), so the array
      // travels as its text literal, a bind parameter cast in SQL.
      const [r] = await sql`SELECT * FROM type_probe ORDER BY id DESC LIMIT 1`
      return {
        values: {
          int8: r.i8, // int8 and numeric come back as strings: no precision lost
          numeric: r.num,
          text: r.txt,
          bool: r.flag,
          timestamptz: r.ts.toISOString(),
          date: r.d.toISOString().slice(0, 10), // postgres.js parses 'YYYY-MM-DD' as UTC midnight
          bytea: r.bin.toString('hex'),
          jsonb: r.doc,
          int_array: r.arr,
          null: r.nothing,
        },
      }
    }),

  pool_bounded: (p) =>
    withSql(p.pool, async (sql) => {
      const start = performance.now()
      const summary = await burst(p.concurrency, () => sleep(sql, p.sleep_seconds))
      return { ...summary, elapsed_ms: Math.round(performance.now() - start) }
    }),

  pool_reuse: (p) =>
    withSql(p.pool, async (sql) => {
      const pids = []
      for (let i = 0; i < p.queries; i++) pids.push((await sql`SELECT pg_backend_pid() AS pid`)[0].pid)
      return { pids }
    }),

  pool_release: (p) =>
    withSql(p.pool, async (sql) => {
      const summary = await burst(p.concurrency, () => sql.begin((tx) => sleep(tx, p.sleep_seconds ?? 0)))
      await checkpoint('after_work')
      await sql.end()
      await checkpoint('after_close')
      return summary
    }),

  // A statement fails inside a transaction begun by hand on a reserved connection (which has
  // no sql.begin): roll it back before the connection goes back to the pool, which would
  // otherwise lend it out still inside the failed transaction.
  pool_release_on_error: (p) =>
    withSql(p.pool, async (sql) => {
      const insert = (db, id) => db`INSERT INTO users (id, name, active) VALUES (${id}, ${`${p.name_prefix} ${id}`}, true)`
      let pid, failedSqlstate
      try {
        await withReserved(sql, async (reserved) => {
          pid = (await reserved`SELECT pg_backend_pid() AS pid`)[0].pid
          await reserved`BEGIN`
          try {
            await insert(reserved, p.row_id)
            await insert(reserved, p.duplicate_id) // taken: 23505
            await reserved`COMMIT`
          } catch (err) {
            await reserved`ROLLBACK`
            throw err
          }
        })
      } catch (err) {
        if (!sqlstate(err)) throw err // not the server's error: a real failure
        failedSqlstate = err.code
      }
      await checkpoint('after_error')
      const after = (await sql`SELECT 1 AS one`)[0].one
      await sql.end()
      await checkpoint('after_close')
      return { pid, failed_sqlstate: failedSqlstate, after }
    }),

  // postgres.js has no acquire timeout (connect_timeout bounds making a connection, not the
  // wait for a free one): a deadline on the acquire itself, sql.reserve(). A reservation that
  // arrives after the deadline is released at once.
  pool_acquire_timeout: (p) =>
    withSql(p.pool, async (sql) => {
      const held = await sql.reserve()
      const start = performance.now()
      let error = null
      let timer
      const waiting = sql.reserve()
      const deadline = new Promise((resolve) => { timer = setTimeout(resolve, p.pool.acquire_timeout_ms, 'deadline') })
      try {
        const second = await Promise.race([waiting, deadline])
        if (second === 'deadline') {
          waiting.then((late) => late.release(), () => {})
          error = { kind: 'pool_timeout', type: 'AcquireDeadline',
            message: `no connection free within ${p.pool.acquire_timeout_ms} ms` }
        } else {
          second.release() // not expected: the harness sees error null
        }
      } catch (err) {
        error = { kind: 'other', type: err.constructor.name, message: err.message }
      } finally {
        clearTimeout(timer)
      }
      const elapsed = Math.round(performance.now() - start)
      held.release()
      return { error, elapsed_ms: elapsed }
    }),

  pool_idle_timeout: (p) =>
    withSql(p.pool, async (sql) => {
      const summary = await burst(p.burst, () => sleep(sql, p.sleep_seconds))
      await checkpoint('after_burst') // the harness watches idle connections close meanwhile
      return { ...summary, idle_timeout_ms: sql.options.idle_timeout * 1000 }
    }),

  pool_recovery_terminate: (p) => recovery(p),
  pool_recovery_restart: (p) => recovery(p),

  // The same burst through a pool of each size: every request at once, half CPU-bound on the
  // server, half waiting; per request the wait for a pooled connection and the whole latency.
  story_pool_sizing: async (p) => {
    const results = []
    for (const size of p.sizes) {
      await checkpoint(`before_${size}`)
      const started = performance.now()
      // No acquire timeout in postgres.js: a request waits for a pooled connection as long as it
      // takes. Its connect timeout is lifted as the other examples lift their acquire timeout:
      // far above the cores, that many SCRAM logins at once on a busy server can outlast the
      // sample's 2 s, and the story measures the pool's waits, not this machine's logins.
      const timings = await withSql({ max: size, connect_timeout_ms: 120000 }, (sql) =>
        Promise.all(Array.from({ length: p.requests }, async (_, i) => {
          const start = performance.now()
          const acquired = await withReserved(sql, async (reserved) => {
            const at = performance.now()
            if (i % 2) await reserved`SELECT pg_sleep(${p.sleep_seconds})`
            else await reserved`SELECT sum(i) FROM generate_series(1, ${p.cpu_rows}) AS i`
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

  // The page's first story: params.services services, each with a pool of its own (the
  // sample's createSql, max params.pool.max), under one steady load: every wave_interval_ms each
  // service gets wave_size requests at once, long_per_wave of them a long query (work on the
  // server: a sum over long_rows rows, short_rows for the rest). A request whose connection the
  // server refuses (53300) is retried as a service would (postgres.js has no retry of its own):
  // params.retry's attempts, backing off backoff_ms, doubling, at most backoff_max_ms; its wait
  // and latency run from its first attempt. Refused at its last attempt, it is counted, not thrown.
  story_pool_exhaustion: async (p) => {
    const pools = Array.from({ length: p.services }, () => createSql(p.pool))
    const results = pools.map(() => ({ succeeded: 0, refused: 0, failed: 0, retries: 0, errors: [], wait_ms: [], latency_ms: [] }))
    const request = async (sql, result, rowCount) => {
      const start = performance.now()
      for (let attempt = 1; ; attempt++) {
        try {
          const acquired = await withReserved(sql, async (reserved) => {
            const at = performance.now() // the wait for a pooled connection ends here
            await reserved`SELECT sum(i) FROM generate_series(1, ${rowCount}) AS i`
            return at
          })
          result.wait_ms.push(ms(acquired - start))
          result.latency_ms.push(ms(performance.now() - start))
          result.succeeded++
          return
        } catch (err) {
          const refused = sqlstate(err) === '53300' // too many connections for role
          if (refused && attempt < p.retry.attempts) {
            result.retries++
            const backoff = Math.min(p.retry.backoff_ms * 2 ** (attempt - 1), p.retry.backoff_max_ms)
            await new Promise((resolve) => setTimeout(resolve, backoff))
            continue
          }
          if (refused) result.refused++
          else result.failed++
          const what = sqlstate(err) || err.message
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
        pools.forEach((sql, i) => {
          for (let j = 0; j < p.wave_size; j++) {
            requests.push(request(sql, results[i], j < p.long_per_wave ? p.long_rows : p.short_rows))
          }
        })
      }
      await Promise.all(requests)
      return { services: results, elapsed_ms: ms(performance.now() - started) }
    } finally {
      await Promise.all(pools.map((sql) => sql.end({ timeout: 5 })))
    }
  },

  // The page's cutover story, seen from a service: a steady stream of short write transactions.
  story_pause_resume_cutover: (p) => ledgerStream(p),
  story_pause_resume_limit: (p) => ledgerStream(p),

  no_pool_exhaustion: async (p) => {
    const pooled = await withSql(p.pool, (sql) => burst(p.requests, () => sleep(sql, p.sleep_seconds)))
    await checkpoint('after_pooled') // the pool is closed: the harness counts its connections
    // The pitfall the page warns about: a connection per request (an instance of one each).
    // postgres.js's own connect_timeout (30 s): the refusal, not a timeout, is what must show.
    const unpooled = await burst(p.requests, async () => {
      const single = postgres({ host: process.env.PGHOST || 'localhost', ssl: sslFromEnv(), max: 1 })
      try {
        await sleep(single, p.sleep_seconds)
      } finally {
        await single.end()
      }
    })
    return { pooled, unpooled }
  },

  // The backend's own view of the session; the pool keeps it open (idle) over the checkpoint
  // while the harness looks at pg_stat_ssl too.
  tls_verify_full: (p) =>
    withSql(p.pool, async (sql) => {
      const [row] = await sql`SELECT ssl, version, cipher FROM pg_stat_ssl WHERE pid = pg_backend_pid()`
      console.log(row)
      await checkpoint('connected')
      return { ...row }
    }),

  tls_wrong_ca: (p) => refusedConnect(p),
  tls_wrong_host: (p) => refusedConnect(p),
  plaintext_refused: (p) => refusedConnect(p),
  auth_wrong_password: (p) => refusedConnect(p),

  // sslFromEnv decides: PGSSLMODE is disable for one, verify-full for the other.
  connect_latency: (p) => connectLatency(p),
  connect_latency_tls: (p) => connectLatency(p),

  // Session state, for the PgBouncer matrix (docs/pgbouncer.md). postgres.js prepares each
  // query as a named statement of its connection and reuses it by its signature (text and
  // types); it names the statement itself (a random id and a count, e.g. 5tj9drsehjq1) and has no
  // API to name one (the manifest's statement_names: automatic). The one lookup, six times on one
  // reserved connection: prepared by the first, executed by that name after.
  prepared_statement_reuse: (p) =>
    withSql(p.pool, (sql) =>
      withReserved(sql, async (reserved) => {
        const results = []
        for (const id of p.ids) {
          results.push(rows(await reserved`SELECT id, name FROM users WHERE id = ${id}`))
          if (results.length === 1) await checkpoint('prepared') // the harness may replace server connections here
        }
        return { results }
      })
    ),

  // set_config(name, value, false) is SET for the session, with the value bound. Two reserved
  // connections: the first sets it, the second reads it, the first reads it back.
  session_set: (p) =>
    withSql(p.pool, (sql) =>
      withReserved(sql, (first) =>
        withReserved(sql, async (second) => {
          const read = async (db) => (await db`SELECT current_setting(${p.setting}, true) AS value`)[0].value
          await checkpoint('connected')
          await first`SELECT set_config(${p.setting}, ${p.value}, false)`
          const otherClientRead = await read(second)
          await checkpoint('before_read_back')
          return { read_back: await read(first), other_client_read: otherClientRead }
        })
      )
    ),

  // A session advisory lock: the first connection takes it, the second tries it, the first unlocks it.
  advisory_lock: (p) =>
    withSql(p.pool, (sql) =>
      withReserved(sql, (first) =>
        withReserved(sql, async (second) => {
          await checkpoint('connected')
          await first`SELECT pg_advisory_lock(${p.key})`
          const [tried] = await second`SELECT pg_try_advisory_lock(${p.key}) AS got`
          await checkpoint('before_unlock')
          const [unlocked] = await first`SELECT pg_advisory_unlock(${p.key}) AS released`
          return { other_client_got_it: tried.got, unlocked: unlocked.released }
        })
      )
    ),
}

// `writers` loops, each committing a ledger row with an id it made every interval_ms (a
// sql.begin). An id counts as acknowledged only once the commit returned; a failed
// transaction is reported with its error, never retried under the same id.
function ledgerStream(p) {
  return withSql(p.pool, async (sql) => {
    const report = { acknowledged: [], failed: [], latency_ms: [] }
    let streaming = true
    const writer = async (w) => {
      for (let n = 1; streaming; n++) {
        const id = w * 1000000 + n
        const start = performance.now()
        try {
          await sql.begin((tx) => tx`INSERT INTO ledger (id, writer) VALUES (${id}, ${w})`)
          report.acknowledged.push(id)
        } catch (err) {
          console.error(`transaction ${id} failed: ${err.code}: ${err.message}`)
          report.failed.push({ id, sqlstate: sqlstate(err), message: err.message })
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

// Backends killed (or the server restarted) between two bursts: postgres.js sees the
// connection close and opens a new one for the next query.
function recovery(p) {
  return withSql(p.pool, async (sql) => {
    const first = await burst(p.concurrency, () => sleep(sql, p.sleep_seconds))
    await checkpoint('between_bursts')
    const second = await burst(p.concurrency, () => sleep(sql, p.sleep_seconds))
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
