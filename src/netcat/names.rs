//! Addresses in and out: what the user typed, resolved (numerically only with -n), and the
//! lines OpenBSD nc prints with -v, with addresses named from /etc/hosts unless -n.
//!
//! OpenBSD nc 1.219 (Debian), as observed on loopback:
//! ```text
//! $ nc -lnv 9000                    $ nc -v 127.0.0.1 9000
//! Listening on 0.0.0.0 9000         Connection to 127.0.0.1 9000 port [tcp/*] succeeded!
//! Connection received on 127.0.0.1 54321
//! $ nc -ulnv 9000                   $ nc -v localhost 8080
//! Bound on 0.0.0.0 9000             Connection to localhost (127.0.0.1) 8080 port [tcp/http-alt] succeeded!
//! Connection received on 127.0.0.1 39589
//! $ nc 127.0.0.1 1
//! nc: connect to 127.0.0.1 port 1 (tcp) failed: Connection refused
//! ```

use std::ffi::CStr;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};

use super::NcError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    Tcp,
    Udp,
}

impl Proto {
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

/// The addresses `host` stands for: a numeric address as it is; otherwise, unless `numeric`
/// (-n) forbids it, what the system's resolver says (`localhost` through /etc/hosts).
pub fn resolve(host: &str, port: u16, numeric: bool) -> Result<Vec<SocketAddr>, NcError> {
    let literal = host.strip_prefix('[').and_then(|h| h.strip_suffix(']'));
    if let Ok(ip) = literal.unwrap_or(host).parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    if numeric {
        return Err(NcError::Failed(format!(
            "\"{host}\" is not a numeric address, and -n forbids looking names up"
        )));
    }
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| NcError::Failed(format!("cannot resolve host \"{host}\": {e}")))?
        .collect();
    if addrs.is_empty() {
        return Err(NcError::Failed(format!("host \"{host}\" has no address")));
    }
    Ok(addrs)
}

/// Where to listen: the address given, or every IPv4 address (OpenBSD nc's default).
pub fn listen_addr(host: Option<&str>, port: u16, numeric: bool) -> Result<SocketAddr, NcError> {
    match host {
        Some(host) => Ok(resolve(host, port, numeric)?[0]),
        None => Ok(SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), port)),
    }
}

/// `Listening on 0.0.0.0 9000` (TCP) or `Bound on 0.0.0.0 9000` (UDP).
pub fn listening(local: SocketAddr, proto: Proto, numeric: bool) -> String {
    let verb = match proto {
        Proto::Tcp => "Listening",
        Proto::Udp => "Bound",
    };
    format!(
        "{verb} on {} {}",
        host_name(local.ip(), numeric),
        local.port()
    )
}

/// `Connection received on 127.0.0.1 54321`.
pub fn received(peer: SocketAddr, numeric: bool) -> String {
    format!(
        "Connection received on {} {}",
        host_name(peer.ip(), numeric),
        peer.port()
    )
}

/// `Connection to 127.0.0.1 9000 port [tcp/*] succeeded!`; without -n the address follows a
/// name (`localhost (127.0.0.1)`) and the port's service is named (`[tcp/http-alt]`).
pub fn succeeded(host: &str, addr: SocketAddr, proto: Proto, numeric: bool) -> String {
    let service = if numeric {
        None
    } else {
        service_name(addr.port(), proto)
    };
    format!(
        "Connection to {} {} port [{}/{}] succeeded!",
        target(host, addr.ip(), numeric),
        addr.port(),
        proto.as_str(),
        service.as_deref().unwrap_or("*")
    )
}

/// `connect to 127.0.0.1 port 1 (tcp) failed: Connection refused`.
pub fn connect_failed(
    host: &str,
    addr: SocketAddr,
    proto: Proto,
    numeric: bool,
    e: &io::Error,
) -> NcError {
    NcError::Failed(format!(
        "connect to {} port {} ({}) failed: {}",
        target(host, addr.ip(), numeric),
        addr.port(),
        proto.as_str(),
        plain(e)
    ))
}

/// `bind to 0.0.0.0 port 9000 (tcp) failed: Address already in use`.
pub fn bind_failed(addr: SocketAddr, proto: Proto, e: &io::Error) -> NcError {
    NcError::Failed(format!(
        "bind to {} port {} ({}) failed: {}",
        addr.ip(),
        addr.port(),
        proto.as_str(),
        plain(e)
    ))
}

/// The host as typed, followed by the address it resolved to when they differ (not with -n).
fn target(host: &str, ip: IpAddr, numeric: bool) -> String {
    if numeric || host == ip.to_string() {
        host.to_string()
    } else {
        format!("{host} ({ip})")
    }
}

/// An error as strerror says it (`Connection refused`), without Rust's `(os error 111)`.
pub fn plain(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => nix::errno::Errno::from_raw(code).desc().to_string(),
        None => e.to_string(),
    }
}

