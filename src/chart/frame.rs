//! What every chart shares around its plot: sizes in CSS pixels, titles that wrap on a
//! phone, and the legend, which stands in a strip of its own below the plot (never on
//! the curves) and pictures each series in its own style.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::lines::LineStyle;
use super::marks;

// Text sizes in CSS pixels. The smallest, 12, stays above the 11 px that text on a
// phone needs: the canvas is drawn at its CSS size (see `scaled`), never shrunk.
pub const FONT: &str = "sans-serif";
pub const TITLE_PX: f64 = 16.0;
pub const TEXT_PX: f64 = 13.0;
pub const TICK_PX: f64 = 12.0;
/// Around the chart, in CSS pixels.
pub const MARGIN: u32 = 10;
/// The height of a chart that has nothing to show yet: one line of text.
pub const EMPTY_HEIGHT_PX: u32 = 36;

pub const INK: RGBColor = RGBColor(29, 35, 48);
pub const MUTED: RGBColor = RGBColor(91, 100, 117);
/// The neutral colour of legend keys that explain a style rather than a series.
pub const KEY_GREY: RGBColor = RGBColor(100, 100, 100);

/// The CSS size of a chart in a container `width` CSS pixels wide, given its size at
/// desktop width: the same aspect ratio where the container is as wide, but never
/// shorter than the preferred height, so that on a phone the chart becomes relatively
/// taller: its text does not shrink with the width, and its title, legend and axes need
/// the same height as on a desktop, or more where they wrap. Square charts (a plane with
/// equal axes, aspect ≥ 0.9) keep their aspect ratio instead.
pub fn fitted_size(width: f64, (preferred_width, preferred_height): (u32, u32)) -> (u32, u32) {
    let width = if width.is_finite() && width >= 1.0 { width.floor() } else { preferred_width as f64 };
    let (pw, ph) = (preferred_width.max(1) as f64, preferred_height.max(1) as f64);
    let scaled = width * ph / pw;
    let height = if ph / pw >= 0.9 { scaled } else { scaled.max(ph) };
    (width as u32, height.round() as u32)
}

pub fn font(size: f64, colour: RGBColor) -> TextStyle<'static> {
    (FONT, size).into_font().color(&colour)
}

fn err<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> String {
    e.to_string()
}

/// The width `text` takes at `size`, as the backend measures it. Measured once per text,
/// size and kind of backend: in the browser each measurement is a DOM element laid out by
/// the page (plotters' web font), and a chart redrawn several times a second while runs
/// train measured its titles, legends and wrapped words again each time, which made the
/// page's layout work the largest part of a redraw.
pub fn text_width<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, text: &str, size: f64) -> f64 {
    type Key = (&'static str, String, u64);
    thread_local! {
        static MEASURED: std::cell::RefCell<std::collections::HashMap<Key, f64>> = Default::default();
    }
    /// Texts a page draws are a few thousand at most; past that, start again.
    const MOST_KEPT: usize = 8192;
    let key = (std::any::type_name::<DB>(), text.to_string(), size.to_bits());
    if let Some(width) = MEASURED.with(|m| m.borrow().get(&key).copied()) {
        return width;
    }
    let width = area
        .estimate_text_size(text, &font(size, INK))
        .map(|(w, _)| w as f64)
        .unwrap_or(text.chars().count() as f64 * size * 0.55);
    MEASURED.with(|m| {
        let mut m = m.borrow_mut();
        if m.len() >= MOST_KEPT {
            m.clear();
        }
        m.insert(key, width);
    });
    width
}

/// The height of one line of text at `size`.
pub fn line_height(size: f64) -> f64 {
    (size * 1.3).ceil()
}

pub fn draw_text<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    (x, y): (f64, f64),
    size: f64,
    colour: RGBColor,
    anchor: Pos,
) -> Result<(), String> {
    let style = font(size, colour).pos(anchor);
    area.draw(&Text::new(text.to_string(), (x.round() as i32, y.round() as i32), style)).map_err(err)
}

