//! Axes: which part of the number line a chart shows and where its ticks go. Every chart
//! chooses its ticks here rather than leaving it to plotters, so that each tick's label is
//! written with as many digits as the tick spacing needs: two ticks never read the same
//! ("0, 0, 0, 1, 1" on an axis 0..1 was the bug), and whole-number quantities (epochs,
//! layers) never get a tick at 1.5.

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};

/// How an axis maps values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    Linear,
    /// Decades evenly spaced; labels 0.01, 0.1, 1, 10, ….
    Log10,
    /// Doublings evenly spaced; labels 1, 2, 4, 8, … (batch sizes).
    Log2,
}

impl Scale {
    /// The value in axis units (its logarithm on log axes); None where the axis cannot
    /// show it (NaN, infinite, or ≤ 0 on a log axis).
    pub fn to_axis(self, v: f64) -> Option<f64> {
        let a = match self {
            Scale::Linear => v,
            Scale::Log10 => v.log10(),
            Scale::Log2 => v.log2(),
        };
        Some(a).filter(|a| a.is_finite())
    }

    /// The value at `a` axis units.
    pub fn from_axis(self, a: f64) -> f64 {
        match self {
            Scale::Linear => a,
            Scale::Log10 => 10f64.powf(a),
            Scale::Log2 => 2f64.powf(a),
        }
    }
}

/// One axis: its domain and ticks, both in axis units (log10 or log2 of the value on log
/// axes), and how to label a tick.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    pub scale: Scale,
    pub low: f64,
    pub high: f64,
    /// Inside `low..=high`, ascending, each with a label of its own.
    pub ticks: Vec<f64>,
    /// The spacing of linear ticks (decides the digits of their labels).
    step: f64,
}

impl Axis {
    /// A linear axis over exactly `low..high` with ticks at round multiples inside it.
    pub fn linear(low: f64, high: f64, max_ticks: usize) -> Axis {
        let (low, high) = widen_if_degenerate(low, high);
        let mut step = nice_step(high - low, max_ticks);
        // A round step can leave a single tick inside an awkward range (1.3 wide, two
        // ticks): take the next finer round step until there are two.
        while multiples(low, high, step).len() < 2 {
            step = finer(step);
        }
        Axis::stepped(low, high, step)
    }

    /// A linear axis over `low..high` with ticks at the multiples of `step` (quarter epochs).
    pub fn stepped(low: f64, high: f64, step: f64) -> Axis {
        Axis { scale: Scale::Linear, low, high, ticks: multiples(low, high, step), step }
    }

    /// A linear axis over `low..high` widened to the round ticks around it, so that its
    /// ends are labelled (a loss axis from 0 to 5 rather than to 4.73).
    pub fn linear_rounded(low: f64, high: f64, max_ticks: usize) -> Axis {
        let (low, high) = widen_if_degenerate(low, high);
        let step = nice_step(high - low, max_ticks);
        let (low, high) = ((low / step).floor() * step, (high / step).ceil() * step);
        Axis { scale: Scale::Linear, low, high, ticks: multiples(low, high, step), step }
    }

    /// A linear axis of a whole-number quantity (layers, steps): ticks only at whole
    /// numbers.
    pub fn whole_numbers(low: f64, high: f64, max_ticks: usize) -> Axis {
        let (low, high) = widen_if_degenerate(low, high);
        let step = nice_step(high - low, max_ticks).max(1.0);
        Axis { scale: Scale::Linear, low, high, ticks: multiples(low, high, step), step }
    }

