//! Compressed chunks of consolidated perfdata rows.
//!
//! A chunk holds the closed rows of one metric in one archive: their times (multiples of
//! the archive's step) and, per row, the minimum, maximum, sum and count of the samples
//! it consolidates (the average is sum / count). It is stored column by column:
//!
//! - the times as the number of missing steps between two rows (0 when none is missing);
//! - the counts as differences from the previous row;
//! - the values as *scaled integers*: the smallest number of decimals `d` (0 to 6) at
//!   which every minimum and maximum is exactly `integer / 10^d` (they are samples, and
//!   a value printed with at most `d` decimals parses to exactly that double) and every
//!   sum is within 1e-12 of its own size of such a number (a sum of samples with `d`
//!   decimals has `d` decimals; only the float rounding of the additions is dropped);
//!   then the minimum as the difference from the previous row's, the maximum as its
//!   distance above the minimum, the sum as its distance above minimum × count;
//! - when no such `d` exists (more than 6 decimals, or numbers beyond 2^53 / 10^d), the
//!   doubles themselves, each XORed with the previous one of its column, with the zero
//!   bytes at either end left out.
//!
//! Integers are zigzag varints (LEB128). A column is written either plainly or as runs
//! (value, length), whichever is shorter: a column that rarely changes (the missing
//! steps, the counts, the spread of a one-sample row) costs a few bytes for the chunk.
//! Decoding gives back exactly the minimum and maximum stored, and the sums as stated.

use super::Time;

/// One consolidated row: the step beginning at `at`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Row {
    pub at: Time,
    pub min: f64,
    pub max: f64,
    pub sum: f64,
    pub count: u64,
}

impl Row {
    /// A row of one sample.
    pub fn one(at: Time, value: f64) -> Row {
        Row {
            at,
            min: value,
            max: value,
            sum: value,
            count: 1,
        }
    }

    /// The average of the samples.
    pub fn avg(&self) -> f64 {
        if self.count == 0 {
            f64::NAN
        } else {
            self.sum / self.count as f64
        }
    }

    /// Adds the samples of `other` (a finer row, or one sample) to this one.
    pub fn merge(&mut self, other: &Row) {
        if self.count == 0 {
            *self = Row {
                at: self.at,
                ..*other
            };
            return;
        }
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        self.sum += other.sum;
        self.count += other.count;
    }
}

const VERSION: u8 = 1;
const FLOATS: u8 = 0xff;
/// At most this many rows in a chunk (a decoder's bound against corrupt input).
pub const MAX_ROWS: usize = 1 << 20;
const LIMIT: f64 = 9_007_199_254_740_992.0; // 2^53

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// Writes a column plainly or as runs, whichever is shorter (a mode byte first).
fn put_column(out: &mut Vec<u8>, values: &[u64]) {
    let mut plain = Vec::with_capacity(values.len() * 2);
    for &v in values {
        put_varint(&mut plain, v);
    }
    let mut runs = Vec::new();
    let mut i = 0;
    while i < values.len() {
        let mut j = i + 1;
        while j < values.len() && values[j] == values[i] {
            j += 1;
        }
        put_varint(&mut runs, values[i]);
        put_varint(&mut runs, (j - i) as u64);
        i = j;
        if runs.len() > plain.len() {
            break;
        }
    }
    if runs.len() < plain.len() {
        out.push(1);
        out.extend_from_slice(&runs);
    } else {
        out.push(0);
        out.extend_from_slice(&plain);
    }
}

/// The value scaled by 10^d when it is (within `tolerance` of itself) integer / 10^d.
fn scaled(v: f64, d: u32, tolerance: f64) -> Option<i64> {
    let p = 10f64.powi(d as i32);
    let x = (v * p).round();
    if !x.is_finite() || x.abs() >= LIMIT {
        return None;
    }
    let back = x / p;
    let ok = if tolerance == 0.0 {
        back == v
    } else {
        (back - v).abs() <= v.abs() * tolerance
    };
    ok.then_some(x as i64)
}