/// The name /etc/hosts gives `ip` (127.0.0.1 is `localhost`), or the number: with -n, when
/// there is none, and for the wildcard address. OpenBSD nc asks the resolver, and so DNS for
/// an address /etc/hosts does not know (::1 here); socklab nc never looks names up in
/// reverse over the network, so a -v line costs no query and no wait in a sandbox without
/// DNS, and reads the same as OpenBSD's wherever /etc/hosts answers.
fn host_name(ip: IpAddr, numeric: bool) -> String {
    if numeric || ip.is_unspecified() {
        return ip.to_string();
    }
    let hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
    hosts_name(ip, &hosts).unwrap_or_else(|| ip.to_string())
}

/// The first name of the first line of a hosts file that is about `ip`.
fn hosts_name(ip: IpAddr, hosts: &str) -> Option<String> {
    hosts.lines().find_map(|line| {
        let line = line.split('#').next().unwrap_or_default();
        let mut fields = line.split_whitespace();
        let addr: IpAddr = fields.next()?.parse().ok()?;
        if addr == ip {
            fields.next().map(str::to_string)
        } else {
            None
        }
    })
}

/// The service /etc/services names for `port` (`http-alt` for 8080/tcp), if any. Call it
/// before other threads start: getservbyport returns a static buffer.
fn service_name(port: u16, proto: Proto) -> Option<String> {
    let proto_name: &CStr = match proto {
        Proto::Tcp => c"tcp",
        Proto::Udp => c"udp",
    };
    // SAFETY: the protocol name is NUL-terminated; the returned entry is read at once, on
    // the only thread that calls getservbyport.
    unsafe {
        let entry = libc::getservbyport(i32::from(port.to_be()), proto_name.as_ptr());
        if entry.is_null() || (*entry).s_name.is_null() {
            return None;
        }
        Some(
            CStr::from_ptr((*entry).s_name)
                .to_string_lossy()
                .into_owned(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    /// The lines OpenBSD nc printed with -n, word for word.
    #[test]
    fn numeric_lines_match_openbsd() {
        assert_eq!(
            listening(addr("0.0.0.0:9000"), Proto::Tcp, true),
            "Listening on 0.0.0.0 9000"
        );
        assert_eq!(
            listening(addr("0.0.0.0:9000"), Proto::Udp, true),
            "Bound on 0.0.0.0 9000"
        );
        assert_eq!(
            received(addr("127.0.0.1:54321"), true),
            "Connection received on 127.0.0.1 54321"
        );
        assert_eq!(
            succeeded("127.0.0.1", addr("127.0.0.1:9000"), Proto::Tcp, true),
            "Connection to 127.0.0.1 9000 port [tcp/*] succeeded!"
        );
        assert_eq!(
            succeeded("::1", addr("[::1]:9000"), Proto::Udp, true),
            "Connection to ::1 9000 port [udp/*] succeeded!"
        );
        let refused = io::Error::from_raw_os_error(libc::ECONNREFUSED);
        assert_eq!(
            connect_failed("127.0.0.1", addr("127.0.0.1:1"), Proto::Tcp, true, &refused)
                .to_string(),
            "connect to 127.0.0.1 port 1 (tcp) failed: Connection refused"
        );
    }

    /// Without -n a name comes with its address, as OpenBSD nc writes it.
    #[test]
    fn named_target() {
        assert_eq!(
            target("localhost", "127.0.0.1".parse().unwrap(), false),
            "localhost (127.0.0.1)"
        );
        assert_eq!(
            target("127.0.0.1", "127.0.0.1".parse().unwrap(), false),
            "127.0.0.1"
        );
        assert_eq!(
            target("localhost", "127.0.0.1".parse().unwrap(), true),
            "localhost"
        );
    }

    /// Reverse names come from the hosts file: the first line about the address, comments
    /// and other addresses skipped.
    #[test]
    fn names_from_the_hosts_file() {
        let hosts = "# 127.0.0.1 commented\n::1 ip6-localhost ip6-loopback\n\
                     127.0.0.1\tlocalhost\n127.0.0.1 vm\nnot-an-address name\n";
        let name = |ip: &str| hosts_name(ip.parse().unwrap(), hosts);
        assert_eq!(name("127.0.0.1").as_deref(), Some("localhost"));
        assert_eq!(name("::1").as_deref(), Some("ip6-localhost"));
        assert_eq!(name("10.0.0.1"), None);
    }

    /// -n refuses names without asking any resolver; numbers pass, bracketed IPv6 too.
    #[test]
    fn numeric_resolution() {
        assert_eq!(
            resolve("127.0.0.1", 9, true).unwrap(),
            vec![addr("127.0.0.1:9")]
        );
        assert_eq!(resolve("[::1]", 9, true).unwrap(), vec![addr("[::1]:9")]);
        let e = resolve("localhost", 9, true).unwrap_err().to_string();
        assert!(e.contains("-n"), "{e}");
    }
}
