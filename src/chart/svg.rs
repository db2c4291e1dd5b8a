//! Reading back what plotters' SVG backend wrote, for the chart tests: texts with their
//! position and size, lines with their points and style.

use std::collections::HashMap;

/// The attributes of every `<tag …>` element, in order, with the text inside it.
pub fn elements(svg: &str, tag: &str) -> Vec<(HashMap<String, String>, String)> {
    let open = format!("<{tag} ");
    let mut found = Vec::new();
    let mut rest = svg;
    while let Some(start) = rest.find(&open) {
        rest = &rest[start + open.len()..];
        let mut attrs = HashMap::new();
        let mut body = rest;
        loop {
            body = body.trim_start();
            if let Some(after) = body.strip_prefix("/>") {
                body = after;
                break;
            }
            if let Some(after) = body.strip_prefix('>') {
                body = after;
                break;
            }
            let Some(eq) = body.find("=\"") else { break };
            let name = body[..eq].trim().to_string();
            let value_start = eq + 2;
            let Some(len) = body[value_start..].find('"') else { break };
            attrs.insert(name, body[value_start..value_start + len].to_string());
            body = &body[value_start + len + 1..];
        }
        let close = format!("</{tag}>");
        let content = match (body.find(&close), body.find('<')) {
            (Some(end), Some(next)) if end == next => unescape(body[..end].trim()),
            _ => String::new(),
        };
        found.push((attrs, content));
        rest = body;
    }
    found
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'").replace("&amp;", "&")
}

fn number(attrs: &HashMap<String, String>, name: &str) -> f64 {
    attrs.get(name).and_then(|v| v.parse().ok()).unwrap_or(f64::NAN)
}

#[derive(Clone, Debug)]
pub struct SvgText {
    pub x: f64,
    pub y: f64,
    /// As written: plotters' SVG backend writes a font of size s as `font-size = s / 1.24`.
    pub font_size: f64,
    pub anchor: String,
    pub rotated: bool,
    pub content: String,
}

impl SvgText {
    /// The size the same text has on the page's canvas, whose backend sets `{s}px`.
    pub fn css_px(&self) -> f64 {
        self.font_size * 1.24
    }
}

pub fn texts(svg: &str) -> Vec<SvgText> {
    elements(svg, "text")
        .into_iter()
        .map(|(a, content)| SvgText {
            x: number(&a, "x"),
            y: number(&a, "y"),
            font_size: number(&a, "font-size"),
            anchor: a.get("text-anchor").cloned().unwrap_or_default(),
            rotated: a.contains_key("transform"),
            content,
        })
        .collect()
}

#[derive(Clone, Debug)]
pub struct SvgLine {
    pub stroke: String,
    pub opacity: f64,
    pub width: f64,
    pub points: Vec<(f64, f64)>,
}

pub fn polylines(svg: &str) -> Vec<SvgLine> {
    elements(svg, "polyline")
        .into_iter()
        .map(|(a, _)| SvgLine {
            stroke: a.get("stroke").cloned().unwrap_or_default(),
            opacity: number(&a, "opacity"),
            width: number(&a, "stroke-width"),
            points: a
                .get("points")
                .map(|p| {
                    p.split_whitespace()
                        .filter_map(|xy| {
                            let (x, y) = xy.split_once(',')?;
                            Some((x.parse().ok()?, y.parse().ok()?))
                        })
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect()
}

/// plotters' colour as the SVG backend writes it: `#1F77B4`.
pub fn hex(c: plotters::style::RGBColor) -> String {
    format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
}

/// The texts that are tick labels of the axis below a plot whose bottom edge is at
/// `bottom`: centred, just under it.
pub fn x_tick_labels(svg: &str, bottom: f64) -> Vec<String> {
    texts(svg)
        .into_iter()
        .filter(|t| t.anchor == "middle" && !t.rotated && t.y > bottom && t.y < bottom + 20.0)
        .map(|t| t.content)
        .collect()
}

/// The tick labels left of a plot whose left edge is at `left` (right-aligned to it).
pub fn y_tick_labels(svg: &str, left: f64) -> Vec<String> {
    texts(svg)
        .into_iter()
        .filter(|t| t.anchor == "end" && !t.rotated && t.x < left && t.x > left - 20.0)
        .map(|t| t.content)
        .collect()
}

/// The tick labels right of a plot whose right edge is at `right`.
pub fn right_tick_labels(svg: &str, right: f64) -> Vec<String> {
    texts(svg)
        .into_iter()
        .filter(|t| t.anchor == "start" && !t.rotated && t.x > right && t.x < right + 20.0)
        .map(|t| t.content)
        .collect()
}

pub fn has_duplicates(labels: &[String]) -> bool {
    let mut sorted = labels.to_vec();
    sorted.sort();
    sorted.windows(2).any(|w| w[0] == w[1])
}
