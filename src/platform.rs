//! The two things the engine needs from its host that differ between a browser and a
//! native process: a clock, and a way to give the browser's event loop a turn.

/// True when compiled for the browser.
pub const IS_BROWSER: bool = cfg!(target_arch = "wasm32");

/// Milliseconds from an arbitrary origin, monotonic.
#[cfg(target_arch = "wasm32")]
pub fn now_millis() -> f64 {
    // `performance` exists in windows and workers alike; Date is the fallback.
    thread_local! {
        static PERFORMANCE: Option<web_sys::Performance> =
            js_sys::Reflect::get(&js_sys::global(), &"performance".into())
                .ok()
                .filter(|p| !p.is_undefined())
                .map(wasm_bindgen::JsCast::unchecked_into);
    }
    PERFORMANCE.with(|p| p.as_ref().map(|p| p.now())).unwrap_or_else(js_sys::Date::now)
}

/// `setTimeout` of whatever global scope runs the code: the page's window or a worker's.
#[cfg(target_arch = "wasm32")]
mod global {
    use wasm_bindgen::prelude::*;
    #[wasm_bindgen]
    extern "C" {
        #[wasm_bindgen(js_name = setTimeout)]
        pub fn set_timeout(handler: &js_sys::Function, millis: i32) -> JsValue;
    }
}

/// A promise that resolves after about `millis` milliseconds, in a window or a worker.
#[cfg(target_arch = "wasm32")]
fn timer(millis: i32) -> wasm_bindgen_futures::JsFuture {
    wasm_bindgen_futures::JsFuture::from(js_sys::Promise::new(&mut |resolve, _reject| {
        global::set_timeout(&resolve, millis);
    }))
}

#[cfg(not(target_arch = "wasm32"))]
#[allow(clippy::disallowed_methods)] // native only; the browser build uses `performance`
pub fn now_millis() -> f64 {
    use std::sync::OnceLock;
    use std::time::Instant;
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    ORIGIN.get_or_init(Instant::now).elapsed().as_secs_f64() * 1000.0
}

