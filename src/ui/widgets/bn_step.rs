//! Lesson 2: one small batch through BatchNorm, every intermediate on show: per-feature
//! (or per-channel) μ, σ², 1/σ, x̂ and y, then for one backward step dβ, dγ and dx. The
//! numbers come from the lab's own BatchNorm kernel on the CPU backend, the reference the
//! GPU shader is tested against.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::backend::engine::Engine;
use crate::experiment::demos::{batch_norm_step, BatchNormStep as Results};
use crate::ui::i18n::*;

const LAYOUT: Msg = Msg { en: "Layout", zh: "布局" };
const FC: Msg = Msg { en: "fully connected [N=4, F=3]", zh: "全连接 [N=4, F=3]" };
const CONV: Msg = Msg { en: "convolutional [N=2, C=2, H=2, W=2]", zh: "卷积 [N=2, C=2, H=2, W=2]" };
const AFFINE: Msg = Msg { en: "Learnable γ and β (affine)", zh: "可学习的 γ 和 β(affine)" };
const INPUT: Msg = Msg { en: "Input x (editable)", zh: "输入 x（可编辑）" };
const UPSTREAM: Msg = Msg { en: "Upstream gradient (editable)", zh: "上游梯度（可编辑）" };
const STATS: Msg = Msg {
    en: "Statistics (click a column to highlight the cells it is computed from)",
    zh: "统计量（点击一列，高亮计算它所用的单元格）",
};
const FORWARD: Msg = Msg { en: "Forward", zh: "前向" };
const BACKWARD: Msg = Msg { en: "Backward", zh: "反向" };
const CHECKS: Msg = Msg {
    en: "Checks, per feature or channel, up to rounding",
    zh: "检验（对每个特征或通道，在舍入误差以内）",
};
const SAMPLE: Msg = Msg { en: "sample", zh: "样本" };

#[derive(Clone, Copy, PartialEq)]
enum Layout {
    /// `[N, F]`: statistics per feature over the batch.
    FullyConnected,
    /// `[N, C, H, W]`: statistics per channel over the batch and the positions.
    Convolutional,
}

impl Layout {
    /// (N, C, S) with S = H·W.
    fn shape(self) -> (usize, usize, usize) {
        match self {
            Layout::FullyConnected => (4, 3, 1),
            Layout::Convolutional => (2, 2, 4),
        }
    }

    fn default_x(self) -> Vec<f32> {
        match self {
            // Feature 0 is the lesson's worked example: 1, 2, 3, 6.
            Layout::FullyConnected => vec![1.0, 0.5, 10.0, 2.0, -1.0, 12.0, 3.0, 0.0, 9.0, 6.0, 1.5, 11.0],
            Layout::Convolutional => {
                vec![1.0, 2.0, 0.0, 3.0, 5.0, 4.0, 6.0, 5.5, 2.0, 1.0, 1.0, 4.0, 7.0, 5.0, 4.5, 6.0]
            }
        }
    }

    fn default_dy(self) -> Vec<f32> {
        let (n, c, s) = self.shape();
        (0..n * c * s).map(|i| [0.5, -0.2, 0.1, 0.3, -0.4, 0.2][i % 6]).collect()
    }

    /// A column header: the feature, or the channel and position.
    fn column(self, c: usize, p: usize) -> String {
        match self {
            Layout::FullyConnected => format!("f{c}"),
            Layout::Convolutional => format!("c{c} ({},{})", p / 2, p % 2),
        }
    }
}

fn number(v: f32) -> String {
    if v.abs() < 5e-7 {
        "0".into()
    } else {
        format!("{v:.4}")
    }
}

