//! A general plot of lines and points, with linear or logarithmic axes: the lessons'
//! measurement charts (accuracy against batch size, running statistics over steps,
//! gradient norms per layer, a clipping threshold drawn across a gradient-norm curve).
//! [`draw_line_plot_with_bands`] adds translucent bands under the lines (the class view's
//! lowest-to-highest spread of a configuration's runs).

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::Serialize;

use super::axis::{fit_ticks, ticks_for, Axis};
pub use super::axis::{power_of_ten, Scale};
use super::colour;
use super::data::{ChartData, SeriesData};
use super::frame::{self, Legend, LegendEntry, Swatch, MARGIN, TEXT_PX, TICK_PX};
use super::marks::{self, Plot};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum LineStyle {
    Solid,
    /// Thin and translucent: raw, noisy values behind a summary.
    Faint,
    Dashed,
    Points,
    /// A thick line with a dot at each point: a summary (the epoch means).
    SolidWithPoints,
    /// Dashed with a triangle at each point (test accuracy on the training chart).
    DashedWithTriangles,
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
/// left out of the picture (the returned [`ChartData`] still lists the ones ≤ 0).
pub struct LinePlot<'a> {
    pub title: &'a str,
    pub x_label: &'a str,
    pub y_label: &'a str,
    pub x_scale: Scale,
    pub y_scale: Scale,
    pub lines: &'a [Line],
    /// Horizontal reference lines: (value, label), drawn dashed in grey.
    pub references: &'a [(f64, String)],
    /// A fixed y range in data units (default: fitted to the data and references). Values
    /// outside it are marked at the edge with their value, not drawn on it.
    pub y_range: Option<(f64, f64)>,
}

/// The area between a low and a high value at each x (the lowest and highest of several
/// runs), drawn translucent in its colour under the lines. Its values count in the y
/// axis's fit like the lines'; where the y range is fixed, the band is cut at the plot's
/// edge (the lines beyond it are marked as off-scale, see [`LinePlot::y_range`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Band {
    /// Its legend entry (none when empty).
    pub label: String,
    /// (x, low, high), in order of x.
    pub points: Vec<(f64, f64, f64)>,
    pub colour: usize,
}

/// Where a chart put its plot, for tests that check what lies inside and outside it.
#[derive(Clone, Debug)]
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) struct Layout {
    /// left, top, right, bottom in pixels of the root area.
    pub plot: (f64, f64, f64, f64),
    pub y: Axis,
    /// The top of the legend strip, where there is a legend.
    pub legend_top: Option<f64>,
    /// How many off-scale arrows were drawn.
    pub off_scale: usize,
}

/// Draws the plot and returns what it drew, in numbers.
pub fn draw_line_plot<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, plot: &LinePlot) -> Result<ChartData, String> {
    draw_line_plot_laid_out(root, plot).map(|(data, _)| data)
}

/// The plot with `bands` under its lines (the class view's spread over runs).
pub fn draw_line_plot_with_bands<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    plot: &LinePlot,
    bands: &[Band],
) -> Result<ChartData, String> {
    draw_bands_and_lines(root, plot, bands).map(|(data, _)| data)
}

pub(crate) fn draw_line_plot_laid_out<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    plot: &LinePlot,
) -> Result<(ChartData, Layout), String> {
    draw_bands_and_lines(root, plot, &[])
}

