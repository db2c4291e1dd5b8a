//! Histograms as small multiples: one row per layer, one column per run, so that the
//! same layer of two networks sits side by side (lesson 1).

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::{fit_ticks, ticks_for, Axis};
use super::colour;
use super::data::{ChartData, PartKind, PartSummary, Quantity};
use super::frame::{self, line_height, TEXT_PX, TICK_PX};
use crate::experiment::Histogram;

/// One cell of the grid: a histogram and a short caption ("layer 3 · 42 % saturated").
pub struct HistogramCell<'a> {
    pub histogram: &'a Histogram,
    pub caption: String,
}

/// Mean, standard deviation and the share in the two outermost bins, from the bins
/// (each value taken at its bin's centre).
fn summary(h: &Histogram) -> Vec<(Quantity, f64)> {
    let total = h.total() as f64;
    if total == 0.0 {
        return Vec::new();
    }
    let centre = |i: usize| h.centre(i) as f64;
    let mean = h.counts.iter().enumerate().map(|(i, &n)| centre(i) * n as f64).sum::<f64>() / total;
    let var = h.counts.iter().enumerate().map(|(i, &n)| (centre(i) - mean).powi(2) * n as f64).sum::<f64>() / total;
    let edges = match h.counts.as_slice() {
        [] => 0,
        [only] => *only,
        [first, .., last] => first + last,
    };
    vec![(Quantity::Mean, mean), (Quantity::StandardDeviation, var.sqrt()), (Quantity::EdgeShare, edges as f64 / total)]
}

