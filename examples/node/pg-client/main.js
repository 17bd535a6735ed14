'use strict'
// The page's "pg (raw driver)" sample, runnable: one Client per scenario (connect, query, end).
// The harness picks the scenario (HARNESS_SCENARIO) and its parameters (HARNESS_PARAMS);
// the connection comes from the standard PG* variables. stdout carries only the JSON result
// line; what the page's sample prints goes to stderr.
const fs = require('fs')
const readline = require('readline')
const { Client, DatabaseError, types } = require('pg')

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

// The page's sample, which every scenario runs through: withClient(work) connects, runs `work`
// (the page's own query by default) and ends the client.
// [START node_pg_client]
function newClient() {
  return new Client({
    host: process.env.PGHOST || 'localhost',
    port: Number(process.env.PGPORT || 5432),
    database: process.env.PGDATABASE || 'mydb',
    user: process.env.PGUSER || 'postgres',
    password: process.env.PGPASSWORD || 'secret',
    ssl: sslFromEnv(), // TLS as PGSSLMODE and PGSSLROOTCERT say
  })
}

async function selectNow(client) {
  const res = await client.query('SELECT NOW()')
  console.log(res.rows[0])
  return res.rows[0]
}

// finally: the connection is closed even when the connect or a query fails.
async function withClient(work = selectNow) {
  const client = newClient()
  try {
    await client.connect()
    return await work(client)
  } finally {
    await client.end()
  }
}
// [END node_pg_client]

console.log = console.error // stdout is the harness's (emit, below): the sample logs to stderr

const USER_ROWS = 'SELECT id, name FROM users'
const INSERT_USER = 'INSERT INTO users (id, name, active) VALUES ($1, $2, $3)'
const OWN_SSL_ROW = 'SELECT ssl, version, cipher FROM pg_stat_ssl WHERE pid = pg_backend_pid()'

// Runs `sql` and returns the SQLSTATE it fails with; succeeding is a bug in the scenario.
async function sqlstateOf(client, sql, values) {
  try {
    await client.query(sql, values)
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

// Connect (and SELECT 1) where the driver or the server must refuse; the error is the result.
async function refusedConnect() {
  const start = performance.now()
  let error
  try {
    await withClient((client) => client.query('SELECT 1'))
    error = { kind: 'none', type: 'none', sqlstate: null, message: 'connected' }
  } catch (err) {
    console.error(`connect failed: ${err.code}: ${err.message}`)
    error = connectError(err)
  }
  return { error, elapsed_ms: ms(performance.now() - start) }
}

// The cost of a new connection (connect() until it resolves: TCP, TLS when PGSSLMODE asks,
// SCRAM, backend start) against a query on an open one.
async function connectLatency(p) {
  const connectMs = []
  for (let i = 0; i < p.connections; i++) {
    const client = newClient() // reads the CA file outside the timing
    const start = performance.now()
    await client.connect()
    connectMs.push(ms(performance.now() - start))
    await client.end()
  }
  const queryMs = await withClient(async (client) => {
    const times = []
    for (let i = 0; i < p.queries; i++) {
      const start = performance.now()
      await client.query('SELECT 1')
      times.push(ms(performance.now() - start))
    }
    return times
  })
  return { connect_ms: connectMs, query_ms: queryMs, pooled: false }
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
  connect_now: async () => ({ now: (await withClient(selectNow)).now.toISOString() }),

  select_rows: () =>
    withClient(async (client) => ({ rows: (await client.query(`${USER_ROWS} ORDER BY id`)).rows })),

  active_users: () =>
    withClient(async (client) => ({ rows: (await client.query(`${USER_ROWS} WHERE active ORDER BY id`)).rows })),

  related_rows: () => withClient(async (client) => ({ users: await usersWithHoldings(client) })),

  // Values travel as bind parameters ($1), never spliced into the SQL text.
  param_query: (p) =>
    withClient(async (client) => {
      const byId = (await client.query(`${USER_ROWS} WHERE id = $1`, [p.id])).rows
      const byName = []
      for (const name of p.names) {
        byName.push((await client.query(`${USER_ROWS} WHERE name = $1 ORDER BY id`, [name])).rows)
      }
      return { by_id: byId, by_name: byName }
    }),

  transaction: (p) =>
    withClient(async (client) => {
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
    }),

  // Outside a transaction an error leaves the connection usable: the last query proves it.
  error_sqlstate: (p) =>
    withClient(async (client) => ({
      unique_violation: await sqlstateOf(client, INSERT_USER, [p.duplicate_id, 'duplicate probe', true]),
      syntax_error: await sqlstateOf(client, p.bad_sql),
      after: (await client.query('SELECT 1 AS one')).rows[0].one,
    })),

  types: (p) =>
    withClient(async (client) => {
      const v = p.values
      await client.query(
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
      const r = (await client.query('SELECT * FROM type_probe ORDER BY id DESC LIMIT 1')).rows[0]
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

  // The backend's own view of the session, read while the harness looks at pg_stat_ssl too.
  tls_verify_full: () =>
    withClient(async (client) => {
      const row = (await client.query(OWN_SSL_ROW)).rows[0]
      console.error(row)
      await checkpoint('connected')
      return row
    }),

  tls_wrong_ca: () => refusedConnect(),
  tls_wrong_host: () => refusedConnect(),
  plaintext_refused: () => refusedConnect(),
  auth_wrong_password: () => refusedConnect(),

  // sslFromEnv decides: PGSSLMODE is disable for one, verify-full for the other.
  connect_latency: (p) => connectLatency(p),
  connect_latency_tls: (p) => connectLatency(p),

  // Session state, for the PgBouncer matrix (docs/pgbouncer.md): a statement prepared by name
  // and a session setting live in one server session, which transaction pooling does not keep.
  // A query config with a `name` is parsed once per connection, then executed by that name.
  prepared_statement_reuse: (p) =>
    withClient(async (client) => {
      const results = []
      for (const id of p.ids) {
        results.push((await client.query({ name: p.name, text: `${USER_ROWS} WHERE id = $1`, values: [id] })).rows)
        if (results.length === 1) await checkpoint('prepared') // the harness may replace server connections here
      }
      return { results }
    }),

  // set_config(name, value, false) is SET for the session, with the value bound. Client 1
  // sets it, client 2 reads it, client 1 reads it back; at the checkpoints the harness may
  // replace server connections.
  session_set: (p) =>
    withClient((first) =>
      withClient(async (second) => {
        const read = async (client) =>
          (await client.query('SELECT current_setting($1, true) AS value', [p.setting])).rows[0].value
        await checkpoint('connected')
        await first.query('SELECT set_config($1, $2, false)', [p.setting, p.value])
        const otherClientRead = await read(second)
        await checkpoint('before_read_back')
        return { read_back: await read(first), other_client_read: otherClientRead }
      })
    ),

  // A session advisory lock: client 1 takes it, client 2 tries it, client 1 unlocks it.
  advisory_lock: (p) =>
    withClient((first) =>
      withClient(async (second) => {
        await checkpoint('connected')
        await first.query('SELECT pg_advisory_lock($1)', [p.key])
        const tried = await second.query('SELECT pg_try_advisory_lock($1) AS got', [p.key])
        await checkpoint('before_unlock')
        const unlocked = await first.query('SELECT pg_advisory_unlock($1) AS released', [p.key])
        return { other_client_got_it: tried.rows[0].got, unlocked: unlocked.rows[0].released }
      })
    ),
}

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
