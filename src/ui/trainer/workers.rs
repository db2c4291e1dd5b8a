//! The CPU engine's Web Workers, from the page's side. A job's runs on the CPU engine train
//! in dedicated workers (`src/bin/engine_worker.rs`), several at once where the device has
//! the cores, so the page's thread only draws and answers the student. Each worker is a
//! separate instance of the engine with its own copy of the data set; it needs no shared
//! memory, hence no special headers from the host. The engine's module is fetched and
//! compiled once per page and handed to every worker.
//!
//! GPU runs stay on the page's thread: the GPU already works apart from the page (a step
//! is recorded and submitted, never waited for), WebGPU's device belongs to the page, and
//! runs in parallel on one GPU would only share it.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use futures_channel::mpsc;
use futures_util::StreamExt as _;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::data::Dataset;
use crate::error::NormlabError;
use crate::experiment::benchmark::{BenchModel, BenchSchedule, StepTiming};
use crate::experiment::pace::StepCost;
use crate::experiment::remote::{decode, encode, DatasetShape, FromWorker, RunOrder, RunResult, ToWorker};
use crate::experiment::{AttentionMaps, ExperimentConfig, Observer};
use crate::platform;

/// The worker's start-up script, copied to the build (index.html), and the engine's module.
const WORKER_SCRIPT: &str = "engine_worker.js";
const ENGINE_MODULE: &str = "engine-worker_bg.wasm";
/// The longest a worker may take to start before the page trains on its own thread.
const START_MILLIS: f64 = 30_000.0;
/// More workers than this gain little for the lessons' jobs and cost memory (each holds
/// a copy of the data set and its own models).
const MOST_WORKERS: usize = 8;

thread_local! {
    /// The engine's compiled module, once per page.
    static MODULE: RefCell<Option<js_sys::WebAssembly::Module>> = const { RefCell::new(None) };
    /// Every live worker, so that a hidden tab pauses them all.
    static LIVE: RefCell<Vec<web_sys::Worker>> = const { RefCell::new(Vec::new()) };
    /// Why workers could not start in this page, once it is known (then the page trains
    /// on its own thread, and says so).
    static UNAVAILABLE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// How many workers a job of `runs` runs gets: one per logical core the browser reports
/// (the page's thread mostly waits while they train), at most one per run.
pub fn workers_for(runs: usize, asked: Option<usize>) -> usize {
    let cores = web_sys::window().map_or(1.0, |w| w.navigator().hardware_concurrency()) as usize;
    asked.unwrap_or(cores).clamp(1, MOST_WORKERS).min(runs.max(1))
}

/// How many runs of a job of `runs` the CPU engine trains at once: its workers, or 1 on
/// the page's own thread (asked for with `workers=0`, or where workers cannot start).
pub fn cpu_lanes(runs: usize, asked: Option<usize>) -> usize {
    if asked == Some(0) || unavailable().is_some() {
        1
    } else {
        workers_for(runs, asked)
    }
}

/// Why the page cannot use workers, if it has found out.
pub fn unavailable() -> Option<String> {
    UNAVAILABLE.with(|u| u.borrow().clone())
}

async fn engine_module() -> Result<js_sys::WebAssembly::Module, String> {
    if let Some(module) = MODULE.with(|m| m.borrow().clone()) {
        return Ok(module);
    }
    let window = web_sys::window().ok_or("no window")?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str(ENGINE_MODULE))
        .await
        .map_err(|e| format!("{e:?}"))?
        .dyn_into()
        .map_err(|_| "not a response")?;
    if !response.ok() {
        return Err(format!("{ENGINE_MODULE}: HTTP {}", response.status()));
    }
    let bytes =
        JsFuture::from(response.array_buffer().map_err(|e| format!("{e:?}"))?).await.map_err(|e| format!("{e:?}"))?;
    let module: js_sys::WebAssembly::Module =
        JsFuture::from(js_sys::WebAssembly::compile(&bytes)).await.map_err(|e| format!("{e:?}"))?.unchecked_into();
    MODULE.with(|m| *m.borrow_mut() = Some(module.clone()));
    Ok(module)
}

/// Pauses the engine workers while the page's tab is hidden, as the page's own training
/// pauses (a worker has no tab to look at), and leaves that time out of the job's elapsed
/// time. Called once, when the page starts.
pub fn follow_visibility() {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
    let hidden_since: Cell<Option<f64>> = Cell::new(None);
    let page = document.clone();
    let listener = Closure::<dyn Fn()>::new(move || {
        let hidden = page.hidden();
        let any = LIVE.with(|live| !live.borrow().is_empty());
        pause_all(hidden);
        match (hidden, hidden_since.get()) {
            (true, None) if any => hidden_since.set(Some(platform::now_millis())),
            (false, Some(since)) => {
                hidden_since.set(None);
                platform::add_paused_millis(platform::now_millis() - since);
            }
            _ => {}
        }
    });
    let _ = document.add_event_listener_with_callback("visibilitychange", listener.as_ref().unchecked_ref());
    // It listens for the page's lifetime.
    listener.forget();
}