    /// A logarithmic axis covering `low..high` (in axis units, i.e. exponents) with
    /// whole decades or doublings at its ends. Where it spans at most two decades, the
    /// ticks 2× and 5× inside each decade are labelled too, so that the axis has more
    /// than its two ends.
    pub fn log(scale: Scale, low: f64, high: f64, max_ticks: usize) -> Axis {
        debug_assert!(scale != Scale::Linear);
        let (low, high) = if low.is_finite() && high.is_finite() && low <= high {
            let (l, h) = (low.floor(), high.ceil());
            (l, if h > l { h } else { l + 1.0 })
        } else {
            (0.0, 1.0)
        };
        let max_ticks = max_ticks.max(2);
        let whole = (high - low).round() as usize + 1;
        let every = whole.div_ceil(max_ticks).max(1) as i64;
        let mut ticks: Vec<f64> =
            (low as i64..=high as i64).filter(|k| k.rem_euclid(every) == 0).map(|k| k as f64).collect();
        if scale == Scale::Log10 && high - low <= 2.0 && 3 * whole <= max_ticks + 2 {
            for k in low as i64..high as i64 {
                ticks.extend([2f64, 5.0].map(|m| k as f64 + m.log10()));
            }
            ticks.sort_by(f64::total_cmp);
        }
        Axis { scale, low, high, ticks, step: 1.0 }
    }

    /// An axis in `scale` fitted to values already in axis units: a 5 % margin on linear
    /// axes (whole-number ticks where every value is whole), whole decades or doublings
    /// on log axes. `None` where there are no values.
    pub fn fitted(scale: Scale, values: &mut dyn Iterator<Item = f64>, max_ticks: usize) -> Option<Axis> {
        let mut whole = true;
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for v in values.filter(|v| v.is_finite()) {
            whole &= v.fract() == 0.0;
            lo = lo.min(v);
            hi = hi.max(v);
        }
        if !lo.is_finite() {
            return None;
        }
        Some(match scale {
            Scale::Linear => {
                let (lo, hi) = widen_if_degenerate(lo, hi);
                let pad = (hi - lo) * 0.05;
                // Whole-number ticks for whole-number values, unless the range holds
                // fewer than two whole numbers (one value, 1, on an axis 0.9..1.1).
                Some(Axis::whole_numbers(lo - pad, hi + pad, max_ticks))
                    .filter(|a| whole && a.ticks.len() >= 2)
                    .unwrap_or_else(|| Axis::linear(lo - pad, hi + pad, max_ticks))
            }
            Scale::Log10 | Scale::Log2 => Axis::log(scale, lo, hi, max_ticks),
        })
    }

    /// The label of the tick at `a` (axis units).
    pub fn label(&self, a: f64) -> String {
        match self.scale {
            Scale::Linear => format_multiple(a, self.step),
            Scale::Log10 => {
                if (a - a.round()).abs() < 1e-9 {
                    power_of_ten(a)
                } else {
                    significant(10f64.powf(a), 1)
                }
            }
            Scale::Log2 => significant(2f64.powf(a), 3),
        }
    }

    /// The labels of all ticks, in order.
    pub fn labels(&self) -> Vec<String> {
        self.ticks.iter().map(|&t| self.label(t)).collect()
    }
}

/// An axis is a plotters coordinate whose key points are exactly its ticks (plotters'
/// own `WithKeyPoints` over f64 cannot be given a label formatter).
impl Ranged for Axis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let fraction = (value - self.low) / (self.high - self.low);
        if !fraction.is_finite() {
            return limit.0;
        }
        limit.0 + (fraction * (limit.1 - limit.0) as f64).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        // Ticks only: no light grid lines between them.
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.low..self.high
    }
}

/// The axis with the most ticks (at most 12) whose labels, each `gap` pixels apart at
/// least, fit along `pixels`, as `measure` measures them (their widths across, their
/// height up). `make(n)` builds an axis with about `n` intervals; where none fits,
/// `make(1)`.
pub fn fit_ticks(pixels: f64, gap: f64, measure: impl Fn(&str) -> f64, make: impl Fn(usize) -> Axis) -> Axis {
    let fits = |axis: &Axis| {
        let widest = axis.labels().iter().map(|l| measure(l)).fold(0.0, f64::max);
        axis.ticks.len() as f64 * (widest + gap) <= pixels
    };
    (2..=12).rev().map(&make).find(fits).unwrap_or_else(|| make(1))
}

