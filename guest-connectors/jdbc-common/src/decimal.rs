//! Exact decimals: text ↔ Connect's Decimal (the unscaled value as
//! big-endian two's-complement bytes, as `BigInteger.toByteArray` writes
//! it), rescaling with HALF_UP as `BigDecimal.setScale` does, and base64
//! (JsonConverter writes bytes and decimals as standard padded base64).

/// A parsed decimal: `(-1)^negative × digits × 10^-scale`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decimal {
    negative: bool,
    /// Decimal digits, most significant first, without leading zeros
    /// (zero is empty).
    digits: Vec<u8>,
    scale: i32,
}

/// Refuse absurd exponents rather than allocate for them.
const MAX_SCALE_SHIFT: i64 = 4096;

impl Decimal {
    /// Parses `-12.340`, `1e5`, `+.5`, `12.` (what databases and JSON print).
    pub fn parse(text: &str) -> Option<Decimal> {
        let text = text.trim();
        let (negative, body) = match text.as_bytes().first()? {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        let (mantissa, exponent) = match body.find(['e', 'E']) {
            Some(i) => (&body[..i], body[i + 1..].parse::<i64>().ok()?),
            None => (body, 0),
        };
        let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if int_part.is_empty() && frac_part.is_empty() {
            return None;
        }
        if !int_part
            .bytes()
            .chain(frac_part.bytes())
            .all(|b| b.is_ascii_digit())
        {
            return None;
        }
        // Checked: the exponent is the text's, whatever its size.
        let scale = (frac_part.len() as i64).checked_sub(exponent)?;
        if scale.unsigned_abs() > MAX_SCALE_SHIFT.unsigned_abs() {
            return None;
        }
        let digits: Vec<u8> = int_part
            .bytes()
            .chain(frac_part.bytes())
            .map(|b| b - b'0')
            .skip_while(|&d| d == 0)
            .collect();
        Some(Decimal {
            negative: negative && !digits.is_empty(),
            digits,
            scale: scale as i32,
        })
    }

    /// The value as an unscaled integer at `scale`, rounding HALF_UP (away
    /// from zero on a tie) when digits are dropped.
    pub fn rescale(&self, scale: i32) -> Option<Decimal> {
        let shift = i64::from(scale) - i64::from(self.scale);
        if shift.abs() > MAX_SCALE_SHIFT {
            return None;
        }
        let mut digits = self.digits.clone();
        if shift >= 0 {
            if !digits.is_empty() {
                digits.extend(std::iter::repeat_n(0, shift as usize));
            }
        } else {
            let drop = (-shift) as usize;
            let keep = digits.len().saturating_sub(drop);
            let round_up = digits.len() >= drop && digits.get(keep).is_some_and(|&d| d >= 5);
            digits.truncate(keep);
            if round_up {
                // Add one to the kept digits, carrying leftwards.
                let mut carry = true;
                for d in digits.iter_mut().rev() {
                    if *d == 9 {
                        *d = 0;
                    } else {
                        *d += 1;
                        carry = false;
                        break;
                    }
                }
                if carry {
                    digits.insert(0, 1);
                }
            }
        }
        Some(Decimal {
            negative: self.negative && !digits.is_empty(),
            digits,
            scale,
        })
    }

    /// The scale (digits after the point; negative for trailing zeros).
    pub fn scale(&self) -> i32 {
        self.scale
    }

    /// The unscaled value as `i64`, when it fits.
    pub fn unscaled_i64(&self) -> Option<i64> {
        let mut v: i64 = 0;
        for &d in &self.digits {
            v = v.checked_mul(10)?.checked_sub(i64::from(d))?;
        }
        // Accumulated negatively so that i64::MIN fits.
        if self.negative {
            Some(v)
        } else {
            v.checked_neg()
        }
    }

    /// The integral value, rounding HALF_UP, when it fits in `i64`.
    pub fn to_i64(&self) -> Option<i64> {
        self.rescale(0)?.unscaled_i64()
    }

    /// The unscaled value as big-endian two's complement in the fewest
    /// bytes that keep the sign (`BigInteger.toByteArray`).
    pub fn to_unscaled_bytes(&self) -> Vec<u8> {
        // Magnitude, little-endian base 256, by repeated multiply-add.
        let mut mag: Vec<u8> = Vec::new();
        for &d in &self.digits {
            let mut carry = u32::from(d);
            for byte in mag.iter_mut() {
                let v = u32::from(*byte) * 10 + carry;
                *byte = (v & 0xff) as u8;
                carry = v >> 8;
            }
            while carry > 0 {
                mag.push((carry & 0xff) as u8);
                carry >>= 8;
            }
        }
        if self.negative {
            // Two's complement: invert and add one.
            let mut carry = true;
            for byte in mag.iter_mut() {
                let (v, c) = (!*byte).overflowing_add(u8::from(carry));
                *byte = v;
                carry = c;
            }
            // The top bit must read as the sign.
            if mag.last().is_none_or(|&b| b & 0x80 == 0) {
                mag.push(0xff);
            }
        } else if mag.last().is_none_or(|&b| b & 0x80 != 0) {
            mag.push(0);
        }
        mag.reverse();
        mag
    }

    /// The decimal of big-endian two's-complement `bytes` at `scale`.
    pub fn from_unscaled_bytes(bytes: &[u8], scale: i32) -> Decimal {
        let negative = bytes.first().is_some_and(|&b| b & 0x80 != 0);
        // Magnitude, big-endian.
        let mut mag: Vec<u8> = bytes.to_vec();
        if negative {
            for byte in mag.iter_mut() {
                *byte = !*byte;
            }
            for byte in mag.iter_mut().rev() {
                let (v, c) = byte.overflowing_add(1);
                *byte = v;
                if !c {
                    break;
                }
            }
        }
        // Decimal digits, little-endian, by repeated multiply-add.
        let mut digits: Vec<u8> = Vec::new();
        for &byte in &mag {
            let mut carry = u32::from(byte);
            for d in digits.iter_mut() {
                let v = u32::from(*d) * 256 + carry;
                *d = (v % 10) as u8;
                carry = v / 10;
            }
            while carry > 0 {
                digits.push((carry % 10) as u8);
                carry /= 10;
            }
        }
        while digits.last() == Some(&0) {
            digits.pop();
        }
        digits.reverse();
        Decimal {
            negative: negative && !digits.is_empty(),
            digits,
            scale,
        }
    }

    /// Plain notation, as `BigDecimal.toPlainString` writes it: all the
    /// scale's digits after the point, no exponent.
    pub fn to_plain_string(&self) -> String {
        let mut out = String::new();
        if self.negative {
            out.push('-');
        }
        let digits: String = if self.digits.is_empty() {
            "0".into()
        } else {
            self.digits.iter().map(|d| char::from(b'0' + d)).collect()
        };
        if self.scale <= 0 {
            out.push_str(&digits);
            if !self.digits.is_empty() {
                out.extend(std::iter::repeat_n('0', self.scale.unsigned_abs() as usize));
            }
        } else {
            let scale = self.scale as usize;
            if digits.len() > scale {
                let (int, frac) = digits.split_at(digits.len() - scale);
                out.push_str(int);
                out.push('.');
                out.push_str(frac);
            } else {
                out.push_str("0.");
                out.extend(std::iter::repeat_n('0', scale - digits.len()));
                out.push_str(&digits);
            }
        }
        out
    }
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes base64 (standard or URL-safe alphabet; padding and whitespace
/// optional, as Jackson accepts).
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            b' ' | b'\n' | b'\r' | b'\t' => continue,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exponent_of_any_size_is_refused_not_overflowed() {
        assert!(Decimal::parse("1e-9223372036854775808").is_none());
        assert!(Decimal::parse("1e9223372036854775807").is_none());
    }

    fn bytes_of(text: &str, scale: i32) -> Vec<u8> {
        Decimal::parse(text)
            .and_then(|d| d.rescale(scale))
            .map(|d| d.to_unscaled_bytes())
            .unwrap_or_default()
    }

    #[test]
    fn unscaled_bytes_match_big_integer() {
        assert_eq!(bytes_of("0", 0), vec![0]);
        assert_eq!(bytes_of("1.5", 1), vec![15]);
        assert_eq!(bytes_of("127", 0), vec![127]);
        assert_eq!(bytes_of("128", 0), vec![0, 128]);
        assert_eq!(bytes_of("-128", 0), vec![128]);
        assert_eq!(bytes_of("-129", 0), vec![255, 127]);
        assert_eq!(bytes_of("-1", 0), vec![255]);
        assert_eq!(bytes_of("-256", 0), vec![255, 0]);
        assert_eq!(bytes_of("12.34", 2), vec![4, 210]);
        // 2^64 = 18446744073709551616.
        assert_eq!(
            bytes_of("18446744073709551616", 0),
            vec![1, 0, 0, 0, 0, 0, 0, 0, 0]
        );
    }

    #[test]
    fn round_trips_through_bytes() {
        for (text, scale) in [
            ("0.00", 2),
            ("-12.340", 3),
            ("99999999999999999999999999.123", 3),
            ("-0.001", 3),
            ("1200", -2),
        ] {
            let d = Decimal::parse(text).and_then(|d| d.rescale(scale)).unwrap();
            let back = Decimal::from_unscaled_bytes(&d.to_unscaled_bytes(), scale);
            assert_eq!(back.to_plain_string(), d.to_plain_string(), "{text}");
        }
        assert_eq!(
            Decimal::from_unscaled_bytes(&[4, 210], 2).to_plain_string(),
            "12.34"
        );
        assert_eq!(
            Decimal::from_unscaled_bytes(&[255], 0).to_plain_string(),
            "-1"
        );
        assert_eq!(
            Decimal::from_unscaled_bytes(&[12], -2).to_plain_string(),
            "1200"
        );
        assert_eq!(
            Decimal::from_unscaled_bytes(&[], 2).to_plain_string(),
            "0.00"
        );
    }

    #[test]
    fn rescales_half_up() {
        let r = |t: &str, s| {
            Decimal::parse(t)
                .unwrap()
                .rescale(s)
                .unwrap()
                .to_plain_string()
        };
        assert_eq!(r("1.25", 1), "1.3");
        assert_eq!(r("-1.25", 1), "-1.3");
        assert_eq!(r("1.24", 1), "1.2");
        assert_eq!(r("9.99", 1), "10.0");
        assert_eq!(r("0.004", 2), "0.00");
        assert_eq!(r("1e3", 0), "1000");
        assert_eq!(r("1.5", 3), "1.500");
        assert_eq!(Decimal::parse("12.7").unwrap().to_i64(), Some(13));
        assert_eq!(
            Decimal::parse("-9223372036854775808").unwrap().to_i64(),
            Some(i64::MIN)
        );
        assert_eq!(
            Decimal::parse("9223372036854775808").unwrap().to_i64(),
            None
        );
        assert!(Decimal::parse("1.2.3").is_none());
        assert!(Decimal::parse("abc").is_none());
        assert!(Decimal::parse("-").is_none());
        assert!(Decimal::parse("1e999999").is_none());
    }

    #[test]
    fn base64_matches_java() {
        assert_eq!(base64_encode(&[]), "");
        assert_eq!(base64_encode(&[4, 210]), "BNI=");
        assert_eq!(base64_encode(b"hello"), "aGVsbG8=");
        assert_eq!(base64_encode(&[255, 255, 255]), "////");
        assert_eq!(base64_decode("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(base64_decode("aGVsbG8").unwrap(), b"hello");
        assert_eq!(base64_decode("BNI=").unwrap(), vec![4, 210]);
        assert!(base64_decode("a*b").is_none());
    }
}
