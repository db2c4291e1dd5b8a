//! What a chart drew, in numbers: every draw function returns a [`ChartData`], and the
//! page shows it as tables under the chart (the chart's text alternative: a picture on a
//! canvas is otherwise only its title to a screen reader). The page's words for the
//! tables come in a [`ChartWords`], English by default.

use serde::Serialize;

use super::lines::LineStyle;

/// One series as drawn: its label, how it is drawn, its points in data units (not
/// thinned; [`tables`] thins them for reading).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SeriesData {
    pub label: String,
    pub style: LineStyle,
    /// The y quantity where it is not the chart's (test accuracy on the training chart's
    /// right axis).
    pub y_label: Option<String>,
    pub points: Vec<(f64, f64)>,
}

/// What a row of a summary table counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Quantity {
    /// Mean of the values, from the histogram's bin centres.
    Mean,
    /// Standard deviation of the values, from the histogram's bin centres.
    StandardDeviation,
    /// Share of the values in the two outermost bins (where a tanh saturates).
    EdgeShare,
    /// How many data points.
    Points,
    /// Share of the plane the model assigns to this class.
    AreaShare,
}

/// What the rows of a summary table are.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub enum PartKind {
    #[default]
    HistogramCell,
    Class,
}

/// One row of a summary: a histogram cell, a class.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PartSummary {
    pub label: String,
    pub values: Vec<(Quantity, f64)>,
}

/// What a chart shows, in numbers. Line charts fill `series`; charts that are not lines
/// (a grid of histograms, decision regions) summarise their parts in `parts`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ChartData {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<SeriesData>,
    pub part_kind: PartKind,
    pub parts: Vec<PartSummary>,
    /// The values the y axis covers, in data units, and whether it is logarithmic (so a
    /// test can check that what was drawn lies on it).
    pub y_range: Option<(f64, f64, bool)>,
    /// The legend's entries in order: what each says and the line style its swatch shows
    /// (None: a block of the series' colour).
    pub legend: Vec<(String, Option<LineStyle>)>,
}

impl ChartData {
    /// Nothing drawn from data: no points in any series and no parts.
    pub fn is_empty(&self) -> bool {
        self.series.iter().all(|s| s.points.is_empty()) && self.parts.is_empty()
    }
}

/// The words of the data tables, in the page's language (English by default).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChartWords {
    /// The `<summary>` of the `<details>` that holds the tables.
    pub summary: &'static str,
    pub solid: &'static str,
    pub faint: &'static str,
    pub dashed: &'static str,
    pub points: &'static str,
    pub solid_with_points: &'static str,
    pub dashed_with_triangles: &'static str,
    /// Said of a long series: "{shown} of {total} points: …"; `{shown}` and `{total}` are
    /// replaced.
    pub some_points: &'static str,
    /// Column headings where the chart's axis has no label.
    pub x: &'static str,
    pub y: &'static str,
    pub histogram: &'static str,
    pub class: &'static str,
    pub mean: &'static str,
    pub standard_deviation: &'static str,
    pub edge_share: &'static str,
    pub point_count: &'static str,
    pub area_share: &'static str,
}

impl Default for ChartWords {
    fn default() -> Self {
        ChartWords {
            summary: "Data of this chart",
            solid: "solid line",
            faint: "faint line",
            dashed: "dashed line",
            points: "points",
            solid_with_points: "thick line with dots",
            dashed_with_triangles: "dashed line with triangles",
            some_points:
                "{shown} of {total} points: the first, the last, the lowest, the highest and evenly spaced ones between",
            x: "x",
            y: "y",
            histogram: "histogram",
            class: "class",
            mean: "mean",
            standard_deviation: "standard deviation",
            edge_share: "share in the outermost bins",
            point_count: "points",
            area_share: "share of the plane",
        }
    }
}

impl ChartWords {
    pub fn style(&self, style: LineStyle) -> &'static str {
        match style {
            LineStyle::Solid => self.solid,
            LineStyle::Faint => self.faint,
            LineStyle::Dashed => self.dashed,
            LineStyle::Points => self.points,
            LineStyle::SolidWithPoints => self.solid_with_points,
            LineStyle::DashedWithTriangles => self.dashed_with_triangles,
        }
    }

    fn quantity(&self, q: Quantity) -> &'static str {
        match q {
            Quantity::Mean => self.mean,
            Quantity::StandardDeviation => self.standard_deviation,
            Quantity::EdgeShare => self.edge_share,
            Quantity::Points => self.point_count,
            Quantity::AreaShare => self.area_share,
        }
    }
}

/// A table ready for HTML: `<caption>`, one `<th scope="col">` per heading, and rows
/// whose first cell is a `<th scope="row">`.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub caption: String,
    /// Said under the caption (that a long series is shown in part).
    pub note: Option<String>,
    pub headings: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// At most this many rows per series.
pub const MAX_ROWS: usize = 50;

