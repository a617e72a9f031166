//! Memory sizes as Occlum writes them: `"32MB"`, `"1MB"`, `"300MB"`, `"4GB"`.

use crate::error::ConfigError;

/// Parses a size such as `"32MB"`, `"256KB"`, `"4GB"`, `"4096"` or `"4096B"` into bytes.
///
/// Units are binary (KB = 1024), case-insensitive, with an optional space before the unit;
/// `K`, `M`, `G`, `T` are accepted as short forms. A JSON number is a byte count.
pub fn parse_size(path: &str, value: &serde_json::Value) -> Result<u64, ConfigError> {
    let bad = |why: &str| ConfigError::value(path, value, why);
    if let Some(n) = value.as_u64() {
        return Ok(n);
    }
    let text = value
        .as_str()
        .ok_or_else(|| bad("expected a size string such as \"32MB\" or a byte count"))?;
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    if digits.is_empty() {
        return Err(bad(
            "expected a size such as \"32MB\": digits, then B, KB, MB, GB or TB",
        ));
    }
    let n: u64 = digits.parse().map_err(|_| bad("the number is too large"))?;
    let shift = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        "T" | "TB" | "TIB" => 40,
        _ => return Err(bad("unknown unit (expected B, KB, MB, GB or TB)")),
    };
    n.checked_mul(1u64 << shift)
        .ok_or_else(|| bad("the size overflows 64 bits"))
}

/// Formats a byte count the way Occlum.json writes it (largest exact unit).
pub fn format_size(bytes: u64) -> String {
    for (shift, unit) in [(40, "TB"), (30, "GB"), (20, "MB"), (10, "KB")] {
        if bytes != 0 && bytes.is_multiple_of(1u64 << shift) {
            return format!("{}{unit}", bytes >> shift);
        }
    }
    format!("{bytes}B")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("x", &json!("32MB")).unwrap(), 32 << 20);
        assert_eq!(parse_size("x", &json!("1mb")).unwrap(), 1 << 20);
        assert_eq!(parse_size("x", &json!("4 GB")).unwrap(), 4 << 30);
        assert_eq!(parse_size("x", &json!("256K")).unwrap(), 256 << 10);
        assert_eq!(parse_size("x", &json!("4096")).unwrap(), 4096);
        assert_eq!(parse_size("x", &json!(8192)).unwrap(), 8192);
        let e = parse_size("resource_limits.user_space_size", &json!("12XB")).unwrap_err();
        assert!(
            e.to_string().contains("resource_limits.user_space_size"),
            "{e}"
        );
        assert!(e.to_string().contains("12XB"), "{e}");
        assert!(parse_size("x", &json!("MB")).is_err());
        assert!(parse_size("x", &json!("99999999999TB")).is_err());
        assert!(parse_size("x", &json!(true)).is_err());
        assert_eq!(format_size(32 << 20), "32MB");
        assert_eq!(format_size(4 << 30), "4GB");
        assert_eq!(format_size(1000), "1000B");
    }
}
