//! What a run's program listens on, read from the kernel's socket tables
//! (`/proc/net/tcp`, `udp` and their IPv6 twins). In the run's own network namespace every
//! socket there is the program's or the harness's; on the host's shared loopback only the
//! sockets the program's own processes hold count, found through their `/proc/PID/fd`
//! links (`socket:[INODE]`), so that what the program binds, on which address and port,
//! TCP or UDP, is known exactly either way.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

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
    let mut found: Vec<Listening> = table_entries(&[Proto::Tcp, Proto::Udp])
        .into_iter()
        .filter(|e| match e.proto {
            Proto::Tcp => e.state == TCP_LISTEN,
            // A connected UDP socket is not waiting for just anyone.
            Proto::Udp => e.state == UDP_UNCONNECTED && e.remote.port() == 0,
        })
        .filter(|e| match owner {
            // A port held for the user (see `ports`) is not the program listening.
            Owner::User(uid) => e.uid == uid && !super::ports::is_placeholder(e.inode),
            _ => true,
        })
        .filter(|e| held.as_ref().is_none_or(|held| held.contains(&e.inode)))
        .map(|e| Listening {
            proto: e.proto,
            addr: e.local.ip(),
            port: e.local.port(),
        })
        .collect();
    found.sort();
    found.dedup();
    found
}

/// A socket as the kernel's tables show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableEntry {
    pub proto: Proto,
    /// Addresses with IPv4-mapped IPv6 ones (a dual-stack socket's) as IPv4.
    pub local: SocketAddr,
    pub remote: SocketAddr,
    /// The kernel's state number (`TCP_ESTABLISHED` is 1, `TCP_LISTEN` 10).
    pub state: u8,
    /// Received and not yet read: bytes on a TCP connection (connections waiting to be
    /// accepted, on a listener); memory the queued datagrams take, on UDP.
    pub rx_queue: u64,
    /// The uid that made the socket.
    pub uid: u32,
    /// The socket's inode: 0 for a connection no process holds a descriptor for (one
    /// waiting in a listener's queue to be accepted, or one already closed).
    pub inode: u64,
}

const TCP_ESTABLISHED: u8 = 1;
const TCP_LISTEN: u8 = 10;
const UDP_UNCONNECTED: u8 = 7;

impl TableEntry {
    /// A TCP connection still open on this side.
    pub fn established(&self) -> bool {
        self.state == TCP_ESTABLISHED
    }
}

/// The TCP connection whose own end is `local` and whose peer is `remote`, if the calling
/// thread's network namespace has it (an IPv6 socket of a dual-stack program included).
/// Asked of the kernel by its addresses (sock_diag), which finds it at once, where reading
/// `/proc/net/tcp` walks the whole table of connections (milliseconds).
pub fn tcp_connection(local: SocketAddr, remote: SocketAddr) -> Option<TableEntry> {
    let mapped = |a: SocketAddr| match a {
        SocketAddr::V4(v4) => SocketAddr::new(IpAddr::V6(v4.ip().to_ipv6_mapped()), v4.port()),
        v6 => v6,
    };
    sock_diag::tcp(local, remote)
        .or_else(|| sock_diag::tcp(mapped(local), mapped(remote)))
        .filter(|e| e.state != TCP_LISTEN)
}

/// The UDP socket bound to `local` (or to all addresses at its port). Never a placeholder
/// holding the port (the uid level's): once the program's socket is gone, the placeholder's
/// empty queue would say the program read what it left unread.
pub fn udp_socket(local: SocketAddr) -> Option<TableEntry> {
    let entries = table_entries(&[Proto::Udp]);
    let at_port = |e: &&TableEntry| {
        e.local.port() == local.port() && !super::ports::is_placeholder(e.inode)
    };
    entries
        .iter()
        .filter(at_port)
        .find(|e| e.local.ip() == local.ip())
        .or_else(|| {
            entries
                .iter()
                .filter(at_port)
                .find(|e| e.local.ip().is_unspecified())
        })
        .cloned()
}

/// Every socket of `protos` in the calling thread's network namespace.
fn table_entries(protos: &[Proto]) -> Vec<TableEntry> {
    let mut found = Vec::new();
    for &proto in protos {
        let files: [&str; 2] = match proto {
            Proto::Tcp => ["tcp", "tcp6"],
            Proto::Udp => ["udp", "udp6"],
        };
        for file in files {
            let Some(table) = read_proc(&format!("/proc/thread-self/net/{file}")) else {
                continue;
            };
            found.extend(table.lines().skip(1).filter_map(|l| parse_entry(proto, l)));
        }
    }
    found
}

/// One line of a table: `sl local rem st tx_queue:rx_queue tr:when retrnsmt uid timeout
/// inode ...`.
fn parse_entry(proto: Proto, line: &str) -> Option<TableEntry> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let (local_ip, local_port) = parse_proc_addr(fields.get(1)?)?;
    let (remote_ip, remote_port) = parse_proc_addr(fields.get(2)?)?;
    let state = u8::from_str_radix(fields.get(3)?, 16).ok()?;
    let rx_queue = u64::from_str_radix(fields.get(4)?.split_once(':')?.1, 16).ok()?;
    Some(TableEntry {
        proto,
        local: SocketAddr::new(plain(local_ip), local_port),
        remote: SocketAddr::new(plain(remote_ip), remote_port),
        state,
        rx_queue,
        uid: fields.get(7)?.parse().ok()?,
        inode: fields.get(9)?.parse().ok()?,
    })
}

