//! Lesson 11: where one head of a trained transformer looks while it reads a name the
//! student types, as a grid (row: the position reading, column: the position read, the
//! share of attention in each cell), with the numbers in the cells for a screen reader.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::experiment::{read_typed_name, AttentionMaps};
use crate::ui::i18n::*;
use crate::ui::trainer::TrainedModel;

const NAME: Msg = Msg { en: "Name", zh: "名字" };
const MODEL: Msg = Msg { en: "Model", zh: "模型" };
const BLOCK: Msg = Msg { en: "Block", zh: "块" };
const HEAD: Msg = Msg { en: "Head", zh: "头" };
const TITLE: Msg = Msg {
    en: "Attention of one head (percent of each row; eval mode, the name alone)",
    zh: "一个注意力头的注意力分布（每行的百分比；评估模式，名字单独输入）",
};
const ROWS: Msg = Msg {
    en: "Each row is a position reading (it predicts the next character); each column a position it reads.",
    zh: "每一行是一个正在读的位置（它预测下一个字符）；每一列是它读到的一个位置。",
};
const WAITING: Msg = Msg {
    en: "Train the models above: then type a name to see where a head looks.",
    zh: "先训练上面的模型，然后输入一个名字，看一个注意力头在看哪里。",
};
const DROPPED: Msg = Msg {
    en: "Only the letters a–z are read; the other characters were left out.",
    zh: "只读取字母 a–z；其他字符已被略去。",
};
const CUT: Msg =
    Msg { en: "The name was cut to the model's {n} letters.", zh: "名字已截到模型能读的 {n} 个字母。" };

/// The models a student can look inside: a label and the trained model.
pub type LabelledModels = RwSignal<Vec<(String, TrainedModel)>, LocalStorage>;

#[component]
pub fn AttentionMap(models: LabelledModels, blocks: usize, heads: usize) -> impl IntoView {
    let lang = lang();
    let typed = RwSignal::new("sophia".to_string());
    let model = RwSignal::new(0usize);
    let block = RwSignal::new(0usize);
    let head = RwSignal::new(0usize);
    let maps: RwSignal<Option<Result<AttentionMaps, String>>> = RwSignal::new(None);
    let notes: RwSignal<Vec<String>> = RwSignal::new(Vec::new());
    // Every change of name or model asks the model again; the latest answer is shown.
    let asked = RwSignal::new(0u64);
    Effect::new(move |_| {
        let text = typed.get();
        let chosen = models.with(|m| m.get(model.get()).map(|(_, model)| model.clone()));
        let Some(trained) = chosen else {
            maps.set(None);
            return;
        };
        let l = lang.get_untracked();
        let read = match read_typed_name(&text, trained.most_letters()) {
            Ok(read) => read,
            Err(error) => {
                maps.set(Some(Err(error_words(&error, l))));
                notes.set(Vec::new());
                return;
            }
        };
        let mut said = Vec::new();
        if read.dropped {
            said.push(DROPPED.get(l).to_string());
        }
        if read.cut {
            said.push(CUT.get(l).replace("{n}", &trained.most_letters().to_string()));
        }
        notes.set(said);
        let ticket = asked.get_untracked() + 1;
        asked.set(ticket);
        spawn_local(async move {
            let answer = trained.attention_maps(&read.name).await.map_err(|e| error_words(&e, l));
            if asked.get_untracked() == ticket {
                maps.set(Some(answer));
            }
        });
    });
    let select = move |id: &'static str, label: Msg, value: RwSignal<usize>, options: Signal<Vec<String>>| {
        view! {
            <div class="control">
                <label for=id>{tr(label)}</label>
                <select id=id prop:value=move || value.get().to_string()
                    on:change=move |ev| value.set(event_target_value(&ev).parse().unwrap_or(0))>
                    {move || options.get().into_iter().enumerate().map(|(i, o)| view! {
                        <option value=i.to_string()>{o}</option>
                    }).collect_view()}
                </select>
            </div>
        }
    };
    let model_names = Signal::derive(move || models.with(|m| m.iter().map(|(l, _)| l.clone()).collect()));
    let numbered = |count: usize| Signal::derive(move || (1..=count).map(|i| i.to_string()).collect());
    let grid = move || {
        let l = lang.get();
        match maps.get() {
            None => view! { <p class="note">{WAITING.get(l)}</p> }.into_any(),
            Some(Err(reason)) => view! { <p class="note" role="status">{reason}</p> }.into_any(),
            Some(Ok(maps)) => attention_grid(&maps, block.get().min(maps.maps.len().saturating_sub(1)), head.get(), l),
        }
    };
    view! {
        <div class="attention-map">
            <div class="controls">
                <div class="control">
                    <label for="l11-attention-name">{tr(NAME)}</label>
                    <input id="l11-attention-name" type="text" maxlength="40" autocomplete="off" spellcheck="false"
                        prop:value=move || typed.get() on:input=move |ev| typed.set(event_target_value(&ev)) />
                </div>
                {select("l11-attention-model", MODEL, model, model_names)}
                {select("l11-attention-block", BLOCK, block, numbered(blocks))}
                {select("l11-attention-head", HEAD, head, numbered(heads))}
            </div>
            {move || notes.get().into_iter().map(|n| view! { <p class="note" role="status">{n}</p> }).collect_view()}
            <div class="attention-grid" id="l11-attention">{grid}</div>
        </div>
    }
}

/// The grid of one head's attention: percent in each cell, shaded by the share.
fn attention_grid(maps: &AttentionMaps, block: usize, head: usize, lang: Lang) -> AnyView {
    let tokens = maps.tokens.clone();
    let n = tokens.len();
    let head = head.min(maps.maps.get(block).map_or(1, |b| b.len()).saturating_sub(1));
    let rows = (0..n)
        .map(|from| {
            let cells = (0..n)
                .map(|to| {
                    if to > from {
                        return view! { <td class="masked"></td> }.into_any();
                    }
                    let weight = maps.weight(block, head, from, to);
                    let style = format!("background: rgba(31, 119, 180, {:.3})", weight.clamp(0.0, 1.0));
                    let dark = if weight > 0.55 { "cell dark" } else { "cell" };
                    view! { <td class=dark style=style>{format!("{:.0}", 100.0 * weight)}</td> }.into_any()
                })
                .collect_view();
            view! { <tr><th scope="row">{tokens[from].to_string()}</th>{cells}</tr> }
        })
        .collect_view();
    view! {
        <p class="attention-title" id="l11-attention-title">{TITLE.get(lang)}" "<span class="muted">{ROWS.get(lang)}</span></p>
        <table class="attention" aria-labelledby="l11-attention-title">
            <thead>
                <tr><th></th>{tokens.iter().map(|t| view! { <th scope="col">{t.to_string()}</th> }).collect_view()}</tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}
