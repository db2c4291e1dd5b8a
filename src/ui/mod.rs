//! The page (Leptos, client-side rendered): a course of lessons with live pieces. The
//! only module that touches the DOM; it drives experiments through `experiment::Run`
//! (via [`trainer`]) and draws with `chart`.
//!
//! The address bar always says where the student is: `?lesson=<id>&lang=<en|zh>` plus the
//! settings of the lesson's live piece, so a reload or a shared link opens the same view.

mod benchmark;
mod browser;
mod chart_canvas;
mod course;
mod device;
mod fetch;
mod i18n;
mod image_files;
mod offline;
mod references;
mod run_panel;
mod runs;
mod trainer;
mod widgets;

use leptos::prelude::*;

pub use benchmark::benchmark_training_step;

use crate::course::{Lang, Lesson, LESSONS};
use device::{DevicePanel, DeviceState, EngineChoice};
use i18n::{pick, tr, Language, FOOTER, LANGUAGE, SKIP, STORED_LOST, TAGLINE};
use run_panel::JobProgress;
use runs::RunStore;
use trainer::Trainer;

/// Mounts the page. Called from `main` in the browser.
pub fn start() {
    console_error_panic_hook::set_once();
    let _ = console_log::init_with_level(log::Level::Warn);
    leptos::mount::mount_to_body(App);
}

const LANG_KEY: &str = "normlab.lang";
const PROGRESS_KEY: &str = "normlab.progress";

/// Where the student is, and the settings the page was opened with.
#[derive(Clone, Copy)]
pub struct Page {
    pub lesson: RwSignal<&'static str>,
    /// Lessons opened before (remembered in the browser).
    pub visited: RwSignal<Vec<String>>,
    /// The address's query at load, for the live piece of the lesson it names.
    opened_with: StoredValue<(String, String)>,
}

impl Page {
    /// The query the page was opened with, if it was opened on `lesson`.
    pub fn initial_query(&self, lesson: &str) -> Option<String> {
        let (opened, query) = self.opened_with.get_value();
        (opened == lesson).then_some(query)
    }

    /// Writes the current lesson, language and a live piece's settings to the address bar.
    pub fn set_settings_query(&self, settings: &str) {
        let lang = expect_context::<Language>().0.get_untracked();
        let mut query = format!("lesson={}&lang={}", self.lesson.get_untracked(), lang.code());
        if !settings.is_empty() {
            query.push('&');
            query.push_str(settings);
        }
        browser::set_query(&query);
    }

    pub fn go(&self, lesson: &'static str) {
        self.lesson.set(lesson);
        self.set_settings_query("");
        self.visited.update(|v| {
            if !v.iter().any(|x| x == lesson) {
                v.push(lesson.to_string());
            }
        });
        let progress = serde_json::json!({ "visited": self.visited.get_untracked(), "last": lesson });
        let _ = browser::save(PROGRESS_KEY, &progress.to_string());
        if let Some(w) = browser::window() {
            w.scroll_to_with_x_and_y(0.0, 0.0);
        }
    }
}

fn query_value<'a>(query: &'a str, key: &str) -> Option<&'a str> {
    query.split('&').filter_map(|p| p.split_once('=')).find(|(k, _)| *k == key).map(|(_, v)| v)
}

