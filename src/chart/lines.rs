//! A general plot of lines and points, with linear or logarithmic axes: the lessons'
//! measurement charts (accuracy against batch size, running statistics over steps,
//! gradient norms per layer, a clipping threshold drawn across a gradient-norm curve).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::colour;

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
    fn to_axis(self, v: f64) -> Option<f64> {
        match self {
            Scale::Linear => Some(v).filter(|v| v.is_finite()),
            Scale::Log10 => Some(v.log10()).filter(|v| v.is_finite()),
            Scale::Log2 => Some(v.log2()).filter(|v| v.is_finite()),
        }
    }

    fn label(self, axis: f64) -> String {
        match self {
            Scale::Linear => {
                let s = format!("{axis:.3}");
                s.trim_end_matches('0').trim_end_matches('.').to_string()
            }
            Scale::Log10 => power_of_ten(axis),
            Scale::Log2 => {
                let v = 2f64.powf(axis);
                if (v - v.round()).abs() < 1e-6 {
                    format!("{}", v.round())
                } else {
                    format!("{v:.1}")
                }
            }
        }
    }

    /// Whole decades or doublings around the data on log axes; a small margin on linear ones.
    fn range(self, low: f64, high: f64) -> (f64, f64) {
        match self {
            Scale::Linear => {
                let pad = ((high - low) * 0.05).max(1e-6);
                (low - pad, high + pad)
            }
            Scale::Log10 | Scale::Log2 => {
                let (l, h) = (low.floor(), high.ceil());
                (l, if h > l { h } else { l + 1.0 })
            }
        }
    }

    /// How many labels to ask plotters for: one per decade or doubling on log axes.
    fn labels(self, low: f64, high: f64) -> usize {
        match self {
            Scale::Linear => 8,
            Scale::Log10 | Scale::Log2 => ((high - low).round() as usize + 1).clamp(2, 12),
        }
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineStyle {
    Solid,
    /// Thin and translucent: raw, noisy values behind a summary.
    Faint,
    Dashed,
    Points,
    SolidWithPoints,
}

/// One series.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    pub label: String,
    pub points: Vec<(f64, f64)>,
    pub colour: usize,
    pub style: LineStyle,
}

/// A chart of lines. Points that an axis cannot show (NaN, or ≤ 0 on a log axis) are
/// left out.
pub struct LinePlot<'a> {
    pub title: &'a str,
    pub x_label: &'a str,
    pub y_label: &'a str,
    pub x_scale: Scale,
    pub y_scale: Scale,
    pub lines: &'a [Line],
    /// Horizontal reference lines: (value, label), drawn dashed in grey.
    pub references: &'a [(f64, String)],
    /// A fixed y range in data units (default: fitted to the data and references).
    pub y_range: Option<(f64, f64)>,
}

