//! Lesson 5 (a): how the mean and variance of one feature, measured on a batch, scatter
//! around the values of the whole training set, for batch sizes 2 to 256.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::chart::{draw_line_plot, Line, LinePlot, LineStyle, Scale};
use crate::data::DatasetId;
use crate::experiment::stats::{batch_spread, BatchSpread};
use crate::ui::chart_canvas::{CanvasArea, ChartCanvas};
use crate::ui::fetch::load_dataset;
use crate::ui::i18n::*;

const SIZES: [usize; 8] = [2, 4, 8, 16, 32, 64, 128, 256];
const DRAWS: usize = 200;
const FEATURE: Msg = Msg { en: "Feature (a pixel of Fashion-MNIST)", zh: "特征（Fashion-MNIST 的一个像素）" };
const REDRAW: Msg = Msg { en: "Draw new batches", zh: "重新抽取批" };
const MEANS: Msg = Msg { en: "Batch means (200 batches per size)", zh: "批均值（每种批大小 200 个批）" };
const VARS: Msg =
    Msg { en: "Batch variances (biased, as BatchNorm uses)", zh: "批方差（有偏，即 BatchNorm 所用）" };
const BATCH_AXIS: Msg = Msg { en: "batch size m", zh: "批大小 m" };
const MEAN_AXIS: Msg = Msg { en: "batch mean", zh: "批均值" };
const VAR_AXIS: Msg = Msg { en: "batch variance", zh: "批方差" };
const POPULATION_MEAN: Msg = Msg { en: "training-set mean", zh: "训练集均值" };
const POPULATION_VAR: Msg = Msg { en: "training-set variance", zh: "训练集方差" };
const LOADING: Msg = Msg { en: "Loading the data…", zh: "正在加载数据…" };

/// Pixels to choose from: (row, column) of the 28×28 image.
const PIXELS: [(usize, usize); 3] = [(14, 14), (7, 14), (22, 6)];

#[derive(Clone, PartialEq)]
struct Spread {
    mean: f32,
    var: f32,
    rows: Vec<BatchSpread>,
}

