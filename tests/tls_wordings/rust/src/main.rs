// rustls's own wording of a refused server certificate: connects to argv[1]:argv[2] as
// argv[1] (an IP address or a name), trusting only the CA in argv[3]; prints the error.
use std::io::{BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (host, port, ca) = (&args[1], &args[2], &args[3]);
    let mut roots = rustls::RootCertStore::empty();
    let mut pem = BufReader::new(std::fs::File::open(ca).expect("the CA file"));
    for cert in rustls_pemfile::certs(&mut pem) {
        roots.add(cert.expect("a PEM certificate")).expect("a CA certificate");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions().unwrap()
        .with_root_certificates(roots).with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from(host.clone()).expect("a server name");
    let mut conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let mut sock = TcpStream::connect(format!("{host}:{port}")).expect("TCP");
    let mut tls = rustls::Stream::new(&mut conn, &mut sock);
    let outcome = tls.write_all(b"x").and_then(|_| tls.read(&mut [0u8; 1]).map(|_| ()));
    match outcome {
        Ok(()) => println!("accepted"),
        Err(e) => println!("{e}"),
    }
}
