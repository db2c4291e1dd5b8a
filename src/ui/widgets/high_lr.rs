//! Lesson 4: the notes' CNN at Adam's learning rate 0.1, with and without BatchNorm, on
//! one chart; a failed run is marked (diverged at epoch e, batch b, or not learning).

use leptos::prelude::*;

use super::{
    labelled_runs, BatchSizeSlider, EpochsInput, LearningRateSlider, PresetChoice, TrainButton, TrainingChart,
};
use crate::data::DatasetId;
use crate::experiment::catalog::{LivePiece, Variant, VariantKey};
use crate::experiment::presets::{self, Preset};
use crate::experiment::ExperimentConfig;
use crate::ui::i18n::*;
use crate::ui::run_panel::RunPanel;
use crate::ui::trainer::Trainer;
use crate::ui::Page;

const GROUP: &str = "l4/high-lr";

const TITLE: Msg = Msg {
    en: "CNN at a high learning rate: training loss and test accuracy",
    zh: "高学习率下的 CNN：训练损失与测试准确率",
};

#[component]
pub fn HighLr(lesson: &'static str) -> impl IntoView {
    let page = expect_context::<Page>();
    let trainer = expect_context::<Trainer>();
    let lang = lang();

    let query = page.initial_query(lesson).unwrap_or_default();
    let (opened, _) = ExperimentConfig::from_query(&query);
    let has = |key: &str| query.split('&').any(|p| p.starts_with(&format!("{key}=")));
    let preset = RwSignal::new(if query.contains("preset=full") { Preset::Full } else { Preset::Quick });
    let base = presets::high_lr(true, preset.get_untracked());
    let lr = RwSignal::new(if has("lr") { opened.learning_rate } else { base.learning_rate });
    let batch = RwSignal::new(if has("batch") { opened.batch_size } else { base.batch_size });
    let epochs = RwSignal::new(if has("epochs") { opened.epochs } else { base.epochs });
    let dataset = RwSignal::new(opened.dataset);
    let seed = RwSignal::new(opened.seed);

    // The runs of preset `p` as the student set them: the data set and seed for every
    // preset, the sliders for the chosen one.
    let runs = move |p: Preset| {
        let chosen = p == preset.get();
        let mut variants = LivePiece::HighLr.variants(p);
        for variant in &mut variants {
            let config = &mut variant.config;
            if chosen {
                (config.learning_rate, config.batch_size, config.epochs) = (lr.get(), batch.get(), epochs.get());
            }
            (config.dataset, config.seed) = (dataset.get(), seed.get());
        }
        variants
    };
    // The address bar follows the settings.
    Effect::new(move |_| {
        let p = preset.get();
        if let Some(Variant { config: c, .. }) = runs(p).first() {
            page.set_settings_query(&format!(
                "preset={}&data={}&lr={}&batch={}&epochs={}&seed={}",
                p.name(),
                c.dataset.name(),
                c.learning_rate,
                c.batch_size,
                c.epochs,
                c.seed
            ));
        }
    });
    let choose_preset = RwSignal::new(preset.get_untracked());
    Effect::new(move |previous: Option<Preset>| {
        let p = choose_preset.get();
        if previous.is_some_and(|prev| prev != p) {
            preset.set(p);
            let base = presets::high_lr(true, p);
            lr.set(base.learning_rate);
            batch.set(base.batch_size);
            epochs.set(base.epochs);
        }
        p
    });

    // The runs of a preset: the one chosen with the sliders' settings, the others as
    // they come (for their descriptions and times).
    let plan = move |p: Preset| {
        let l = lang.get_untracked();
        labelled_runs(runs(p), l, |v| match v.key {
            VariantKey::BatchNorm(bn) => Some(format!(
                "{} · {} {} · {}",
                if bn { WITH_BN } else { WITHOUT_BN }.get(l),
                pick(l, "lr".into(), "学习率".into()),
                crate::experiment::config::format_lr(v.config.learning_rate),
                if l == Lang::Zh { v.config.dataset.title_zh() } else { v.config.dataset.title() }
            )),
            _ => None,
        })
    };
    let train = move |_| {
        let runs = untrack(|| plan(preset.get_untracked()));
        trainer.start(GROUP, Some(preset.get_untracked()), runs, |_| {});
    };
    view! {
        <div class="widget high-lr">
            <div class="controls">
                <PresetChoice name="l4-preset" value=choose_preset plan=plan />
                <LearningRateSlider id="l4-lr" value=lr />
                <BatchSizeSlider id="l4-batch" value=batch />
                <EpochsInput id="l4-epochs" value=epochs />
                <div class="control">
                    <label for="l4-data">{tr(DATASET)}</label>
                    <select id="l4-data"
                        prop:value=move || dataset.get().name()
                        on:change=move |ev| {
                            if let Some(d) = DatasetId::parse(&event_target_value(&ev)) {
                                dataset.set(d);
                            }
                        }>
                        <option value="fashion-mnist">"Fashion-MNIST"</option>
                        <option value="mnist">"MNIST"</option>
                    </select>
                </div>
                <TrainButton id="l4-train" label=RUN_BOTH on_click=train />
            </div>
            <TrainingChart group=GROUP id="l4-chart" title=TITLE />
            <RunPanel group=GROUP />
        </div>
    }
}