/// An IPv4-mapped IPv6 address as the IPv4 address it is.
fn plain(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
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

/// One socket looked up by its addresses through the kernel's sock_diag netlink interface
/// (linux/inet_diag.h).
mod sock_diag {
    use std::net::{IpAddr, SocketAddr};
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

    use super::{TableEntry, plain};
    use crate::report::Proto;

    const SOCK_DIAG_BY_FAMILY: u16 = 20;
    const INET_DIAG_NOCOOKIE: u32 = !0;

    #[repr(C)]
    #[derive(Clone, Copy, Default)]
    struct SockId {
        sport: [u8; 2],
        dport: [u8; 2],
        src: [u8; 16],
        dst: [u8; 16],
        interface: u32,
        cookie: [u32; 2],
    }

    #[repr(C)]
    struct Request {
        header: libc::nlmsghdr,
        family: u8,
        protocol: u8,
        ext: u8,
        pad: u8,
        states: u32,
        id: SockId,
    }

    #[repr(C)]
    #[derive(Clone, Copy, Default)]
    struct Message {
        family: u8,
        state: u8,
        timer: u8,
        retrans: u8,
        id: SockId,
        expires: u32,
        rqueue: u32,
        wqueue: u32,
        uid: u32,
        inode: u32,
    }

    /// The loopback device's index in the calling thread's network namespace.
    fn loopback_index() -> u32 {
        // SAFETY: a NUL-terminated name; if_nametoindex only reads it.
        match unsafe { libc::if_nametoindex(c"lo".as_ptr()) } {
            0 => 1,
            index => index,
        }
    }

    fn bytes(ip: IpAddr) -> [u8; 16] {
        let mut out = [0u8; 16];
        match ip {
            IpAddr::V4(v4) => out[..4].copy_from_slice(&v4.octets()),
            IpAddr::V6(v6) => out.copy_from_slice(&v6.octets()),
        }
        out
    }

    /// The TCP socket whose own end is `local` and whose peer is `remote`.
    pub fn tcp(local: SocketAddr, remote: SocketAddr) -> Option<TableEntry> {
        if local.is_ipv4() != remote.is_ipv4() {
            return None;
        }
        let family = if local.is_ipv4() {
            libc::AF_INET
        } else {
            libc::AF_INET6
        };
        let request = Request {
            header: libc::nlmsghdr {
                nlmsg_len: std::mem::size_of::<Request>() as u32,
                nlmsg_type: SOCK_DIAG_BY_FAMILY,
                nlmsg_flags: libc::NLM_F_REQUEST as u16,
                nlmsg_seq: 1,
                nlmsg_pid: 0,
            },
            family: family as u8,
            protocol: libc::IPPROTO_TCP as u8,
            ext: 0,
            pad: 0,
            states: !0,
            id: SockId {
                sport: local.port().to_be_bytes(),
                dport: remote.port().to_be_bytes(),
                src: bytes(local.ip()),
                dst: bytes(remote.ip()),
                // Every connection socklab looks up runs over the loopback; a socket bound to
                // it (as the guard binds the program's) is found only when asked with it.
                interface: loopback_index(),
                cookie: [INET_DIAG_NOCOOKIE; 2],
            },
        };
        // SAFETY: a netlink socket owned at once; the request and the reply are plain C
        // structs of the kernel's layout, read only within what recv filled.
        let message = unsafe {
            let fd = libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
                libc::NETLINK_SOCK_DIAG,
            );
            if fd < 0 {
                return None;
            }
            let sock = OwnedFd::from_raw_fd(fd);
            let size = std::mem::size_of::<Request>();
            if libc::send(sock.as_raw_fd(), (&request as *const Request).cast(), size, 0)
                != size as isize
            {
                return None;
            }
            let mut reply = [0u8; 1024];
            let got = libc::recv(sock.as_raw_fd(), reply.as_mut_ptr().cast(), reply.len(), 0);
            let header_len = std::mem::size_of::<libc::nlmsghdr>();
            if got < (header_len + std::mem::size_of::<Message>()) as isize {
                return None;
            }
            let header: libc::nlmsghdr = std::ptr::read_unaligned(reply.as_ptr().cast());
            if header.nlmsg_type != SOCK_DIAG_BY_FAMILY {
                return None; // NLMSG_ERROR: no such socket
            }
            std::ptr::read_unaligned::<Message>(reply[header_len..].as_ptr().cast())
        };
        let addr = |ip: [u8; 16], port: [u8; 2]| {
            let ip = if i32::from(message.family) == libc::AF_INET {
                IpAddr::from(<[u8; 4]>::try_from(&ip[..4]).expect("four bytes"))
            } else {
                IpAddr::from(ip)
            };
            SocketAddr::new(plain(ip), u16::from_be_bytes(port))
        };
        Some(TableEntry {
            proto: Proto::Tcp,
            local: addr(message.id.src, message.id.sport),
            remote: addr(message.id.dst, message.id.dport),
            state: message.state,
            rx_queue: u64::from(message.rqueue),
            uid: message.uid,
            inode: u64::from(message.inode),
        })
    }
}
