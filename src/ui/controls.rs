//! The experiment's controls. Every control has a visible label; the settings are
//! written into the URL when a run starts, so the link reproduces it.

use std::cell::Cell;
use std::rc::Rc;

use leptos::prelude::*;

use super::device::{DeviceState, DeviceStatus};
use super::runner::start_run;
use super::RunView;
use crate::experiment::config::{format_lr, BATCH_SIZE_RANGE, EPOCHS_RANGE};
use crate::experiment::ExperimentConfig;
use crate::nn::{Architecture, NormKind, Optimizer};

/// Learning rate on a log scale: the slider holds log10(lr) from −4 to 0.
fn lr_from_slider(v: f64) -> f32 {
    10f64.powf(v) as f32
}

/// Batch size as powers of two: the slider holds log2(batch) from 1 to 9.
fn batch_from_slider(v: u32) -> usize {
    1usize << v
}

fn write_url(config: &ExperimentConfig) {
    let url = format!("?{}", config.to_query());
    if let Ok(history) = window().history() {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
    }
}

#[component]
pub fn Controls(config: RwSignal<ExperimentConfig>, device: DeviceState, view_state: RunView) -> impl IntoView {
    let stop_flag: StoredValue<Option<Rc<Cell<bool>>>, LocalStorage> = StoredValue::new_local(None);
    let lr_slider = move || config.with(|c| c.learning_rate.log10() as f64);
    let batch_slider = move || config.with(|c| c.batch_size.max(2).ilog2());

    let train = move |_| {
        let c = config.get_untracked();
        write_url(&c);
        stop_flag.set_value(Some(start_run(c, device, view_state)));
    };
    let stop = move |_| {
        if let Some(flag) = stop_flag.get_value() {
            flag.set(true);
        }
    };
    let clear = move |_| view_state.series.set(Vec::new());
    let ready = move || !view_state.running.get() && device.status.get() != DeviceStatus::Detecting;

    view! {
        <section class="controls" aria-label="Experiment settings">
            <div class="control">
                <label for="lr">"Learning rate"</label>
                <input id="lr" type="range" min="-4" max="0" step="0.1"
                    prop:value=move || lr_slider().to_string()
                    on:input=move |ev| {
                        if let Ok(v) = event_target_value(&ev).parse::<f64>() {
                            config.update(|c| c.learning_rate = lr_from_slider(v));
                        }
                    } />
                <output for="lr">{move || format_lr(config.with(|c| c.learning_rate))}</output>
            </div>
            <div class="control">
                <label for="batch">"Batch size"</label>
                <input id="batch" type="range" min=BATCH_SIZE_RANGE.0.ilog2() max=BATCH_SIZE_RANGE.1.ilog2() step="1"
                    prop:value=move || batch_slider().to_string()
                    on:input=move |ev| {
                        if let Ok(v) = event_target_value(&ev).parse::<u32>() {
                            config.update(|c| c.batch_size = batch_from_slider(v));
                        }
                    } />
                <output for="batch">{move || config.with(|c| c.batch_size)}</output>
            </div>
            <div class="control">
                <label for="model">"Model"</label>
                <select id="model"
                    prop:value=move || config.with(|c| match c.architecture { Architecture::Mlp { .. } => "mlp", Architecture::Cnn { .. } => "cnn" })
                    on:change=move |ev| {
                        let architecture = if event_target_value(&ev) == "cnn" {
                            Architecture::notes_cnn()
                        } else {
                            Architecture::Mlp { hidden: vec![256, 256] }
                        };
                        config.update(|c| c.architecture = architecture);
                    }>
                    <option value="mlp">"MLP 784-256-256-10"</option>
                    <option value="cnn">"CNN of the notes"</option>
                </select>
            </div>
            <div class="control">
                <label for="optimizer">"Optimizer"</label>
                <select id="optimizer"
                    prop:value=move || config.with(|c| c.optimizer.name())
                    on:change=move |ev| {
                        let optimizer = if event_target_value(&ev) == "sgd" { Optimizer::sgd_momentum() } else { Optimizer::adam() };
                        config.update(|c| c.optimizer = optimizer);
                    }>
                    <option value="sgd">"SGD with momentum 0.9"</option>
                    <option value="adam">"Adam"</option>
                </select>
            </div>
            <div class="control">
                <label for="bn" title="BatchNorm before each hidden ReLU">"BatchNorm"</label>
                <input id="bn" type="checkbox"
                    prop:checked=move || config.with(|c| c.norms.contains(&NormKind::Batch))
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        config.update(|c| c.norms = vec![if on { NormKind::Batch } else { NormKind::None }]);
                    } />
                <span class="hint">{move || if config.with(|c| c.norms.contains(&NormKind::Batch)) { "on" } else { "off" }}</span>
            </div>
            <div class="control">
                <label for="epochs">"Epochs"</label>
                <input id="epochs" type="number" min=EPOCHS_RANGE.0 max=EPOCHS_RANGE.1
                    prop:value=move || config.with(|c| c.epochs).to_string()
                    on:change=move |ev| {
                        if let Ok(v) = event_target_value(&ev).parse::<usize>() {
                            config.update(|c| c.epochs = v.clamp(EPOCHS_RANGE.0, EPOCHS_RANGE.1));
                        }
                    } />
            </div>
            <div class="control">
                <label for="seed">"Seed"</label>
                <input id="seed" type="number" min="0"
                    prop:value=move || config.with(|c| c.seed).to_string()
                    on:change=move |ev| {
                        if let Ok(v) = event_target_value(&ev).parse::<u64>() {
                            config.update(|c| c.seed = v);
                        }
                    } />
            </div>
            <div class="buttons">
                <button id="train" on:click=train prop:disabled=move || !ready()>"Train"</button>
                <button id="stop" on:click=stop prop:disabled=move || !view_state.running.get()>"Stop"</button>
                <button id="clear" on:click=clear prop:disabled=move || view_state.running.get()>"Clear chart"</button>
            </div>
            <div class="progress" aria-label="Progress">
                <progress id="progress"
                    max=move || view_state.progress.get().1.max(1)
                    value=move || view_state.progress.get().0></progress>
            </div>
            <p id="status" class="status" aria-live="polite">{move || view_state.status.get()}</p>
            <p id="alert" class="alert" role="alert" hidden=move || view_state.alert.get().is_none()>
                {move || view_state.alert.get().unwrap_or_default()}
            </p>
        </section>
    }
}
