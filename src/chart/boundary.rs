//! The playground's decision-boundary view for 2-D data: every cell of a grid coloured by
//! the class the model predicts there (paler where it is unsure), with the points on top.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axis::{ticks_for, Axis};
use super::colour;
use super::data::{ChartData, PartKind, PartSummary, Quantity};
use super::frame::{self, MARGIN, TICK_PX};

/// `cells` are row by row from the top (see `experiment::decision_grid`): (class,
/// probability). `points` are (x, y, class). Returns, per class, its points and the
/// share of the plane predicted as it.
pub fn draw_decision_boundary<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    extent: (f32, f32, f32, f32),
    resolution: usize,
    cells: &[(usize, f32)],
    points: &[(f32, f32, usize)],
) -> Result<ChartData, String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(err)?;
    let body = frame::title(root, title)?;
    let (width, height) = body.dim_in_pixel();
    let (x0, x1, y0, y1) = extent;
    let x = Axis::linear(x0 as f64, x1 as f64, ticks_for(width as f64 - 60.0, 60.0));
    let y = Axis::linear(y0 as f64, y1 as f64, ticks_for(height as f64 - 50.0, 40.0));
    let mut chart = ChartBuilder::on(&body)
        .margin(MARGIN)
        .x_label_area_size(frame::x_label_area(false))
        .y_label_area_size(frame::y_label_area(&body, &y.labels(), false))
        .build_cartesian_2d(x.clone(), y.clone())
        .map_err(err)?;
    let x_format = |v: &f64| x.label(*v);
    let y_format = |v: &f64| y.label(*v);
    chart
        .configure_mesh()
        .disable_mesh()
        .x_label_formatter(&x_format)
        .y_label_formatter(&y_format)
        .label_style(frame::font(TICK_PX, frame::INK))
        .set_all_tick_mark_size(5)
        .draw()
        .map_err(err)?;
    let resolution = resolution.max(1);
    // Cell edges by index, so that neighbours share an edge exactly (no seams), in
    // opaque colours mixed with white (no darker lines where translucent cells overlap).
    let column_edge = |k: usize| x0 as f64 + (x1 - x0) as f64 * k as f64 / resolution as f64;
    let row_edge = |k: usize| y1 as f64 - (y1 - y0) as f64 * k as f64 / resolution as f64;
    let pale = |c: RGBColor, strength: f64| {
        let mix = |v: u8| (255.0 - (255.0 - v as f64) * strength).round() as u8;
        RGBColor(mix(c.0), mix(c.1), mix(c.2))
    };
    chart
        .draw_series(cells.iter().enumerate().map(|(i, &(class, p))| {
            let (row, col) = (i / resolution, i % resolution);
            // Full colour at certainty, white at a coin toss between two classes.
            let strength = ((p as f64 - 0.5) * 2.0).clamp(0.0, 1.0) * 0.45 + 0.05;
            let corners = [(column_edge(col), row_edge(row)), (column_edge(col + 1), row_edge(row + 1))];
            Rectangle::new(corners, pale(colour(class), strength).filled())
        }))
        .map_err(err)?;
    chart
        .draw_series(points.iter().map(|&(x, y, class)| {
            Circle::new((x as f64, y as f64), 3, ShapeStyle::from(&colour(class)).filled().stroke_width(1))
        }))
        .map_err(err)?;
    root.present().map_err(err)?;

    let mut classes: Vec<usize> = cells.iter().map(|c| c.0).chain(points.iter().map(|p| p.2)).collect();
    classes.sort_unstable();
    classes.dedup();
    let parts = classes
        .into_iter()
        .map(|class| PartSummary {
            label: class.to_string(),
            values: vec![
                (Quantity::Points, points.iter().filter(|p| p.2 == class).count() as f64),
                (Quantity::AreaShare, cells.iter().filter(|c| c.0 == class).count() as f64 / cells.len().max(1) as f64),
            ],
        })
        .collect();
    Ok(ChartData { title: title.to_string(), part_kind: PartKind::Class, parts, ..Default::default() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_cells_and_points() {
        let cells: Vec<(usize, f32)> = (0..16).map(|i| (i % 2, 0.9)).collect();
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (300, 300)).into_drawing_area();
            draw_decision_boundary(&root, "moons", (-2.0, 2.0, -2.0, 2.0), 4, &cells, &[(0.0, 0.0, 1)]).unwrap();
        }
        assert!(svg.matches("<rect").count() >= 16 && svg.contains("<circle") && svg.contains("moons"));
    }

    #[test]
    fn the_data_counts_each_class_and_its_share_of_the_plane() {
        // Three quarters of the cells class 0, points 2 × class 0 and 1 × class 1.
        let cells: Vec<(usize, f32)> = (0..16).map(|i| (usize::from(i % 4 == 3), 0.9)).collect();
        let points = [(0.0, 0.0, 0), (1.0, 1.0, 0), (-1.0, 0.5, 1)];
        let mut svg = String::new();
        let data = {
            let root = SVGBackend::with_string(&mut svg, (330, 330)).into_drawing_area();
            draw_decision_boundary(&root, "moons", (-2.0, 2.0, -2.0, 2.0), 4, &cells, &points).unwrap()
        };
        assert_eq!(data.part_kind, PartKind::Class);
        let rows: Vec<(String, Vec<(Quantity, f64)>)> = data.parts.into_iter().map(|p| (p.label, p.values)).collect();
        assert_eq!(
            rows,
            [
                ("0".to_string(), vec![(Quantity::Points, 2.0), (Quantity::AreaShare, 0.75)]),
                ("1".to_string(), vec![(Quantity::Points, 1.0), (Quantity::AreaShare, 0.25)])
            ]
        );
        // Tick labels: x labels share a line, y labels a column; none repeats.
        let texts = crate::chart::svg::texts(&svg);
        let ys: Vec<String> = texts.iter().filter(|t| t.anchor == "end").map(|t| t.content.clone()).collect();
        let bottom = texts.iter().filter(|t| t.anchor == "middle").map(|t| t.y).fold(0.0, f64::max);
        let xs: Vec<String> =
            texts.iter().filter(|t| t.anchor == "middle" && t.y == bottom).map(|t| t.content.clone()).collect();
        for labels in [xs, ys] {
            assert!(labels.len() >= 3 && !crate::chart::svg::has_duplicates(&labels), "{labels:?}");
        }
    }
}
