//! Lesson 1: an 8-layer tanh MLP at a bad initialisation, with and without BatchNorm:
//! per-layer activation histograms and gradient norms, updated while both train.

use leptos::prelude::*;

use super::{labelled_runs, PresetChoice, TrainButton, TrainingChart};
use crate::chart::{draw_histogram_grid, draw_line_plot, histograms::HistogramCell, Line, LinePlot, LineStyle, Scale};
use crate::experiment::catalog::{LivePiece, VariantKey};
use crate::experiment::presets::{BadInit, Preset};
use crate::experiment::ProbeReport;
use crate::ui::chart_canvas::{CanvasArea, ChartCanvas, Drawn};
use crate::ui::i18n::*;
use crate::ui::run_panel::RunPanel;
use crate::ui::runs::RunStore;
use crate::ui::trainer::{JobEvent, Trainer};
use crate::ui::widgets::empty_chart_message;

const GROUP: &str = "l1/deep-mlp";
const TITLE: Msg = Msg {
    en: "Deep tanh MLP: training loss and test accuracy",
    zh: "深层 tanh MLP：训练损失与测试准确率",
};
const INIT: Msg = Msg { en: "Initialisation", zh: "初始化" };
const TOO_SMALL: Msg = Msg { en: "too small (×0.5)", zh: "太小（×0.5）" };
const TOO_LARGE: Msg = Msg { en: "too large (×5)", zh: "太大（×5）" };
const HISTOGRAMS: Msg =
    Msg { en: "Activations of each tanh layer on the last batch", zh: "最近一个批上每个 tanh 层的激活值" };
const GRAD_NORMS: Msg = Msg {
    en: "Gradient norm of each layer's weights (last step)",
    zh: "每层权重的梯度范数（最近一步）",
};
const LAYER: Msg = Msg { en: "layer (9 = output)", zh: "层（9 = 输出层）" };
const NORM_AXIS: Msg = Msg { en: "‖∂L/∂W‖ (log scale)", zh: "‖∂L/∂W‖（对数坐标）" };
const STEP: Msg = Msg { en: "step", zh: "步" };
const WAITING: Msg = Msg {
    en: "Press “Train both”: the histograms and gradient norms appear after the first steps.",
    zh: "点击“两个都训练”：最初几步之后就会出现直方图和梯度范数。",
};

