// Node's own wording of a refused server certificate (tls.connect, as node-postgres and
// postgres.js use it): connects to host:port as host, trusting only the CA file.
const tls = require('tls')
const fs = require('fs')
const [host, port, ca] = process.argv.slice(2)
const socket = tls.connect({ host, port: Number(port), ca: fs.readFileSync(ca), servername: undefined })
socket.on('secureConnect', () => { console.log('accepted'); socket.end() })
socket.on('error', (e) => console.log(`${e.code}: ${e.message}`))
