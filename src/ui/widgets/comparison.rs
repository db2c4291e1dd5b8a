//! A live piece that trains a few variants of one network side by side on one chart: the
//! shape of lessons 7 (noisy BatchNorm, Lp normalization) and 9 (placement).

use leptos::prelude::*;

use super::{PresetChoice, TrainButton, TrainingChart};
use crate::experiment::presets::Preset;
use crate::ui::i18n::*;
use crate::ui::run_panel::RunPanel;
use crate::ui::trainer::{RunRequest, Trainer};

/// `make` builds the runs for a preset in the page's language; `children` are extra
/// controls shown before the Train button.
#[component]
pub fn Comparison<F>(
    group: &'static str,
    /// Element ids: the preset radio group's name, the Train button, the chart.
    ids: [&'static str; 3],
    title: Msg,
    button: Msg,
    make: F,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView
where
    F: Fn(Preset, Lang) -> Vec<RunRequest> + Clone + 'static,
{
    let trainer = expect_context::<Trainer>();
    let lang = lang();
    let preset = RwSignal::new(Preset::Quick);
    let plan = move |p: Preset| make(p, lang.get_untracked());
    let for_choice = plan.clone();
    let train = move |_| {
        let p = preset.get_untracked();
        trainer.start(group, Some(p), plan(p), |_| {});
    };
    view! {
        <div class="widget comparison">
            <div class="controls">
                <PresetChoice name=ids[0] value=preset plan=for_choice />
                {children.map(|c| c())}
                <TrainButton id=ids[1] label=button on_click=train />
            </div>
            <TrainingChart group=group id=ids[2] title=title />
            <RunPanel group=group />
        </div>
    }
}