fn put_xor(out: &mut Vec<u8>, prev: &mut u64, v: f64) {
    let bits = v.to_bits();
    let x = bits ^ *prev;
    *prev = bits;
    if x == 0 {
        out.push(0);
        return;
    }
    let lead = x.leading_zeros() / 8;
    let trail = x.trailing_zeros() / 8;
    out.push(0x80 | ((lead as u8) << 4) | trail as u8);
    let bytes = x.to_be_bytes();
    out.extend_from_slice(&bytes[lead as usize..8 - trail as usize]);
}

/// Encodes rows (sorted by time, at distinct multiples of `step`) into a chunk.
pub fn encode(step: u64, rows: &[Row]) -> Vec<u8> {
    let step = step.max(1);
    let mut out = Vec::with_capacity(16 + rows.len() * 4);
    out.push(VERSION);
    put_varint(&mut out, rows.first().map_or(0, |r| r.at / step));
    put_varint(&mut out, rows.len() as u64);
    if rows.is_empty() {
        return out;
    }
    let gaps: Vec<u64> = rows
        .windows(2)
        .map(|w| {
            (w[1].at / step)
                .saturating_sub(w[0].at / step)
                .saturating_sub(1)
        })
        .collect();
    let mut prev = 0i64;
    let counts: Vec<u64> = rows
        .iter()
        .map(|r| {
            let c = r.count as i64;
            let d = zigzag(c.wrapping_sub(prev));
            prev = c;
            d
        })
        .collect();
    let scale = (0..=6u32).find(|&d| {
        rows.iter().all(|r| {
            scaled(r.min, d, 0.0).is_some()
                && scaled(r.max, d, 0.0).is_some()
                && scaled(r.sum, d, 1e-12).is_some()
        })
    });
    out.push(scale.map_or(FLOATS, |d| d as u8));
    put_column(&mut out, &gaps);
    put_column(&mut out, &counts);
    match scale {
        Some(d) => {
            let (mut mins, mut spreads, mut extras) = (Vec::new(), Vec::new(), Vec::new());
            let mut prev = 0i64;
            for r in rows {
                let (min, max, sum) = (
                    scaled(r.min, d, 0.0).unwrap_or(0),
                    scaled(r.max, d, 0.0).unwrap_or(0),
                    scaled(r.sum, d, 1e-12).unwrap_or(0),
                );
                mins.push(zigzag(min.wrapping_sub(prev)));
                prev = min;
                spreads.push(zigzag(max.wrapping_sub(min)));
                extras.push(zigzag(sum.wrapping_sub(min.wrapping_mul(r.count as i64))));
            }
            put_column(&mut out, &mins);
            put_column(&mut out, &spreads);
            put_column(&mut out, &extras);
        }
        None => {
            let (mut a, mut b, mut c) = (0, 0, 0);
            for r in rows {
                put_xor(&mut out, &mut a, r.min);
                put_xor(&mut out, &mut b, r.max);
                put_xor(&mut out, &mut c, r.sum);
            }
        }
    }
    out
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Result<u8, String> {
        let b = *self.data.get(self.pos).ok_or("chunk cut short")?;
        self.pos += 1;
        Ok(b)
    }

    fn varint(&mut self) -> Result<u64, String> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("varint too long".into())
    }

    fn column(&mut self, n: usize) -> Result<Vec<u64>, String> {
        let mut out = Vec::with_capacity(n);
        match self.byte()? {
            0 => {
                for _ in 0..n {
                    out.push(self.varint()?);
                }
            }
            1 => {
                while out.len() < n {
                    let v = self.varint()?;
                    let run = self.varint()?;
                    if run == 0 || run > (n - out.len()) as u64 {
                        return Err("bad run length".into());
                    }
                    out.extend(std::iter::repeat_n(v, run as usize));
                }
            }
            m => return Err(format!("unknown column mode {m}")),
        }
        Ok(out)
    }

    fn xor(&mut self, prev: &mut u64) -> Result<f64, String> {
        let h = self.byte()?;
        if h != 0 {
            let (lead, trail) = (((h >> 4) & 7) as usize, (h & 0xf) as usize);
            if h & 0x80 == 0 || lead + trail >= 8 {
                return Err("bad float header".into());
            }
            let mut bytes = [0u8; 8];
            for b in &mut bytes[lead..8 - trail] {
                *b = self.byte()?;
            }
            *prev ^= u64::from_be_bytes(bytes);
        }
        Ok(f64::from_bits(*prev))
    }
}

