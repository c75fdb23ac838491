//! Showing bytes as Python shows them, because students read their own program's output in
//! that form (`print(data)` gives `b'Hello!\n'`) and because control bytes must never reach
//! a terminal or a report raw.

/// `b'Hello!\n'`: Python's `repr()` of a bytes object, quote choice included.
pub fn python_bytes(data: &[u8]) -> String {
    let quote = if data.contains(&b'\'') && !data.contains(&b'"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(data.len() + 3);
    out.push('b');
    out.push(quote);
    push_escaped(&mut out, data, quote);
    out.push(quote);
    out
}

/// The body of [`python_bytes`] without `b'...'` around it: printable ASCII as is,
/// everything else escaped.
pub fn escaped(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len());
    push_escaped(&mut out, data, '\0');
    out
}

fn push_escaped(out: &mut String, data: &[u8], quote: char) {
    for &b in data {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            _ if b as char == quote => {
                out.push('\\');
                out.push(quote);
            }
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
}

/// Text that a person will read in a report: valid UTF-8 stays readable, control bytes and
/// invalid sequences are escaped (`\x1b`, `\xff`), newlines kept as `\n` escapes.
pub fn readable(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len());
    for chunk in data.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
                c => out.push(c),
            }
        }
        for &b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// Like [`readable`], but keeps line breaks as line breaks: for showing a traceback.
pub fn readable_lines(data: &[u8]) -> String {
    data.split(|&b| b == b'\n')
        .map(readable)
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The forms Python prints, checked against `python3 -c 'print(repr(b"..."))'` by hand.
    #[test]
    fn matches_python_repr() {
        assert_eq!(python_bytes(b"Hello!\n"), r"b'Hello!\n'");
        assert_eq!(python_bytes(b""), "b''");
        assert_eq!(python_bytes(b"it's"), r#"b"it's""#);
        assert_eq!(python_bytes(b"it's \"x\""), r#"b'it\'s "x"'"#);
        assert_eq!(python_bytes(b"\x00\xff\t\\"), r"b'\x00\xff\t\\'");
    }

    #[test]
    fn readable_escapes_controls_and_invalid_utf8() {
        assert_eq!(readable("é\x1b[31m\n".as_bytes()), "é\\x1b[31m\\n");
        assert_eq!(readable(b"a\xffb"), "a\\xffb");
    }
}
