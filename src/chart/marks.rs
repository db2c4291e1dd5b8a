//! Drawing a series in its style, in pixels, so that the plot and its legend draw each
//! style the same way ([`pen`] is the one place a style becomes widths, dashes and
//! markers), and so that values beyond the axis are never drawn as if they were on it:
//! a line is cut where it leaves the plot, and an arrow at the edge, labelled with the
//! value, stands for the points out there.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::{significant, Axis};
use super::frame::{draw_text, text_width, TICK_PX};
use super::lines::LineStyle;

/// A point in pixels of the root drawing area.
pub type Px = (f64, f64);

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Marker {
    Dot { radius: u32, alpha: f64 },
    Triangle { size: u32 },
}

/// How a style is drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pen {
    /// 0: no line, markers only.
    pub width: u32,
    pub alpha: f64,
    /// (drawn, skipped) lengths in pixels.
    pub dash: Option<(f64, f64)>,
    pub marker: Option<Marker>,
}

/// The opacity of a band's fill (`lines::Band`), in the plot and in its legend swatch.
pub const BAND_ALPHA: f64 = 0.2;

/// Fills the area between `high` and `low` (pixels, both in order of x) with `colour` at
/// [`BAND_ALPHA`], cut at the plot's top and bottom: a band never reaches past the axis.
pub fn fill_band<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    plot: &Plot,
    high: &[Px],
    low: &[Px],
    colour: RGBColor,
) -> Result<(), String> {
    if high.len() < 2 || high.len() != low.len() {
        return Ok(());
    }
    let inside = |p: &Px| (p.0, p.1.clamp(plot.top, plot.bottom));
    let outline: Vec<(i32, i32)> = high.iter().map(inside).chain(low.iter().rev().map(inside)).map(round).collect();
    root.draw(&Polygon::new(outline, colour.mix(BAND_ALPHA).filled())).map_err(err)
}

pub fn pen(style: LineStyle) -> Pen {
    let line = Pen { width: 2, alpha: 1.0, dash: None, marker: None };
    match style {
        LineStyle::Solid => line,
        // Thin and translucent: raw, noisy values behind a summary.
        LineStyle::Faint => Pen { width: 1, alpha: 0.45, ..line },
        LineStyle::Dashed => Pen { dash: Some((6.0, 4.0)), ..line },
        LineStyle::Points => Pen { width: 0, marker: Some(Marker::Dot { radius: 3, alpha: 0.6 }), ..line },
        LineStyle::SolidWithPoints => Pen { width: 3, marker: Some(Marker::Dot { radius: 4, alpha: 1.0 }), ..line },
        LineStyle::DashedWithTriangles => {
            Pen { dash: Some((6.0, 4.0)), marker: Some(Marker::Triangle { size: 5 }), ..line }
        }
    }
}

/// Where a plot lies in its root area, and its axes: maps axis units to pixels.
#[derive(Clone, Copy, Debug)]
pub struct Plot<'a> {
    pub left: f64,
    pub top: f64,
    pub right: f64,
    pub bottom: f64,
    pub x: &'a Axis,
    pub y: &'a Axis,
}

impl<'a> Plot<'a> {
    /// The plot of a chart built on `root`, from its plotting area's pixel range.
    pub fn new<DB: DrawingBackend>(
        root: &DrawingArea<DB, Shift>,
        (xs, ys): (std::ops::Range<i32>, std::ops::Range<i32>),
        x: &'a Axis,
        y: &'a Axis,
    ) -> Plot<'a> {
        let (bx, by) = root.get_base_pixel();
        Plot {
            left: (xs.start - bx) as f64,
            right: (xs.end - bx) as f64,
            top: (ys.start - by) as f64,
            bottom: (ys.end - by) as f64,
            x,
            y,
        }
    }

    /// The same rectangle with another y axis (the right-hand one).
    pub fn with_y(&self, y: &'a Axis) -> Plot<'a> {
        Plot { y, ..*self }
    }

    pub fn px(&self, (x, y): (f64, f64)) -> Px {
        let fx = (x - self.x.low) / (self.x.high - self.x.low);
        let fy = (y - self.y.low) / (self.y.high - self.y.low);
        (self.left + fx * (self.right - self.left), self.bottom - fy * (self.bottom - self.top))
    }

    fn above(&self, p: Px) -> bool {
        p.1 < self.top - 0.5
    }

    fn below(&self, p: Px) -> bool {
        p.1 > self.bottom + 0.5
    }
}