/// The tables of a chart: one per series, one for its parts. No heading is empty.
pub fn tables(data: &ChartData, words: &ChartWords) -> Vec<Table> {
    let or =
        |label: &str, fallback: &str| if label.trim().is_empty() { fallback.to_string() } else { label.to_string() };
    let mut out: Vec<Table> = data
        .series
        .iter()
        .filter(|s| !s.points.is_empty())
        .map(|s| {
            let shown = rows_to_show(&s.points, MAX_ROWS);
            let note = (shown.len() < s.points.len()).then(|| {
                words
                    .some_points
                    .replace("{shown}", &shown.len().to_string())
                    .replace("{total}", &s.points.len().to_string())
            });
            Table {
                caption: format!("{} ({})", or(&s.label, words.y), words.style(s.style)),
                note,
                headings: vec![or(&data.x_label, words.x), or(s.y_label.as_deref().unwrap_or(&data.y_label), words.y)],
                rows: shown.iter().map(|&i| vec![number(s.points[i].0), number(s.points[i].1)]).collect(),
            }
        })
        .collect();
    if !data.parts.is_empty() {
        let mut quantities: Vec<Quantity> = Vec::new();
        for (q, _) in data.parts.iter().flat_map(|p| &p.values) {
            if !quantities.contains(q) {
                quantities.push(*q);
            }
        }
        let kind = match data.part_kind {
            PartKind::HistogramCell => words.histogram,
            PartKind::Class => words.class,
        };
        let mut headings = vec![kind.to_string()];
        headings.extend(quantities.iter().map(|&q| words.quantity(q).to_string()));
        out.push(Table {
            caption: or(&data.title, kind),
            note: None,
            headings,
            rows: data
                .parts
                .iter()
                .map(|p| {
                    let mut row = vec![or(&p.label, kind)];
                    row.extend(quantities.iter().map(|q| {
                        p.values.iter().find(|(k, _)| k == q).map_or("–".to_string(), |&(k, v)| match k {
                            Quantity::EdgeShare | Quantity::AreaShare => format!("{} %", number(v * 100.0)),
                            Quantity::Points => format!("{v}"),
                            _ => number(v),
                        })
                    }));
                    row
                })
                .collect(),
        });
    }
    out
}

/// Which of `points` a table of at most `max` rows shows: all of them when they fit;
/// otherwise the first, the last, the lowest and the highest, and evenly spaced ones
/// between, in order.
pub fn rows_to_show(points: &[(f64, f64)], max: usize) -> Vec<usize> {
    let n = points.len();
    if n <= max {
        return (0..n).collect();
    }
    let by_y = |a: &(usize, &(f64, f64)), b: &(usize, &(f64, f64))| a.1 .1.total_cmp(&b.1 .1);
    let finite = || points.iter().enumerate().filter(|(_, p)| p.1.is_finite());
    let lowest = finite().min_by(by_y).map(|(i, _)| i);
    let highest = finite().max_by(by_y).map(|(i, _)| i);
    let mut keep: Vec<usize> = [Some(0), Some(n - 1), lowest, highest].into_iter().flatten().collect();
    let spaced = max.saturating_sub(keep.len()).max(1);
    let stride = (n as f64 / spaced as f64).max(1.0);
    keep.extend((0..spaced).map(|k| ((k as f64 * stride) as usize).min(n - 1)));
    keep.sort_unstable();
    keep.dedup();
    keep
}

/// A value to four significant digits, as people write it.
fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e9 {
        format!("{v}")
    } else {
        super::axis::significant(v, 4)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(n: usize) -> SeriesData {
        SeriesData {
            label: "BN · batch loss".into(),
            style: LineStyle::Faint,
            y_label: None,
            points: (0..n)
                .map(|i| {
                    (
                        i as f64 / 10.0,
                        if i == 777 {
                            -3.0
                        } else if i == 1234 {
                            9.0
                        } else {
                            1.0
                        },
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn long_series_show_at_most_fifty_rows_with_their_ends_and_extremes() {
        let s = series(3000);
        let rows = rows_to_show(&s.points, MAX_ROWS);
        assert!(rows.len() <= MAX_ROWS, "{} rows", rows.len());
        for must in [0, 2999, 777, 1234] {
            assert!(rows.contains(&must), "row {must} missing from {rows:?}");
        }
        assert!(rows.windows(2).all(|w| w[0] < w[1]), "rows out of order");
        assert_eq!(rows_to_show(&s.points[..20], MAX_ROWS), (0..20).collect::<Vec<_>>());
    }

    #[test]
    fn tables_have_a_caption_and_no_empty_heading() {
        let data = ChartData {
            title: "Loss".into(),
            x_label: String::new(),
            y_label: "loss".into(),
            series: vec![series(3000), SeriesData { y_label: Some("accuracy (%)".into()), ..series(3) }],
            part_kind: PartKind::Class,
            parts: vec![PartSummary {
                label: "0".into(),
                values: vec![(Quantity::Points, 40.0), (Quantity::AreaShare, 0.5)],
            }],
            ..ChartData::default()
        };
        let t = tables(&data, &ChartWords::default());
        assert_eq!(t.len(), 3);
        assert_eq!(t[0].caption, "BN · batch loss (faint line)");
        assert_eq!(t[0].headings, ["x", "loss"]);
        let note = t[0].note.as_deref().unwrap_or_default();
        assert!(note.starts_with(&format!("{} of 3000 points", t[0].rows.len())), "{note}");
        assert_eq!(t[1].headings, ["x", "accuracy (%)"]);
        assert_eq!(t[2].headings, ["class", "points", "share of the plane"]);
        assert_eq!(t[2].rows, [["0", "40", "50 %"]]);
        assert!(t.iter().all(|t| t.headings.iter().all(|h| !h.trim().is_empty())));
    }

    #[test]
    fn a_chart_with_no_points_is_empty() {
        let mut data = ChartData { series: vec![series(0)], ..Default::default() };
        assert!(data.is_empty());
        data.series.push(series(1));
        assert!(!data.is_empty());
    }
}
