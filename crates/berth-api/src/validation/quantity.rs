//! A small parser for `resource.Quantity` strings (`500m`, `1Gi`, `1e3`), enough to compare
//! quantities semantically (`1Gi` equals `1024Mi`) and to check signs, as validation needs.

use serde_json::Value;

/// The error Kubernetes reports for a malformed quantity.
pub const QUANTITY_FORMAT_ERR: &str =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

/// A parsed quantity, in units of 10^-9 (nanos), rounded up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Quantity(pub i128);

impl Quantity {
    /// Whether the quantity is exactly zero.
    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// Whether the quantity is a whole number.
    pub fn is_integer(self) -> bool {
        self.0 % 1_000_000_000 == 0
    }
}

/// Parses a quantity given as a JSON string or number.
pub fn parse_value(v: &Value) -> Option<Quantity> {
    match v {
        Value::String(s) => parse(s),
        Value::Number(n) => parse(&n.to_string()),
        _ => None,
    }
}

/// Parses a quantity string.
pub fn parse(s: &str) -> Option<Quantity> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let (neg, rest) = match s.as_bytes()[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let num_end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let (num, suffix) = rest.split_at(num_end);
    if num.is_empty() || num == "." || num.matches('.').count() > 1 {
        return None;
    }
    let (int_part, frac_part) = num.split_once('.').unwrap_or((num, ""));
    // Mantissa as an integer with `frac_len` decimal places.
    let digits = format!("{int_part}{frac_part}");
    let digits = digits.trim_start_matches('0');
    let mantissa: i128 = if digits.is_empty() {
        0
    } else {
        digits.parse().ok()?
    };
    let frac_len = frac_part.len() as i32;
    // Suffix: binary, decimal SI, or exponent.
    let (mult_num, mult_den_pow10, exp10): (i128, i32, i32) = match suffix {
        "" => (1, 0, 0),
        "Ki" => (1 << 10, 0, 0),
        "Mi" => (1 << 20, 0, 0),
        "Gi" => (1 << 30, 0, 0),
        "Ti" => (1 << 40, 0, 0),
        "Pi" => (1 << 50, 0, 0),
        "Ei" => (1 << 60, 0, 0),
        "n" => (1, 0, -9),
        "u" => (1, 0, -6),
        "m" => (1, 0, -3),
        "k" => (1, 0, 3),
        "M" => (1, 0, 6),
        "G" => (1, 0, 9),
        "T" => (1, 0, 12),
        "P" => (1, 0, 15),
        "E" => (1, 0, 18),
        other => {
            let e = other.strip_prefix('e').or_else(|| other.strip_prefix('E'))?;
            if e.is_empty() {
                return None;
            }
            (1, 0, e.parse::<i32>().ok()?)
        }
    };
    let _ = mult_den_pow10;
    // value (nanos) = mantissa * mult_num * 10^(exp10 + 9 - frac_len)
    let pow = exp10 + 9 - frac_len;
    let base = mantissa.checked_mul(mult_num)?;
    let nanos = if pow >= 0 {
        base.checked_mul(10i128.checked_pow(u32::try_from(pow).ok()?)?)?
    } else {
        let d = 10i128.checked_pow(u32::try_from(-pow).ok()?).unwrap_or(i128::MAX);
        // round up, as Kubernetes rounds quantities up to the nearest representable value
        (base + d - 1) / d
    };
    Some(Quantity(if neg { -nanos } else { nanos }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_forms() {
        assert_eq!(parse("1Gi"), parse("1024Mi"));
        assert_eq!(parse("500m").map(|q| q.0), Some(500_000_000));
        assert_eq!(parse("1e3"), parse("1k"));
        assert_eq!(parse("0.5"), parse("500m"));
        assert!(parse("-1").is_some_and(|q| q.0 < 0));
        assert!(parse("abc").is_none());
        assert!(parse("1Gb").is_none());
        assert!(parse("1Gi") > parse("1G"));
    }
}