/// Decodes a chunk made by [`encode`] with the same `step`.
pub fn decode(step: u64, data: &[u8]) -> Result<Vec<Row>, String> {
    let step = step.max(1);
    let mut r = Reader { data, pos: 0 };
    let version = r.byte()?;
    if version != VERSION {
        return Err(format!("unknown chunk version {version}"));
    }
    let mut index = r.varint()?;
    let n = r.varint()?;
    if n as usize > MAX_ROWS {
        return Err(format!("{n} rows in a chunk"));
    }
    let n = n as usize;
    if n == 0 {
        return Ok(Vec::new());
    }
    let scale = r.byte()?;
    let gaps = r.column(n - 1)?;
    let counts = r.column(n)?;
    let mut rows = Vec::with_capacity(n);
    let mut count = 0i64;
    for i in 0..n {
        if i > 0 {
            index = index
                .checked_add(gaps[i - 1] + 1)
                .ok_or("time out of range")?;
        }
        count = count.wrapping_add(unzigzag(counts[i]));
        let at = index.checked_mul(step).ok_or("time out of range")?;
        rows.push(Row {
            at,
            min: 0.0,
            max: 0.0,
            sum: 0.0,
            count: count.max(0) as u64,
        });
    }
    if scale == FLOATS {
        let (mut a, mut b, mut c) = (0, 0, 0);
        for row in &mut rows {
            row.min = r.xor(&mut a)?;
            row.max = r.xor(&mut b)?;
            row.sum = r.xor(&mut c)?;
        }
    } else if scale <= 6 {
        let p = 10f64.powi(scale as i32);
        let mins = r.column(n)?;
        let spreads = r.column(n)?;
        let extras = r.column(n)?;
        let mut min = 0i64;
        for (i, row) in rows.iter_mut().enumerate() {
            min = min.wrapping_add(unzigzag(mins[i]));
            let max = min.wrapping_add(unzigzag(spreads[i]));
            let sum = min
                .wrapping_mul(row.count as i64)
                .wrapping_add(unzigzag(extras[i]));
            row.min = min as f64 / p;
            row.max = max as f64 / p;
            row.sum = sum as f64 / p;
        }
    } else {
        return Err(format!("unknown scale {scale}"));
    }
    if r.pos != data.len() {
        return Err("bytes after the chunk".into());
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn roundtrip(step: u64, rows: &[Row]) -> Vec<Row> {
        decode(step, &encode(step, rows)).unwrap()
    }

    #[test]
    fn empty_and_one_row() {
        assert_eq!(roundtrip(60, &[]), vec![]);
        let one = [Row::one(120, 0.52)];
        assert_eq!(roundtrip(60, &one), one);
    }

    #[test]
    fn printed_values_come_back_exactly() {
        let rows: Vec<Row> = [0.52, 0.5, 1.25, 12.345678, -3.0, 1e12]
            .iter()
            .enumerate()
            .map(|(i, &v)| Row::one(i as u64 * 60, v))
            .collect();
        assert_eq!(roundtrip(60, &rows), rows);
    }

    #[test]
    fn sums_of_decimals_lose_only_the_addition_noise() {
        let mut r = Row::one(0, 0.1);
        r.merge(&Row::one(0, 0.2));
        assert_eq!(r.sum, 0.30000000000000004);
        let back = roundtrip(300, &[r]);
        assert_eq!(back[0].sum, 0.3);
        assert_eq!((back[0].min, back[0].max, back[0].count), (0.1, 0.2, 2));
    }

    #[test]
    fn more_than_six_decimals_are_kept_as_doubles() {
        let rows = [
            Row::one(0, std::f64::consts::PI),
            Row::one(60, 1e-9),
            Row::one(180, f64::MAX),
        ];
        let data = encode(60, &rows);
        assert_eq!(data[3], FLOATS);
        assert_eq!(decode(60, &data).unwrap(), rows);
    }

    #[test]
    fn corrupt_chunks_are_errors() {
        let data = encode(60, &[Row::one(0, 1.0), Row::one(60, 2.0)]);
        for cut in 0..data.len() {
            assert!(decode(60, &data[..cut]).is_err(), "cut at {cut}");
        }
        assert!(decode(60, &[9]).is_err());
        assert!(decode(60, &[1, 0, 0xff, 0xff, 0xff, 0xff, 0x0f]).is_err());
    }

    /// A realistic series: a load average printed with 2 decimals, sampled every minute.
    fn load(n: usize) -> Vec<Row> {
        let mut x = 0.5f64;
        let mut seed = 7u64;
        (0..n)
            .map(|i| {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                x = (x + ((seed >> 33) % 21) as f64 / 100.0 - 0.1).clamp(0.0, 8.0);
                let v: f64 = format!("{x:.2}").parse().unwrap();
                Row::one(i as u64 * 60, v)
            })
            .collect()
    }

    #[test]
    fn realistic_series_are_small() {
        // one sample per minute: about 1 byte a row (a row of 3 doubles takes 24)
        let rows = load(240);
        let size = encode(60, &rows).len();
        assert!(size < 240 * 2, "{size} bytes for 240 rows");
        assert_eq!(roundtrip(60, &rows), rows);
        // 5-minute rows of those samples: min, max and sum all vary
        let coarse: Vec<Row> = rows
            .chunks(5)
            .enumerate()
            .map(|(i, c)| {
                let mut r = Row {
                    at: i as u64 * 300,
                    min: 0.0,
                    max: 0.0,
                    sum: 0.0,
                    count: 0,
                };
                c.iter().for_each(|s| r.merge(s));
                r
            })
            .collect();
        let size = encode(300, &coarse).len();
        assert!(
            size < coarse.len() * 6,
            "{size} bytes for {} rows",
            coarse.len()
        );
        let back = roundtrip(300, &coarse);
        for (a, b) in back.iter().zip(&coarse) {
            assert_eq!((a.at, a.min, a.max, a.count), (b.at, b.min, b.max, b.count));
            assert!((a.sum - b.sum).abs() <= b.sum.abs() * 1e-12);
        }
    }

    fn printed() -> impl Strategy<Value = f64> {
        prop_oneof![
            (-1_000_000_000i64..1_000_000_000).prop_map(|i| i as f64),
            (-1_000_000i64..1_000_000, 0u32..=6).prop_map(|(i, d)| format!(
                "{}",
                i as f64 / 10f64.powi(d as i32)
            )
            .parse()
            .unwrap()),
            any::<f64>().prop_filter("finite", |v| v.is_finite()),
        ]
    }

    proptest! {
        #[test]
        fn any_rows_round_trip(
            start in 0u64..100_000_000,
            rows in prop::collection::vec((0u64..5, printed(), printed(), 1u64..400), 0..300),
        ) {
            let step = 60;
            let mut at = start * step;
            let rows: Vec<Row> = rows
                .into_iter()
                .map(|(gap, a, b, count)| {
                    at += (gap + 1) * step;
                    let (min, max) = if a <= b { (a, b) } else { (b, a) };
                    Row { at, min, max, sum: min * count as f64, count }
                })
                .collect();
            let back = roundtrip(step, &rows);
            prop_assert_eq!(back.len(), rows.len());
            for (a, b) in back.iter().zip(&rows) {
                prop_assert_eq!((a.at, a.min, a.max, a.count), (b.at, b.min, b.max, b.count));
                prop_assert!(a.sum == b.sum || (a.sum - b.sum).abs() <= b.sum.abs() * 1e-12, "{} vs {}", a.sum, b.sum);
            }
        }

        #[test]
        fn garbage_never_panics(data in prop::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode(60, &data);
        }
    }
}
