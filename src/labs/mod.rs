//! The labs, one file each. Every lab file has the same shape: a doc quoting the lesson's
//! sample run, then `lab()` building its checks from [`crate::script`]. Adding a lab is a
//! new file and one line in [`all`].

pub mod conn_simple;
pub mod netcat;
pub mod serv_simple;
pub mod serv_tcp;
pub mod udp_serv;

use crate::error::{Error, Result};
use crate::script::*;

/// How every TCP server lab opens, as in the lesson's sample run: Alice connects from
/// another host, and the program prints who she is.
pub fn tcp_server_opening(client_points: u32) -> Vec<Check> {
    vec![
        check("accepts", 1, "accepts a TCP connection on its port").step(connect(ALICE)),
        check(
            "reachable",
            1,
            "can be reached from another host (bob's address)",
        )
        .needs(&["accepts"])
        .step(reachable_as_bob()),
        check(
            "prints_client",
            client_points,
            "prints \"connection from\" with the client's address",
        )
        .needs(&["accepts"])
        .step(prints_line_with(&[
            "connection from",
            "{alice.ip}",
            "{alice.port}",
        ]))
        .hint("print the address that accept() returned: print(\"connection from\", addr)"),
    ]
}

/// Every lab, in the order `socklab labs` lists them.
pub fn all() -> Vec<Lab> {
    vec![
        serv_simple::lab(),
        conn_simple::lab(),
        serv_tcp::lab(),
        udp_serv::lab(),
        netcat::lab(),
    ]
}

/// The lab called `name` or having it as an alias.
pub fn find(name: &str) -> Result<Lab> {
    all()
        .into_iter()
        .find(|lab| lab.name == name || lab.aliases.contains(&name))
        .ok_or_else(|| Error::UnknownLab {
            name: name.to_string(),
            known: names(),
        })
}

/// `serv_simple, conn_simple, ...` for error messages.
pub fn names() -> String {
    all().iter().map(|l| l.name).collect::<Vec<_>>().join(", ")
}
