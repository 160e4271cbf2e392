//! Resource quantities (`resource.Quantity`): exact parsing, arithmetic and comparison, and
//! the canonical text Kubernetes prints (`Quantity.String()`), e.g. in quota and limit range
//! messages.
//!
//! A quantity is held exactly as a count of nano-units (`1n`, the smallest unit Kubernetes
//! keeps; finer fractions round up as Kubernetes rounds them) plus the format its text was
//! written in: binary suffixes (`Ki`, `Mi`, …) print back in binary when the value is a
//! whole number of at least 1024, as Kubernetes does; everything else prints with decimal
//! suffixes (`m`, `k`, `M`, …).

use std::cmp::Ordering;
use std::fmt;

/// How a quantity prints, as Kubernetes' `resource.Format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Decimal suffixes: `m`, `k`, `M`, `G`, … (also no suffix).
    DecimalSi,
    /// Binary suffixes: `Ki`, `Mi`, `Gi`, ….
    BinarySi,
    /// Exponents: `1e3`.
    DecimalExponent,
}

/// An exact quantity.
#[derive(Debug, Clone, Copy)]
pub struct Quantity {
    nanos: i128,
    format: Format,
}

/// Why a string is not a quantity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    /// The text does not match `<sign><digits>[.<digits>][suffix]`.
    #[error("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")]
    Syntax,
    /// The value is beyond what Berth holds (about 10^29).
    #[error("quantity too large")]
    TooLarge,
}

const NANO: i128 = 1_000_000_000;

impl Quantity {
    /// Zero, printed `0`.
    pub const ZERO: Quantity = Quantity {
        nanos: 0,
        format: Format::DecimalSi,
    };

    /// A whole number of units in decimal format (`resource.NewQuantity(n, DecimalSI)`).
    pub fn from_units(n: i64) -> Self {
        Self {
            nanos: i128::from(n) * NANO,
            format: Format::DecimalSi,
        }
    }

    /// A number of milli-units in decimal format (`resource.NewMilliQuantity`).
    pub fn from_millis(n: i64) -> Self {
        Self {
            nanos: i128::from(n) * 1_000_000,
            format: Format::DecimalSi,
        }
    }

