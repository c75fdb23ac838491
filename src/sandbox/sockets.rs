//! What a run's program listens on, read from the kernel's socket tables
//! (`/proc/net/tcp`, `udp` and their IPv6 twins). In the run's own network namespace every
//! socket there is the program's or the harness's; on the host's shared loopback only the
//! sockets the program's own processes hold count, found through their `/proc/PID/fd`
//! links (`socket:[INODE]`), so that what the program binds, on which address and port,
//! TCP or UDP, is known exactly either way.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::report::Proto;

/// A socket waiting for peers: a TCP listener or a bound UDP socket.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Listening {
    pub proto: Proto,
    pub addr: IpAddr,
    pub port: u16,
}

/// Whose sockets count.
pub enum Owner<'a> {
    /// Every socket of the calling thread's network namespace: in a run's own namespace,
    /// the program's and the harness's.
    Anyone,
    /// Only sockets these processes hold: on the host's shared tables, the program's own.
    Processes(&'a [i32]),
    /// Only sockets this user made: under uid isolation, exactly the program's (found
    /// without looking into its processes, which Docker's capabilities do not allow).
    User(u32),
}

/// What listens in the calling thread's network namespace (TCP in LISTEN, UDP bound and
/// unconnected), held by `owner`.
pub fn listening_sockets(owner: Owner) -> Vec<Listening> {
    let held = match owner {
        Owner::Processes(pids) => Some(socket_inodes(pids)),
        Owner::Anyone | Owner::User(_) => None,
    };
    let user = match owner {
        Owner::User(uid) => Some(uid.to_string()),
        _ => None,
    };
    let mut found = Vec::new();
    for (file, proto, state) in [
        ("tcp", Proto::Tcp, "0A"),
        ("tcp6", Proto::Tcp, "0A"),
        ("udp", Proto::Udp, "07"),
        ("udp6", Proto::Udp, "07"),
    ] {
        let Some(table) = read_proc(&format!("/proc/thread-self/net/{file}")) else {
            continue;
        };
        for line in table.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() < 4 || fields[3] != state {
                continue;
            }
            if proto == Proto::Udp && !fields[2].ends_with(":0000") {
                continue; // a connected UDP socket is not waiting for just anyone
            }
            // Field 7 is the uid that made the socket.
            if user
                .as_deref()
                .is_some_and(|uid| fields.get(7) != Some(&uid))
            {
                continue;
            }
            // Field 9 is the socket's inode, what /proc/PID/fd links name.
            let inode = fields.get(9).and_then(|i| i.parse::<u64>().ok());
            // A port held for the user is not the program listening.
            if user.is_some() && inode.is_some_and(super::ports::is_placeholder) {
                continue;
            }
            if let Some(held) = &held
                && !inode.is_some_and(|i| held.contains(&i))
            {
                continue;
            }
            if let Some((addr, port)) = parse_proc_addr(fields[1]) {
                found.push(Listening { proto, addr, port });
            }
        }
    }
    found.sort();
    found.dedup();
    found
}

/// The inodes of every socket the processes hold.
fn socket_inodes(pids: &[i32]) -> HashSet<u64> {
    let mut inodes = HashSet::new();
    for pid in pids {
        let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            if let Ok(link) = std::fs::read_link(fd.path())
                && let Some(inode) = link
                    .to_str()
                    .and_then(|l| l.strip_prefix("socket:["))
                    .and_then(|l| l.strip_suffix(']'))
                    .and_then(|i| i.parse().ok())
            {
                inodes.insert(inode);
            }
        }
    }
    inodes
}

/// Reads a /proc table in large reads: it reports size 0, so a size-guided read would take
/// many small ones, and each makes the kernel walk its socket table again.
fn read_proc(path: &str) -> Option<String> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).ok()?;
    let mut data = Vec::with_capacity(64 << 10);
    let mut buf = vec![0u8; 64 << 10];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => data.extend_from_slice(&buf[..n]),
            Err(_) => return None,
        }
    }
    String::from_utf8(data).ok()
}

/// `0100007F:1F40` (IPv4) or 32 hex digits (IPv6), each 32-bit word in host byte order.
fn parse_proc_addr(field: &str) -> Option<(IpAddr, u16)> {
    let (addr, port) = field.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let words: Option<Vec<u32>> = (0..addr.len() / 8)
        .map(|i| u32::from_str_radix(&addr[i * 8..i * 8 + 8], 16).ok())
        .collect();
    let words = words?;
    let ip = match words.as_slice() {
        [w] => IpAddr::V4(Ipv4Addr::from(w.to_ne_bytes())),
        [a, b, c, d] => {
            let mut bytes = [0u8; 16];
            for (i, w) in [a, b, c, d].iter().enumerate() {
                bytes[i * 4..i * 4 + 4].copy_from_slice(&w.to_ne_bytes());
            }
            IpAddr::V6(Ipv6Addr::from(bytes))
        }
        _ => return None,
    };
    Some((ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_net_addresses() {
        assert_eq!(
            parse_proc_addr("0100007F:1F40"),
            Some((IpAddr::V4(Ipv4Addr::LOCALHOST), 8000))
        );
        assert_eq!(
            parse_proc_addr("00000000000000000000000001000000:2328"),
            Some((IpAddr::V6(Ipv6Addr::LOCALHOST), 9000))
        );
    }
}
