//! See the module documentation of [`crate::web`].
//!
//! Graphs are drawn on the server as inline SVG, so a page shows them without
//! JavaScript and under a `default-src 'self'` policy:
//!
//! - [`render_points`] (and [`render_graph`] for a stored series): the average as
//!   `<path class="series avg" d="M x,y L x,y ...">` (one point per `M`/`L`; a new `M`
//!   after a gap in the data), the min–max band as `<path class="band">`, warning and
//!   critical levels as `<line class="warn">` / `<line class="crit">`, value and time
//!   axes with units. The series is first reduced to one point per pixel column of the
//!   plot ([`downsample`]: lowest min, highest max, mean of the averages), so a year of
//!   rows costs no more than the graph's width.
//! - [`render_timeline`]: the states of one object over a range as adjacent
//!   `<rect data-state="STATE">`, UNDETERMINED before the first known state.

use crate::history::{Event, Kind, Time};
use crate::web::escape;
use hcoop_plugins::host::clock::civil_from_unix;
use std::fmt::Write as _;

/// The graph's size in SVG user units (scaled by the stylesheet).
pub const WIDTH: f64 = 800.0;
pub const HEIGHT: f64 = 220.0;
/// The plot area inside the graph: left of it the value labels, below it the times.
const X0: f64 = 64.0;
const X1: f64 = WIDTH - 12.0;
const Y0: f64 = 10.0;
const Y1: f64 = HEIGHT - 24.0;
/// The timeline bar's size.
pub const TIMELINE_HEIGHT: f64 = 36.0;

/// One consolidated row: its time and the lowest, mean and highest value in it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub at: Time,
    pub min: f64,
    pub avg: f64,
    pub max: f64,
}

/// What a graph is of, besides its points.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Meta {
    /// The metric's label (shown in the accessible name).
    pub label: String,
    /// The unit (`s`, `%`, `B`, ...; empty for none).
    pub unit: String,
    /// The warning and critical ranges as printed in the perfdata (`10`, `~:5`, `@1:2`).
    pub warn: Option<String>,
    pub crit: Option<String>,
    /// The step of the series' rows, in seconds (0: unknown).
    pub step: u64,
}

/// `samples` (in time order) reduced to at most one per pixel column of a plot `columns`
/// wide over [`from`, `to`): per column the lowest min, the highest max, the mean of the
/// averages, at the mean time of its samples. Samples outside the range and values that
/// are not finite are left out.
pub fn downsample(samples: &[Sample], from: Time, to: Time, columns: usize) -> Vec<Sample> {
    let span = to.saturating_sub(from).max(1) as f64;
    let columns = columns.max(1);
    let mut out: Vec<Sample> = Vec::with_capacity(columns.min(samples.len()));
    let mut current: Option<(usize, Sample, u32, u128)> = None;
    let flush = |c: Option<(usize, Sample, u32, u128)>, out: &mut Vec<Sample>| {
        if let Some((_, mut s, n, at_sum)) = c {
            s.avg /= f64::from(n);
            s.at = (at_sum / u128::from(n)) as Time;
            out.push(s);
        }
    };
    for s in samples {
        if s.at < from
            || s.at > to
            || !(s.min.is_finite() && s.avg.is_finite() && s.max.is_finite())
        {
            continue;
        }
        let column = (((s.at - from) as f64 / span) * columns as f64) as usize;
        let column = column.min(columns - 1);
        match &mut current {
            Some((c, acc, n, at_sum)) if *c == column => {
                acc.min = acc.min.min(s.min);
                acc.max = acc.max.max(s.max);
                acc.avg += s.avg;
                *n += 1;
                *at_sum += u128::from(s.at);
            }
            _ => {
                flush(current.take(), &mut out);
                current = Some((column, *s, 1, u128::from(s.at)));
            }
        }
    }
    flush(current, &mut out);
    out
}

