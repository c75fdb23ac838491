//! conn_simple: a TCP client socket (connect), as in the lesson's sample run:
//!
//! ```text
//! ~$ nc -l 8000                                ~$ ./conn_simple.py
//! Hello!                                       b'test\n'
//! test
//! ```
//!
//! The harness plays `nc -l` as Bob and types `test` back.

use crate::script::Proto;
use crate::script::*;

pub fn lab() -> Lab {
    Lab {
        name: "conn_simple",
        aliases: &[],
        summary: "TCP client: connect, send Hello!, print the reply",
        lesson_port: 8000,
        proto: Proto::Tcp,
        default_program: None,
        runs: vec![Run {
            setup: vec![listen(BOB)],
            checks: vec![
                check("connects", 2, "connects to the server").step(accept(BOB)),
                check("sends_hello", 3, "sends exactly Hello! and a newline")
                    .needs(&["connects"])
                    .step(receives(BOB, "Hello!\n"))
                    .hint(
                        "send exactly the bytes b\"Hello!\\n\": seven bytes, ending in a newline",
                    ),
                check("prints_reply", 3, "prints the server's reply")
                    .needs(&["connects"])
                    .step(send(BOB, "test\n"))
                    .step(prints("test\n"))
                    .hint("print what recv() returned: print(data)"),
                check("closes_connection", 1, "closes the connection")
                    .needs(&["connects"])
                    .step(sees_end_of_stream(BOB)),
                check("exits_cleanly", 1, "exits with status 0").step(exits_with(0)),
            ],
            ..Run::default()
        }],
    }
}
