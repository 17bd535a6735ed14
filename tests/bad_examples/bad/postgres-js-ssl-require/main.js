'use strict'
// Deliberately wrong: libpq's sslmode=verify-full "mapped" onto postgres.js's string mode
// 'require', which postgres.js turns into rejectUnauthorized: false (encryption, no check of
// the CA or the host name). Otherwise as examples/node/postgres-js does it.
const postgres = require('postgres')

async function main() {
  const scenario = process.env.HARNESS_SCENARIO
  if (scenario !== 'tls_wrong_ca' && scenario !== 'tls_wrong_host') {
    console.error(`unknown scenario: ${scenario}`)
    process.exitCode = 2
    return
  }
  const mode = process.env.PGSSLMODE
  const sql = postgres({ host: process.env.PGHOST, ssl: mode && mode !== 'disable' ? 'require' : false, max: 1 })
  let error
  try {
    await sql`SELECT 1`
    error = { kind: 'none', type: 'none', sqlstate: null, message: 'connected' }
  } catch (err) {
    error = { kind: 'other', type: err.constructor.name, sqlstate: null, message: err.message }
  } finally {
    await sql.end()
  }
  process.stdout.write(JSON.stringify({ type: 'result', scenario, data: { error } }) + '\n')
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
