//! The lab as an installable page that works offline. The page registers the service
//! worker (`www/sw.js`, which `scripts/offline_hook.sh` stamps with the build's files and
//! version) and says in words when it runs from the copy saved in this browser with no
//! server to reach, and when a newer build has been saved and waits for a reload.
//!
//! Where the browser offers no service workers (a plain `http://` address other than
//! localhost is not a secure context), the page works as before, online only.

use std::cell::{Cell, RefCell};

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{ServiceWorker, ServiceWorkerContainer, ServiceWorkerRegistration, ServiceWorkerState};

use super::browser;
use super::i18n::{tr, Msg};

/// Relative to the page, so that the worker's scope is the page's own folder at any path.
const WORKER: &str = "sw.js";
/// The message that lets a waiting worker take over (keep in sync with `www/sw.js`).
const SKIP_WAITING: &str = "skip-waiting";

const OFFLINE: Msg = Msg {
    en: "Offline: the lab runs from the copy saved in this browser. Lessons, data sets and training all work without a network.",
    zh: "离线：实验室正在使用保存在本浏览器中的副本运行。没有网络，课程、数据集和训练也都照常可用。",
};
const UPDATE_READY: Msg = Msg {
    en: "A new version of the lab has been saved in this browser.",
    zh: "实验室的新版本已保存到本浏览器。",
};
const RELOAD: Msg = Msg { en: "Reload to use it", zh: "重新加载以使用新版本" };

thread_local! {
    static REGISTRATION: RefCell<Option<ServiceWorkerRegistration>> = const { RefCell::new(None) };
    /// Set when the student asked for the new version: the next change of worker reloads.
    static RELOAD_ON_TAKEOVER: Cell<bool> = const { Cell::new(false) };
}

#[derive(Clone, Copy)]
struct OfflineState {
    /// A worker controls this page: what it shows came from the saved copy.
    controlled: RwSignal<bool>,
    /// The browser has no network, or the server did not answer the worker's update check.
    unreachable: RwSignal<bool>,
    /// A newer build's worker is installed and waits for this page to let it take over.
    update_waiting: RwSignal<bool>,
}

/// The two notices (offline, update waiting); registers the worker when mounted.
#[component]
pub fn OfflineNotice() -> impl IntoView {
    let state = OfflineState {
        controlled: RwSignal::new(false),
        unreachable: RwSignal::new(false),
        update_waiting: RwSignal::new(false),
    };
    start(state);
    let offline = move || state.controlled.get() && state.unreachable.get();
    view! {
        {move || offline().then(|| view! {
            <p id="offline-notice" class="note banner" role="status">{tr(OFFLINE)}</p>
        })}
        {move || state.update_waiting.get().then(|| view! {
            <p id="update-notice" class="note banner" role="status">
                {tr(UPDATE_READY)}" "
                <button type="button" class="reload" on:click=move |_| take_update()>{tr(RELOAD)}</button>
            </p>
        })}
    }
}

/// `navigator.serviceWorker`, where the browser offers it.
fn container() -> Option<ServiceWorkerContainer> {
    let navigator = browser::window()?.navigator();
    let offered = js_sys::Reflect::has(&navigator, &JsValue::from_str("serviceWorker")).unwrap_or(false);
    offered.then(|| navigator.service_worker())
}

fn start(state: OfflineState) {
    let Some(container) = container() else { return };
    state.controlled.set(container.controller().is_some());

    // A worker takes over: on the first visit the one that has just saved the lab; later a
    // new build's, let in by this page's Reload button or by another tab's, after which
    // this page's files are no longer the saved ones and it asks to be reloaded too.
    let took_over = Closure::<dyn Fn()>::new(move || {
        let replaced = state.controlled.get_untracked();
        state.controlled.set(true);
        if RELOAD_ON_TAKEOVER.get() {
            if let Some(w) = browser::window() {
                let _ = w.location().reload();
            }
        } else if replaced {
            state.update_waiting.set(true);
        }
    });
    container.set_oncontrollerchange(Some(took_over.as_ref().unchecked_ref()));
    // The handlers live as long as the page.
    took_over.forget();
    on_window_event("offline", move || state.unreachable.set(true));
    on_window_event("online", move || spawn_local(check_server(state)));

    spawn_local(async move {
        let registration = match JsFuture::from(container.register(WORKER)).await {
            Ok(r) => r.unchecked_into::<ServiceWorkerRegistration>(),
            Err(e) => {
                // The page still works online; only the saved copy is missing.
                log::warn!("the lab could not be saved for offline use: {e:?}");
                return;
            }
        };
        watch_for_update(&registration, state);
        REGISTRATION.with(|r| *r.borrow_mut() = Some(registration));
        check_server(state).await;
    });
}

fn on_window_event(name: &str, handler: impl Fn() + 'static) {
    let Some(window) = browser::window() else { return };
    let handler = Closure::<dyn Fn()>::new(handler);
    let _ = window.add_event_listener_with_callback(name, handler.as_ref().unchecked_ref());
    handler.forget();
}

/// Asks the server for the worker's script (a byte check that also finds a new build):
/// when the page runs from the saved copy and the check fails, the server is out of reach.
async fn check_server(state: OfflineState) {
    let on_line = browser::window().is_some_and(|w| w.navigator().on_line());
    let registration = REGISTRATION.with(|r| r.borrow().clone());
    let answered = match (on_line, registration) {
        (true, Some(registration)) if state.controlled.get_untracked() => match registration.update() {
            Ok(check) => JsFuture::from(check).await.is_ok(),
            Err(_) => false,
        },
        (on_line, _) => on_line,
    };
    state.unreachable.set(!answered);
}

/// Marks the update as waiting when a newer worker has installed behind the one that
/// controls this page (on the first visit there is none, and nothing waits). The browser
/// may have found the new build before the page was listening: it may already wait, or
/// be installing.
fn watch_for_update(registration: &ServiceWorkerRegistration, state: OfflineState) {
    if registration.waiting().is_some() && is_controlled() {
        state.update_waiting.set(true);
    }
    if let Some(installing) = registration.installing() {
        watch_installing(installing, state);
    }
    let watched = registration.clone();
    let found = Closure::<dyn Fn()>::new(move || {
        if let Some(installing) = watched.installing() {
            watch_installing(installing, state);
        }
    });
    registration.set_onupdatefound(Some(found.as_ref().unchecked_ref()));
    found.forget();
}

fn watch_installing(installing: ServiceWorker, state: OfflineState) {
    let worker = installing.clone();
    let changed = Closure::<dyn Fn()>::new(move || {
        if worker.state() == ServiceWorkerState::Installed && is_controlled() {
            state.update_waiting.set(true);
        }
    });
    installing.set_onstatechange(Some(changed.as_ref().unchecked_ref()));
    changed.forget();
}

fn is_controlled() -> bool {
    container().is_some_and(|c| c.controller().is_some())
}

/// Lets the waiting worker take over; the page reloads onto the new build when it has.
fn take_update() {
    let waiting = REGISTRATION.with(|r| r.borrow().as_ref().and_then(|r| r.waiting()));
    match waiting {
        Some(worker) => {
            RELOAD_ON_TAKEOVER.set(true);
            let _ = worker.post_message(&JsValue::from_str(SKIP_WAITING));
        }
        None => {
            if let Some(w) = browser::window() {
                let _ = w.location().reload();
            }
        }
    }
}