/// The longest distance between two samples still drawn as joined: twice the step or
/// twice the usual (median) spacing of the samples, whichever is longer, so a check
/// that runs every 5 minutes into 1-minute rows is a line, and a missing hour a gap.
fn gap_limit(samples: &[Sample], step: u64) -> u64 {
    let mut deltas: Vec<u64> = samples
        .windows(2)
        .map(|w| w[1].at.saturating_sub(w[0].at))
        .collect();
    let median = if deltas.is_empty() {
        0
    } else {
        let mid = deltas.len() / 2;
        *deltas.select_nth_unstable(mid).1
    };
    (2 * step).max(2 * median).max(1)
}

/// The lines a range text draws: each finite end, but not the implied 0 of `10` (0..10).
pub fn levels(range: &str) -> Vec<f64> {
    let Ok(r) = range.parse::<hcoop_plugins::plugin::range::Range>() else {
        return Vec::new();
    };
    let implied_zero = !range.trim().contains(':');
    let mut out = Vec::new();
    if let Some(s) = r.start() {
        if !implied_zero {
            out.push(s);
        }
    }
    if let Some(e) = r.end() {
        out.push(e);
    }
    out.retain(|v| v.is_finite());
    out
}

/// A tick step of 1, 2 or 5 times a power of ten giving about `count` ticks over `span`.
fn nice_step(span: f64, count: f64) -> f64 {
    let raw = (span / count).max(f64::MIN_POSITIVE);
    let power = 10f64.powf(raw.log10().floor());
    let m = raw / power;
    let nice = if m <= 1.0 {
        1.0
    } else if m <= 2.0 {
        2.0
    } else if m <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * power
}

