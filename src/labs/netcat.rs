//! netcat (Activity 1): "Bring up two terminals. Have a netcat chat between the two
//! terminals. Try a TCP connection, and then a UDP connection."
//!
//! ```text
//!     Alice (111.111.111.111)                         Bob (222.222.222.222)
//!                                                     (step 1) nc -lnv 9000
//!     (step 2) nc 222.222.222.222 9000
//! ```
//!
//! The netcat under test plays each terminal in turn, with the lesson's own command lines
//! (`nc -lnv 9000`, `nc 222.222.222.222 9000`, then the same with `-u`); the harness plays
//! the other terminal. What one side sends must show on the other side byte for byte.

use crate::script::Proto;
use crate::script::*;

/// netcat-traditional takes `nc -lnv 9000` without complaint and listens on a random port.
const TRADITIONAL: &str =
    "this netcat (like netcat-traditional) wants -p before the port: nc -lnvp 9000";

pub fn lab() -> Lab {
    Lab {
        name: "netcat",
        aliases: &["activity1"],
        summary: "Activity 1: a netcat chat, TCP then UDP, as listener (Bob) and as client (Alice)",
        lesson_port: 9000,
        proto: Proto::Tcp,
        default_program: Some("nc"),
        runs: vec![
            Run {
                name: "TCP, listening as Bob",
                args: vec!["-lnv", "{port}"],
                fallbacks: vec![Fallback {
                    args: vec!["-lnv", "-p", "{port}"],
                    why: TRADITIONAL,
                }],
                checks: vec![
                    check("tcp_listen", 2, "nc -lnv 9000 accepts Alice's connection")
                        .step(connect(ALICE)),
                    check(
                        "tcp_listen_verbose",
                        1,
                        "with -v, says on stderr that Alice connected",
                    )
                    .needs(&["tcp_listen"])
                    .step(prints_on_stderr_line_with(&["{alice.ip}"])),
                    check(
                        "tcp_listen_chat",
                        2,
                        "shows Alice's lines and sends the typed ones, byte for byte",
                    )
                    .needs(&["tcp_listen"])
                    .step(send(ALICE, "hi bob, it's alice\n"))
                    .step(shows("hi bob, it's alice\n"))
                    .step(send(ALICE, "are you there?\n"))
                    .step(shows("are you there?\n"))
                    .step(type_line("hello alice"))
                    .step(receives(ALICE, "hello alice\n"))
                    .step(type_line("yes, here"))
                    .step(receives(ALICE, "yes, here\n")),
                ],
                ..Run::default()
            },
            Run {
                name: "TCP, connecting as Alice",
                args: vec!["{bob}", "{port}"],
                setup: vec![listen(BOB)],
                checks: vec![
                    check("tcp_connect", 2, "nc 222.222.222.222 9000 connects to Bob")
                        .step(accept(BOB)),
                    check(
                        "tcp_connect_chat",
                        2,
                        "sends the typed lines and shows Bob's, byte for byte",
                    )
                    .needs(&["tcp_connect"])
                    .step(type_line("hi bob"))
                    .step(receives(BOB, "hi bob\n"))
                    .step(type_line("how are you?"))
                    .step(receives(BOB, "how are you?\n"))
                    .step(send(BOB, "fine, and you?\n"))
                    .step(shows("fine, and you?\n"))
                    .step(send(BOB, "bye\n"))
                    .step(shows("bye\n")),
                ],
                ..Run::default()
            },
            Run {
                name: "UDP, listening as Bob",
                args: vec!["-ulnv", "{port}"],
                fallbacks: vec![Fallback {
                    args: vec!["-ulnv", "-p", "{port}"],
                    why: TRADITIONAL,
                }],
                checks: vec![
                    check("udp_listen", 2, "nc -ulnv 9000 binds UDP port 9000").step(binds_udp()),
                    check(
                        "udp_listen_chat",
                        2,
                        "shows Alice's datagrams and sends typed lines back to her",
                    )
                    .needs(&["udp_listen"])
                    .step(send_datagram(ALICE, "hi bob, it's alice\n"))
                    .step(shows("hi bob, it's alice\n"))
                    .step(type_line("hello alice"))
                    .step(receives_datagram_line(ALICE, "hello alice"))
                    .step(send_datagram(ALICE, "still there?\n"))
                    .step(shows("still there?\n"))
                    .step(type_line("yes"))
                    .step(receives_datagram_line(ALICE, "yes")),
                ],
                ..Run::default()
            },
            Run {
                name: "UDP, sending as Alice",
                args: vec!["-u", "{bob}", "{port}"],
                setup: vec![bind_udp(BOB)],
                checks: vec![
                    check(
                        "udp_connect",
                        2,
                        "nc -u 222.222.222.222 9000 sends a typed line as a datagram",
                    )
                    .step(type_line("hi bob"))
                    .step(receives_datagram_line(BOB, "hi bob")),
                    check(
                        "udp_connect_chat",
                        2,
                        "shows Bob's answers and keeps sending, byte for byte",
                    )
                    .needs(&["udp_connect"])
                    .step(reply_datagram(BOB, "hello alice\n"))
                    .step(shows("hello alice\n"))
                    .step(type_line("bye"))
                    .step(receives_datagram_line(BOB, "bye")),
                ],
                ..Run::default()
            },
        ],
    }
}