fn round(p: Px) -> (i32, i32) {
    (p.0.round() as i32, p.1.round() as i32)
}

fn err<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> String {
    e.to_string()
}

/// Strokes `path` (pixels) with `pen`'s line, dashed where the pen is.
pub fn stroke<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    path: &[Px],
    colour: RGBColor,
    pen: Pen,
) -> Result<(), String> {
    if pen.width == 0 || path.len() < 2 {
        return Ok(());
    }
    let style = colour.mix(pen.alpha).stroke_width(pen.width);
    let pieces = match pen.dash {
        Some((on, off)) => dashes(path, on, off),
        None => vec![path.to_vec()],
    };
    for piece in pieces {
        root.draw(&PathElement::new(piece.into_iter().map(round).collect::<Vec<_>>(), style)).map_err(err)?;
    }
    Ok(())
}

pub fn mark<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    p: Px,
    colour: RGBColor,
    marker: Marker,
) -> Result<(), String> {
    let (x, y) = round(p);
    match marker {
        Marker::Dot { radius, alpha } => root.draw(&Circle::new((x, y), radius, colour.mix(alpha).filled())),
        Marker::Triangle { size } => {
            let s = size as i32;
            root.draw(&Polygon::new(vec![(x, y - s), (x - s, y + s * 3 / 4), (x + s, y + s * 3 / 4)], colour.filled()))
        }
    }
    .map_err(err)
}

/// The legend's picture of a style: a short stretch of line from `left` (its middle
/// at height `left.1`), with the style's marker in its middle.
pub fn swatch<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    left: Px,
    width: f64,
    colour: RGBColor,
    style: LineStyle,
) -> Result<(), String> {
    let pen = pen(style);
    stroke(root, &[left, (left.0 + width, left.1)], colour, pen)?;
    if let Some(marker) = pen.marker {
        mark(root, (left.0 + width / 2.0, left.1), colour, marker)?;
    }
    Ok(())
}

/// Draws `points` (axis units, in order of x) in `style` on `plot`. Points beyond the
/// y axis are not drawn on its edge: the line is cut where it crosses the edge, and each
/// excursion gets an arrow at the edge labelled with its extreme value. Returns how
/// many such arrows it drew.
pub fn draw_series<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    plot: &Plot,
    points: &[(f64, f64)],
    colour: RGBColor,
    style: LineStyle,
) -> Result<usize, String> {
    let pen = pen(style);
    let px: Vec<Px> = points.iter().map(|&p| plot.px(p)).collect();
    if pen.width > 0 {
        for piece in clip(&px, plot.top, plot.bottom) {
            stroke(root, &piece, colour, pen)?;
        }
    }
    if let Some(marker) = pen.marker {
        for &p in px.iter().filter(|p| !plot.above(**p) && !plot.below(**p)) {
            mark(root, p, colour, marker)?;
        }
    }
    let excursions = off_scale(plot, points, &px);
    for e in &excursions {
        draw_off_scale(root, plot, e, colour)?;
    }
    Ok(excursions.len())
}

/// Points beyond the plot's top or bottom, one per excursion (a run of consecutive
/// points on one side; runs closer than 24 px merge), at its most extreme point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OffScale {
    pub x: f64,
    pub above: bool,
    /// In data units (the value, not its logarithm).
    pub value: f64,
}

fn off_scale(plot: &Plot, points: &[(f64, f64)], px: &[Px]) -> Vec<OffScale> {
    let mut found: Vec<OffScale> = Vec::new();
    let mut previous_off: Option<(usize, bool)> = None;
    for (i, (&(_, a), &p)) in points.iter().zip(px).enumerate() {
        let side = if plot.above(p) {
            Some(true)
        } else if plot.below(p) {
            Some(false)
        } else {
            None
        };
        let Some(above) = side else { continue };
        let value = plot.y.scale.from_axis(a);
        let joins = |last: &OffScale| {
            last.above == above && (previous_off == Some((i.wrapping_sub(1), above)) || (p.0 - last.x).abs() < 24.0)
        };
        match found.last_mut() {
            Some(last) if joins(last) => {
                if (above && value > last.value) || (!above && value < last.value) {
                    *last = OffScale { x: p.0, above, value };
                }
            }
            _ => found.push(OffScale { x: p.0, above, value }),
        }
        previous_off = Some((i, above));
    }
    found
}