/// Tells every live worker that the page was hidden (training waits) or shown again.
fn pause_all(hidden: bool) {
    let message = js_sys::Uint8Array::from(encode(&if hidden { ToWorker::Pause } else { ToWorker::Resume }).as_slice());
    LIVE.with(|live| {
        for worker in live.borrow().iter() {
            let _ = worker.post_message(&message);
        }
    });
}

/// One engine worker. Dropping the last handle ends its thread.
pub struct EngineWorker {
    worker: web_sys::Worker,
    inbox: RefCell<mpsc::UnboundedReceiver<FromWorker>>,
    /// The data set it holds (by identity), so it is sent once for many runs.
    holds: Cell<*const Dataset>,
    _on_message: Closure<dyn FnMut(web_sys::MessageEvent)>,
    _on_error: Closure<dyn FnMut(web_sys::ErrorEvent)>,
}

impl Drop for EngineWorker {
    fn drop(&mut self) {
        self.worker.terminate();
        LIVE.with(|live| live.borrow_mut().retain(|w| w != &self.worker));
    }
}

impl EngineWorker {
    /// Starts a worker and waits until its engine takes orders. An error says why (then
    /// the page trains on its own thread and the panel says so).
    pub async fn start() -> Result<EngineWorker, String> {
        if let Some(reason) = unavailable() {
            return Err(reason);
        }
        let started = Self::try_start().await;
        if let Err(reason) = &started {
            UNAVAILABLE.with(|u| *u.borrow_mut() = Some(reason.clone()));
        }
        started
    }