/// Draws `rows[r][c]` (None leaves a cell empty) under the column titles; column `c`
/// takes colour `colours[c]`. Bars are shares of the batch's values (0–100 %). With no
/// cell at all it draws only the title: no empty boxes (the returned data is empty, and
/// the page's canvas can collapse to one line).
pub fn draw_histogram_grid<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    columns: &[(String, usize)],
    rows: &[Vec<Option<HistogramCell>>],
) -> Result<ChartData, String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(err)?;
    let body = frame::title(root, title)?;
    let mut data = ChartData { title: title.to_string(), part_kind: PartKind::HistogramCell, ..Default::default() };
    if rows.iter().flatten().all(Option::is_none) {
        root.present().map_err(err)?;
        return Ok(data);
    }
    let n_columns = columns.len().max(rows.iter().map(Vec::len).max().unwrap_or(1)).max(1);
    let header_h = line_height(TEXT_PX) + 4.0;
    let (header, grid) = body.split_vertically(header_h.round() as u32);
    for (area, (name, c)) in header.split_evenly((1, n_columns)).iter().zip(columns) {
        let (w, _) = area.dim_in_pixel();
        frame::draw_text(area, name, (w as f64 / 2.0, 2.0), TEXT_PX, colour(*c), Pos::new(HPos::Center, VPos::Top))?;
    }
    let cells = grid.split_evenly((rows.len().max(1), n_columns));
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (Some(cell), Some(area)) = (cell, cells.get(r * n_columns + c)) else { continue };
            let h = cell.histogram;
            data.parts.push(PartSummary {
                label: match columns.get(c) {
                    Some((name, _)) => format!("{name} · {}", cell.caption),
                    None => cell.caption.clone(),
                },
                values: summary(h),
            });
            // The caption, wrapped to the cell (two columns on a phone are 160 px wide).
            let (w, _) = area.dim_in_pixel();
            let lines = frame::wrap(area, &cell.caption, TICK_PX, w as f64 - 8.0);
            let step = line_height(TICK_PX);
            for (i, line) in lines.iter().enumerate() {
                let at = (w as f64 / 2.0, 3.0 + i as f64 * step);
                frame::draw_text(area, line, at, TICK_PX, frame::INK, Pos::new(HPos::Center, VPos::Top))?;
            }
            let plot_area = area.split_vertically((3.0 + lines.len() as f64 * step + 2.0).round() as u32).1;

            let total = h.total().max(1) as f64;
            let max_share = h.counts.iter().map(|&n| n as f64 / total * 100.0).fold(1.0, f64::max);
            let x = Axis::linear(h.low as f64, h.high as f64, ticks_for(w as f64 - 50.0, 45.0).min(4));
            // As many share labels as stand apart in the cell's plot (on a phone, eight
            // layers leave each plot 40 px: 0 % and the top).
            let (_, plot_h) = plot_area.dim_in_pixel();
            let room = plot_h as f64 - frame::x_label_area(false) as f64 - 6.0;
            let y = fit_ticks(room, 4.0, |_| TICK_PX, |n| Axis::linear_rounded(0.0, max_share, n.min(3)));
            let y_labels: Vec<String> = y.ticks.iter().map(|&t| format!("{}%", y.label(t))).collect();
            let mut chart = ChartBuilder::on(&plot_area)
                .margin(3)
                .margin_right(14)
                .x_label_area_size(frame::x_label_area(false))
                .y_label_area_size(frame::y_label_area(&plot_area, &y_labels, false))
                .build_cartesian_2d(x.clone(), y.clone())
                .map_err(err)?;
            let x_format = |v: &f64| x.label(*v);
            let y_format = |v: &f64| format!("{}%", y.label(*v));
            chart
                .configure_mesh()
                .x_label_formatter(&x_format)
                .y_label_formatter(&y_format)
                .label_style(frame::font(TICK_PX, frame::INK))
                .bold_line_style(BLACK.mix(0.06))
                .light_line_style(WHITE.mix(0.0))
                .set_all_tick_mark_size(4)
                .draw()
                .map_err(err)?;
            let width = (h.high - h.low) as f64 / h.counts.len().max(1) as f64;
            let fill = colour(columns.get(c).map_or(0, |col| col.1));
            chart
                .draw_series(h.counts.iter().enumerate().map(|(i, &n)| {
                    let x0 = h.low as f64 + i as f64 * width;
                    Rectangle::new([(x0, 0.0), (x0 + width, n as f64 / total * 100.0)], fill.mix(0.8).filled())
                }))
                .map_err(err)?;
        }
    }
    root.present().map_err(err)?;
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_a_cell_per_layer_and_run() {
        let narrow = Histogram::new(&[0.0, 0.01, -0.01, 0.0], -1.0, 1.0, 20);
        let saturated = Histogram::new(&[-1.0, 1.0, 0.999, -0.999], -1.0, 1.0, 20);
        let rows = vec![
            vec![Some(HistogramCell { histogram: &narrow, caption: "layer 1".into() }), None],
            vec![
                Some(HistogramCell { histogram: &narrow, caption: "layer 2".into() }),
                Some(HistogramCell { histogram: &saturated, caption: "layer 2 · 100 % saturated".into() }),
            ],
        ];
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (600, 400)).into_drawing_area();
            let columns = [("without BN".to_string(), 0), ("with BN".to_string(), 1)];
            draw_histogram_grid(&root, "Activations", &columns, &rows).unwrap();
        }
        for needle in ["Activations", "without BN", "with BN", "layer 2 · 100 % saturated", "<rect"] {
            assert!(svg.contains(needle), "grid SVG lacks {needle:?}");
        }
    }

    #[test]
    fn an_empty_grid_draws_no_boxes() {
        for rows in [vec![], vec![vec![None, None], vec![None, None]]] {
            let mut svg = String::new();
            let data = {
                let root = SVGBackend::with_string(&mut svg, (600, 760)).into_drawing_area();
                let columns = [("without BN".to_string(), 0), ("with BN".to_string(), 1)];
                draw_histogram_grid(&root, "Activations", &columns, &rows).unwrap()
            };
            // The white background and nothing else: no frames, axes or bars.
            assert_eq!(svg.matches("<rect").count(), 1, "{svg}");
            assert!(!svg.contains("<polyline") && !svg.contains("<line"), "{svg}");
            assert!(data.is_empty());
        }
    }

    #[test]
    fn the_data_summarises_every_cell() {
        let narrow = Histogram::new(&[0.0, 0.01, -0.01, 0.0], -1.0, 1.0, 20);
        let saturated = Histogram::new(&[-1.0, 1.0, 0.999, -0.999], -1.0, 1.0, 20);
        let rows = vec![vec![
            Some(HistogramCell { histogram: &narrow, caption: "layer 1".into() }),
            Some(HistogramCell { histogram: &saturated, caption: "layer 1".into() }),
        ]];
        let mut svg = String::new();
        let data = {
            let root = SVGBackend::with_string(&mut svg, (600, 300)).into_drawing_area();
            let columns = [("without BN".to_string(), 0), ("with BN".to_string(), 1)];
            draw_histogram_grid(&root, "Activations", &columns, &rows).unwrap()
        };
        assert_eq!(data.parts.len(), 2);
        assert_eq!(data.parts[1].label, "with BN · layer 1");
        let value = |p: usize, q: Quantity| data.parts[p].values.iter().find(|v| v.0 == q).unwrap().1;
        assert!(value(0, Quantity::EdgeShare) == 0.0 && value(1, Quantity::EdgeShare) == 1.0);
        assert!(value(0, Quantity::StandardDeviation) < 0.1 && value(1, Quantity::StandardDeviation) > 0.9);
        assert!(value(1, Quantity::Mean).abs() < 1e-6);
    }
}