    /// Parses Kubernetes' quantity syntax (`100Mi`, `0.5`, `250m`, `1e3`, `2Gi`).
    pub fn parse(text: &str) -> Result<Self, QuantityError> {
        let text = text.trim();
        let (negative, rest) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, suffix) = rest.split_at(number_end);
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if (whole.is_empty() && fraction.is_empty()) || fraction.contains('.') {
            return Err(QuantityError::Syntax);
        }
        let (format, base, exponent): (Format, u32, i32) = match suffix {
            "" => (Format::DecimalSi, 10, 0),
            "n" => (Format::DecimalSi, 10, -9),
            "u" => (Format::DecimalSi, 10, -6),
            "m" => (Format::DecimalSi, 10, -3),
            "k" => (Format::DecimalSi, 10, 3),
            "M" => (Format::DecimalSi, 10, 6),
            "G" => (Format::DecimalSi, 10, 9),
            "T" => (Format::DecimalSi, 10, 12),
            "P" => (Format::DecimalSi, 10, 15),
            "E" => (Format::DecimalSi, 10, 18),
            "Ki" => (Format::BinarySi, 2, 10),
            "Mi" => (Format::BinarySi, 2, 20),
            "Gi" => (Format::BinarySi, 2, 30),
            "Ti" => (Format::BinarySi, 2, 40),
            "Pi" => (Format::BinarySi, 2, 50),
            "Ei" => (Format::BinarySi, 2, 60),
            s if s.starts_with(['e', 'E']) => {
                let e: i32 = s[1..].parse().map_err(|_| QuantityError::Syntax)?;
                if !(-40..=40).contains(&e) {
                    return Err(QuantityError::TooLarge);
                }
                (Format::DecimalExponent, 10, e)
            }
            _ => return Err(QuantityError::Syntax),
        };
        // The digits as an exact fraction: mantissa / 10^fraction.len().
        let digits = format!("{whole}{fraction}");
        let digits = digits.trim_start_matches('0');
        if digits.len() > 30 {
            return Err(QuantityError::TooLarge);
        }
        let mantissa: i128 = if digits.is_empty() {
            0
        } else {
            digits.parse().map_err(|_| QuantityError::Syntax)?
        };
        let frac_digits = fraction.len() as i32;
        // value = mantissa * base^exponent / 10^frac_digits, in nanos (× 10^9), rounded up.
        let (mut num, mut den): (i128, i128) = (mantissa, 1);
        let scale10 = |n: i32| -> Result<i128, QuantityError> {
            10i128.checked_pow(n as u32).ok_or(QuantityError::TooLarge)
        };
        if base == 2 {
            num = num
                .checked_mul(1i128 << exponent)
                .ok_or(QuantityError::TooLarge)?;
        } else if exponent >= 0 {
            num = num
                .checked_mul(scale10(exponent)?)
                .ok_or(QuantityError::TooLarge)?;
        } else {
            den = scale10(-exponent)?;
        }
        num = num.checked_mul(NANO).ok_or(QuantityError::TooLarge)?;
        den = den
            .checked_mul(scale10(frac_digits)?)
            .ok_or(QuantityError::TooLarge)?;
        let mut nanos = num / den + i128::from(num % den != 0);
        if nanos > 10i128.pow(38) / 2 {
            return Err(QuantityError::TooLarge);
        }
        if negative {
            nanos = -nanos;
        }
        Ok(Self { nanos, format })
    }

    /// The value in nano-units.
    pub fn nanos(&self) -> i128 {
        self.nanos
    }

    /// The print format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Whether the value is zero.
    pub fn is_zero(&self) -> bool {
        self.nanos == 0
    }

    /// Whether the value is below zero.
    pub fn is_negative(&self) -> bool {
        self.nanos < 0
    }

    /// `self + other`, keeping `self`'s format unless `self` is zero (as `Quantity.Add`).
    pub fn add(&self, other: &Quantity) -> Quantity {
        Quantity {
            nanos: self.nanos.saturating_add(other.nanos),
            format: if self.nanos == 0 {
                other.format
            } else {
                self.format
            },
        }
    }

    /// `self - other`, keeping `self`'s format unless `self` is zero (as `Quantity.Sub`).
    pub fn sub(&self, other: &Quantity) -> Quantity {
        Quantity {
            nanos: self.nanos.saturating_sub(other.nanos),
            format: if self.nanos == 0 {
                other.format
            } else {
                self.format
            },
        }
    }

    /// The value rounded up to whole units (`Quantity.Value()`).
    pub fn value(&self) -> i128 {
        self.nanos.div_euclid(NANO) + i128::from(self.nanos.rem_euclid(NANO) != 0)
    }

    fn canonical_decimal(&self, exponent_form: bool) -> String {
        if self.nanos == 0 {
            return "0".into();
        }
        let mut amount = self.nanos;
        let mut exponent: i32 = -9;
        while amount % 10 == 0 {
            amount /= 10;
            exponent += 1;
        }
        match exponent.rem_euclid(3) {
            1 => {
                amount *= 10;
                exponent -= 1;
            }
            2 => {
                amount *= 100;
                exponent -= 2;
            }
            _ => {}
        }
        let suffix = match (exponent_form, exponent) {
            (_, 0) => String::new(),
            (false, -9) => "n".into(),
            (false, -6) => "u".into(),
            (false, -3) => "m".into(),
            (false, 3) => "k".into(),
            (false, 6) => "M".into(),
            (false, 9) => "G".into(),
            (false, 12) => "T".into(),
            (false, 15) => "P".into(),
            (false, 18) => "E".into(),
            (_, e) => format!("e{e}"),
        };
        format!("{amount}{suffix}")
    }
}

impl PartialEq for Quantity {
    fn eq(&self, other: &Self) -> bool {
        self.nanos == other.nanos
    }
}

impl Eq for Quantity {}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Quantity {
    fn cmp(&self, other: &Self) -> Ordering {
        self.nanos.cmp(&other.nanos)
    }
}

impl fmt::Display for Quantity {
    /// Kubernetes' canonical form (`Quantity.String()`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.format {
            Format::DecimalSi => f.write_str(&self.canonical_decimal(false)),
            Format::DecimalExponent => f.write_str(&self.canonical_decimal(true)),
            Format::BinarySi => {
                let whole = self.nanos % NANO == 0;
                let units = self.nanos / NANO;
                if !whole || (-1024 < units && units < 1024) {
                    return f.write_str(&self.canonical_decimal(false));
                }
                let mut amount = units;
                let mut power = 0;
                while power < 6 && amount % 1024 == 0 {
                    amount /= 1024;
                    power += 1;
                }
                let suffix = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"][power];
                write!(f, "{amount}{suffix}")
            }
        }
    }
}