/// Lets the browser render and handle input before the engine continues. While the tab
/// is hidden it waits until the tab is shown again: training pauses rather than running
/// throttled in the background, and resumes where it was.
///
/// The turn is a task posted through a `MessageChannel`, not `setTimeout(0)`: browsers
/// clamp chained timeouts to at least 4 ms, which left the CPU engine idle a quarter of
/// the time between its 12 ms slices of work. A message task still lets the browser render
/// and handle input before it.
#[cfg(target_arch = "wasm32")]
pub async fn yield_now() {
    wait_while_hidden().await;
    let promise = js_sys::Promise::new(&mut |resolve, _reject| match web_sys::MessageChannel::new() {
        Ok(channel) => {
            channel.port1().set_onmessage(Some(&resolve));
            if channel.port2().post_message(&wasm_bindgen::JsValue::NULL).is_err() {
                let _ = resolve.call0(&wasm_bindgen::JsValue::NULL);
            }
        }
        Err(_) => {
            global::set_timeout(&resolve, 0);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

#[cfg(target_arch = "wasm32")]
thread_local! {
    static PAUSED_MILLIS: std::cell::Cell<f64> = const { std::cell::Cell::new(0.0) };
}

/// Milliseconds training has spent paused in a hidden tab since the page loaded, so that
/// rates (steps per second) leave the pause out.
#[cfg(target_arch = "wasm32")]
pub fn paused_millis() -> f64 {
    PAUSED_MILLIS.with(|p| p.get())
}

#[cfg(target_arch = "wasm32")]
thread_local! {
    /// In a worker, which has no document of its own: the page says when its tab is
    /// hidden and shown again, and the worker's training waits meanwhile at its next turn.
    /// While paused this holds the resolvers of the turns that wait.
    static HOST_PAUSED: std::cell::RefCell<Option<Vec<js_sys::Function>>> = const { std::cell::RefCell::new(None) };
}

/// See [`HOST_PAUSED`]: a worker's page was hidden (`true`) or shown.
#[cfg(target_arch = "wasm32")]
pub fn set_host_hidden(hidden: bool) {
    let waiting = HOST_PAUSED.with(|p| {
        let mut p = p.borrow_mut();
        match (hidden, p.is_some()) {
            (true, false) => {
                *p = Some(Vec::new());
                Vec::new()
            }
            (false, true) => p.take().unwrap_or_default(),
            _ => Vec::new(),
        }
    });
    for resolve in waiting {
        let _ = resolve.call0(&wasm_bindgen::JsValue::NULL);
    }
}

/// Time the page spent hidden, counted by the page itself while its training runs in
/// workers (a worker's waits are not the page's).
#[cfg(target_arch = "wasm32")]
pub fn add_paused_millis(millis: f64) {
    PAUSED_MILLIS.with(|p| p.set(p.get() + millis.max(0.0)));
}

#[cfg(target_arch = "wasm32")]
async fn wait_while_hidden() {
    loop {
        let promise = HOST_PAUSED.with(|p| {
            p.borrow_mut().as_mut().map(|waiting| js_sys::Promise::new(&mut |resolve, _reject| waiting.push(resolve)))
        });
        match promise {
            Some(promise) => {
                let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
            }
            None => break,
        }
    }
    let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
    if !document.hidden() {
        return;
    }
    let paused_at = now_millis();
    while document.hidden() {
        let promise = js_sys::Promise::new(&mut |resolve, _reject| {
            document.set_onvisibilitychange(Some(&resolve));
        });
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    }
    document.set_onvisibilitychange(None);
    PAUSED_MILLIS.with(|p| p.set(p.get() + now_millis() - paused_at));
}

/// Natively nothing pauses.
#[cfg(not(target_arch = "wasm32"))]
pub fn paused_millis() -> f64 {
    0.0
}

/// Waits about `millis` milliseconds (a timer in the browser; natively at once).
pub async fn sleep_millis(millis: i32) {
    #[cfg(target_arch = "wasm32")]
    let _ = timer(millis).await;
    #[cfg(not(target_arch = "wasm32"))]
    let _ = millis;
}

/// How often a wait in the browser looks whether the student has pressed Stop.
#[cfg(target_arch = "wasm32")]
const STOP_POLL_MILLIS: i32 = 40;

/// Awaits `future`, unless `stop()` turns true first: then None, and the future is
/// dropped (a read-back abandoned this way leaves the device's queued work to finish on
/// its own, and the CPU backend's queued work is never run). In the browser `stop` is
/// asked every few tens of milliseconds while the future waits; natively nothing waits on
/// an event loop, so `stop` is asked once, before.
#[cfg(target_arch = "wasm32")]
pub async fn unless_stopped<F: std::future::Future>(future: F, stop: &dyn Fn() -> bool) -> Option<F::Output> {
    use std::task::Poll;
    let mut future = std::pin::pin!(future);
    loop {
        if stop() {
            return None;
        }
        let mut timer = timer(STOP_POLL_MILLIS);
        let done = std::future::poll_fn(|cx| {
            if let Poll::Ready(value) = future.as_mut().poll(cx) {
                return Poll::Ready(Some(value));
            }
            match std::future::Future::poll(std::pin::Pin::new(&mut timer), cx) {
                Poll::Ready(_) => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            }
        })
        .await;
        if let Some(value) = done {
            return Some(value);
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
pub async fn unless_stopped<F: std::future::Future>(future: F, stop: &dyn Fn() -> bool) -> Option<F::Output> {
    if stop() {
        return None;
    }
    Some(future.await)
}

/// Natively there is no event loop to feed.
#[cfg(not(target_arch = "wasm32"))]
pub async fn yield_now() {}
