'use strict'
// Deliberately wrong: a reserved connection (sql.reserve(), which has no sql.begin) runs
// BEGIN by hand, a statement fails, and release() in finally hands the connection back to the
// pool still inside the failed transaction: the next query through the pool gets 25P02.
// examples/node/postgres-js rolls back before it releases.
const readline = require('readline')
const postgres = require('postgres')

const emit = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')
const stdin = readline.createInterface({ input: process.stdin })
const lines = stdin[Symbol.asyncIterator]()
async function checkpoint(name) {
  emit({ type: 'checkpoint', name })
  await lines.next()
}

async function main() {
  const scenario = process.env.HARNESS_SCENARIO
  if (scenario !== 'pool_release_on_error') {
    console.error(`unknown scenario: ${scenario}`)
    process.exitCode = 2
    return
  }
  const p = JSON.parse(process.env.HARNESS_PARAMS || '{}')
  const sql = postgres({ host: process.env.PGHOST, max: p.pool?.max ?? 1 })
  const insert = (db, id) => db`INSERT INTO users (id, name, active) VALUES (${id}, ${`${p.name_prefix} ${id}`}, true)`
  let pid, failedSqlstate, after
  const reserved = await sql.reserve()
  try {
    pid = (await reserved`SELECT pg_backend_pid() AS pid`)[0].pid
    await reserved`BEGIN`
    await insert(reserved, p.row_id)
    await insert(reserved, p.duplicate_id) // taken: 23505
    await reserved`COMMIT`
  } catch (err) {
    failedSqlstate = err.code
  } finally {
    reserved.release() // the mistake: no ROLLBACK first
  }
  await checkpoint('after_error')
  try {
    after = (await sql`SELECT 1 AS one`)[0].one
  } catch (err) {
    console.error(`the next borrower: ${err.code}: ${err.message}`)
    after = null
  }
  await sql.end()
  await checkpoint('after_close')
  emit({ type: 'result', scenario, data: { pid, failed_sqlstate: failedSqlstate, after } })
  stdin.close()
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
