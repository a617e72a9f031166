//! Exact byte spans of JSON values, and whitespace-free ("compact") re-serialization.
//!
//! Intel signs the `tcbInfo` / `enclaveIdentity` value exactly as it appears in the PCS response
//! body, so the verifier must slice the raw text rather than re-serialize a parsed value.

/// Finds the raw bytes of the value of top-level key `key` in the JSON object `text`.
/// Returns `None` if `text` is not an object or has no such key.
pub fn top_level_value<'a>(text: &'a [u8], key: &str) -> Option<&'a [u8]> {
    let mut i = skip_ws(text, 0);
    if text.get(i) != Some(&b'{') {
        return None;
    }
    i = skip_ws(text, i + 1);
    if text.get(i) == Some(&b'}') {
        return None;
    }
    loop {
        let key_start = i;
        let key_end = skip_string(text, i)?;
        let name = text.get(key_start + 1..key_end - 1)?;
        i = skip_ws(text, key_end);
        if text.get(i) != Some(&b':') {
            return None;
        }
        let vstart = skip_ws(text, i + 1);
        let vend = skip_value(text, vstart)?;
        if name == key.as_bytes() {
            return text.get(vstart..vend);
        }
        i = skip_ws(text, vend);
        match text.get(i) {
            Some(b',') => i = skip_ws(text, i + 1),
            _ => return None,
        }
    }
}

fn skip_ws(t: &[u8], mut i: usize) -> usize {
    while matches!(t.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// `t[i]` must be `"`; returns the index just past the closing quote.
fn skip_string(t: &[u8], i: usize) -> Option<usize> {
    if t.get(i) != Some(&b'"') {
        return None;
    }
    let mut j = i + 1;
    loop {
        match t.get(j)? {
            b'\\' => j += 2,
            b'"' => return Some(j + 1),
            _ => j += 1,
        }
    }
}

/// Returns the index just past the value starting at `i`.
fn skip_value(t: &[u8], i: usize) -> Option<usize> {
    match t.get(i)? {
        b'"' => skip_string(t, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            loop {
                match t.get(j)? {
                    b'"' => {
                        j = skip_string(t, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
        }
        _ => {
            let mut j = i;
            while let Some(c) = t.get(j) {
                if matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                    break;
                }
                j += 1;
            }
            (j > i).then_some(j)
        }
    }
}

/// Removes all whitespace outside strings, keeping key order and every other byte: the same
/// text as Python's `json.dumps(value, separators=(',', ':'))` for ASCII JSON.
pub fn compact(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    for &c in text {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == b'\\' {
                escaped = true;
            } else if c == b'"' {
                in_string = false;
            }
        } else if c == b'"' {
            in_string = true;
            out.push(c);
        } else if !c.is_ascii_whitespace() {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_exact_value() {
        let t = br#"{ "a" : [1, {"x":"}"}] , "tcbInfo" :{"k": "v w"},"signature":"ab"}"#;
        assert_eq!(top_level_value(t, "tcbInfo"), Some(&br#"{"k": "v w"}"#[..]));
        assert_eq!(top_level_value(t, "signature"), Some(&br#""ab""#[..]));
        assert_eq!(top_level_value(t, "missing"), None);
        assert_eq!(
            compact(br#"{ "k" : "v w" ,"n": 1 }"#),
            br#"{"k":"v w","n":1}"#
        );
    }

    #[test]
    fn never_panics_on_garbage() {
        for t in [
            &b"{"[..],
            b"{\"a",
            b"{\"a\":",
            b"{\"a\":[",
            b"{\"a\":\"\\",
            b"}",
            b"",
        ] {
            let _ = top_level_value(t, "a");
        }
    }
}