pub fn draw_line_plot<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, plot: &LinePlot) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(err)?;
    let mapped: Vec<Vec<(f64, f64)>> = plot
        .lines
        .iter()
        .map(|l| {
            l.points.iter().filter_map(|&(x, y)| Some((plot.x_scale.to_axis(x)?, plot.y_scale.to_axis(y)?))).collect()
        })
        .collect();
    let references: Vec<(f64, &str)> =
        plot.references.iter().filter_map(|(v, l)| Some((plot.y_scale.to_axis(*v)?, l.as_str()))).collect();
    let bounds = |values: &mut dyn Iterator<Item = f64>| {
        values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)))
    };
    let (x_lo, x_hi) = bounds(&mut mapped.iter().flatten().map(|p| p.0));
    let (x_lo, x_hi) = if x_lo.is_finite() { plot.x_scale.range(x_lo, x_hi) } else { (0.0, 1.0) };
    let (y_lo, y_hi) = match plot.y_range {
        Some((lo, hi)) => (plot.y_scale.to_axis(lo).unwrap_or(0.0), plot.y_scale.to_axis(hi).unwrap_or(1.0)),
        None => {
            let (lo, hi) = bounds(&mut mapped.iter().flatten().map(|p| p.1).chain(references.iter().map(|r| r.0)));
            if lo.is_finite() {
                plot.y_scale.range(lo, hi)
            } else {
                (0.0, 1.0)
            }
        }
    };

    let mut chart = ChartBuilder::on(root)
        .caption(plot.title, ("sans-serif", 17))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(62)
        .build_cartesian_2d(x_lo..x_hi, y_lo..y_hi)
        .map_err(err)?;
    let (xs, ys) = (plot.x_scale, plot.y_scale);
    let x_format = move |v: &f64| xs.label(*v);
    let y_format = move |v: &f64| ys.label(*v);
    chart
        .configure_mesh()
        .x_desc(plot.x_label)
        .y_desc(plot.y_label)
        .x_labels(xs.labels(x_lo, x_hi))
        .y_labels(ys.labels(y_lo, y_hi))
        .x_label_formatter(&x_format)
        .y_label_formatter(&y_format)
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(err)?;

    for &(y, label) in &references {
        let grey = RGBColor(90, 90, 90);
        chart.draw_series(DashedLineSeries::new([(x_lo, y), (x_hi, y)], 8, 5, grey.stroke_width(2))).map_err(err)?;
        let text = Text::new(label.to_string(), (x_lo, y), ("sans-serif", 13).into_font().color(&grey));
        chart.draw_series(std::iter::once(text)).map_err(err)?;
    }
    for (line, points) in plot.lines.iter().zip(&mapped) {
        let c = colour(line.colour);
        let legend_style = c.stroke_width(3);
        let series = match line.style {
            LineStyle::Solid | LineStyle::SolidWithPoints => {
                chart.draw_series(LineSeries::new(points.iter().copied(), c.stroke_width(2))).map_err(err)?
            }
            LineStyle::Faint => chart.draw_series(LineSeries::new(points.iter().copied(), c.mix(0.35))).map_err(err)?,
            LineStyle::Dashed => chart
                .draw_series(DashedLineSeries::new(points.iter().copied(), 6, 4, c.stroke_width(2)))
                .map_err(err)?,
            LineStyle::Points => {
                chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, c.mix(0.6).filled()))).map_err(err)?
            }
        };
        if !line.label.is_empty() {
            series
                .label(line.label.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], legend_style));
        }
        if line.style == LineStyle::SolidWithPoints {
            chart.draw_series(points.iter().map(|&p| Circle::new(p, 4, c.filled()))).map_err(err)?;
        }
    }
    if plot.lines.iter().any(|l| !l.label.is_empty()) {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(err)?;
    }
    root.present().map_err(err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn powers_of_ten_read_naturally() {
        assert_eq!(power_of_ten(0.0), "1");
        assert_eq!(power_of_ten(3.0), "1000");
        assert_eq!(power_of_ten(-2.0), "0.01");
        assert_eq!(power_of_ten(-6.0), "1e-6");
    }

    #[test]
    fn log2_axis_labels_batch_sizes_and_skips_what_it_cannot_show() {
        let lines = [
            Line {
                label: "BatchNorm".into(),
                points: vec![(2.0, 45.0), (4.0, 85.0), (256.0, 88.0)],
                colour: 0,
                style: LineStyle::SolidWithPoints,
            },
            Line {
                label: "none".into(),
                points: vec![(0.0, 1.0), (8.0, f64::NAN)],
                colour: 1,
                style: LineStyle::Dashed,
            },
        ];
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (640, 360)).into_drawing_area();
            let plot = LinePlot {
                title: "Eval accuracy",
                x_label: "batch size",
                y_label: "test accuracy (%)",
                x_scale: Scale::Log2,
                y_scale: Scale::Linear,
                lines: &lines,
                references: &[(10.0, "chance".into())],
                y_range: Some((0.0, 100.0)),
            };
            draw_line_plot(&root, &plot).unwrap();
        }
        // plotters writes each text on a line of its own.
        for needle in ["\n2\n", "\n256\n", "batch size", "BatchNorm", "chance", "<polyline"] {
            assert!(svg.contains(needle), "plot SVG lacks {needle:?}");
        }
    }
}