/// A value with an SI prefix and the unit: `1.5 kB`, `250 ms`, `12 %`.
pub fn format_value(v: f64, unit: &str) -> String {
    let a = v.abs();
    let (scaled, prefix) = if unit == "%" || a < 1000.0 {
        (v, "")
    } else if a < 1e6 {
        (v / 1e3, "k")
    } else if a < 1e9 {
        (v / 1e6, "M")
    } else if a < 1e12 {
        (v / 1e9, "G")
    } else {
        (v / 1e12, "T")
    };
    let number = if scaled == 0.0 {
        "0".to_string()
    } else if scaled.abs() >= 100.0 || scaled.fract() == 0.0 {
        format!("{scaled:.0}")
    } else if scaled.abs() >= 10.0 {
        format!("{scaled:.1}")
    } else if scaled.abs() >= 0.01 {
        let s = format!("{scaled:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("{scaled:.2e}")
    };
    match (prefix, unit) {
        ("", "") => number,
        (p, u) => format!("{number} {p}{u}"),
    }
}

/// Time ticks: the first step of the list giving at most 8 ticks over the range.
const TIME_STEPS: [u64; 16] = [
    60,
    300,
    900,
    1800,
    3600,
    2 * 3600,
    3 * 3600,
    6 * 3600,
    12 * 3600,
    86_400,
    2 * 86_400,
    7 * 86_400,
    14 * 86_400,
    30 * 86_400,
    61 * 86_400,
    91 * 86_400,
];

/// A time label fitting a range of `span` seconds (UTC): `14:30`, `12-06 14:00`, `2026-12-06`.
pub fn time_label(at: Time, span: u64) -> String {
    let c = civil_from_unix(at as i64);
    if span <= 26 * 3600 {
        format!("{:02}:{:02}", c.hour, c.minute)
    } else if span <= 8 * 86_400 {
        format!("{:02}-{:02} {:02}:{:02}", c.month, c.day, c.hour, c.minute)
    } else {
        format!("{}-{:02}-{:02}", c.year, c.month, c.day)
    }
}

fn x_of(at: f64, from: Time, to: Time) -> f64 {
    let span = to.saturating_sub(from).max(1) as f64;
    X0 + (at - from as f64) / span * (X1 - X0)
}

/// The graph of `samples` over [`from`, `to`] as an inline `<svg class="graph">`.
pub fn render_points(meta: &Meta, samples: &[Sample], from: Time, to: Time) -> String {
    let to = to.max(from + 1);
    let columns = (X1 - X0) as usize;
    let points = downsample(samples, from, to, columns);
    let warn = meta.warn.as_deref().map(levels).unwrap_or_default();
    let crit = meta.crit.as_deref().map(levels).unwrap_or_default();
    // the value range: the data and the levels, from 0 unless something is negative
    let mut lo = 0f64;
    let mut hi = f64::NEG_INFINITY;
    for p in &points {
        lo = lo.min(p.min);
        hi = hi.max(p.max);
    }
    for &l in warn.iter().chain(&crit) {
        lo = lo.min(l);
        hi = hi.max(l);
    }
    if !hi.is_finite() || hi <= lo {
        hi = lo + 1.0;
    }
    let tick = nice_step(hi - lo, 4.0);
    let lo = (lo / tick).floor() * tick;
    let hi = (hi / tick).ceil() * tick;
    let y_of = |v: f64| Y1 - (v - lo) / (hi - lo) * (Y1 - Y0);
    let unit = escape(&meta.unit);
    let mut svg = String::with_capacity(256 + points.len() * 40);
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"graph\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" \
         width=\"{WIDTH}\" height=\"{HEIGHT}\" role=\"img\" aria-label=\"{}\" data-from=\"{from}\" \
         data-to=\"{to}\" data-x0=\"{X0}\" data-x1=\"{X1}\" data-y0=\"{Y0}\" data-y1=\"{Y1}\" \
         data-lo=\"{lo}\" data-hi=\"{hi}\" data-unit=\"{unit}\">",
        escape(&meta.label)
    );
    // value grid and labels
    let mut v = lo;
    let mut n = 0;
    while v <= hi + tick / 2.0 && n < 20 {
        let y = y_of(v);
        let _ = write!(
            svg,
            "<line class=\"grid\" x1=\"{X0}\" y1=\"{y:.1}\" x2=\"{X1}\" y2=\"{y:.1}\"/>\
             <text class=\"end\" x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            X0 - 4.0,
            y + 4.0,
            escape(&format_value(v, &meta.unit))
        );
        v += tick;
        n += 1;
    }
    // time grid and labels, at multiples of the step (UTC)
    let span = to - from;
    let step = TIME_STEPS
        .iter()
        .copied()
        .find(|s| span / s <= 8)
        .unwrap_or(365 * 86_400);
    let mut t = from.div_ceil(step) * step;
    while t <= to {
        let x = x_of(t as f64, from, to);
        let _ = write!(
            svg,
            "<line class=\"grid\" x1=\"{x:.1}\" y1=\"{Y0}\" x2=\"{x:.1}\" y2=\"{Y1}\"/>\
             <text class=\"middle\" x=\"{x:.1}\" y=\"{:.1}\">{}</text>",
            Y1 + 15.0,
            time_label(t, span)
        );
        t += step;
    }
    let _ = write!(
        svg,
        "<line class=\"axis\" x1=\"{X0}\" y1=\"{Y1}\" x2=\"{X1}\" y2=\"{Y1}\"/>\
         <line class=\"axis\" x1=\"{X0}\" y1=\"{Y0}\" x2=\"{X0}\" y2=\"{Y1}\"/>"
    );
    if points.is_empty() {
        let _ = write!(
            svg,
            "<text class=\"middle\" x=\"{:.1}\" y=\"{:.1}\">no data in this range</text>",
            (X0 + X1) / 2.0,
            (Y0 + Y1) / 2.0
        );
    }
    // the band and the average, split where the data has gaps
    let limit = gap_limit(&points, meta.step);
    let mut segments: Vec<&[Sample]> = Vec::new();
    let mut start = 0;
    for i in 1..=points.len() {
        if i == points.len() || points[i].at - points[i - 1].at > limit {
            segments.push(&points[start..i]);
            start = i;
        }
    }
    let mut band = String::new();
    let mut avg = String::with_capacity(points.len() * 14);
    for seg in segments.iter().filter(|s| !s.is_empty()) {
        // "x,y" of a sample's time and one of its values
        let xy = |p: &Sample, v: f64| format!("{:.1},{:.1}", x_of(p.at as f64, from, to), y_of(v));
        for (i, p) in seg.iter().enumerate() {
            let _ = write!(band, "{}{} ", if i == 0 { "M" } else { "L" }, xy(p, p.max));
        }
        for p in seg.iter().rev() {
            let _ = write!(band, "L{} ", xy(p, p.min));
        }
        band.push_str("Z ");
        for (i, p) in seg.iter().enumerate() {
            if !avg.is_empty() {
                avg.push(' ');
            }
            let _ = write!(avg, "{} {}", if i == 0 { "M" } else { "L" }, xy(p, p.avg));
        }
    }
    if !points.is_empty() {
        let _ = write!(
            svg,
            "<path class=\"band\" d=\"{}\"/><path class=\"series avg\" d=\"{avg}\"/>",
            band.trim_end()
        );
    }
    for (class, values) in [("warn", &warn), ("crit", &crit)] {
        for &l in values.iter() {
            let y = y_of(l);
            let _ = write!(
                svg,
                "<line class=\"{class}\" x1=\"{X0}\" y1=\"{y:.1}\" x2=\"{X1}\" y2=\"{y:.1}\"><title>{class} {}</title></line>",
                escape(&format_value(l, &meta.unit))
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// The graph of a stored series over [`from`, `to`].
pub fn render_graph(series: &crate::history::perf::Series, from: Time, to: Time) -> String {
    let samples: Vec<Sample> = series
        .points
        .iter()
        .map(|p| Sample {
            at: p.at,
            min: p.min,
            avg: p.avg,
            max: p.max,
        })
        .collect();
    let m = &series.metric;
    let meta = Meta {
        label: m.label.clone(),
        unit: m.unit.clone(),
        warn: m.warn.clone(),
        crit: m.crit.clone(),
        step: series.step,
    };
    render_points(&meta, &samples, from, to)
}

/// One stretch of a timeline: a state from `from` to `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stretch {
    pub state: String,
    pub from: Time,
    pub to: Time,
}

/// The stretches of states over [`from`, `to`] that the State events `events` (oldest
/// first, possibly starting with the last one before `from`) make: UNDETERMINED until
/// the first known state, adjacent equal states joined. Other kinds are skipped.
pub fn stretches(events: &[Event], from: Time, to: Time) -> Vec<Stretch> {
    let mut out: Vec<Stretch> = Vec::new();
    let mut state = "UNDETERMINED".to_string();
    let mut since = from;
    let push = |state: &str, a: Time, b: Time, out: &mut Vec<Stretch>| {
        if b <= a {
            return;
        }
        match out.last_mut() {
            Some(last) if last.state == state && last.to == a => last.to = b,
            _ => out.push(Stretch {
                state: state.to_string(),
                from: a,
                to: b,
            }),
        }
    };
    for e in events.iter().filter(|e| e.kind == Kind::State) {
        let Some(new) = e.state.as_deref() else {
            continue;
        };
        if e.at > to {
            break;
        }
        let at = e.at.max(from);
        push(&state, since, at, &mut out);
        state = new.to_string();
        since = at;
    }
    push(&state, since, to, &mut out);
    out
}

/// How long, in words: `3d 4h`, `2h 5m`, `40s`.
pub fn duration_text(secs: u64) -> String {
    let (d, h, m, s) = (
        secs / 86_400,
        secs % 86_400 / 3600,
        secs % 3600 / 60,
        secs % 60,
    );
    if d > 0 {
        format!("{d}d {h}h")
    } else if h > 0 {
        format!("{h}h {m}m")
    } else if m > 0 {
        format!("{m}m {s}s")
    } else {
        format!("{s}s")
    }
}

/// The state timeline of one object over [`from`, `to`] as `<svg id="timeline">` with
/// one `<rect data-state="STATE">` per stretch (its `<title>` says when and how long).
pub fn render_timeline(events: &[Event], from: Time, to: Time) -> String {
    let to = to.max(from + 1);
    let parts = stretches(events, from, to);
    let span = (to - from) as f64;
    let width = WIDTH - 2.0;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"timeline\" viewBox=\"0 0 {WIDTH} {}\" \
         width=\"{WIDTH}\" height=\"{}\" role=\"img\" aria-label=\"states from {} to {}\">",
        TIMELINE_HEIGHT + 16.0,
        TIMELINE_HEIGHT + 16.0,
        time_label(from, u64::MAX),
        time_label(to, u64::MAX)
    );
    for p in &parts {
        let x = 1.0 + (p.from - from) as f64 / span * width;
        let w = (p.to - p.from) as f64 / span * width;
        let state = escape(&p.state);
        let _ = write!(
            svg,
            "<rect data-state=\"{state}\" x=\"{x:.2}\" y=\"1\" width=\"{w:.2}\" height=\"{TIMELINE_HEIGHT}\">\
             <title>{state} {} – {} ({})</title></rect>",
            full_time(p.from),
            full_time(p.to),
            duration_text(p.to - p.from)
        );
    }
    let _ = write!(
        svg,
        "<text x=\"1\" y=\"{:.1}\">{}</text><text class=\"end\" x=\"{:.1}\" y=\"{:.1}\">{}</text></svg>",
        TIMELINE_HEIGHT + 13.0,
        full_time(from),
        WIDTH - 1.0,
        TIMELINE_HEIGHT + 13.0,
        full_time(to)
    );
    svg
}

/// `2026-12-06 14:30:00` (UTC).
pub fn full_time(at: Time) -> String {
    let c = civil_from_unix(at as i64);
    format!(
        "{}-{:02}-{:02} {:02}:{:02}:{:02}",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(at: Time, v: f64) -> Sample {
        Sample {
            at,
            min: v - 1.0,
            avg: v,
            max: v + 1.0,
        }
    }

    fn path_points(svg: &str) -> Vec<String> {
        let start = svg.find("<path class=\"series avg\" d=\"").unwrap() + 28;
        let d = &svg[start..start + svg[start..].find('"').unwrap()];
        d.split(' ')
            .filter(|t| *t == "M" || *t == "L")
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn a_year_of_rows_is_reduced_to_the_plot_width_keeping_min_and_max() {
        let from = 1_700_000_000;
        let to = from + 365 * 86_400;
        // 6-hour rows for a year, one spike
        let mut rows: Vec<Sample> = (0..365 * 4)
            .map(|i| sample(from + i * 21_600, 10.0))
            .collect();
        rows[700].max = 500.0;
        rows[701].min = -3.0;
        let columns = (X1 - X0) as usize;
        let down = downsample(&rows, from, to, columns);
        assert!(down.len() <= columns, "{}", down.len());
        assert!(down.iter().any(|s| s.max == 500.0));
        assert!(down.iter().any(|s| s.min == -3.0));
        assert!(down.iter().all(|s| s.avg == 10.0));
        let svg = render_points(&Meta::default(), &rows, from, to);
        let points = path_points(&svg);
        assert_eq!(points.len(), down.len());
        assert_eq!(points.iter().filter(|p| *p == "M").count(), 1, "no gaps");
    }

    #[test]
    fn few_rows_keep_one_point_each_and_gaps_start_a_new_line() {
        let from = 1_700_000_000;
        let to = from + 4 * 3600;
        // a check every 5 minutes into 1-minute rows; nothing for an hour in the middle
        let mut rows: Vec<Sample> = (0..12)
            .map(|i| sample(from + i * 300, f64::from(i as u32)))
            .collect();
        rows.extend((0..12).map(|i| sample(from + 7200 + i * 300, 3.0)));
        let meta = Meta {
            label: "load1".into(),
            step: 60,
            ..Meta::default()
        };
        let svg = render_points(&meta, &rows, from, to);
        let points = path_points(&svg);
        assert_eq!(points.len(), 24);
        assert_eq!(points.iter().filter(|p| *p == "M").count(), 2, "{svg}");
        assert!(svg.contains("<path class=\"band\" d=\"M"));
        assert!(!svg.contains("line class=\"warn\""));
        // rows outside the range and values that are not numbers are not drawn
        rows.push(sample(to + 60, 1.0));
        rows.push(sample(from + 100, f64::NAN));
        rows.sort_by_key(|s| s.at);
        assert_eq!(
            path_points(&render_points(&meta, &rows, from, to)).len(),
            24
        );
    }

    #[test]
    fn levels_are_lines_and_labels_carry_the_unit() {
        let from = 1_700_000_000;
        let rows: Vec<Sample> = (0..60).map(|i| sample(from + i * 60, 50.0)).collect();
        let meta = Meta {
            label: "time <b>".into(),
            unit: "ms".into(),
            warn: Some("200".into()),
            crit: Some("@100:300".into()),
            step: 60,
        };
        let svg = render_points(&meta, &rows, from, from + 3600);
        assert_eq!(svg.matches("<line class=\"warn\"").count(), 1, "{svg}");
        assert_eq!(svg.matches("<line class=\"crit\"").count(), 2, "{svg}");
        assert!(svg.contains(">300 ms</text>"), "{svg}");
        assert!(svg.contains("aria-label=\"time &lt;b&gt;\""));
        assert!(!svg.contains("<b>"));
        assert_eq!(levels("10"), [10.0]);
        assert_eq!(levels("10:"), [10.0]);
        assert_eq!(levels("~:5"), [5.0]);
        assert_eq!(levels("5:10"), [5.0, 10.0]);
        assert!(levels("nonsense").is_empty());
        assert_eq!(format_value(1536.0, "B"), "1.54 kB");
        assert_eq!(format_value(250.0, "ms"), "250 ms");
        assert_eq!(format_value(0.5, ""), "0.5");
    }

    #[test]
    fn an_empty_series_says_so() {
        let svg = render_points(&Meta::default(), &[], 0, 3600);
        assert!(svg.contains("no data in this range"));
        assert!(!svg.contains("series avg"));
    }

    fn state(at: Time, s: &str) -> Event {
        Event {
            state: Some(s.into()),
            ..Event::new(Kind::State, at, Some("h"), Some("s"))
        }
    }

    #[test]
    fn the_timeline_has_a_rect_per_stretch() {
        let events = [
            state(500, "OK"),
            state(1500, "CRITICAL"),
            state(1600, "CRITICAL"),
            Event::new(Kind::Ack, 1700, Some("h"), Some("s")),
            state(2000, "OK"),
        ];
        // the first event is before the range: the range starts OK
        assert_eq!(
            stretches(&events, 1000, 3000),
            [
                Stretch {
                    state: "OK".into(),
                    from: 1000,
                    to: 1500
                },
                Stretch {
                    state: "CRITICAL".into(),
                    from: 1500,
                    to: 2000
                },
                Stretch {
                    state: "OK".into(),
                    from: 2000,
                    to: 3000
                },
            ]
        );
        // nothing known before the first event
        let parts = stretches(&events[1..], 1000, 3000);
        assert_eq!(
            parts[0],
            Stretch {
                state: "UNDETERMINED".into(),
                from: 1000,
                to: 1500
            }
        );
        let svg = render_timeline(&events, 1000, 3000);
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"timeline\""));
        let rects: Vec<&str> = svg
            .match_indices("<rect data-state=\"")
            .map(|(i, _)| &svg[i + 18..i + 26])
            .collect();
        assert_eq!(rects.len(), 3);
        assert!(
            svg.contains("<rect data-state=\"CRITICAL\" x=\"200.50\" y=\"1\" width=\"199.50\""),
            "{svg}"
        );
        assert_eq!(
            stretches(&[], 0, 10),
            [Stretch {
                state: "UNDETERMINED".into(),
                from: 0,
                to: 10
            }]
        );
    }
}
