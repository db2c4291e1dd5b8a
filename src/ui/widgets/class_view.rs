//! The teacher's class view: the run exports and device reports of a class, dropped or
//! picked as files and read in this browser only (nothing is uploaded). Per live piece a
//! chart of every run (faint), each configuration's mean (bold) and its band from the
//! lowest to the highest value, a dot per run's final test accuracy, the configurations
//! that are not a preset's; the files set aside with their reasons; the devices' table.
//! What the files say is read by `crate::class_view`; this file only shows it.

use std::cell::RefCell;
use std::collections::HashMap;

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::chart::{css_colour, draw_line_plot_with_bands, Band, Line, LinePlot, LineStyle, Scale};
use crate::class_view::{count, read_class, Class, ConfigGroup, Flag, PieceGroup, SetAside, MAX_FILE_BYTES};
use crate::experiment::ExperimentConfig;
use crate::ui::chart_canvas::{CanvasArea, ChartCanvas, Drawn};
use crate::ui::i18n::*;

/// A configuration's name on the page: A, B, C, … in the piece's order.
fn letter(i: usize) -> String {
    let letters = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    match letters.get(i) {
        Some(&c) => (c as char).to_string(),
        None => format!("Z{}", i - letters.len() + 1),
    }
}

thread_local! {
    /// The canvas id of each piece's chart. A chart's id is `&'static str`; each piece name
    /// gets one, once, however often the class is read again.
    static CHART_IDS: RefCell<HashMap<String, &'static str>> = RefCell::new(HashMap::new());
}

fn chart_id(group: &str) -> &'static str {
    CHART_IDS.with(|ids| {
        let mut ids = ids.borrow_mut();
        let next = ids.len();
        *ids.entry(group.to_string()).or_insert_with(|| Box::leak(format!("class-chart-{next}").into_boxed_str()))
    })
}

fn percent(value: f64) -> String {
    format!("{value:.1} %")
}

/// The lines and bands of one piece's chart: each run faint, each configuration's mean
/// bold, its band (where it has two runs or more) translucent, all in the configuration's
/// colour.
fn piece_chart(piece: &PieceGroup, lang: Lang) -> (Vec<Line>, Vec<Band>) {
    let mut lines = Vec::new();
    let mut bands = Vec::new();
    for (i, config) in piece.configs.iter().enumerate() {
        let name = letter(i);
        for (r, run) in config.runs.iter().enumerate() {
            let label = if i == 0 && r == 0 { CLASS_EACH_RUN.get(lang).to_string() } else { String::new() };
            lines.push(Line { label, points: run.accuracy_curve(), colour: i, style: LineStyle::Faint });
        }
        let runs = config.runs.len();
        lines.push(Line {
            label: pick(lang, format!("{name} · mean of {runs}"), format!("{name} · {runs} 次的平均")),
            points: config.spread.iter().map(|s| (s.epoch as f64, s.mean)).collect(),
            colour: i,
            style: LineStyle::SolidWithPoints,
        });
        if runs >= 2 {
            bands.push(Band {
                label: pick(lang, format!("{name} · lowest to highest"), format!("{name} · 最低到最高")),
                points: config.spread.iter().map(|s| (s.epoch as f64, s.low, s.high)).collect(),
                colour: i,
            });
        }
    }
    (lines, bands)
}

/// What the chart drew, for tests and anyone inspecting the page.
fn piece_summary(piece: &PieceGroup) -> String {
    let configs: Vec<serde_json::Value> = piece
        .configs
        .iter()
        .enumerate()
        .map(|(i, c)| {
            serde_json::json!({
                "name": letter(i),
                "runs": c.runs.len(),
                "flagged": c.flag.is_some(),
                "mean": c.spread.iter().map(|s| s.mean).collect::<Vec<_>>(),
                "low": c.spread.iter().map(|s| s.low).collect::<Vec<_>>(),
                "high": c.spread.iter().map(|s| s.high).collect::<Vec<_>>(),
                "final": c.final_accuracies(),
            })
        })
        .collect();
    serde_json::json!({ "group": piece.group, "configs": configs }).to_string()
}