#[component]
pub fn DeepMlp() -> impl IntoView {
    let trainer = expect_context::<Trainer>();
    let store = expect_context::<RunStore>();
    let lang = lang();
    let init = RwSignal::new(BadInit::TooSmall);
    let preset = RwSignal::new(Preset::Quick);
    // The latest probe of each run (0: without BatchNorm, 1: with) and its colour.
    let latest: RwSignal<[Option<ProbeReport>; 2]> = RwSignal::new([None, None]);
    let colours = RwSignal::new([0usize, 1usize]);

    let plan = move |p: Preset| {
        let l = lang.get_untracked();
        let bad = init.get();
        let init_words = if bad == BadInit::TooSmall { TOO_SMALL } else { TOO_LARGE }.get(l);
        labelled_runs(LivePiece::DeepMlp(bad).variants(p), l, |v| match v.key {
            VariantKey::BatchNorm(bn) => {
                Some(format!("{} · {init_words}", if bn { WITH_BN } else { WITHOUT_BN }.get(l)))
            }
            _ => None,
        })
    };
    let train = move |_| {
        let runs = untrack(|| plan(preset.get_untracked()));
        latest.set([None, None]);
        trainer.start(GROUP, Some(preset.get_untracked()), runs, move |event| match event {
            JobEvent::Started { run, record } => {
                let colour =
                    store.records.with_untracked(|r| r.iter().find(|x| x.id == record).map(|x| x.series.colour));
                colours.update(|c| c[run.min(1)] = colour.unwrap_or(run));
            }
            JobEvent::Probe { run, report } => latest.update(|l| l[run.min(1)] = Some(report)),
            _ => {}
        });
    };

    let draw_histograms = move |root: &CanvasArea| {
        let l = lang.get();
        let probes = latest.get();
        let c = colours.get();
        let columns = [(WITHOUT_BN.get(l).to_string(), c[0]), (WITH_BN.get(l).to_string(), c[1])];
        let layers = probes.iter().flatten().map(|p| p.activations.len()).max().unwrap_or(0);
        let rows: Vec<Vec<Option<HistogramCell>>> = (0..layers)
            .map(|layer| {
                probes
                    .iter()
                    .map(|p| {
                        let a = p.as_ref()?.activations.get(layer)?;
                        let caption = pick(
                            l,
                            format!("layer {} · sd {:.3} · {:.0} % saturated", layer + 1, a.std, a.saturated * 100.0),
                            format!("第 {} 层 · 标准差 {:.3} · {:.0}% 饱和", layer + 1, a.std, a.saturated * 100.0),
                        );
                        Some(HistogramCell { histogram: &a.histogram, caption })
                    })
                    .collect()
            })
            .collect();
        let steps: Vec<String> = probes.iter().map(|p| p.as_ref().map_or("–".into(), |p| p.step.to_string())).collect();
        let title = format!("{} ({} {})", HISTOGRAMS.get(l), STEP.get(l), steps.join(" / "));
        let data = draw_histogram_grid(root, &title, &columns, &rows)?;
        let summary: Vec<Vec<(f32, f32)>> = probes
            .iter()
            .map(|p| p.as_ref().map_or(Vec::new(), |p| p.activations.iter().map(|a| (a.std, a.saturated)).collect()))
            .collect();
        Ok(Drawn { summary: serde_json::json!({ "std_saturated": summary }).to_string(), data: Some(data) })
    };
    let draw_norms = move |root: &CanvasArea| {
        let l = lang.get();
        let probes = latest.get();
        let c = colours.get();
        let lines: Vec<Line> = probes
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                let p = p.as_ref()?;
                Some(Line {
                    label: if i == 0 { WITHOUT_BN.get(l).into() } else { WITH_BN.get(l).into() },
                    points: p.weight_grad_norms.iter().enumerate().map(|(k, &n)| ((k + 1) as f64, n as f64)).collect(),
                    colour: c[i],
                    style: LineStyle::SolidWithPoints,
                })
            })
            .collect();
        let plot = LinePlot {
            title: GRAD_NORMS.get(l),
            x_label: LAYER.get(l),
            y_label: NORM_AXIS.get(l),
            x_scale: Scale::Linear,
            y_scale: Scale::Log10,
            lines: &lines,
            references: &[],
            y_range: None,
        };
        let data = draw_line_plot(root, &plot)?;
        let summary: Vec<Vec<f32>> =
            probes.iter().map(|p| p.as_ref().map_or(Vec::new(), |p| p.weight_grad_norms.clone())).collect();
        Ok(Drawn { summary: serde_json::json!({ "grad_norms": summary }).to_string(), data: Some(data) })
    };
    let pick_init = move |bad: BadInit, msg: Msg| {
        view! {
            <label class="radio">
                <input type="radio" name="l1-init" prop:checked=move || init.get() == bad on:change=move |_| init.set(bad) />
                {tr(msg)}
            </label>
        }
    };
    let waiting = move || latest.with(|l| l.iter().all(|p| p.is_none()));
    view! {
        <div class="widget deep-mlp">
            <div class="controls">
                <fieldset class="preset">
                    <legend>{tr(INIT)}</legend>
                    {pick_init(BadInit::TooSmall, TOO_SMALL)}
                    {pick_init(BadInit::TooLarge, TOO_LARGE)}
                </fieldset>
                <PresetChoice name="l1-preset" value=preset plan=plan />
                <TrainButton id="l1-train" label=RUN_BOTH on_click=train />
            </div>
            <Show when=waiting>
                <p class="muted">{tr(WAITING)}</p>
            </Show>
            <ChartCanvas id="l1-histograms" empty_message=empty_chart_message() draw=draw_histograms width=900 height=760
                label=Signal::derive(move || HISTOGRAMS.get(lang.get()).to_string()) />
            <ChartCanvas id="l1-grad-norms" empty_message=empty_chart_message() draw=draw_norms width=900 height=320
                label=Signal::derive(move || GRAD_NORMS.get(lang.get()).to_string()) />
            <TrainingChart group=GROUP id="l1-chart" title=TITLE />
            <RunPanel group=GROUP />
        </div>
    }
}
