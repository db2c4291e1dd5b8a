//! The lesson list and the lesson being read: its text (rendered from Markdown with MathML
//! formulas) with its live pieces in place, and the way to the previous and next lesson.

use leptos::prelude::*;

use super::i18n::{lang, pick, tr, FOR_TEACHERS, LESSONS as LESSONS_MSG, NEXT, PREVIOUS};
use super::widgets;
use super::Page;
use crate::course::{render, Lang, Lesson, Segment, LESSONS, TEACHER_PAGES};

#[component]
pub fn LessonNav() -> impl IntoView {
    let page = expect_context::<Page>();
    let lang = lang();
    let link = move |i: usize, lesson: &'static Lesson| {
        let id = lesson.id;
        let number = match id {
            "playground" => "▶".to_string(),
            "self-check" => "⚙".to_string(),
            "class" => "▦".to_string(),
            _ => format!("{}", i + 1),
        };
        let current = page.lesson.get() == id;
        let seen = page.visited.get().iter().any(|v| v == id);
        view! {
            <li>
                <a href=format!("?lesson={id}&lang={}", lang.get().code())
                    class:current=current
                    class:visited=seen
                    aria-current=if current { Some("page") } else { None }
                    data-lesson=id
                    on:click=move |ev| {
                        ev.prevent_default();
                        page.go(id);
                    }>
                    <span class="number">{number}</span>
                    <span class="title">{lesson.title(lang.get())}</span>
                    <span class="seen" aria-hidden="true">{if seen { "✓" } else { "" }}</span>
                </a>
            </li>
        }
    };
    let items = move || LESSONS.iter().enumerate().map(|(i, l)| link(i, l)).collect_view();
    let teacher_items = move || TEACHER_PAGES.iter().enumerate().map(|(i, l)| link(i, l)).collect_view();
    view! {
        <nav class="lessons" aria-label=move || LESSONS_MSG.get(lang.get())>
            <h2>{tr(LESSONS_MSG)}</h2>
            <ol>{items}</ol>
            <h2 class="teacher">{tr(FOR_TEACHERS)}</h2>
            <ol class="teacher">{teacher_items}</ol>
        </nav>
    }
}

#[component]
pub fn LessonView() -> impl IntoView {
    let page = expect_context::<Page>();
    let lang = lang();
    // The text is rendered again only when the lesson or the language changes; the live
    // pieces keep their state across a language switch (their words follow the signal).
    let segments = Memo::new(move |_| {
        let lesson = Lesson::find(page.lesson.get()).unwrap_or(&LESSONS[0]);
        let (segments, errors) = render(lesson.source(lang.get()));
        for error in errors {
            log::warn!("formula in lesson {}: {error}", lesson.id);
        }
        segments
    });
    let body = move || {
        let lesson = Lesson::find(page.lesson.get()).unwrap_or(&LESSONS[0]);
        // The layout (text blocks and live pieces in order) is the same in both languages
        // (a test checks it), so it is taken from one of them, untracked: switching the
        // language re-renders only the text, and the live pieces keep their state.
        let layout = render(lesson.source(Lang::En)).0;
        let mut text_index = 0;
        layout
            .into_iter()
            .map(|segment| match segment {
                Segment::Html(_) => {
                    let i = text_index;
                    text_index += 1;
                    let html = move || {
                        segments.with(|s| {
                            s.iter()
                                .filter_map(|x| match x {
                                    Segment::Html(h) => Some(h.clone()),
                                    Segment::Live(_) => None,
                                })
                                .nth(i)
                                .unwrap_or_default()
                        })
                    };
                    view! { <div class="prose" inner_html=html></div> }.into_any()
                }
                Segment::Live(id) => {
                    let piece = widgets::live(&id, lesson.id);
                    view! { <section class="live" data-live=id>{piece}</section> }.into_any()
                }
            })
            .collect::<Vec<_>>()
    };
    let neighbours = move || Lesson::find(page.lesson.get()).unwrap_or(&LESSONS[0]).neighbours();
    let nav_link = move |target: Option<&'static Lesson>, label: super::i18n::Msg, class: &'static str| {
        target.map(|l| {
            let id = l.id;
            view! {
                <a class=class href=format!("?lesson={id}&lang={}", lang.get().code())
                    on:click=move |ev| {
                        ev.prevent_default();
                        page.go(id);
                    }>
                    {label.get(lang.get())}": "{l.title(lang.get())}
                </a>
            }
        })
    };
    view! {
        <article data-lesson=move || page.lesson.get()>
            {body}
        </article>
        <nav class="pager" aria-label=move || pick(lang.get(), "Previous and next lesson".into(), "上一课与下一课".into())>
            {move || nav_link(neighbours().0, PREVIOUS, "previous")}
            {move || nav_link(neighbours().1, NEXT, "next")}
        </nav>
    }
}