fn draw_bands_and_lines<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    plot: &LinePlot,
    bands: &[Band],
) -> Result<(ChartData, Layout), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(err)?;
    let body = frame::title(root, plot.title)?;
    let legend = Legend {
        groups: vec![plot
            .lines
            .iter()
            .filter(|l| !l.label.is_empty())
            .map(|l| LegendEntry { label: l.label.clone(), colour: colour(l.colour), swatch: Swatch::Line(l.style) })
            .chain(bands.iter().filter(|b| !b.label.is_empty()).map(|b| LegendEntry {
                label: b.label.clone(),
                colour: colour(b.colour),
                swatch: Swatch::Band,
            }))
            .collect()],
    };
    let (area, legend_area) = frame::split_for_legend(&body, &legend);
    let (width, height) = area.dim_in_pixel();

    let mapped: Vec<Vec<(f64, f64)>> = plot
        .lines
        .iter()
        .map(|l| {
            l.points.iter().filter_map(|&(x, y)| Some((plot.x_scale.to_axis(x)?, plot.y_scale.to_axis(y)?))).collect()
        })
        .collect();
    // Each band as its high edge and its low edge, in axis units; a point either edge
    // cannot show (NaN, ≤ 0 on a log axis) is left out of both.
    type Edge = Vec<(f64, f64)>;
    let band_edges: Vec<(Edge, Edge)> = bands
        .iter()
        .map(|b| {
            b.points
                .iter()
                .filter_map(|&(x, low, high)| {
                    let x = plot.x_scale.to_axis(x)?;
                    Some(((x, plot.y_scale.to_axis(high)?), (x, plot.y_scale.to_axis(low)?)))
                })
                .unzip()
        })
        .collect();
    let references: Vec<(f64, &str)> =
        plot.references.iter().filter_map(|(v, l)| Some((plot.y_scale.to_axis(*v)?, l.as_str()))).collect();
    // Tick counts from the room the plot will roughly have: as many labels across as fit
    // side by side, labels about 36 px apart up.
    let y_ticks = ticks_for(height as f64 - 70.0, 36.0);
    let empty_axis = |scale: Scale, ticks: usize| match scale {
        Scale::Linear => Axis::linear(0.0, 1.0, ticks),
        log => Axis::log(log, 0.0, 1.0, ticks),
    };
    let x = fit_ticks(
        width as f64 - 90.0,
        14.0,
        |label| frame::text_width(&area, label, TICK_PX),
        |ticks| {
            let band_x = band_edges.iter().flat_map(|(high, _)| high.iter().map(|p| p.0));
            Axis::fitted(plot.x_scale, &mut mapped.iter().flatten().map(|p| p.0).chain(band_x), ticks)
                .unwrap_or_else(|| empty_axis(plot.x_scale, ticks))
        },
    );
    let y = match plot.y_range {
        Some((lo, hi)) => {
            let (lo, hi) = (plot.y_scale.to_axis(lo).unwrap_or(0.0), plot.y_scale.to_axis(hi).unwrap_or(1.0));
            match plot.y_scale {
                Scale::Linear => Axis::linear(lo, hi, y_ticks),
                log => Axis::log(log, lo, hi, y_ticks),
            }
        }
        None => Axis::fitted(
            plot.y_scale,
            &mut mapped
                .iter()
                .flatten()
                .map(|p| p.1)
                .chain(references.iter().map(|r| r.0))
                .chain(band_edges.iter().flat_map(|(high, low)| high.iter().chain(low).map(|p| p.1))),
            y_ticks,
        )
        .unwrap_or_else(|| empty_axis(plot.y_scale, y_ticks)),
    };

    let y_labels = y.labels();
    let mut chart = ChartBuilder::on(&area)
        .margin(MARGIN)
        .x_label_area_size(frame::x_label_area(!plot.x_label.is_empty()))
        .y_label_area_size(frame::y_label_area(&area, &y_labels, !plot.y_label.is_empty()))
        .build_cartesian_2d(x.clone(), y.clone())
        .map_err(err)?;
    let x_format = |v: &f64| x.label(*v);
    let y_format = |v: &f64| y.label(*v);
    chart
        .configure_mesh()
        .x_desc(plot.x_label)
        .y_desc(plot.y_label)
        .x_label_formatter(&x_format)
        .y_label_formatter(&y_format)
        .label_style(frame::font(TICK_PX, frame::INK))
        .axis_desc_style(frame::font(TEXT_PX, frame::INK))
        .bold_line_style(BLACK.mix(0.08))
        .light_line_style(WHITE.mix(0.0))
        .set_all_tick_mark_size(5)
        .draw()
        .map_err(err)?;
    let on = Plot::new(&area, chart.plotting_area().get_pixel_range(), &x, &y);

    let grey = RGBColor(90, 90, 90);
    for &(value, label) in &references {
        if value < y.low || value > y.high {
            continue;
        }
        let (_, py) = on.px((x.low, value));
        let dashed = marks::Pen { width: 2, alpha: 1.0, dash: Some((8.0, 5.0)), marker: None };
        marks::stroke(&area, &[(on.left, py), (on.right, py)], grey, dashed)?;
        frame::draw_text(&area, label, (on.left + 4.0, py - 3.0), TEXT_PX, grey, Pos::new(HPos::Left, VPos::Bottom))?;
    }
    for (band, (high, low)) in bands.iter().zip(&band_edges) {
        let px = |edge: &[(f64, f64)]| edge.iter().map(|&p| on.px(p)).collect::<Vec<_>>();
        marks::fill_band(&area, &on, &px(high), &px(low), colour(band.colour))?;
    }
    let mut off_scale = 0;
    for (line, points) in plot.lines.iter().zip(&mapped) {
        off_scale += marks::draw_series(&area, &on, points, colour(line.colour), line.style)?;
    }
    let (_, by) = root.get_base_pixel();
    let legend_top = match &legend_area {
        Some(strip) => {
            legend.draw(strip)?;
            Some((strip.get_base_pixel().1 - by) as f64)
        }
        None => None,
    };
    root.present().map_err(err)?;

    let (ax, ay) = area.get_base_pixel();
    let (rx, ry) = root.get_base_pixel();
    let shift = ((ax - rx) as f64, (ay - ry) as f64);
    let layout = Layout {
        plot: (on.left + shift.0, on.top + shift.1, on.right + shift.0, on.bottom + shift.1),
        y: y.clone(),
        legend_top,
        off_scale,
    };
    let data = ChartData {
        title: plot.title.to_string(),
        x_label: plot.x_label.to_string(),
        y_label: plot.y_label.to_string(),
        series: plot
            .lines
            .iter()
            .map(|l| SeriesData {
                label: l.label.clone(),
                style: l.style,
                y_label: None,
                points: l.points.iter().copied().filter(|p| p.0.is_finite() && p.1.is_finite()).collect(),
            })
            .collect(),
        legend: plot
            .lines
            .iter()
            .filter(|l| !l.label.is_empty())
            .map(|l| (l.label.clone(), Some(l.style)))
            .chain(bands.iter().filter(|b| !b.label.is_empty()).map(|b| (b.label.clone(), None)))
            .collect(),
        ..Default::default()
    };
    Ok((data, layout))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::svg::{self, hex, polylines, texts};

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

    fn plot(
        lines: &[Line],
        y_scale: Scale,
        y_range: Option<(f64, f64)>,
        size: (u32, u32),
    ) -> (String, ChartData, Layout) {
        let mut svg = String::new();
        let (data, layout) = {
            let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
            let plot = LinePlot {
                title: "Running statistics",
                x_label: "step",
                y_label: "value",
                x_scale: Scale::Linear,
                y_scale,
                lines,
                references: &[],
                y_range,
            };
            draw_line_plot_laid_out(&root, &plot).unwrap()
        };
        (svg, data, layout)
    }

    fn line(label: &str, colour: usize, style: LineStyle, points: Vec<(f64, f64)>) -> Line {
        Line { label: label.into(), points, colour, style }
    }

    fn wavy(phase: f64) -> Vec<(f64, f64)> {
        (0..40).map(|i| (i as f64 * 10.0, (i as f64 * 0.3 + phase).sin() + 2.0)).collect()
    }

    #[test]
    fn the_legend_pictures_each_style_below_the_plot() {
        let lines = [
            line("running · momentum 0.1", 0, LineStyle::Solid, wavy(0.0)),
            line("running · momentum 0.9", 1, LineStyle::Dashed, wavy(1.0)),
            line("batch", 2, LineStyle::Faint, wavy(2.0)),
            line("eval", 3, LineStyle::SolidWithPoints, wavy(3.0)),
            line("samples", 4, LineStyle::Points, wavy(4.0)),
        ];
        let (svg, _, layout) = plot(&lines, Scale::Linear, None, (640, 360));
        let bottom = layout.plot.3;
        let legend_top = layout.legend_top.expect("no legend");
        assert!(legend_top > bottom, "legend at {legend_top}, plot bottom {bottom}");
        let all = texts(&svg);
        // In the legend strip: the swatch left of each label, in its series' colour.
        let swatch = |label: &str, colour: usize| {
            let t = all.iter().find(|t| t.content == label).unwrap_or_else(|| panic!("no entry {label:?}"));
            assert!(t.y > bottom, "{label:?} at y {} is inside the plot (bottom {bottom})", t.y);
            let near = |(x, y): (f64, f64)| (y - t.y).abs() < 6.0 && x < t.x && x > t.x - 40.0;
            let pieces: Vec<_> = polylines(&svg)
                .into_iter()
                .filter(|l| l.stroke == hex(crate::chart::colour(colour)) && l.points.iter().all(|p| near(*p)))
                .collect();
            let dots = svg::elements(&svg, "circle")
                .into_iter()
                .filter(|(a, _)| {
                    a["fill"] == hex(crate::chart::colour(colour))
                        && near((a["cx"].parse().unwrap(), a["cy"].parse().unwrap()))
                })
                .count();
            (pieces, dots)
        };
        let (solid, dots) = swatch("running · momentum 0.1", 0);
        assert!(solid.len() == 1 && solid[0].width == 2.0 && solid[0].opacity == 1.0 && dots == 0, "{solid:?}");
        let (dashed, _) = swatch("running · momentum 0.9", 1);
        let length = |l: &svg::SvgLine| l.points[l.points.len() - 1].0 - l.points[0].0;
        assert!(
            dashed.len() >= 2 && dashed.iter().all(|d| length(d) <= 7.0),
            "the dashed series' swatch is not dashed: {dashed:?}"
        );
        let (faint, _) = swatch("batch", 2);
        assert!(faint.len() == 1 && faint[0].opacity < 0.5 && faint[0].width == 1.0, "{faint:?}");
        let (thick, dots) = swatch("eval", 3);
        assert!(thick.len() == 1 && thick[0].width == 3.0 && dots == 1, "{thick:?}, {dots} dots");
        let (none, dots) = swatch("samples", 4);
        assert!(none.is_empty() && dots == 1, "{none:?}, {dots} dots");
    }

    #[test]
    fn a_fixed_range_marks_values_beyond_it_instead_of_drawing_them_on_its_edge() {
        let points = vec![(1.0, 40.0), (2.0, 80.0), (3.0, 140.0), (4.0, 90.0)];
        let (svg, _, layout) =
            plot(&[line("accuracy", 2, LineStyle::Solid, points)], Scale::Linear, Some((0.0, 100.0)), (640, 360));
        assert_eq!(layout.off_scale, 1);
        assert!(texts(&svg).iter().any(|t| t.content == "140"), "the off-scale value is not labelled");
        let top = layout.plot.1;
        for l in polylines(&svg).into_iter().filter(|l| l.stroke == hex(crate::chart::colour(2))) {
            assert!(l.points.iter().all(|p| p.1 >= top - 0.5), "a line goes above the plot: {:?}", l.points);
            let along = l.points.windows(2).any(|w| (w[0].1 - top).abs() < 1.0 && (w[1].1 - top).abs() < 1.0);
            assert!(!along, "a line runs along the top edge: {:?}", l.points);
        }
    }

    #[test]
    fn whole_number_x_values_get_whole_number_ticks() {
        let layers = vec![(1.0, 0.5), (2.0, 0.2), (3.0, 0.1), (4.0, 0.05), (5.0, 0.01)];
        let (svg, _, layout) =
            plot(&[line("grad", 0, LineStyle::SolidWithPoints, layers)], Scale::Log10, None, (640, 320));
        let labels = svg::x_tick_labels(&svg, layout.plot.3);
        assert_eq!(labels, ["1", "2", "3", "4", "5"]);
    }

    #[test]
    fn tick_labels_are_distinct_with_and_without_data() {
        let cases: [Vec<Line>; 4] = [
            vec![],
            vec![line("empty", 0, LineStyle::Solid, vec![])],
            vec![line("flat", 0, LineStyle::Solid, vec![(0.0, 1.0), (1.0, 1.0)])],
            vec![
                line("a", 0, LineStyle::Solid, wavy(0.0)),
                line("b", 1, LineStyle::Dashed, vec![(3.0, 0.001), (7.0, 0.0013)]),
            ],
        ];
        for lines in &cases {
            for scale in [Scale::Linear, Scale::Log10, Scale::Log2] {
                for size in [(640, 360), (330, 260)] {
                    let (svg, _, layout) = plot(lines, scale, None, size);
                    let (left, _, _, bottom) = layout.plot;
                    for labels in [svg::x_tick_labels(&svg, bottom), svg::y_tick_labels(&svg, left)] {
                        assert!(labels.len() >= 2, "{labels:?} ({} lines, {scale:?})", lines.len());
                        assert!(!svg::has_duplicates(&labels), "{labels:?} ({} lines, {scale:?})", lines.len());
                    }
                }
            }
        }
    }

    #[test]
    fn a_band_is_filled_under_its_lines_within_the_fitted_axis_and_keyed_in_the_legend() {
        let lines = [line("mean", 1, LineStyle::SolidWithPoints, vec![(1.0, 60.0), (2.0, 85.0)])];
        let bands =
            [Band { label: "lowest to highest".into(), points: vec![(1.0, 50.0, 70.0), (2.0, 80.0, 95.0)], colour: 1 }];
        let mut svg = String::new();
        let (data, layout) = {
            let root = SVGBackend::with_string(&mut svg, (640, 360)).into_drawing_area();
            let plot = LinePlot {
                title: "Class",
                x_label: "epoch",
                y_label: "test accuracy (%)",
                x_scale: Scale::Linear,
                y_scale: Scale::Linear,
                lines: &lines,
                references: &[],
                y_range: None,
            };
            draw_bands_and_lines(&root, &plot, &bands).unwrap()
        };
        let filled = |tag: &str| -> Vec<_> {
            svg::elements(&svg, tag)
                .into_iter()
                .filter(|(a, _)| a.get("fill") == Some(&hex(crate::chart::colour(1))))
                .map(|(a, _)| a["opacity"].parse::<f64>().unwrap_or(1.0))
                .collect()
        };
        // The band in the plot and its swatch in the legend, both translucent.
        let (band, swatch) = (filled("polygon"), filled("rect"));
        assert!(band.len() == 1 && band[0] < 0.5, "band: {band:?}");
        assert!(swatch.len() == 1 && swatch[0] < 0.5, "swatch: {swatch:?}");
        // The axis covers the band's extremes (50 and 95 lie beyond every line's point).
        assert!(layout.y.low <= 50.0 && layout.y.high >= 95.0, "{:?}", layout.y);
        assert_eq!(layout.off_scale, 0);
        assert!(texts(&svg).iter().any(|t| t.content == "lowest to highest" && t.y > layout.plot.3));
        assert_eq!(data.legend.last(), Some(&("lowest to highest".to_string(), None)));
    }

    #[test]
    fn the_data_lists_every_line_with_its_label_and_points() {
        let lines = [
            line("running", 0, LineStyle::Solid, wavy(0.0)),
            line("batch", 1, LineStyle::Faint, vec![(1.0, f64::NAN), (2.0, 3.0)]),
        ];
        let (_, data, _) = plot(&lines, Scale::Linear, None, (640, 360));
        assert_eq!(
            (data.title.as_str(), data.x_label.as_str(), data.y_label.as_str()),
            ("Running statistics", "step", "value")
        );
        assert_eq!(data.series.len(), 2);
        assert_eq!(data.series[0].label, "running");
        assert_eq!(data.series[0].points, wavy(0.0));
        assert_eq!(data.series[0].style, LineStyle::Solid);
        assert_eq!(data.series[1].points, [(2.0, 3.0)], "NaN is not a value");
    }
}