#[component]
fn App() -> impl IntoView {
    let query = browser::query();
    let lang = query_value(&query, "lang")
        .and_then(Lang::parse)
        .or_else(|| browser::load(LANG_KEY).as_deref().and_then(Lang::parse))
        .or_else(|| Lang::parse(&browser::preferred_language()))
        .unwrap_or_default();
    let lang = RwSignal::new(lang);
    provide_context(Language(lang));

    let stored_progress: serde_json::Value =
        browser::load(PROGRESS_KEY).and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default();
    let visited: Vec<String> = stored_progress["visited"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str().map(String::from)).collect())
        .unwrap_or_default();
    let asked = query_value(&query, "lesson");
    let unknown_lesson = asked.filter(|id| Lesson::find(id).is_none()).map(str::to_string);
    let lesson = asked
        .and_then(Lesson::find)
        .or_else(|| stored_progress["last"].as_str().and_then(Lesson::find))
        .unwrap_or(&LESSONS[0]);
    let page = Page {
        lesson: RwSignal::new(lesson.id),
        visited: RwSignal::new(visited),
        opened_with: StoredValue::new((lesson.id.to_string(), query.clone())),
    };
    provide_context(page);

    // `engine=auto|webgpu|cpu` (a run's link says which engine trained it); the older
    // `backend=cpu` still works.
    let linked_engine = query_value(&query, "engine")
        .and_then(EngineChoice::parse)
        .or_else(|| (query_value(&query, "backend") == Some("cpu")).then_some(EngineChoice::Cpu));
    let unknown_engine = query_value(&query, "engine").filter(|e| EngineChoice::parse(e).is_none()).map(str::to_string);
    // `workers=N`: how many engine workers the CPU's jobs use (0: the page's own thread),
    // for comparing the two; the default is one per core.
    let asked_workers = query_value(&query, "workers").and_then(|w| w.parse::<usize>().ok());
    let device = DeviceState::detect(linked_engine, asked_workers);
    provide_context(device);
    let store = RunStore::load();
    provide_context(store);
    provide_context(Trainer::new(device, store));
    provide_context(references::References::new());

    Effect::new(move |_| {
        let l = lang.get();
        browser::set_document_language(match l {
            Lang::En => "en",
            Lang::Zh => "zh-CN",
        });
        let _ = browser::save(LANG_KEY, l.code());
    });
    // Record the first lesson as visited, and keep the address bar in step.
    if !browser::query().contains("lesson=") {
        page.set_settings_query(&query);
    }
    page.visited.update(|v| {
        if !v.iter().any(|x| x == lesson.id) {
            v.push(lesson.id.to_string());
        }
    });

    let switch_language = move |ev: leptos::ev::Event| {
        if let Some(l) = Lang::parse(&event_target_value(&ev)) {
            lang.set(l);
            // Keep the live piece's settings; change only the language.
            let current = browser::query();
            let rest: Vec<&str> = current
                .split('&')
                .filter(|p| !p.starts_with("lesson=") && !p.starts_with("lang=") && !p.is_empty())
                .collect();
            page.set_settings_query(&rest.join("&"));
        }
    };

    view! {
        <a class="skip" href="#lesson">{tr(SKIP)}</a>
        <header class="top">
            <div class="brand">
                <h1>"normlab"</h1>
                <p class="tagline">{tr(TAGLINE)}</p>
            </div>
            <div class="top-tools">
                <label class="language">
                    <span>{tr(LANGUAGE)}</span>
                    <select id="language" on:change=switch_language prop:value=move || lang.get().code()>
                        {Lang::ALL.iter().map(|l| view! { <option value=l.code()>{l.native_name()}</option> }).collect_view()}
                    </select>
                </label>
                <DevicePanel device=device />
            </div>
            <JobProgress />
        </header>
        {move || unknown_lesson.clone().map(|id| view! {
            <p class="note banner" role="status">{move || pick(
                lang.get(),
                format!("The link asks for a lesson \u{201c}{id}\u{201d} that the lab does not have; here is {} instead.", lesson.title(lang.get())),
                format!("链接要打开的课程“{id}”不存在；已为你打开“{}”。", lesson.title(lang.get())),
            )}</p>
        })}
        {move || unknown_engine.clone().map(|e| view! {
            <p class="note banner" role="status">{move || pick(
                lang.get(),
                format!("The link asks for an engine \u{201c}{e}\u{201d} that the lab does not know (auto, webgpu or cpu); the engine switch is unchanged."),
                format!("链接指定的引擎“{e}”无法识别（可选 auto、webgpu 或 cpu）；引擎开关保持不变。"),
            )}</p>
        })}
        <offline::OfflineNotice />
        {move || store.problem.get().map(|p| view! {
            <p class="alert banner" role="alert">{move || STORED_LOST.get(lang.get())}": "{move || i18n::words(&p, lang.get()).to_string()}</p>
        })}
        <div class="layout">
            <course::LessonNav />
            <main id="lesson" class="lesson" tabindex="-1">
                <course::LessonView />
            </main>
        </div>
        <footer class="foot">{tr(FOOTER)}</footer>
    }
}
