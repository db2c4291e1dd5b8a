//! The playground's decision-boundary view for 2-D data: every cell of a grid coloured by
//! the class the model predicts there (paler where it is unsure), with the points on top.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::colour;

/// `cells` are row by row from the top (see `experiment::decision_grid`): (class,
/// probability). `points` are (x, y, class).
pub fn draw_decision_boundary<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    extent: (f32, f32, f32, f32),
    resolution: usize,
    cells: &[(usize, f32)],
    points: &[(f32, f32, usize)],
) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(err)?;
    let (x0, x1, y0, y1) = extent;
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 17))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(40)
        .build_cartesian_2d(x0 as f64..x1 as f64, y0 as f64..y1 as f64)
        .map_err(err)?;
    chart.configure_mesh().disable_mesh().draw().map_err(err)?;
    let (dx, dy) = ((x1 - x0) as f64 / resolution as f64, (y1 - y0) as f64 / resolution as f64);
    chart
        .draw_series(cells.iter().enumerate().map(|(i, &(class, p))| {
            let (row, col) = (i / resolution, i % resolution);
            let left = x0 as f64 + col as f64 * dx;
            let top = y1 as f64 - row as f64 * dy;
            // Full colour at certainty, white at a coin toss between two classes.
            let strength = ((p as f64 - 0.5) * 2.0).clamp(0.0, 1.0) * 0.45 + 0.05;
            Rectangle::new([(left, top), (left + dx, top - dy)], colour(class).mix(strength).filled())
        }))
        .map_err(err)?;
    chart
        .draw_series(points.iter().map(|&(x, y, class)| {
            Circle::new((x as f64, y as f64), 3, ShapeStyle::from(&colour(class)).filled().stroke_width(1))
        }))
        .map_err(err)?;
    root.present().map_err(err)?;
    Ok(())
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
}
