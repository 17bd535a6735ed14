// Go crypto/tls's own wording of a refused server certificate: dials host:port as host,
// trusting only the CA file; prints the error.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
)

func main() {
	host, port, caFile := os.Args[1], os.Args[2], os.Args[3]
	pem, err := os.ReadFile(caFile)
	if err != nil {
		panic(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	conn, err := tls.Dial("tcp", host+":"+port, &tls.Config{RootCAs: roots, ServerName: host})
	if err != nil {
		fmt.Println(err)
		return
	}
	conn.Close()
	fmt.Println("accepted")
}