/// How many ticks fit along `pixels` when each needs about `spacing` pixels (at least 2).
pub fn ticks_for(pixels: f64, spacing: f64) -> usize {
    ((pixels / spacing).floor() as usize).clamp(2, 10)
}

fn widen_if_degenerate(low: f64, high: f64) -> (f64, f64) {
    if !(low.is_finite() && high.is_finite()) {
        return (0.0, 1.0);
    }
    let (low, high) = if low <= high { (low, high) } else { (high, low) };
    if high - low > 1e-12 * low.abs().max(high.abs()).max(1e-300) {
        (low, high)
    } else {
        // One value: an axis of ±10 % around it (±0.5 around zero), so it sits mid-axis.
        let half = if low == 0.0 { 0.5 } else { low.abs() * 0.1 };
        (low - half, high + half)
    }
}

/// The round spacing (1, 2 or 5 × 10ᵏ) giving at most `max_ticks` intervals over `span`.
fn nice_step(span: f64, max_ticks: usize) -> f64 {
    let raw = span / max_ticks.max(1) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * magnitude).find(|s| *s >= raw * (1.0 - 1e-9)).unwrap_or(10.0 * magnitude)
}

/// The next round step below `step`: 1 → 0.5 → 0.2 → 0.1.
fn finer(step: f64) -> f64 {
    let magnitude = 10f64.powf(step.log10().floor());
    let m = (step / magnitude).round();
    if m >= 5.0 {
        2.0 * magnitude
    } else if m >= 2.0 {
        magnitude
    } else {
        0.5 * magnitude
    }
}

