//! Accept loop: binds every `bind` address on `port`, enforces maxclients and protected
//! mode, spawns a task per connection.

use crate::client::ClientState;
use crate::shared::Shared;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpSocket};

/// Binds the configured addresses. A `-` prefix marks an address that may be unavailable
/// (Redis's `bind 127.0.0.1 -::1`).
pub fn bind_all(shared: &Shared) -> std::io::Result<Vec<TcpListener>> {
    let config = shared.config();
    let out = bind_addrs(&config.bind, config.port)?;
    let addrs: Vec<SocketAddr> = out.iter().filter_map(|l| l.local_addr().ok()).collect();
    *shared.listen_addrs.lock() = addrs;
    Ok(out)
}

/// Binds every `bind` address (Redis syntax; empty means `* -::*`) on `port`. Shared by
/// the RESP and the Kafka listeners so both follow the same `bind` rules.
pub fn bind_addrs(bind: &[String], mut port: u16) -> std::io::Result<Vec<TcpListener>> {
    let mut out = Vec::new();
    let binds = if bind.is_empty() {
        vec!["*".to_string(), "-::*".to_string()]
    } else {
        bind.to_vec()
    };
    for b in &binds {
        let (optional, host) = match b.strip_prefix('-') {
            Some(h) => (true, h),
            None => (false, b.as_str()),
        };
        let ip: IpAddr = match host {
            "*" => "0.0.0.0".parse().expect("invariant: literal"),
            "::*" => "::".parse().expect("invariant: literal"),
            h => match h.parse() {
                Ok(ip) => ip,
                Err(_) if optional => continue,
                Err(e) => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidInput,
                        format!("bad bind address {h}: {e}"),
                    ))
                }
            },
        };
        let addr = SocketAddr::new(ip, port);
        let sock = if ip.is_ipv4() {
            TcpSocket::new_v4()
        } else {
            TcpSocket::new_v6()
        };
        let res = sock.and_then(|s| {
            s.set_reuseaddr(true)?;
            s.bind(addr)?;
            s.listen(511)
        });
        match res {
            Ok(l) => {
                // port 0: the first bind picks the port, the others follow it.
                if port == 0 {
                    port = l.local_addr()?.port();
                }
                out.push(l);
            }
            Err(_) if optional => continue,
            Err(e) => {
                return Err(std::io::Error::new(
                    e.kind(),
                    format!("Could not create server TCP listening socket {addr}: {e}"),
                ))
            }
        }
    }
    Ok(out)
}

/// Accepts connections until shutdown.
pub async fn accept_loop(shared: Arc<Shared>, listener: TcpListener) {
    loop {
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!("accept: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                }
            },
            _ = shared.shutdown.notified() => return,
        };
        let _ = stream.set_nodelay(true);
        shared
            .stats
            .total_connections_received
            .fetch_add(1, Ordering::Relaxed);
        let config = shared.config();
        if config.tcp_keepalive > 0 {
            let ka = socket2::TcpKeepalive::new()
                .with_time(std::time::Duration::from_secs(config.tcp_keepalive));
            let _ = socket2::SockRef::from(&stream).set_tcp_keepalive(&ka);
        }
        let laddr = stream.local_addr().unwrap_or(peer);
        let mut stream = stream;
        if shared.stats.connected_clients.load(Ordering::Relaxed) >= config.maxclients {
            shared
                .stats
                .rejected_connections
                .fetch_add(1, Ordering::Relaxed);
            let _ = stream
                .write_all(b"-ERR max number of clients reached\r\n")
                .await;
            continue;
        }
        // Redis 7.0 applies protected mode whatever `bind` says: only the default user
        // having no password matters.
        if config.protected_mode && config.requirepass.is_none() && !is_local(peer.ip()) {
            shared
                .stats
                .rejected_connections
                .fetch_add(1, Ordering::Relaxed);
            let _ = stream.write_all(PROTECTED_MODE_ERR.as_bytes()).await;
            continue;
        }
        let client = ClientState::new(&shared, peer, laddr);
        // Registered before the task starts so back-to-back accepts see each other
        // (maxclients).
        shared.register_client(client.handle.clone());
        tokio::spawn(crate::conn::serve(shared.clone(), stream, client));
    }
}

/// Redis's connIsLocal: loopback, including IPv4-mapped IPv6 loopback.
fn is_local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

const PROTECTED_MODE_ERR: &str = "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";
