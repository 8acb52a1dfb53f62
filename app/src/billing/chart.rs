//! A per-day bar chart as SVG (IF-TENANT-CONSOLE, FR-BILL-003): one event type's usage
//! over a run of days, each day a slot (left empty when nothing was reported), a few
//! gridlines with compact labels, and the first, some middle and the last day under it.
//! Every bar carries its exact day and quantity in an SVG `<title>` (the tooltip, and what
//! assistive technology reads); the chart as a whole is an image with a summary as its
//! label. It scales to its box (`viewBox`, full width), so it fits a phone.
//!
//! Hand-written rather than a chart library: a few rectangles and lines rendered on the
//! server need nothing in the wasm build, and the pages' CSP allows no inline styles or
//! scripts a JavaScript chart would bring. The geometry is a pure function ([`geometry`]),
//! tested apart from the view. Quantities are exact decimal strings (a month's total may
//! pass 2^53); they become `f64` only to be drawn, and every text shows the exact string.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One day of one event type's usage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayUsage {
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    /// The exact total ("0" on a day without usage).
    pub quantity: String,
}

/// The drawing's size in its own units; the browser scales it to the box's width.
pub const WIDTH: f64 = 400.0;
pub const HEIGHT: f64 = 180.0;
/// Room for the gridline labels on the left, the day labels under the bars.
const LEFT: f64 = 40.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 22.0;
/// A bar fills this share of its day's slot, and is never wider than `MAX_BAR` (a month's
/// first day would otherwise be one wide block).
const BAR_SHARE: f64 = 0.7;
const MAX_BAR: f64 = 28.0;

/// One day's slot and bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub day: String,
    pub quantity: String,
    /// The whole slot (it takes the pointer for the tooltip, even on an empty day).
    pub slot_x: f64,
    pub slot_width: f64,
    /// The bar (height 0 on an empty day).
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

/// A horizontal gridline and its label.
#[derive(Debug, Clone, PartialEq)]
pub struct Gridline {
    pub y: f64,
    pub label: String,
}

/// A day's label under the bars.
#[derive(Debug, Clone, PartialEq)]
pub struct DayTick {
    pub x: f64,
    pub label: String,
    /// SVG `text-anchor`: the first label starts at its bar, the last ends at its bar.
    pub anchor: &'static str,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Geometry {
    pub bars: Vec<Bar>,
    /// From the baseline (0) up to the top of the scale.
    pub gridlines: Vec<Gridline>,
    pub ticks: Vec<DayTick>,
    /// The y of zero.
    pub baseline: f64,
    /// The busiest day (the first of equals), if any day has usage.
    pub peak: Option<usize>,
}

/// Where everything goes for `days` (in order, one slot each), in the drawing's units
/// rounded to a tenth.
pub fn geometry(days: &[DayUsage]) -> Geometry {
    let plot_width = WIDTH - LEFT - RIGHT;
    let plot_height = HEIGHT - TOP - BOTTOM;
    let baseline = TOP + plot_height;
    let values: Vec<f64> = days.iter().map(|d| amount(&d.quantity)).collect();
    let max = values.iter().copied().fold(0.0, f64::max);
    let (step, top) = scale(max);
    let slot = plot_width / days.len().max(1) as f64;
    let width = (slot * BAR_SHARE).min(MAX_BAR);
    let bars: Vec<Bar> = days
        .iter()
        .zip(&values)
        .enumerate()
        .map(|(i, (d, v))| {
            let slot_x = LEFT + slot * i as f64;
            // A day with any usage stays visible beside a much busier one.
            let height = if *v > 0.0 {
                (plot_height * v / top).max(1.0)
            } else {
                0.0
            };
            Bar {
                day: d.day.clone(),
                quantity: d.quantity.clone(),
                slot_x: tenth(slot_x),
                slot_width: tenth(slot),
                x: tenth(slot_x + (slot - width) / 2.0),
                y: tenth(baseline - height),
                width: tenth(width),
                height: tenth(height),
            }
        })
        .collect();
    let steps = (top / step).round() as usize;
    let gridlines = (0..=steps)
        .map(|k| {
            let v = step * k as f64;
            Gridline {
                y: tenth(baseline - plot_height * v / top),
                label: compact(v),
            }
        })
        .collect();
    let last = days.len().saturating_sub(1);
    let ticks = tick_days(days.len())
        .into_iter()
        .filter_map(|i| {
            let bar = bars.get(i)?;
            let (x, anchor) = match i {
                _ if last == 0 => (bar.x + bar.width / 2.0, "middle"),
                0 => (bar.x, "start"),
                _ if i == last => (bar.x + bar.width, "end"),
                _ => (bar.x + bar.width / 2.0, "middle"),
            };
            Some(DayTick {
                x: tenth(x),
                label: short_day(&bar.day),
                anchor,
            })
        })
        .collect();
    let peak = values
        .iter()
        .enumerate()
        .filter(|(_, v)| **v > 0.0)
        .reduce(|best, next| if next.1 > best.1 { next } else { best })
        .map(|(i, _)| i);
    Geometry {
        bars,
        gridlines,
        ticks,
        baseline: tenth(baseline),
        peak,
    }
}

