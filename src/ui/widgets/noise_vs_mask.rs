//! Lesson 6: BatchNorm's noise next to Dropout's. One training image is put into 200
//! random batches of 32; the histogram shows the normalized value x̂ one hidden unit gives
//! it in each batch. Beside it, the dropout masks of 32 units over 20 steps.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::backend::engine::Engine;
use crate::chart::{draw_line_plot, Line, LinePlot, LineStyle, Scale};
use crate::data::DatasetId;
use crate::experiment::demos::{dropout_masks, normalized_across_batches};
use crate::experiment::Histogram;
use crate::ui::chart_canvas::{CanvasArea, ChartCanvas, Drawn};
use crate::ui::fetch::load_dataset;
use crate::ui::i18n::*;

const DRAWS: usize = 200;
const BATCH: usize = 32;
const UNITS: usize = 32;
const STEPS: usize = 20;
const TITLE: Msg = Msg {
    en: "x̂ of one image and one unit in 200 different batches of 32",
    zh: "同一张图像、同一个单元在 200 个不同的 32 样本批中的 x̂",
};
const X_AXIS: Msg = Msg { en: "normalized value x̂", zh: "归一化值 x̂" };
const Y_AXIS: Msg = Msg { en: "batches", zh: "批数" };
const MASKS: Msg = Msg {
    en: "Dropout masks (p = 0.5) of 32 units over 20 steps: dark = dropped, light = kept ×2",
    zh: "20 步中 32 个单元的 Dropout 掩码（p = 0.5）：深色 = 丢弃，浅色 = 保留并 ×2",
};
const IMAGE: Msg = Msg { en: "Training image", zh: "训练图像" };
const UNIT: Msg = Msg { en: "Hidden unit", zh: "隐藏单元" };
const STEP: Msg = Msg { en: "step", zh: "步" };

#[component]
pub fn NoiseVsMask() -> impl IntoView {
    let lang = lang();
    let image = RwSignal::new(0usize);
    let unit = RwSignal::new(0usize);
    let values: RwSignal<Option<Vec<f32>>> = RwSignal::new(None);
    let masks: RwSignal<Vec<Vec<f32>>> = RwSignal::new(Vec::new());
    let error = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        let (i, u) = (image.get(), unit.get());
        spawn_local(async move {
            let result = async {
                let data = load_dataset(DatasetId::FashionMnist).await?;
                let mut b = Engine::cpu().backend();
                let v = normalized_across_batches(&mut b, &data, i, u, 64, DRAWS, BATCH, 6).await?;
                let m = dropout_masks(&mut b, UNITS, STEPS, 0.5, 11 + i as u32).await?;
                Ok::<_, crate::NormlabError>((v, m))
            }
            .await;
            match result {
                Ok((v, m)) => {
                    values.set(Some(v));
                    masks.set(m);
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    });
    let draw = move |root: &CanvasArea| {
        let l = lang.get();
        let Some(v) = values.get() else { return Ok(Drawn::default()) };
        let (lo, hi) = v.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)));
        let pad = ((hi - lo) * 0.1).max(0.05);
        let h = Histogram::new(&v, lo - pad, hi + pad, 30);
        // The histogram as a step outline: up, across and down each bar.
        let width = (h.high - h.low) as f64 / h.counts.len() as f64;
        let mut outline = Vec::new();
        for (i, &n) in h.counts.iter().enumerate() {
            let x0 = h.low as f64 + i as f64 * width;
            outline.extend([(x0, 0.0), (x0, n as f64), (x0 + width, n as f64), (x0 + width, 0.0)]);
        }
        let mean = v.iter().sum::<f32>() / v.len() as f32;
        let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / v.len() as f32).sqrt();
        let lines = [Line {
            label: pick(l, format!("mean {mean:.3}, sd {sd:.3}"), format!("均值 {mean:.3}，标准差 {sd:.3}")),
            points: outline,
            colour: 0,
            style: LineStyle::Solid,
        }];
        let plot = LinePlot {
            title: TITLE.get(l),
            x_label: X_AXIS.get(l),
            y_label: Y_AXIS.get(l),
            x_scale: Scale::Linear,
            y_scale: Scale::Linear,
            lines: &lines,
            references: &[],
            y_range: None,
        };
        let data = draw_line_plot(root, &plot)?;
        Ok(Drawn {
            summary: serde_json::json!({ "draws": v.len(), "mean": mean, "sd": sd }).to_string(),
            data: Some(data),
        })
    };
    let grid = move || {
        let l = lang.get();
        masks.with(|m| {
            let rows = m
                .iter()
                .enumerate()
                .map(|(step, row)| {
                    let cells = row
                        .iter()
                        .map(|&v| {
                            let class = if v > 0.0 { "kept" } else { "dropped" };
                            view! { <td class=class title=format!("{v}")></td> }
                        })
                        .collect_view();
                    view! { <tr><th scope="row">{format!("{} {}", STEP.get(l), step + 1)}</th>{cells}</tr> }
                })
                .collect_view();
            view! { <table class="mask-grid" id="l6-masks" aria-label=MASKS.get(l)><tbody>{rows}</tbody></table> }
        })
    };
    view! {
        <div class="widget noise-vs-mask">
            <div class="controls">
                <div class="control">
                    <label for="l6-image">{tr(IMAGE)}</label>
                    <input id="l6-image" type="number" min="0" max="9999" prop:value=move || image.get().to_string()
                        on:change=move |ev| {
                            if let Ok(v) = event_target_value(&ev).parse::<usize>() {
                                image.set(v.min(9999))
                            }
                        } />
                </div>
                <div class="control">
                    <label for="l6-unit">{tr(UNIT)}</label>
                    <input id="l6-unit" type="number" min="0" max="63" prop:value=move || unit.get().to_string()
                        on:change=move |ev| {
                            if let Ok(v) = event_target_value(&ev).parse::<usize>() {
                                unit.set(v.min(63))
                            }
                        } />
                </div>
            </div>
            {move || error.get().map(|e| view! { <p class="alert" role="alert">{e}</p> })}
            <div class="side-by-side">
                <ChartCanvas id="l6-noise" draw=draw width=620 height=340 label=Signal::derive(move || TITLE.get(lang.get()).to_string()) />
                <figure class="masks">
                    {grid}
                    <figcaption>{tr(MASKS)}</figcaption>
                </figure>
            </div>
        </div>
    }
}