fn draw_off_scale<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    plot: &Plot,
    e: &OffScale,
    colour: RGBColor,
) -> Result<(), String> {
    let x = e.x.round() as i32;
    let (edge, inward) = if e.above { (plot.top as i32, 1) } else { (plot.bottom as i32, -1) };
    // An arrowhead pointing out of the plot, its tip on the edge.
    let arrow = vec![(x, edge), (x - 5, edge + 9 * inward), (x + 5, edge + 9 * inward)];
    root.draw(&Polygon::new(arrow, colour.filled())).map_err(err)?;
    let label = significant(e.value, 3);
    let width = text_width(root, &label, TICK_PX);
    let right_side = e.x + 8.0 + width <= plot.right;
    let h = if right_side { HPos::Left } else { HPos::Right };
    let v = if e.above { VPos::Top } else { VPos::Bottom };
    let at = (if right_side { e.x + 8.0 } else { e.x - 8.0 }, edge as f64 + inward as f64);
    draw_text(root, &label, at, TICK_PX, colour, Pos::new(h, v))
}

/// The parts of `path` inside the band `top..=bottom`, cut where they cross its edges.
pub fn clip(path: &[Px], top: f64, bottom: f64) -> Vec<Vec<Px>> {
    let lerp = |a: Px, b: Px, t: f64| (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t);
    let mut pieces: Vec<Vec<Px>> = Vec::new();
    let mut current: Vec<Px> = Vec::new();
    for w in path.windows(2) {
        let (a, b) = (w[0], w[1]);
        let (t0, t1) = if (b.1 - a.1).abs() < 1e-12 {
            if a.1 >= top && a.1 <= bottom {
                (0.0, 1.0)
            } else {
                (1.0, 0.0)
            }
        } else {
            let (ta, tb) = ((top - a.1) / (b.1 - a.1), (bottom - a.1) / (b.1 - a.1));
            (ta.min(tb).max(0.0), ta.max(tb).min(1.0))
        };
        if t0 > t1 {
            if current.len() >= 2 {
                pieces.push(std::mem::take(&mut current));
            }
            current.clear();
            continue;
        }
        if t0 > 0.0 || current.is_empty() {
            if current.len() >= 2 {
                pieces.push(std::mem::take(&mut current));
            }
            current = vec![lerp(a, b, t0)];
        }
        current.push(lerp(a, b, t1));
        if t1 < 1.0 {
            pieces.push(std::mem::take(&mut current));
        }
    }
    if current.len() >= 2 {
        pieces.push(current);
    }
    pieces
}

/// `path` cut into dashes `on` pixels long with gaps of `off`, the pattern running on
/// across corners.
pub fn dashes(path: &[Px], on: f64, off: f64) -> Vec<Vec<Px>> {
    let mut out = Vec::new();
    let Some(&first) = path.first() else { return out };
    let mut current = vec![first];
    let mut drawing = true;
    let mut left = on;
    for w in path.windows(2) {
        let (a, b) = (w[0], w[1]);
        let length = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
        let mut t = 0.0;
        while length - t > left {
            t += left;
            let p = (a.0 + (b.0 - a.0) * t / length, a.1 + (b.1 - a.1) * t / length);
            if drawing {
                current.push(p);
                out.push(std::mem::take(&mut current));
            } else {
                current = vec![p];
            }
            drawing = !drawing;
            left = if drawing { on } else { off };
        }
        left -= length - t;
        if drawing {
            current.push(b);
        }
    }
    if drawing && current.len() >= 2 {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clipping_cuts_lines_at_the_edges_instead_of_running_along_them() {
        // Inside, up through the top edge (y = 0), back down, inside again.
        let path = [(0.0, 50.0), (10.0, -50.0), (20.0, -50.0), (30.0, 50.0)];
        let pieces = clip(&path, 0.0, 100.0);
        assert_eq!(pieces, [vec![(0.0, 50.0), (5.0, 0.0)], vec![(25.0, 0.0), (30.0, 50.0)]]);
        // Entirely inside: unchanged.
        assert_eq!(clip(&[(0.0, 1.0), (1.0, 2.0), (2.0, 3.0)], 0.0, 100.0), [vec![(0.0, 1.0), (1.0, 2.0), (2.0, 3.0)]]);
    }

    #[test]
    fn dashes_alternate_along_the_path() {
        let d = dashes(&[(0.0, 0.0), (25.0, 0.0)], 6.0, 4.0);
        assert_eq!(d, [vec![(0.0, 0.0), (6.0, 0.0)], vec![(10.0, 0.0), (16.0, 0.0)], vec![(20.0, 0.0), (25.0, 0.0)]]);
    }
}
