//! "What the lab measured": a lesson experiment's stored full-preset results as a table,
//! one column per seed (`@live measured:<experiment>`). The numbers are read from
//! `results/<experiment>.json`, made by `normlab-run --reproduce-course`; nothing in it is
//! typed into the lesson.

use leptos::prelude::*;

use super::super::i18n::{lang, pick, Lang};
use crate::experiment::catalog::Experiment;
use crate::experiment::measured::{measured_table, MeasuredTable};
use crate::ui::references::References;

#[component]
pub fn Measured(experiment: Experiment) -> impl IntoView {
    let references = expect_context::<References>();
    let lang = lang();
    let command = format!("normlab-run --reproduce-course --only {}", experiment.name());
    let body = move || {
        let l = lang.get();
        match references.results(experiment) {
            Ok(Some(results)) => table(&measured_table(&results), l).into_any(),
            Ok(None) => view! { <p class="note">{pick(l, "Reading the lab's measurements…".into(), "正在读取实验室的测量结果…".into())}</p> }.into_any(),
            Err(()) => {
                let command = command.clone();
                view! {
                    <p class="note">{pick(
                        l,
                        "This build of the lab holds no stored results for this experiment; ".into(),
                        "这个版本的实验室没有保存这个实验的结果；".into(),
                    )}<code>{command}</code>{pick(l, " makes them.".into(), " 可以生成。".into())}</p>
                }
                .into_any()
            }
        }
    };
    view! { <div class="measured table-scroll" data-experiment=experiment.name()>{body}</div> }
}

fn table(table: &MeasuredTable, l: Lang) -> impl IntoView {
    let english = l == Lang::En;
    let text = |w: &crate::error::Words| if english { w.en.clone() } else { w.zh.clone() };
    let caption = text(&table.caption);
    let head = table.columns.iter().map(|c| view! { <th scope="col">{text(c)}</th> }).collect_view();
    let rows = table
        .rows
        .iter()
        .map(|(name, cells)| {
            let cells =
                cells.iter().map(|c| view! { <td>{MeasuredTable::cell(c, english).to_string()}</td> }).collect_view();
            view! { <tr><th scope="row">{text(name)}</th>{cells}</tr> }
        })
        .collect_view();
    view! {
        <table class="numbers measured-table">
            <caption>
                {pick(l, "What the lab measured: ".into(), "实验室的测量结果：".into())}{caption}
                <br /><code class="source">{table.source.clone()}</code>
            </caption>
            <thead><tr>{head}</tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