    async fn try_start() -> Result<EngineWorker, String> {
        let module = engine_module().await?;
        let worker = web_sys::Worker::new(WORKER_SCRIPT).map_err(|e| format!("{e:?}"))?;
        let (sender, inbox) = mpsc::unbounded();
        let to_inbox = sender.clone();
        let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            let message = match event.data().dyn_into::<js_sys::Uint8Array>() {
                Ok(bytes) => decode::<FromWorker>(&bytes.to_vec()).unwrap_or_else(FromWorker::Unreadable),
                Err(_) => FromWorker::Unreadable("not a message of the lab's".into()),
            };
            let _ = to_inbox.unbounded_send(message);
        });
        let on_error = Closure::<dyn FnMut(web_sys::ErrorEvent)>::new(move |event: web_sys::ErrorEvent| {
            event.prevent_default();
            let _ =
                sender.unbounded_send(FromWorker::Unreadable(format!("the engine worker failed: {}", event.message())));
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        let handle = EngineWorker {
            worker,
            inbox: RefCell::new(inbox),
            holds: Cell::new(std::ptr::null()),
            _on_message: on_message,
            _on_error: on_error,
        };
        handle.worker.post_message(&module).map_err(|e| format!("{e:?}"))?;
        let deadline = platform::now_millis() + START_MILLIS;
        loop {
            match handle.next_message(&|| platform::now_millis() > deadline).await {
                Some(FromWorker::Ready) => break,
                Some(FromWorker::Unreadable(reason)) => return Err(reason),
                Some(_) => continue,
                None => return Err(format!("the engine worker did not start within {} s", START_MILLIS / 1000.0)),
            }
        }
        LIVE.with(|live| live.borrow_mut().push(handle.worker.clone()));
        if web_sys::window().and_then(|w| w.document()).is_some_and(|d| d.hidden()) {
            handle.send(&ToWorker::Pause);
        }
        Ok(handle)
    }

    fn send(&self, message: &ToWorker) {
        let bytes = js_sys::Uint8Array::from(encode(message).as_slice());
        let _ = self.worker.post_message(&bytes);
    }

    /// The next message, or None once `give_up()` turns true while waiting.
    async fn next_message(&self, give_up: &dyn Fn() -> bool) -> Option<FromWorker> {
        // The inbox is borrowed only while polled, never across the wait.
        let next = std::future::poll_fn(|cx| self.inbox.borrow_mut().poll_next_unpin(cx));
        let next = platform::unless_stopped(next, give_up).await?;
        // A closed channel: the worker is gone.
        Some(next.unwrap_or_else(|| FromWorker::Unreadable("the engine worker ended".into())))
    }

    /// Gives the worker `data` unless it holds it already (each worker has its own copy).
    fn hold(&self, data: &Rc<Dataset>) {
        if std::ptr::eq(self.holds.get(), Rc::as_ptr(data)) {
            return;
        }
        let parts = js_sys::Array::of5(
            &js_sys::Uint8Array::from(encode(&DatasetShape::of(data)).as_slice()),
            &js_sys::Float32Array::from(data.train.images.as_slice()),
            &js_sys::Float32Array::from(data.train.labels.as_slice()),
            &js_sys::Float32Array::from(data.test.images.as_slice()),
            &js_sys::Float32Array::from(data.test.labels.as_slice()),
        );
        // The arrays are fresh copies: move them instead of copying them again.
        let transfer = js_sys::Array::new();
        for i in 1..5 {
            transfer.push(&parts.get(i).unchecked_into::<js_sys::Float32Array>().buffer());
        }
        let _ = self.worker.post_message_with_transfer(&parts, &transfer);
        self.holds.set(Rc::as_ptr(data));
    }

    /// Trains `order` on `data` in the worker, passing its events to `observer` as they
    /// arrive; when the observer asks to stop, the worker ends the run after its current
    /// step and reports it as stopped.
    pub async fn train(
        &self,
        order: &RunOrder,
        data: &Rc<Dataset>,
        observer: &mut dyn Observer,
    ) -> Result<RunResult, NormlabError> {
        self.hold(data);
        self.send(&ToWorker::Train(order.clone()));
        let mut stop_sent = false;
        loop {
            let stopping = observer.should_stop();
            if stopping && !stop_sent {
                self.send(&ToWorker::Stop);
                stop_sent = true;
            }
            // The wait looks at Stop every few tens of milliseconds, to pass it on.
            let wake = || !stop_sent && observer.should_stop();
            let Some(message) = self.next_message(&wake).await else { continue };
            match message {
                FromWorker::Event(event) => observer.on_event(&event),
                FromWorker::Finished(result) => return result,
                FromWorker::Unreadable(reason) => return Err(lost(reason)),
                FromWorker::Ready | FromWorker::AttentionMaps(_) | FromWorker::Benchmark(_) | FromWorker::Cost(_) => {}
            }
        }
    }

    /// Times training steps of `model` at `batch` in the worker, on `data` (the page's
    /// benchmark hook).
    pub async fn benchmark(
        &self,
        model: BenchModel,
        batch: usize,
        schedule: BenchSchedule,
        data: &Rc<Dataset>,
    ) -> Result<StepTiming, NormlabError> {
        self.hold(data);
        self.ask(&ToWorker::Benchmark { model, batch, schedule }, |m| match m {
            FromWorker::Benchmark(timing) => Some(timing),
            _ => None,
        })
        .await
    }

    /// The CPU's cost for `config`'s model family, measured in the worker on `data`.
    pub async fn measure_cost(&self, config: &ExperimentConfig, data: &Rc<Dataset>) -> Result<StepCost, NormlabError> {
        self.hold(data);
        self.ask(&ToWorker::MeasureCost { config: config.clone() }, |m| match m {
            FromWorker::Cost(cost) => Some(cost),
            _ => None,
        })
        .await
    }

    /// The attention maps of `name` from the model the worker's last run kept.
    pub async fn attention_maps(&self, name: &str) -> Result<AttentionMaps, NormlabError> {
        self.ask(&ToWorker::AttentionMaps { name: name.to_string() }, |m| match m {
            FromWorker::AttentionMaps(maps) => Some(maps),
            _ => None,
        })
        .await
    }

    /// Sends `question` and waits for the answer `pick` takes (other messages are passed
    /// over).
    async fn ask<T>(
        &self,
        question: &ToWorker,
        pick: impl Fn(FromWorker) -> Option<Result<T, NormlabError>>,
    ) -> Result<T, NormlabError> {
        self.send(question);
        loop {
            match self.next_message(&|| false).await {
                Some(FromWorker::Unreadable(reason)) => return Err(lost(reason)),
                Some(message) => {
                    if let Some(answer) = pick(message) {
                        return answer;
                    }
                }
                None => return Err(lost("no answer".into())),
            }
        }
    }
}

/// A worker that failed mid-run: the run fails with the reason, and later jobs train on
/// the page's thread.
fn lost(reason: String) -> NormlabError {
    UNAVAILABLE.with(|u| *u.borrow_mut() = Some(reason.clone()));
    NormlabError::Fetch { what: "the CPU engine's worker".into(), reason }
}