impl std::str::FromStr for Quantity {
    type Err = QuantityError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Quantity::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Quantity {
        Quantity::parse(s).expect(s)
    }

    #[test]
    fn parses_every_suffix_exactly() {
        assert_eq!(q("1").nanos(), NANO);
        assert_eq!(q("250m").nanos(), 250_000_000);
        assert_eq!(q("1n").nanos(), 1);
        assert_eq!(q("3u").nanos(), 3000);
        assert_eq!(q("2k").value(), 2000);
        assert_eq!(q("1M").value(), 1_000_000);
        assert_eq!(q("1G").value(), 1_000_000_000);
        assert_eq!(q("1T").value(), 10i128.pow(12));
        assert_eq!(q("1P").value(), 10i128.pow(15));
        assert_eq!(q("1E").value(), 10i128.pow(18));
        assert_eq!(q("1Ki").value(), 1024);
        assert_eq!(q("100Mi").value(), 100 << 20);
        assert_eq!(q("1Gi").value(), 1 << 30);
        assert_eq!(q("1Ti").value(), 1 << 40);
        assert_eq!(q("1Pi").value(), 1 << 50);
        assert_eq!(q("1Ei").value(), 1 << 60);
        assert_eq!(q("1e3").value(), 1000);
        assert_eq!(q("1E3").value(), 1000);
        assert_eq!(q("0.5").nanos(), NANO / 2);
        assert_eq!(q(".5").nanos(), NANO / 2);
        assert_eq!(q("1.5Gi").value(), 3 << 29);
        assert_eq!(q("-1").nanos(), -NANO);
        assert_eq!(q("+2").value(), 2);
        assert_eq!(q("0").nanos(), 0);
    }

    #[test]
    fn sub_nano_fractions_round_up() {
        assert_eq!(q("0.1n").nanos(), 1);
        assert_eq!(q("1.0000000001").nanos(), NANO + 1);
    }

    #[test]
    fn rejects_malformed_text() {
        for bad in ["", "x", "1x", "1.2.3", ".", "Mi", "1 Mi", "1e", "--1", "1e99"] {
            assert!(Quantity::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn compares_numerically_across_formats() {
        assert!(q("1Gi") > q("1G"));
        assert!(q("1000m") == q("1"));
        assert!(q("100Mi") < q("250Mi"));
        assert_eq!(q("1024Mi"), q("1Gi"));
        assert!(q("500m") < q("1"));
    }

    #[test]
    fn prints_canonically_as_kubernetes() {
        for (input, out) in [
            ("100Mi", "100Mi"),
            ("1024Mi", "1Gi"),
            ("0.5Gi", "512Mi"),
            ("1536Mi", "1536Mi"),
            ("1Ki", "1Ki"),
            ("512", "512"),
            ("1000", "1k"),
            ("1500m", "1500m"),
            ("1000m", "1"),
            ("0.5", "500m"),
            ("0.1", "100m"),
            ("2000000", "2M"),
            ("10G", "10G"),
            ("1e3", "1e3"),
            ("0", "0"),
            ("0Mi", "0"),
            ("100n", "100n"),
            ("1500", "1500"),
            ("1.5Ki", "1536"),
            ("-1Gi", "-1Gi"),
            ("12345", "12345"),
        ] {
            assert_eq!(q(input).to_string(), out, "{input}");
        }
    }

    #[test]
    fn arithmetic_keeps_the_first_non_zero_format() {
        assert_eq!(q("100Mi").add(&q("100Mi")).to_string(), "200Mi");
        assert_eq!(Quantity::ZERO.add(&q("1Gi")).to_string(), "1Gi");
        assert_eq!(q("1").add(&q("500m")).to_string(), "1500m");
        assert_eq!(q("1Gi").sub(&q("512Mi")).to_string(), "512Mi");
        assert_eq!(q("2").sub(&q("2")).to_string(), "0");
        assert_eq!(Quantity::from_units(3).to_string(), "3");
        assert_eq!(Quantity::from_millis(2500).to_string(), "2500m");
    }
}