#[component]
pub fn BnStep() -> impl IntoView {
    let lang = lang();
    let layout = RwSignal::new(Layout::FullyConnected);
    let x = RwSignal::new(Layout::FullyConnected.default_x());
    let dy = RwSignal::new(Layout::FullyConnected.default_dy());
    let gamma = RwSignal::new(vec![1.0f32; 3]);
    let beta = RwSignal::new(vec![0.0f32; 3]);
    let affine = RwSignal::new(true);
    let selected = RwSignal::new(0usize);
    let results: RwSignal<Option<Results>> = RwSignal::new(None);
    let error = RwSignal::new(None::<String>);

    let switch_layout = move |l: Layout| {
        let (_, c, _) = l.shape();
        layout.set(l);
        x.set(l.default_x());
        dy.set(l.default_dy());
        gamma.set(vec![1.0; c]);
        beta.set(vec![0.0; c]);
        selected.set(0);
    };
    Effect::new(move |_| {
        let (l, xs, dys) = (layout.get(), x.get(), dy.get());
        let (_, c, _) = l.shape();
        let (g, b) = if affine.get() { (gamma.get(), beta.get()) } else { (vec![1.0; c], vec![0.0; c]) };
        spawn_local(async move {
            match batch_norm_step(&mut Engine::cpu().backend(), l.shape(), &xs, &g, &b, &dys).await {
                Ok(r) => {
                    results.set(Some(r));
                    error.set(None);
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    });

    // A grid of [N] rows × [C·S] columns; `cell` renders element i.
    let grid = move |id: &'static str, cell: Box<dyn Fn(usize) -> AnyView>| {
        let l = layout.get();
        let (n, c, s) = l.shape();
        let header = (0..c)
            .flat_map(|ch| (0..s).map(move |p| (ch, p)))
            .map(|(ch, p)| {
                view! {
                    <th scope="col" class="formula" class:shared=move || selected.get() == ch on:click=move |_| selected.set(ch)>
                        {l.column(ch, p)}
                    </th>
                }
            })
            .collect_view();
        let rows = (0..n)
            .map(|row| {
                let cells = (0..c * s)
                    .map(|k| {
                        let i = row * c * s + k;
                        let ch = k / s;
                        view! { <td class:shared=move || selected.get() == ch>{cell(i)}</td> }
                    })
                    .collect_view();
                view! { <tr><th scope="row">{move || SAMPLE.get(lang.get())}" "{row}</th>{cells}</tr> }
            })
            .collect_view();
        view! {
            <table class="numbers grid" id=id>
                <thead><tr><td></td>{header}</tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }
    };
    let editable = move |values: RwSignal<Vec<f32>>, label: &'static str| {
        move |i: usize| {
            view! {
                <input type="number" step="0.1" class="cell" aria-label=format!("{label} {i}")
                    prop:value=move || values.with(|v| v.get(i).copied().unwrap_or(0.0)).to_string()
                    on:change=move |ev| {
                        if let Ok(v) = event_target_value(&ev).parse::<f32>() {
                            if v.is_finite() {
                                values.update(|all| if let Some(slot) = all.get_mut(i) { *slot = v });
                            }
                        }
                    } />
            }
            .into_any()
        }
    };
    let shown = move |pick_values: fn(&Results) -> &Vec<f32>| {
        move |i: usize| {
            view! { <span>{move || results.with(|r| r.as_ref().and_then(|r| pick_values(r).get(i).copied()).map(number).unwrap_or_default())}</span> }
                .into_any()
        }
    };
    // Per-channel rows: name, values, and whether it is editable.
    let per_channel = move || {
        let l = layout.get();
        let (_, c, _) = l.shape();
        let r = results.get().unwrap_or_default();
        let zh = lang.get() == Lang::Zh;
        let say = |en: &'static str, zh_text: &'static str| if zh { zh_text } else { en };
        let value_row = |name: &'static str, values: Vec<f32>| {
            let cells = (0..c)
                .map(|ch| view! { <td class:shared=move || selected.get() == ch>{values.get(ch).copied().map(number).unwrap_or_default()}</td> })
                .collect_view();
            // Row heads that are formulas are marked so (they are not words to translate).
            view! { <tr><th scope="row" class:formula=name.contains('=') || name.starts_with('Σ')>{name}</th>{cells}</tr> }
        };
        let edit_row = |name: &'static str, values: RwSignal<Vec<f32>>| {
            let cells = (0..c)
                .map(|ch| {
                    view! {
                        <td class:shared=move || selected.get() == ch>
                            <input type="number" step="0.1" class="cell" aria-label=format!("{name} {ch}")
                                prop:disabled=move || !affine.get()
                                prop:value=move || values.with(|v| v.get(ch).copied().unwrap_or(0.0)).to_string()
                                on:change=move |ev| {
                                    if let Ok(v) = event_target_value(&ev).parse::<f32>() {
                                        if v.is_finite() {
                                            values.update(|all| if let Some(slot) = all.get_mut(ch) { *slot = v });
                                        }
                                    }
                                } />
                        </td>
                    }
                })
                .collect_view();
            view! { <tr><th scope="row">{name}</th>{cells}</tr> }
        };
        let sums = |values: &[f32], weight: Option<&[f32]>| -> Vec<f32> {
            let (n, c, s) = l.shape();
            (0..c)
                .map(|ch| {
                    (0..n)
                        .flat_map(|row| (0..s).map(move |p| (row * c + ch) * s + p))
                        .map(|i| {
                            values.get(i).copied().unwrap_or(0.0)
                                * weight.map_or(1.0, |w| w.get(i).copied().unwrap_or(0.0))
                        })
                        .sum()
                })
                .collect()
        };
        let header = (0..c)
            .map(|ch| view! { <th scope="col" class="formula" class:shared=move || selected.get() == ch on:click=move |_| selected.set(ch)>{l.column(ch, 0).split(' ').next().unwrap_or("").to_string()}</th> })
            .collect_view();
        view! {
            <table class="numbers" id="l2-stats">
                <thead><tr><td></td>{header}</tr></thead>
                <tbody>
                    {value_row(say("μ (batch mean)", "μ（批均值）"), r.mean.clone())}
                    {value_row(say("σ² (biased variance)", "σ²（有偏方差）"), r.var.clone())}
                    {value_row("rstd = 1/√(σ² + ε)", r.rstd.clone())}
                    {edit_row("γ", gamma)}
                    {edit_row("β", beta)}
                    {value_row("dγ = Σ dy·x̂", r.dgamma.clone())}
                    {value_row("dβ = Σ dy", r.dbeta.clone())}
                    {value_row("Σ dx", sums(&r.dx, None))}
                    {value_row("Σ dx·x̂", sums(&r.dx, Some(&r.x_hat)))}
                    {value_row(say("running mean (momentum 0.1)", "滑动均值（动量 0.1）"), r.running_mean.clone())}
                    {value_row(say("running var (unbiased)", "滑动方差（无偏）"), r.running_var.clone())}
                </tbody>
            </table>
        }
    };
    let layout_choice = move |l: Layout, msg: Msg| {
        view! {
            <label class="radio">
                <input type="radio" name="l2-layout" prop:checked=move || layout.get() == l on:change=move |_| switch_layout(l) />
                {tr(msg)}
            </label>
        }
    };
    view! {
        <div class="widget bn-step">
            <div class="controls">
                <fieldset class="preset">
                    <legend>{tr(LAYOUT)}</legend>
                    {layout_choice(Layout::FullyConnected, FC)}
                    {layout_choice(Layout::Convolutional, CONV)}
                </fieldset>
                <label class="check">
                    <input type="checkbox" id="l2-affine" prop:checked=move || affine.get()
                        on:change=move |ev| affine.set(event_target_checked(&ev)) />
                    {tr(AFFINE)}
                </label>
            </div>
            {move || error.get().map(|e| view! { <p class="alert" role="alert">{e}</p> })}
            <div class="bn-tables">
                {move || {
                    let _ = layout.get();
                    view! {
                        <h3>{tr(INPUT)}</h3>
                        {grid("l2-x", Box::new(editable(x, "x")))}
                        <h3>{tr(STATS)}</h3>
                        {per_channel}
                        <h3>{tr(FORWARD)}": "<span class="formula">"x̂ = (x − μ)·rstd"</span></h3>
                        {grid("l2-xhat", Box::new(shown(|r| &r.x_hat)))}
                        <h3>{tr(FORWARD)}": "<span class="formula">"y = γ·x̂ + β"</span></h3>
                        {grid("l2-y", Box::new(shown(|r| &r.y)))}
                        <h3>{tr(UPSTREAM)}": "<span class="formula">"dy = ∂L/∂y"</span></h3>
                        {grid("l2-dy", Box::new(editable(dy, "dy")))}
                        <h3>{tr(BACKWARD)}": "<span class="formula">"dx = γ·rstd·(dy − mean(dy) − x̂·mean(dy·x̂))"</span></h3>
                        {grid("l2-dx", Box::new(shown(|r| &r.dx)))}
                    }
                }}
            </div>
            <p class="muted">{tr(CHECKS)}": "<span class="formula">"Σ dx = 0, Σ dx·x̂ = 0"</span></p>
        </div>
    }
}
