//! The labs, one file each. Every lab file has the same shape: a doc quoting the lesson's
//! sample run, then `lab()` building its checks from [`crate::script`]. Adding a lab is a
//! new file and one line in [`all`].

pub mod conn_simple;
pub mod netcat;
pub mod serv_simple;
pub mod serv_tcp;
pub mod udp_serv;

use crate::error::{Error, Result};
use crate::script::Lab;

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
