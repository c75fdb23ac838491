//! udp_serv (Activity 2): "Create a UDP netcat program for the server part. To test your
//! program, launch a UDP client as follows: nc -u 127.0.0.1 9000".
//!
//! ```text
//! ~$ ./udp_serv.py                             ~$ nc -u 222.222.222.222 9000
//! hello                                        hello
//! hi alice                                     hi alice
//! ```
//!
//! The harness plays `nc -u` as Alice: each line is one datagram, and the program answers
//! whoever sent last with each line typed on its keyboard.

use crate::script::Proto;
use crate::script::*;

pub fn lab() -> Lab {
    Lab {
        name: "udp_serv",
        aliases: &["activity2", "serv_udp"],
        summary: "UDP netcat server: print each datagram, send typed lines to the last sender",
        lesson_port: 9000,
        proto: Proto::Udp,
        default_program: None,
        runs: vec![Run {
            setup: vec![],
            checks: vec![
                check("is_udp", 1, "is a UDP server on its port")
                    .step(binds_udp())
                    .hint("a UDP server is socket(AF_INET, SOCK_DGRAM) bound to the port; it does not listen() or accept()"),
                check("reachable", 1, "can be reached from another host (bob's address)")
                    .needs(&["is_udp"])
                    .step(reachable_as_bob()),
                check("receives", 2, "prints the datagram a client sent")
                    .needs(&["is_udp"])
                    .step(send_datagram(ALICE, "hello\n"))
                    .step(prints("hello\n"))
                    .hint("recvfrom() a datagram and print it; nothing has been typed yet, so the program must not be waiting in input()"),
                check("replies_to_sender", 2, "sends a typed line as one datagram to the sender")
                    .needs(&["receives"])
                    .step(type_line("hi alice"))
                    .step(receives_datagram_line(ALICE, "hi alice"))
                    .hint("send each typed line with sendto() to the address recvfrom() returned, not to a fixed address or port"),
                check("chats", 2, "chats on: datagrams and typed lines in any order")
                    .needs(&["receives"])
                    .step(send_datagram(ALICE, "are you there?\n"))
                    .step(prints("are you there?\n"))
                    .step(send_datagram(ALICE, "hello?\n"))
                    .step(prints("hello?\n"))
                    .hint("two datagrams in a row with nothing typed: wait on the socket and the keyboard together with select()")
                    .step(type_line("yes, here"))
                    .step(receives_datagram_line(ALICE, "yes, here"))
                    .step(type_line("sorry, I was busy"))
                    .step(receives_datagram_line(ALICE, "sorry, I was busy"))
                    .hint("two lines typed in a row while the client is silent: a program waiting in recvfrom() cannot send the second"),
                check("stops", 2, "ends at end of input (^D) or Ctrl-C")
                    .needs(&["is_udp"])
                    .step(stops_at_end_of_input())
                    .hint("when input() raises EOFError or readline() returns '' the keyboard is closed: leave the loop and exit"),
            ],
            ..Run::default()
        }],
    }
}
