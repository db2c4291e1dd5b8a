//! Histograms as small multiples: one row per layer, one column per run, so that the
//! same layer of two networks sits side by side (lesson 1).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::colour;
use crate::experiment::Histogram;

/// One cell of the grid: a histogram and a short caption ("layer 3 · 42 % saturated").
pub struct HistogramCell<'a> {
    pub histogram: &'a Histogram,
    pub caption: String,
}

/// Draws `rows[r][c]` (None leaves a cell empty) under the column titles; column `c`
/// takes colour `colours[c]`. Bars are shares of the batch's values (0–100 %).
pub fn draw_histogram_grid<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    columns: &[(String, usize)],
    rows: &[Vec<Option<HistogramCell>>],
) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(err)?;
    let body = root.titled(title, ("sans-serif", 17)).map_err(err)?;
    let (header, grid) = body.split_vertically(22);
    let heads = header.split_evenly((1, columns.len().max(1)));
    for (area, (name, c)) in heads.iter().zip(columns) {
        let (w, _) = area.dim_in_pixel();
        area.draw_text(name, &("sans-serif", 15).into_font().color(&colour(*c)), ((w / 2) as i32 - 40, 2))
            .map_err(err)?;
    }
    let cells = grid.split_evenly((rows.len().max(1), columns.len().max(1)));
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let Some(cell) = cell else { continue };
            let area = &cells[r * columns.len() + c];
            let h = cell.histogram;
            let total = h.total().max(1) as f64;
            let max_share = h.counts.iter().map(|&n| n as f64 / total * 100.0).fold(1.0, f64::max);
            let mut chart = ChartBuilder::on(area)
                .margin(3)
                .caption(&cell.caption, ("sans-serif", 12))
                .x_label_area_size(14)
                .y_label_area_size(30)
                .build_cartesian_2d(h.low as f64..h.high as f64, 0f64..max_share * 1.05)
                .map_err(err)?;
            chart
                .configure_mesh()
                .x_labels(3)
                .y_labels(2)
                .label_style(("sans-serif", 10))
                .y_label_formatter(&|v| format!("{v:.0}%"))
                .light_line_style(WHITE.mix(0.0))
                .draw()
                .map_err(err)?;
            let width = (h.high - h.low) as f64 / h.counts.len() as f64;
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
    Ok(())
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
}