/// `text` broken into lines no wider than `max_width`: at spaces, and inside a word
/// (or a run of Chinese characters) only where it would not fit on a line of its own.
pub fn wrap<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, text: &str, size: f64, max_width: f64) -> Vec<String> {
    let fits = |s: &str| text_width(area, s, size) <= max_width;
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let joined = if line.is_empty() { word.to_string() } else { format!("{line} {word}") };
        if fits(&joined) {
            line = joined;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        if fits(word) {
            line = word.to_string();
        } else {
            for c in word.chars() {
                let longer = format!("{line}{c}");
                if !line.is_empty() && !fits(&longer) {
                    lines.push(std::mem::take(&mut line));
                    line.push(c);
                } else {
                    line = longer;
                }
            }
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Draws `title` centred at the top of `area`, wrapped to its width, and returns the
/// area below it.
pub fn title<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, title: &str) -> Result<DrawingArea<DB, Shift>, String> {
    let (w, _) = area.dim_in_pixel();
    let lines = wrap(area, title, TITLE_PX, w as f64 - 2.0 * MARGIN as f64);
    let step = line_height(TITLE_PX);
    for (i, line) in lines.iter().enumerate() {
        let at = (w as f64 / 2.0, MARGIN as f64 / 2.0 + i as f64 * step);
        draw_text(area, line, at, TITLE_PX, INK, Pos::new(HPos::Center, VPos::Top))?;
    }
    let used = if lines.is_empty() { 0.0 } else { MARGIN as f64 / 2.0 + lines.len() as f64 * step + 4.0 };
    Ok(area.split_vertically(used.round() as u32).1)
}

/// The height a one-line message needs across `area`'s width (more lines where it must
/// wrap): the collapsed canvas of a chart with nothing to show yet.
pub fn message_height<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, message: &str) -> u32 {
    let (w, _) = area.dim_in_pixel();
    let lines = wrap(area, message, TEXT_PX, w as f64 - 2.0 * MARGIN as f64).len().max(1);
    (EMPTY_HEIGHT_PX as f64 + (lines - 1) as f64 * line_height(TEXT_PX)).ceil() as u32
}

/// `message` in muted text on white, wrapped, filling `root`: what a chart with nothing
/// to show yet draws instead of empty axes.
pub fn draw_message<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, message: &str) -> Result<(), String> {
    root.fill(&WHITE).map_err(err)?;
    let (w, h) = root.dim_in_pixel();
    let lines = wrap(root, message, TEXT_PX, w as f64 - 2.0 * MARGIN as f64);
    let step = line_height(TEXT_PX);
    let first = h as f64 / 2.0 - (lines.len().max(1) - 1) as f64 * step / 2.0;
    for (i, line) in lines.iter().enumerate() {
        let at = (MARGIN as f64, first + i as f64 * step);
        draw_text(root, line, at, TEXT_PX, MUTED, Pos::new(HPos::Left, VPos::Center))?;
    }
    root.present().map_err(err)
}

/// How a legend entry is pictured.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Swatch {
    /// The series' line in its style.
    Line(LineStyle),
    /// A block of colour: a run whose marks are explained by a key of styles.
    Colour,
    /// A translucent block: a band between two values (see `lines::Band`).
    Band,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LegendEntry {
    pub label: String,
    pub colour: RGBColor,
    pub swatch: Swatch,
}

/// Entries in groups; each group starts a row of its own (the runs, then the key of
/// styles), entries flow left to right and wrap.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Legend {
    pub groups: Vec<Vec<LegendEntry>>,
}

const SWATCH_PX: f64 = 28.0;
const SWATCH_GAP: f64 = 6.0;
const ENTRY_GAP: f64 = 22.0;

struct Placed<'a> {
    entry: &'a LegendEntry,
    x: f64,
    y: f64,
    lines: Vec<String>,
}

impl Legend {
    pub fn is_empty(&self) -> bool {
        self.groups.iter().all(|g| g.is_empty())
    }