#[component]
pub fn BatchStatsSpread() -> impl IntoView {
    let lang = lang();
    let pixel = RwSignal::new(0usize);
    let seed = RwSignal::new(1u64);
    let spread: RwSignal<Option<Spread>> = RwSignal::new(None);
    let error = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        let (row, col) = PIXELS[pixel.get()];
        let seed = seed.get();
        spawn_local(async move {
            match load_dataset(DatasetId::FashionMnist).await {
                Ok(data) => {
                    let f = data.features();
                    let values: Vec<f32> =
                        (0..data.train.len).map(|i| data.train.images[i * f + row * 28 + col]).collect();
                    let (mean, var, rows) = batch_spread(&values, &SIZES, DRAWS, seed);
                    spread.set(Some(Spread { mean, var, rows }));
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    });

    // Each batch as a dot, spread a little sideways so the cloud is visible.
    let jitter = |k: usize| 2f64.powf(((k * 37 % 100) as f64 / 100.0 - 0.5) * 0.35);
    let plot = move |root: &CanvasArea, variances: bool| {
        let l = lang.get();
        let Some(s) = spread.get() else { return Ok(String::new()) };
        let dots: Vec<(f64, f64)> = s
            .rows
            .iter()
            .flat_map(|r| {
                let values = if variances { &r.variances } else { &r.means };
                values.iter().enumerate().map(move |(k, &v)| (r.batch_size as f64 * jitter(k), v as f64))
            })
            .collect();
        let summary_points: Vec<(f64, f64)> = s
            .rows
            .iter()
            .map(|r| (r.batch_size as f64, if variances { r.variance_average as f64 } else { r.mean_sd as f64 }))
            .collect();
        let lines = [
            Line { label: String::new(), points: dots, colour: 0, style: LineStyle::Points },
            Line {
                label: if variances {
                    pick(l, "average batch variance".into(), "批方差的平均值".into())
                } else {
                    pick(l, "population mean ± σ/√m".into(), "总体均值 ± σ/√m".into())
                },
                points: if variances {
                    summary_points.clone()
                } else {
                    SIZES
                        .iter()
                        .map(|&m| (m as f64, s.mean as f64 + (s.var as f64).sqrt() / (m as f64).sqrt()))
                        .collect()
                },
                colour: 3,
                style: LineStyle::SolidWithPoints,
            },
            Line {
                label: String::new(),
                points: if variances {
                    Vec::new()
                } else {
                    SIZES
                        .iter()
                        .map(|&m| (m as f64, s.mean as f64 - (s.var as f64).sqrt() / (m as f64).sqrt()))
                        .collect()
                },
                colour: 3,
                style: LineStyle::Solid,
            },
        ];
        let reference = if variances {
            (s.var as f64, POPULATION_VAR.get(l).to_string())
        } else {
            (s.mean as f64, POPULATION_MEAN.get(l).to_string())
        };
        let p = LinePlot {
            title: if variances { VARS.get(l) } else { MEANS.get(l) },
            x_label: BATCH_AXIS.get(l),
            y_label: if variances { VAR_AXIS.get(l) } else { MEAN_AXIS.get(l) },
            x_scale: Scale::Log2,
            y_scale: Scale::Linear,
            lines: &lines,
            references: &[reference],
            y_range: None,
        };
        draw_line_plot(root, &p)?;
        Ok(serde_json::json!({ "sizes": SIZES, "summary": summary_points }).to_string())
    };
    let draw_means = move |root: &CanvasArea| plot(root, false);
    let draw_vars = move |root: &CanvasArea| plot(root, true);
    let table = move || {
        let l = lang.get();
        spread.get().map(|s| {
            let sigma = s.var.sqrt();
            view! {
                <table class="numbers" id="l5-spread-table">
                    <thead><tr>
                        <th>"m"</th>
                        <th>{pick(l, "SD of batch means".into(), "批均值的标准差".into())}</th>
                        <th>"σ/√m"</th>
                        <th>{pick(l, "mean batch variance / σ²".into(), "批方差均值 / σ²".into())}</th>
                        <th>"(m−1)/m"</th>
                    </tr></thead>
                    <tbody>
                        {s.rows.iter().map(|r| {
                            let m = r.batch_size as f32;
                            view! { <tr>
                                <td>{r.batch_size}</td>
                                <td>{format!("{:.3}", r.mean_sd)}</td>
                                <td>{format!("{:.3}", sigma / m.sqrt())}</td>
                                <td>{format!("{:.3}", r.variance_average / s.var)}</td>
                                <td>{format!("{:.3}", (m - 1.0) / m)}</td>
                            </tr> }
                        }).collect_view()}
                    </tbody>
                </table>
            }
        })
    };
    view! {
        <div class="widget batch-stats">
            <div class="controls">
                <div class="control">
                    <label for="l5-pixel">{tr(FEATURE)}</label>
                    <select id="l5-pixel" prop:value=move || pixel.get().to_string()
                        on:change=move |ev| pixel.set(event_target_value(&ev).parse().unwrap_or(0))>
                        {PIXELS.iter().enumerate().map(|(i, (r, c))| view! {
                            <option value=i.to_string()>{format!("({r}, {c})")}</option>
                        }).collect_view()}
                    </select>
                </div>
                <div class="buttons">
                    <button id="l5-redraw" on:click=move |_| seed.update(|s| *s += 1)>{tr(REDRAW)}</button>
                </div>
            </div>
            {move || error.get().map(|e| view! { <p class="alert" role="alert">{e}</p> })}
            <Show when=move || spread.get().is_none() && error.get().is_none()>
                <p class="muted">{tr(LOADING)}</p>
            </Show>
            <ChartCanvas id="l5-means" draw=draw_means height=360 label=Signal::derive(move || MEANS.get(lang.get()).to_string()) />
            <ChartCanvas id="l5-vars" draw=draw_vars height=360 label=Signal::derive(move || VARS.get(lang.get()).to_string()) />
            {table}
        </div>
    }
}
