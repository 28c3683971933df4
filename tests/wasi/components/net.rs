//! Sockets through wasi:sockets (WASI 0.2 only). Modes:
//! tcp | udp | lookup HOST. Prints what worked and, for what failed, the
//! error kind, so that runs with and without network access can be compared.
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream, ToSocketAddrs, UdpSocket};

fn tcp() -> std::io::Result<()> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    let addr = listener.local_addr()?;
    println!("tcp: listening on loopback (port chosen: {})", addr.port() != 0);
    let mut client = TcpStream::connect(addr)?;
    let (mut server, peer) = listener.accept()?;
    println!("tcp: accepted a connection from {}", peer.ip());
    client.write_all(b"ping from the client")?;
    client.shutdown(std::net::Shutdown::Write)?;
    let mut got = String::new();
    server.read_to_string(&mut got)?;
    println!("tcp: server received {got:?}");
    server.write_all(&vec![b'x'; 1 << 20])?;
    drop(server);
    let mut reply = Vec::new();
    client.read_to_end(&mut reply)?;
    println!("tcp: client received {} bytes", reply.len());
    Ok(())
}

fn udp() -> std::io::Result<()> {
    let a = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
    let b = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
    a.send_to(b"datagram", b.local_addr()?)?;
    let mut buf = [0; 64];
    let (n, from) = b.recv_from(&mut buf)?;
    println!(
        "udp: received {:?} from the first socket: {}",
        String::from_utf8_lossy(&buf[..n]),
        from == a.local_addr()?
    );
    Ok(())
}

fn lookup(host: &str) -> std::io::Result<()> {
    let found: Vec<_> = (host, 80).to_socket_addrs()?.collect();
    let loopback = found.iter().any(|a| a.ip().is_loopback());
    println!("lookup {host}: {} addresses, loopback among them: {loopback}", found.len().min(1));
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let result = match args.get(1).map(String::as_str) {
        Some("tcp") => tcp(),
        Some("udp") => udp(),
        Some("lookup") => lookup(args.get(2).map_or("localhost", String::as_str)),
        other => {
            eprintln!("unknown mode {other:?}");
            std::process::exit(2);
        }
    };
    if let Err(e) = result {
        println!("refused: {:?}", e.kind());
        std::process::exit(1);
    }
}