    fn place<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, width: f64) -> (Vec<Placed<'_>>, f64) {
        let left = MARGIN as f64;
        let right = width - MARGIN as f64;
        let text_room = (right - left - SWATCH_PX - SWATCH_GAP).max(40.0);
        let step = line_height(TEXT_PX);
        let mut placed = Vec::new();
        let mut y = 4.0;
        for group in self.groups.iter().filter(|g| !g.is_empty()) {
            let (mut x, mut row_height) = (left, 0.0f64);
            for entry in group {
                let lines = wrap(area, &entry.label, TEXT_PX, text_room);
                let text = lines.iter().map(|l| text_width(area, l, TEXT_PX)).fold(0.0, f64::max);
                let w = SWATCH_PX + SWATCH_GAP + text;
                if x > left && x + w > right {
                    y += row_height + 4.0;
                    (x, row_height) = (left, 0.0);
                }
                row_height = row_height.max(lines.len().max(1) as f64 * step);
                placed.push(Placed { entry, x, y, lines });
                x += w + ENTRY_GAP;
            }
            y += row_height + 4.0;
        }
        (placed, y)
    }

    /// The height the legend needs across `width`.
    pub fn height<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, width: f64) -> f64 {
        if self.is_empty() {
            0.0
        } else {
            self.place(area, width).1.ceil()
        }
    }

    pub fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let (w, _) = area.dim_in_pixel();
        let step = line_height(TEXT_PX);
        for p in self.place(area, w as f64).0 {
            let middle = p.y + step / 2.0;
            match p.entry.swatch {
                Swatch::Line(style) => marks::swatch(area, (p.x, middle), SWATCH_PX, p.entry.colour, style)?,
                Swatch::Colour => {
                    let (x, y) = (p.x.round() as i32 + 4, middle.round() as i32);
                    area.draw(&Rectangle::new([(x, y - 6), (x + 20, y + 6)], p.entry.colour.filled())).map_err(err)?
                }
                Swatch::Band => {
                    let (x, y) = (p.x.round() as i32 + 4, middle.round() as i32);
                    let fill = p.entry.colour.mix(marks::BAND_ALPHA).filled();
                    area.draw(&Rectangle::new([(x, y - 6), (x + 20, y + 6)], fill)).map_err(err)?
                }
            }
            for (i, line) in p.lines.iter().enumerate() {
                let at = (p.x + SWATCH_PX + SWATCH_GAP, middle + i as f64 * step);
                draw_text(area, line, at, TEXT_PX, INK, Pos::new(HPos::Left, VPos::Center))?;
            }
        }
        Ok(())
    }
}

/// Splits `area` into the part for the plot and the strip below it for `legend`
/// (`None` without entries).
pub fn split_for_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    legend: &Legend,
) -> (DrawingArea<DB, Shift>, Option<DrawingArea<DB, Shift>>) {
    let (w, h) = area.dim_in_pixel();
    let needed = legend.height(area, w as f64);
    if needed == 0.0 {
        return (area.clone(), None);
    }
    // The plot keeps at least half the height; a legend longer than that is cut.
    let legend_h = needed.min(h as f64 / 2.0).round() as u32;
    let (plot, strip) = area.split_vertically(h.saturating_sub(legend_h));
    (plot, Some(strip))
}

/// The width of the widest of `labels` at tick size, for sizing a label area.
pub fn widest<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, labels: &[String]) -> f64 {
    labels.iter().map(|l| text_width(area, l, TICK_PX)).fold(0.0, f64::max)
}

/// The width of a y label area: tick marks, the widest tick label, the rotated axis
/// description and gaps.
pub fn y_label_area<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, labels: &[String], described: bool) -> u32 {
    let description = if described { line_height(TEXT_PX) + 4.0 } else { 0.0 };
    (5.0 + 6.0 + widest(area, labels) + description + 4.0).ceil() as u32
}

/// The height of the x label area: tick marks, one line of tick labels, the axis
/// description.
pub fn x_label_area(described: bool) -> u32 {
    let description = if described { line_height(TEXT_PX) + 2.0 } else { 0.0 };
    (5.0 + 6.0 + line_height(TICK_PX) + description + 2.0).ceil() as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrow_containers_make_charts_relatively_taller() {
        // At desktop width the preferred aspect ratio holds.
        assert_eq!(fitted_size(900.0, (900, 420)), (900, 420));
        assert_eq!(fitted_size(1000.0, (900, 420)), (1000, 467));
        // On a phone the chart keeps its height instead of shrinking to 154 px.
        let (w, h) = fitted_size(330.0, (900, 420));
        assert_eq!((w, h), (330, 420));
        assert!(h as f64 / w as f64 > 420.0 / 900.0);
        // A square chart stays square.
        assert_eq!(fitted_size(330.0, (520, 520)), (330, 330));
        // Nothing measured yet (hidden): the preferred size.
        assert_eq!(fitted_size(0.0, (520, 520)), (520, 520));
    }

    #[test]
    fn long_titles_wrap_to_the_width() {
        let mut svg = String::new();
        let root = SVGBackend::with_string(&mut svg, (200, 100)).into_drawing_area();
        let lines = wrap(&root, "Fashion-MNIST with and without BatchNorm at a high learning rate", TITLE_PX, 180.0);
        assert!(lines.len() >= 3, "{lines:?}");
        assert!(lines.iter().all(|l| text_width(&root, l, TITLE_PX) <= 180.0), "{lines:?}");
        let chinese = wrap(&root, "有无批归一化的网络在高学习率下的训练损失与测试准确率", TITLE_PX, 180.0);
        assert!(chinese.len() >= 2 && chinese.iter().all(|l| text_width(&root, l, TITLE_PX) <= 180.0), "{chinese:?}");
    }
}