fn flag_words(flag: &Flag, lang: Lang) -> AnyView {
    match flag {
        Flag::Trial => view! { <span>{CLASS_TRIAL.get(lang)}</span> }.into_any(),
        Flag::NotPreset { changes } if changes.is_empty() => view! { <span>{CLASS_NOT_PRESET.get(lang)}</span> }.into_any(),
        Flag::NotPreset { changes } => changes
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let sep = if i == 0 { "" } else { "; " };
                match lang {
                    Lang::En => view! {
                        <span>{sep}<code>{c.field.clone()}</code>" "{c.run.clone()}" instead of "{c.preset.clone()}</span>
                    }
                    .into_any(),
                    Lang::Zh => view! {
                        <span>{sep}<code>{c.field.clone()}</code>" 为 "{c.run.clone()}"，预设为 "{c.preset.clone()}</span>
                    }
                    .into_any(),
                }
            })
            .collect_view()
            .into_any(),
    }
}

/// One configuration: its name, what it is, its runs and seeds, and its flag.
fn config_item(i: usize, config: &ConfigGroup, lang: Lang) -> impl IntoView {
    let runs = config.runs.len();
    let seeds = config.seeds().iter().map(u64::to_string).collect::<Vec<_>>().join(", ");
    // Described without its seed: the seeds are listed after it, all of them.
    let seedless = ExperimentConfig { seed: ExperimentConfig::default().seed, ..config.config.clone() };
    let what = words(&seedless.label_words(), lang).to_string();
    let counts = pick(
        lang,
        format!("{}, {} {seeds}", count(runs, "run", "runs"), if config.seeds().len() == 1 { "seed" } else { "seeds" }),
        format!("{runs} 次运行，种子 {seeds}"),
    );
    let flag = config.flag.clone();
    let flagged = flag.is_some();
    view! {
        <li class="class-config" class:flagged=flagged data-flagged=flagged.to_string()>
            <span class="class-swatch" style=format!("background: {}", css_colour(i))></span>
            <strong>{letter(i)}</strong>" · "{what}" · "{counts}
            {flag.map(|f| view! {
                <p class="class-flag">"⚑ "{CLASS_FLAGGED.get(lang)}" "{flag_words(&f, lang)}</p>
            })}
        </li>
    }
}