/// Whole multiples of `step` within `low..=high`, computed as k × step so that they do
/// not drift.
fn multiples(low: f64, high: f64, step: f64) -> Vec<f64> {
    let first = (low / step - 1e-9).ceil() as i64;
    let last = (high / step + 1e-9).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

/// `v`, a multiple of `step`, with the digits that distinguish neighbouring multiples.
fn format_multiple(v: f64, step: f64) -> String {
    let v = if v.abs() < step * 1e-6 { 0.0 } else { v };
    let magnitude = v.abs().max(step);
    if magnitude >= 1e6 || step < 1e-4 {
        // Scientific, with as many mantissa digits as the step needs: 1.5e6, 2.0e-5.
        let digits = (magnitude.log10().floor() - step.log10().floor()).max(0.0) as usize;
        return format!("{v:.digits$e}");
    }
    // The fewest decimals that write the step exactly (0.25 needs two); multiples of it
    // then differ in what is written. Trailing zeros go ("1" rather than "1.0"), which
    // keeps distinct values distinct.
    let decimals = (0..12).find(|&d| {
        let scaled = step * 10f64.powi(d);
        (scaled - scaled.round()).abs() < 1e-6 * scaled.max(1.0)
    });
    let s = format!("{v:.*}", decimals.unwrap_or(12) as usize);
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// `x` to `digits` significant digits, without trailing zeros: 0.25, 200, 2e-5.
pub fn significant(x: f64, digits: usize) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let exponent = x.abs().log10().floor() as i32;
    if !(-4..6).contains(&exponent) {
        let s = format!("{:.*e}", digits.saturating_sub(1), x);
        return s;
    }
    let decimals = (digits as i32 - 1 - exponent).max(0) as usize;
    let s = format!("{x:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// `10^v` written as people write it: 1000, 1, 0.01, 1e-5.
pub fn power_of_ten(v: f64) -> String {
    let k = v.round();
    if (v - k).abs() > 1e-6 {
        let x = 10f64.powf(v);
        return format!("{x:.2e}");
    }
    match k as i32 {
        k @ 0..=4 => format!("{}", 10u64.pow(k as u32)),
        k @ -3..=-1 => format!("{}", 10f64.powi(k)),
        k => format!("1e{k}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_distinct(axis: &Axis) {
        let labels = axis.labels();
        let mut sorted = labels.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), labels.len(), "duplicate tick labels {labels:?} on {axis:?}");
    }

    #[test]
    fn tick_labels_are_distinct_over_many_ranges() {
        // Spans from 1e-7 to 1e9, offsets near and far from zero, 2 to 10 ticks.
        for exp in -7..=9 {
            for offset in [0.0, 0.3, -1.7, 1234.5, 1e6] {
                for span_mantissa in [1.0, 1.3, 2.2, 4.9, 7.7] {
                    for ticks in 2..=10 {
                        let span = span_mantissa * 10f64.powi(exp);
                        let low = offset * 10f64.powi(exp.min(0));
                        for axis in [Axis::linear(low, low + span, ticks), Axis::linear_rounded(low, low + span, ticks)]
                        {
                            assert!(axis.ticks.len() >= 2, "fewer than two ticks: {axis:?}");
                        }
                        for axis in [
                            Axis::linear(low, low + span, ticks),
                            Axis::linear_rounded(low, low + span, ticks),
                            Axis::whole_numbers(low, low + span, ticks),
                        ] {
                            assert_distinct(&axis);
                        }
                    }
                }
            }
        }
        for (lo, hi) in [(-6.0, 6.0), (-1.0, 0.5), (0.3, 0.9), (-0.3, 2.95), (0.0, 13.0)] {
            for ticks in 2..=10 {
                assert_distinct(&Axis::log(Scale::Log10, lo, hi, ticks));
                assert_distinct(&Axis::log(Scale::Log2, lo, hi, ticks));
            }
        }
    }

    #[test]
    fn the_empty_axis_0_to_1_has_distinct_labels() {
        // The reported bug: "0, 0, 0, 1, 1".
        assert_eq!(Axis::linear(0.0, 1.0, 5).labels(), ["0", "0.2", "0.4", "0.6", "0.8", "1"]);
        assert_eq!(Axis::linear(0.0, 1.0, 2).labels(), ["0", "0.5", "1"]);
        assert_eq!(Axis::stepped(0.0, 1.03, 0.25).labels(), ["0", "0.25", "0.5", "0.75", "1"]);
    }

    #[test]
    fn whole_number_axes_never_tick_between_whole_numbers() {
        for high in [1.0, 2.0, 3.0, 3.09, 7.0, 40.0] {
            let axis = Axis::whole_numbers(0.0, high, 10);
            assert!(axis.ticks.iter().all(|t| t.fract() == 0.0), "{axis:?}");
        }
        assert_eq!(Axis::whole_numbers(0.0, 3.09, 10).labels(), ["0", "1", "2", "3"]);
    }

    #[test]
    fn rounded_axes_end_on_a_labelled_tick() {
        let axis = Axis::linear_rounded(0.0, 4.5, 5);
        assert_eq!((axis.low, axis.high), (0.0, 5.0));
        assert_eq!(axis.labels(), ["0", "1", "2", "3", "4", "5"]);
    }

    #[test]
    fn log_axes_label_decades_and_fill_short_ones() {
        assert_eq!(Axis::log(Scale::Log10, -0.3, 2.95, 10).labels(), ["0.1", "1", "10", "100", "1000"]);
        assert_eq!(Axis::log(Scale::Log10, 0.36, 0.65, 10).labels(), ["1", "2", "5", "10"]);
        // Twelve decades on a short axis: every other one.
        assert_eq!(
            Axis::log(Scale::Log10, -6.0, 6.0, 7).labels(),
            ["1e-6", "1e-4", "0.01", "1", "100", "10000", "1e6"]
        );
        assert_eq!(Axis::log(Scale::Log2, -2.0, 3.0, 10).labels(), ["0.25", "0.5", "1", "2", "4", "8"]);
    }

    #[test]
    fn powers_of_ten_read_naturally() {
        assert_eq!(power_of_ten(0.0), "1");
        assert_eq!(power_of_ten(3.0), "1000");
        assert_eq!(power_of_ten(-2.0), "0.01");
        assert_eq!(power_of_ten(-6.0), "1e-6");
    }
}
