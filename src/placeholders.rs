//! The placeholders of lab files, in one place: `{port}` and `{bob}` in a run's arguments;
//! `{port}`, `{alice.ip}`, `{alice.port}`, `{bob.ip}` and `{bob.port}` in the parts of
//! `prints line with`. A lab is checked when it loads, and filled in when it runs, from the
//! same lists, so that the two cannot drift apart. `{{` and `}}` are braces.

/// What a placeholder stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placeholder {
    /// `{port}`: the port the program serves on or connects to.
    Port,
    /// `{bob}`: Bob's address, wherever the run happens.
    Bob,
    /// `{alice.ip}`, `{bob.ip}`: the peer's own address.
    PeerIp(&'static str),
    /// `{alice.port}`, `{bob.port}`: the peer's own port.
    PeerPort(&'static str),
}

/// The placeholders a run's arguments may hold.
pub const IN_ARGS: &[Placeholder] = &[Placeholder::Port, Placeholder::Bob];

/// The placeholders the parts of `prints line with` may hold.
pub const IN_LINES: &[Placeholder] = &[
    Placeholder::Port,
    Placeholder::PeerIp("alice"),
    Placeholder::PeerPort("alice"),
    Placeholder::PeerIp("bob"),
    Placeholder::PeerPort("bob"),
];

impl Placeholder {
    /// Its name between the braces: `port`, `alice.ip`.
    pub fn name(self) -> String {
        match self {
            Placeholder::Port => "port".into(),
            Placeholder::Bob => "bob".into(),
            Placeholder::PeerIp(peer) => format!("{peer}.ip"),
            Placeholder::PeerPort(peer) => format!("{peer}.port"),
        }
    }

    /// As written: `{port}`.
    pub fn written(self) -> String {
        format!("{{{}}}", self.name())
    }
}

/// Refuses a `{name}` in `text` that is not one of `known`, and a lone brace.
pub fn check(text: &str, known: &[Placeholder]) -> Result<(), String> {
    let mut rest = text;
    while let Some(open) = rest.find(['{', '}']) {
        let after = &rest[open + 1..];
        if rest[open..].starts_with("{{") || rest[open..].starts_with("}}") {
            rest = &after[1..];
            continue;
        }
        if rest[open..].starts_with('}') {
            return Err(format!("{text:?}: a lone }}; write }}}} for a brace"));
        }
        let Some(close) = after.find('}') else {
            return Err(format!("{text:?}: a {{ that is never closed; write {{{{ for a brace"));
        };
        let name = &after[..close];
        if !known.iter().any(|k| k.name() == name) {
            let listed: Vec<String> = known.iter().map(|k| k.written()).collect();
            return Err(format!(
                "unknown placeholder {{{name}}} in {text:?}; the placeholders here are: {}",
                listed.join(", ")
            ));
        }
        rest = &after[close + 1..];
    }
    Ok(())
}

/// `text` with each of `known` that `value` knows filled in; `{{` and `}}` become braces. A
/// placeholder without a value yet (a peer with no address) stays as written.
pub fn fill(
    text: &str,
    known: &[Placeholder],
    value: impl Fn(Placeholder) -> Option<String>,
) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(['{', '}']) {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push_str(&tail[..1]);
            rest = &tail[2..];
            continue;
        }
        let Some(close) = tail.find('}').filter(|_| tail.starts_with('{')) else {
            out.push_str(&tail[..1]);
            rest = &tail[1..];
            continue;
        };
        let name = &tail[1..close];
        let filled = known
            .iter()
            .find(|k| k.name() == name)
            .and_then(|k| value(*k));
        match filled {
            Some(filled) => out.push_str(&filled),
            None => out.push_str(&tail[..=close]),
        }
        rest = &tail[close + 1..];
    }
    out.push_str(rest);
    out
}

/// `text` with each of `known` that `value` knows put in its place, and nothing else
/// changed: for arguments, where a brace is a brace (a lab's hold no other, a student's
/// command line may).
pub fn replace(
    text: &str,
    known: &[Placeholder],
    value: impl Fn(Placeholder) -> Option<String>,
) -> String {
    known.iter().fold(text.to_string(), |text, placeholder| {
        match value(*placeholder) {
            Some(filled) => text.replace(&placeholder.written(), &filled),
            None => text,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the loader accepts is what the run fills in.
    #[test]
    fn what_is_checked_is_what_is_filled() {
        let value = |p: Placeholder| match p {
            Placeholder::Port => Some("8000".to_string()),
            Placeholder::PeerPort("alice") => Some("54321".to_string()),
            _ => None,
        };
        assert!(check("from {alice.port} on {port} {{x}}", IN_LINES).is_ok());
        assert_eq!(
            fill("from {alice.port} on {port} {{x}} {bob.ip}", IN_LINES, value),
            "from 54321 on 8000 {x} {bob.ip}"
        );
        assert_eq!(
            check("{bob.name}", IN_LINES).unwrap_err(),
            "unknown placeholder {bob.name} in \"{bob.name}\"; the placeholders here are: {port}, {alice.ip}, {alice.port}, {bob.ip}, {bob.port}"
        );
        assert!(check("{bob}", IN_ARGS).is_ok());
        assert!(check("{alice.ip}", IN_ARGS).is_err());
        assert_eq!(fill("{bob}:{port}", IN_ARGS, |_| None), "{bob}:{port}");
        let bob = |p: Placeholder| (p == Placeholder::Bob).then(|| "10.0.0.2".to_string());
        assert_eq!(replace("{{bob}}:{port}", IN_ARGS, bob), "{10.0.0.2}:{port}");
    }
}
