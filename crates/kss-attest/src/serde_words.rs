//! serde's error messages in plain words: "expected a sequence" becomes "expected a list
//! (JSON array)", "expected u16" becomes "expected an integer from 0 to 65535", and the value
//! found is said as "found ...".

/// Rewrites one serde_json message (without its "at line L column C" tail) in words.
pub(crate) fn in_words(msg: &str) -> String {
    let msg = match msg.find(" at line ") {
        Some(i) => &msg[..i],
        None => msg,
    };
    let body = msg
        .strip_prefix("invalid type: ")
        .or_else(|| msg.strip_prefix("invalid value: "));
    let Some(body) = body else {
        return msg.to_string();
    };
    let Some((found, expected)) = body.split_once(", expected ") else {
        return msg.to_string();
    };
    format!(
        "expected {}, found {}",
        expected_words(expected),
        found_words(found)
    )
}

fn expected_words(e: &str) -> String {
    let range = |max: &str| format!("an integer from 0 to {max}");
    match e {
        "a sequence" => "a list (JSON array)".into(),
        "a string" => "a string".into(),
        "a boolean" => "true or false".into(),
        "u8" => range("255"),
        "u16" => range("65535"),
        "u32" => range("4294967295"),
        "u64" => range("18446744073709551615"),
        "a map" => "an object (JSON {...})".into(),
        other => other.to_string(),
    }
}

fn found_words(f: &str) -> String {
    let f = f.replace('`', "");
    if let Some(rest) = f.strip_prefix("string ") {
        return format!("the string {rest}");
    }
    if let Some(rest) = f.strip_prefix("integer ") {
        return format!("the number {rest}");
    }
    match f.as_str() {
        "map" => "an object".into(),
        "sequence" => "a list".into(),
        "null" => "null".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::in_words;

    #[test]
    fn messages() {
        assert_eq!(
            in_words("invalid type: string \"ab\", expected a sequence at line 1 column 20"),
            "expected a list (JSON array), found the string \"ab\""
        );
        assert_eq!(
            in_words("invalid value: integer `70000`, expected u16"),
            "expected an integer from 0 to 65535, found the number 70000"
        );
        assert_eq!(in_words("EOF while parsing"), "EOF while parsing");
    }
}