/// A quantity to draw (0 for anything that is not a positive finite number).
fn amount(quantity: &str) -> f64 {
    quantity
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v > 0.0)
        .unwrap_or(0.0)
}

fn tenth(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// The gridline step and the top of the scale for the largest value: about four steps of
/// 1, 2, 2.5 or 5 times a power of ten, and never a fraction (quantities are whole).
fn scale(max: f64) -> (f64, f64) {
    if !max.is_finite() || max <= 0.0 {
        return (1.0, 1.0);
    }
    let raw = max / 4.0;
    // `powi`: exact for the powers of ten a quantity can reach.
    let magnitude = 10f64.powi(raw.log10().floor() as i32);
    let norm = raw / magnitude;
    let nice = if norm <= 1.0 {
        1.0
    } else if norm <= 2.0 {
        2.0
    } else if norm <= 2.5 && magnitude >= 10.0 {
        2.5
    } else if norm <= 5.0 {
        5.0
    } else {
        10.0
    };
    let step = (nice * magnitude).max(1.0);
    // The small slack keeps a float error from adding an empty step at the top.
    let top = ((max / step) - 1e-9).ceil().max(1.0) * step;
    (step, top)
}

/// The slots that get a day label: the first, three between, the last (fewer when the
/// days are fewer).
fn tick_days(count: usize) -> Vec<usize> {
    if count == 0 {
        return Vec::new();
    }
    let last = (count - 1) as f64;
    let mut days: Vec<usize> = (0..=4u32)
        .map(|k| (last * f64::from(k) / 4.0).round() as usize)
        .collect();
    days.dedup();
    days
}

/// A gridline label: 950, 1.2k, 3.4M, 2.5B (then T, P, E).
pub fn compact(v: f64) -> String {
    let mut scaled = v;
    let mut unit = "";
    for next in ["k", "M", "B", "T", "P", "E"] {
        if (scaled * 10.0).round() / 10.0 < 1000.0 {
            break;
        }
        scaled /= 1000.0;
        unit = next;
    }
    let text = format!("{scaled:.1}");
    format!("{}{unit}", text.strip_suffix(".0").unwrap_or(&text))
}

/// An exact whole quantity with thousands separators (`1234567` → `1,234,567`); anything
/// else as it is.
pub fn grouped(exact: &str) -> String {
    let exact = exact.trim();
    let (whole, fraction) = exact.split_once('.').unwrap_or((exact, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return exact.to_owned();
    }
    let mut out = String::with_capacity(whole.len() + whole.len() / 3 + fraction.len() + 1);
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if !fraction.is_empty() {
        out.push('.');
        out.push_str(fraction);
    }
    out
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Year, month name and day of `YYYY-MM-DD`.
fn day_parts(day: &str) -> Option<(&str, &'static str, u32)> {
    let year = day.get(0..4)?;
    let month = day.get(5..7)?.parse::<usize>().ok()?;
    let name = MONTHS.get(month.checked_sub(1)?)?;
    let date = day.get(8..10)?.parse::<u32>().ok()?;
    Some((year, name, date))
}

/// `2026-07-03` → `3 Jul`.
pub fn short_day(day: &str) -> String {
    match day_parts(day) {
        Some((_, month, date)) => format!("{date} {}", month.get(..3).unwrap_or(month)),
        None => day.to_owned(),
    }
}

/// `2026-07-03` → `3 July 2026`.
pub fn long_day(day: &str) -> String {
    match day_parts(day) {
        Some((year, month, date)) => format!("{date} {month} {year}"),
        None => day.to_owned(),
    }
}

/// The chart in one sentence (its `aria-label`).
pub fn summary(
    label: &str,
    period: &str,
    total: &str,
    days: &[DayUsage],
    peak: Option<usize>,
) -> String {
    match peak.and_then(|i| days.get(i)) {
        Some(busiest) => format!(
            "{label} per day, {period}: {} in all; the busiest day was {} with {}.",
            grouped(total),
            long_day(&busiest.day),
            grouped(&busiest.quantity)
        ),
        None => format!("{label} per day, {period}: nothing reported."),
    }
}

// --- the view -----------------------------------------------------------------------------

/// The bars of `days` for one event type (`label`), over `period` (in words), whose exact
/// total is `total`.
#[component]
pub fn DailyBars(
    #[prop(into)] label: String,
    days: Vec<DayUsage>,
    #[prop(into)] period: String,
    #[prop(into)] total: String,
) -> impl IntoView {
    let shape = geometry(&days);
    let summary = summary(&label, &period, &total, &days, shape.peak);
    let Geometry {
        bars,
        gridlines,
        ticks,
        baseline,
        ..
    } = shape;
    let view_box = format!("0 0 {WIDTH} {HEIGHT}");
    let (right, label_x, tick_y) = (WIDTH - RIGHT, LEFT - 6.0, baseline + 15.0);
    let slot_height = tenth(baseline - TOP);
    let grid = gridlines
        .into_iter()
        .map(|g| {
            let label_y = tenth(g.y + 4.0);
            view! {
                <g>
                    <line x1=LEFT x2=right y1=g.y y2=g.y stroke-width="1" class="stroke-slate-200" />
                    <text x=label_x y=label_y text-anchor="end" font-size="11" class="fill-slate-500">{g.label}</text>
                </g>
            }
        })
        .collect_view();
    let bars = bars
        .into_iter()
        .map(|b| {
            let Bar {
                day,
                quantity,
                slot_x,
                slot_width,
                x,
                y,
                width,
                height,
            } = b;
            let title = format!("{}: {}", long_day(&day), grouped(&quantity));
            let bar = (height > 0.0).then(|| {
                view! {
                    <rect x=x y=y width=width height=height rx="1.5" class="fill-indigo-500 group-hover:fill-indigo-400" />
                }
            });
            view! {
                <g class="group" data-testid="usage-bar" data-day=day data-quantity=quantity>
                    <title>{title}</title>
                    <rect x=slot_x y=TOP width=slot_width height=slot_height class="fill-transparent" />
                    {bar}
                </g>
            }
        })
        .collect_view();
    let ticks = ticks
        .into_iter()
        .map(|t| {
            view! {
                <text x=t.x y=tick_y text-anchor=t.anchor font-size="11" class="fill-slate-500">{t.label}</text>
            }
        })
        .collect_view();
    view! {
        <svg viewBox=view_box width="100%" role="img" aria-label=summary
            class="block h-auto w-full select-none" data-testid="usage-chart" data-event-type=label>
            {grid}
            <line x1=LEFT x2=right y1=baseline y2=baseline stroke-width="1" class="stroke-slate-300" />
            {bars}
            {ticks}
        </svg>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(day: &str, quantity: &str) -> DayUsage {
        DayUsage {
            day: day.into(),
            quantity: quantity.into(),
        }
    }

    #[test]
    fn every_day_has_a_slot_and_an_empty_day_no_bar() {
        let days = [
            day("2026-07-01", "5"),
            day("2026-07-02", "0"),
            day("2026-07-03", "12"),
        ];
        let g = geometry(&days);
        assert_eq!(g.bars.len(), 3);
        // 12 at most: a scale of 0, 5, 10, 15.
        let labels: Vec<&str> = g.gridlines.iter().map(|l| l.label.as_str()).collect();
        assert_eq!(labels, ["0", "5", "10", "15"]);
        assert_eq!(g.baseline, 158.0);
        assert_eq!(g.gridlines[0].y, 158.0);
        assert_eq!(g.gridlines[3].y, 10.0);
        // The plot is 352 wide: three slots of 117.3, bars capped at 28, centred.
        assert_eq!(g.bars[0].slot_x, 40.0);
        assert_eq!(g.bars[1].slot_width, 117.3);
        assert_eq!(g.bars[0].width, 28.0);
        assert_eq!(g.bars[0].x, 84.7);
        // 12 of 15 on a plot 148 high.
        assert_eq!(g.bars[2].height, 118.4);
        assert_eq!(g.bars[2].y, 39.6);
        assert_eq!(g.bars[1].height, 0.0);
        assert_eq!(g.bars[1].y, 158.0);
        assert_eq!(g.bars[1].quantity, "0");
        assert_eq!(g.peak, Some(2));
    }

    #[test]
    fn a_small_day_stays_visible_and_the_first_of_equal_peaks_is_the_busiest() {
        let days = [
            day("2026-07-01", "1"),
            day("2026-07-02", "1000000"),
            day("2026-07-03", "1000000"),
        ];
        let g = geometry(&days);
        assert_eq!(g.bars[0].height, 1.0);
        assert_eq!(g.peak, Some(1));
        let labels: Vec<&str> = g.gridlines.iter().map(|l| l.label.as_str()).collect();
        assert_eq!(labels, ["0", "250k", "500k", "750k", "1M"]);
    }

    #[test]
    fn nothing_reported_draws_no_bar_and_a_scale_of_one() {
        let days = [day("2026-07-01", "0"), day("2026-07-02", "not a number")];
        let g = geometry(&days);
        assert!(g.bars.iter().all(|b| b.height == 0.0));
        assert_eq!(g.gridlines.len(), 2);
        assert_eq!(g.peak, None);
        assert_eq!(
            summary("api.call", "1–2 July 2026", "0", &days, g.peak),
            "api.call per day, 1–2 July 2026: nothing reported."
        );
        assert!(geometry(&[]).bars.is_empty());
    }

    #[test]
    fn quantities_past_2_to_the_53_are_drawn_and_named_exactly() {
        let huge = "18014398509481985";
        let days = [day("2026-07-01", "1"), day("2026-07-02", huge)];
        let g = geometry(&days);
        assert_eq!(g.bars[1].quantity, huge);
        // About 1.8e16 on a scale up to 2e16 (steps of 5e15).
        assert_eq!(g.gridlines.last().map(|l| l.label.as_str()), Some("20P"));
        assert_eq!(g.bars[1].y, 24.7);
        assert_eq!(
            summary("api.call", "1–2 July 2026", huge, &days, g.peak),
            "api.call per day, 1–2 July 2026: 18,014,398,509,481,985 in all; \
             the busiest day was 2 July 2026 with 18,014,398,509,481,985."
        );
    }

    #[test]
    fn the_scale_steps_by_round_numbers_and_never_by_fractions() {
        assert_eq!(scale(5.0), (2.0, 6.0));
        assert_eq!(scale(3.0), (1.0, 3.0));
        assert_eq!(scale(1.0), (1.0, 1.0));
        assert_eq!(scale(9.0), (5.0, 10.0));
        assert_eq!(scale(100.0), (25.0, 100.0));
        assert_eq!(scale(1250.0), (500.0, 1500.0));
        assert_eq!(scale(0.0), (1.0, 1.0));
    }

    #[test]
    fn day_labels_mark_the_first_a_few_middle_and_the_last_day() {
        assert_eq!(tick_days(0), Vec::<usize>::new());
        assert_eq!(tick_days(1), [0]);
        assert_eq!(tick_days(2), [0, 1]);
        assert_eq!(tick_days(31), [0, 8, 15, 23, 30]);
        let days: Vec<DayUsage> = (1..=31)
            .map(|d| day(&format!("2026-07-{d:02}"), "1"))
            .collect();
        let ticks = geometry(&days).ticks;
        let labels: Vec<&str> = ticks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels, ["1 Jul", "9 Jul", "16 Jul", "24 Jul", "31 Jul"]);
        assert_eq!(ticks[0].anchor, "start");
        assert_eq!(ticks[2].anchor, "middle");
        assert_eq!(ticks[4].anchor, "end");
        assert!(ticks[4].x <= WIDTH - RIGHT);
        let one = geometry(&days[..1]).ticks;
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].anchor, "middle");
    }

    #[test]
    fn numbers_read_compact_on_the_axis_and_exact_in_words() {
        assert_eq!(compact(0.0), "0");
        assert_eq!(compact(12.0), "12");
        assert_eq!(compact(999.0), "999");
        assert_eq!(compact(1000.0), "1k");
        assert_eq!(compact(1200.0), "1.2k");
        assert_eq!(compact(7500.0), "7.5k");
        assert_eq!(compact(999_999.0), "1M");
        assert_eq!(compact(3_400_000.0), "3.4M");
        assert_eq!(compact(2_500_000_000.0), "2.5B");
        assert_eq!(grouped("0"), "0");
        assert_eq!(grouped("999"), "999");
        assert_eq!(grouped("1000"), "1,000");
        assert_eq!(grouped("1234567"), "1,234,567");
        assert_eq!(grouped("12.5"), "12.5");
        assert_eq!(grouped("n/a"), "n/a");
        assert_eq!(short_day("2026-07-03"), "3 Jul");
        assert_eq!(long_day("2026-12-31"), "31 December 2026");
        assert_eq!(long_day("2026-13-01"), "2026-13-01");
        assert_eq!(short_day("bad"), "bad");
    }
}