/// The dot plot of final accuracies: one row per run, its dot placed on a scale shared by
/// the piece's runs, with the number beside it (an accessible table with a picture).
fn dot_table(piece: &PieceGroup, lang: Lang) -> impl IntoView {
    let finals: Vec<f64> = piece.configs.iter().flat_map(ConfigGroup::final_accuracies).collect();
    let low = finals.iter().copied().fold(f64::INFINITY, f64::min);
    let high = finals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    // A scale from a little below the lowest to a little above the highest whole percent.
    let (low, high) =
        if finals.is_empty() { (0.0, 100.0) } else { ((low - 1.0).floor().max(0.0), (high + 1.0).ceil().min(100.0)) };
    let at = move |v: f64| ((v - low) / (high - low).max(1e-9) * 100.0).clamp(0.0, 100.0);
    let rows = piece
        .configs
        .iter()
        .enumerate()
        .flat_map(|(i, c)| c.runs.iter().map(move |r| (i, r)))
        .map(|(i, run)| {
            let accuracy = run.final_accuracy();
            let device = run.record.device.clone();
            view! {
                <tr>
                    <th scope="row"><strong>{letter(i)}</strong>" "<code>{run.file.clone()}</code>
                        <span class="class-device"><code>{device}</code></span></th>
                    <td>{run.record.config.seed}</td>
                    <td>{accuracy.map_or_else(|| CLASS_UNFINISHED.get(lang).to_string(), percent)}</td>
                    <td class="class-strip">{accuracy.map(|a| view! {
                        <span class="class-dot" data-accuracy=format!("{a:.2}")
                            style=format!("left: {:.1}%; background: {}", at(a), css_colour(i))></span>
                    })}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="numbers class-dots">
            <caption>{CLASS_DOTS.get(lang)}</caption>
            <thead><tr>
                <th scope="col">{CLASS_RUN.get(lang)}</th>
                <th scope="col">{CLASS_SEED.get(lang)}</th>
                <th scope="col">{CLASS_FINAL.get(lang)}</th>
                <th scope="col"><span class="class-scale"><span>{format!("{low:.0}")}</span><span>{format!("{high:.0} %")}</span></span></th>
            </tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

fn piece_view(piece: PieceGroup, class: Memo<Class>) -> impl IntoView {
    let lang = lang();
    let group = piece.group.clone();
    let id = chart_id(&group);
    let title = {
        let group = group.clone();
        move || {
            let l = lang.get();
            pick(
                l,
                format!("{}: test accuracy per epoch", piece_name(&group, l)),
                format!("{}：每个 epoch 的测试准确率", piece_name(&group, l)),
            )
        }
    };
    let draw = {
        let group = group.clone();
        let title = title.clone();
        move |root: &CanvasArea| {
            let l = lang.get();
            let Some(piece) = class.with(|c| c.pieces.iter().find(|p| p.group == group).cloned()) else {
                return Ok(Drawn::default());
            };
            let (lines, bands) = piece_chart(&piece, l);
            let title = title();
            let plot = LinePlot {
                title: &title,
                x_label: EPOCH_AXIS.get(l),
                y_label: CLASS_ACCURACY_AXIS.get(l),
                x_scale: Scale::Linear,
                y_scale: Scale::Linear,
                lines: &lines,
                references: &[],
                // Fitted to the runs and their bands, so that nothing is off the scale.
                y_range: None,
            };
            let data = draw_line_plot_with_bands(root, &plot, &bands)?;
            Ok(Drawn { summary: piece_summary(&piece), data: Some(data) })
        }
    };
    let l = lang.get_untracked();
    let runs = piece.run_count();
    let configs = piece.configs.len();
    let heading = pick(
        l,
        format!(
            "{} — {} in {}",
            piece_name(&group, l),
            count(runs, "run", "runs"),
            count(configs, "configuration", "configurations")
        ),
        format!("{} —— {runs} 次运行，{configs} 种配置", piece_name(&group, l)),
    );
    view! {
        <section class="class-piece" data-group=group.clone() data-runs=runs data-configs=configs>
            <h3>{heading}</h3>
            <ul class="class-configs">
                {piece.configs.iter().enumerate().map(|(i, c)| config_item(i, c, l)).collect_view()}
            </ul>
            <ChartCanvas id=id draw=draw height=360 label=Signal::derive(title)
                caption=Signal::derive(move || CLASS_CHART_CAPTION.get(lang.get()).to_string()) />
            {dot_table(&piece, l)}
        </section>
    }
}

fn aside_view(aside: &[SetAside], lang: Lang) -> impl IntoView {
    (!aside.is_empty()).then(|| {
        let items = aside
            .iter()
            .map(|s| {
                let kept = (s.kept_runs > 0).then(|| {
                    view! { <span class="class-kept">{pick(lang, format!(" ({} kept)", count(s.kept_runs, "run", "runs")), format!("（保留了 {} 次运行）", s.kept_runs))}</span> }
                });
                view! { <li><code>{s.file.clone()}</code>{pick(lang, ": ".into(), "：".into())}{words(&s.reason, lang).to_string()}{kept}</li> }
            })
            .collect_view();
        view! {
            <div class="class-aside alert" role="status">
                <p><strong>{CLASS_SET_ASIDE.get(lang)}</strong></p>
                <ul>{items}</ul>
            </div>
        }
    })
}

fn devices_view(class: &Class, lang: Lang) -> impl IntoView {
    (!class.devices.is_empty()).then(|| {
        let ms = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.1}"));
        let rows = class
            .devices
            .iter()
            .map(|d| {
                let r = &d.report;
                let (passed, total) = d.kernel_tally();
                let check = if r.gpu.is_none() || total == 0 {
                    CLASS_NOT_CHECKED.get(lang).to_string()
                } else if passed == total {
                    pick(lang, format!("passed ({total} kernels)"), format!("通过（{total} 个算子）"))
                } else {
                    pick(
                        lang,
                        format!("failed ({passed} of {total} kernels passed)"),
                        format!("未通过（{total} 个算子中 {passed} 个通过）"),
                    )
                };
                let gpu = match &r.gpu {
                    Some(name) => view! { <code>{name.clone()}</code> }.into_any(),
                    None => {
                        let problem = r
                            .gpu_problem
                            .clone()
                            .map(|p| view! { <span class="class-problem">" ("<code>{p}</code>")"</span> });
                        view! { <span>{CLASS_NO_GPU.get(lang)}{problem}</span> }.into_any()
                    }
                };
                view! {
                    <tr class:failed=passed < total>
                        <th scope="row"><code>{d.file.clone()}</code></th>
                        <td>{gpu}</td>
                        <td>{check}</td>
                        <td>{ms(r.step_millis("mlp", "webgpu"))}</td>
                        <td>{ms(r.step_millis("mlp", "cpu"))}</td>
                        <td>{ms(r.step_millis("cnn", "webgpu"))}</td>
                        <td>{ms(r.step_millis("cnn", "cpu"))}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <div class="class-devices-wrap">
                <table class="numbers class-devices">
                    <caption>{CLASS_DEVICES.get(lang)}</caption>
                    <thead><tr>
                        <th scope="col">{CLASS_FILE.get(lang)}</th>
                        <th scope="col">"GPU"</th>
                        <th scope="col">{CLASS_KERNEL_CHECK.get(lang)}</th>
                        <th scope="col">"MLP · WebGPU"</th>
                        <th scope="col">"MLP · CPU"</th>
                        <th scope="col">"CNN · WebGPU"</th>
                        <th scope="col">"CNN · CPU"</th>
                    </tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        }
    })
}

#[component]
pub fn ClassView() -> impl IntoView {
    let lang = lang();
    // Each file as it was read, by name: dropping a file of the same name again replaces it.
    let files: RwSignal<Vec<(String, Vec<u8>)>> = RwSignal::new(Vec::new());
    // Files too large to read at all.
    let unread: RwSignal<Vec<SetAside>> = RwSignal::new(Vec::new());
    let hover = RwSignal::new(false);
    let class = Memo::new(move |_| {
        let mut class = files.with(|f| read_class(f));
        class.set_aside.extend(unread.get());
        class
    });

    let add = move |list: web_sys::FileList| {
        for i in 0..list.length() {
            let Some(file) = list.get(i) else { continue };
            let name = file.name();
            if file.size() > MAX_FILE_BYTES as f64 {
                let mb = (file.size() / 1e6).round();
                let reason = crate::words!(
                    "{mb} MB, far larger than an export of the lab; not read",
                    "{mb} MB，远大于实验室的导出文件；没有读取"
                );
                unread.update(|u| u.push(SetAside { file: name, reason, kept_runs: 0 }));
                continue;
            }
            leptos::task::spawn_local(async move {
                let bytes = match wasm_bindgen_futures::JsFuture::from(file.array_buffer()).await {
                    Ok(buffer) => js_sys::Uint8Array::new(&buffer).to_vec(),
                    Err(e) => {
                        let detail = format!("{e:?}");
                        let reason = crate::words!("could not be read ({detail})", "无法读取（{detail}）");
                        unread.update(|u| u.push(SetAside { file: name, reason, kept_runs: 0 }));
                        return;
                    }
                };
                files.update(|f| {
                    f.retain(|(n, _)| *n != name);
                    f.push((name, bytes));
                });
            });
        }
    };
    let picked = move |ev: leptos::ev::Event| {
        let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else { return };
        if let Some(list) = input.files() {
            add(list);
        }
        // The same files may be picked again after a clear.
        input.set_value("");
    };
    let dropped = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        hover.set(false);
        if let Some(list) = ev.data_transfer().and_then(|d| d.files()) {
            add(list);
        }
    };
    let clear = move |_| {
        files.set(Vec::new());
        unread.set(Vec::new());
    };
    let summary = move || {
        let l = lang.get();
        class.with(|c| {
            let (runs, pieces, devices) = (c.run_count(), c.pieces.len(), c.devices.len());
            let aside = c.set_aside.iter().filter(|s| s.kept_runs == 0).count();
            pick(
                l,
                format!(
                    "{} of {}, {}, {} set aside.",
                    count(runs, "run", "runs"),
                    count(pieces, "piece", "pieces"),
                    count(devices, "device report", "device reports"),
                    count(aside, "file", "files")
                ),
                format!("{pieces} 个实验组件的 {runs} 次运行，{devices} 份设备报告，{aside} 个文件被放到一边。"),
            )
        })
    };
    view! {
        <div class="widget class-view">
            <div class="class-drop" class:hover=move || hover.get()
                on:dragover=move |ev: leptos::ev::DragEvent| { ev.prevent_default(); hover.set(true); }
                on:dragleave=move |_| hover.set(false)
                on:drop=dropped>
                <p>{tr(CLASS_DROP)}</p>
                <label class="class-pick">
                    {tr(CLASS_PICK)}" "
                    <input type="file" id="class-files" multiple accept=".json,application/json" on:change=picked />
                </label>
                <p class="note">{tr(CLASS_LOCAL)}</p>
            </div>
            <Show when=move || files.with(|f| !f.is_empty()) || unread.with(|u| !u.is_empty())>
                <div class="class-status">
                    <p id="class-summary" role="status">{summary}</p>
                    <button class="small" id="class-clear" on:click=clear>{tr(CLASS_CLEAR)}</button>
                </div>
            </Show>
            {move || {
                let l = lang.get();
                class.with(|c| view! {
                    {aside_view(&c.set_aside, l)}
                    {devices_view(c, l)}
                })
            }}
            {move || {
                // Rebuilt when the files or the language change: a class is read once per drop.
                let _ = lang.get();
                class.with(|c| c.pieces.clone()).into_iter().map(|p| piece_view(p, class)).collect_view()
            }}
        </div>
    }
}
