//! The few browser services the page uses: local storage, the address bar, downloads.
//! Failures here (private mode without storage, a blocked download) cost a feature, never
//! the page, so they are reported as `Err(String)` for the caller to show.

use wasm_bindgen::JsCast;

use crate::error::Words;

pub fn window() -> Option<web_sys::Window> {
    web_sys::window()
}

fn storage() -> Result<web_sys::Storage, Words> {
    window().and_then(|w| w.local_storage().ok().flatten()).ok_or_else(|| {
        crate::words!("this browser does not let the page store anything", "这个浏览器不允许页面保存任何内容")
    })
}

pub fn load(key: &str) -> Option<String> {
    storage().ok()?.get_item(key).ok().flatten()
}

pub fn save(key: &str, value: &str) -> Result<(), Words> {
    storage()?.set_item(key, value).map_err(|e| {
        crate::words!(
            "the browser refused to store {key} ({e:?}); it may be full",
            "浏览器拒绝保存 {key}（{e:?}）；存储空间可能已满"
        )
    })
}

pub fn remove(key: &str) {
    if let Ok(s) = storage() {
        let _ = s.remove_item(key);
    }
}

/// The query string of the address bar, without `?`.
pub fn query() -> String {
    window().and_then(|w| w.location().search().ok()).unwrap_or_default().trim_start_matches('?').to_string()
}

/// Replaces the address bar's query without reloading (no history entry per slider move).
pub fn set_query(query: &str) {
    if let Some(history) = window().and_then(|w| w.history().ok()) {
        let url = if query.is_empty() { "?".to_string() } else { format!("?{query}") };
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
    }
}

/// The browser's preferred language code, e.g. `zh-CN`.
pub fn preferred_language() -> String {
    window().and_then(|w| w.navigator().language()).unwrap_or_default()
}

/// Calls `tick` every `millis` milliseconds for the page's lifetime.
pub fn every(millis: i32, tick: impl Fn() + 'static) {
    let callback = wasm_bindgen::closure::Closure::<dyn Fn()>::new(tick);
    if let Some(w) = window() {
        let _ = w.set_interval_with_callback_and_timeout_and_arguments_0(callback.as_ref().unchecked_ref(), millis);
    }
    // The interval lives as long as the page.
    callback.forget();
}

/// Milliseconds since the Unix epoch.
pub fn epoch_millis() -> f64 {
    js_sys::Date::now()
}

/// Offers `text` as a file download (made in the page, never sent anywhere).
pub fn download_text(file_name: &str, mime: &str, text: &str) -> Result<(), String> {
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options)
        .map_err(|e| format!("could not make the file ({e:?})"))?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(|e| format!("{e:?}"))?;
    let result = click_download(file_name, &url);
    let _ = web_sys::Url::revoke_object_url(&url);
    result
}

/// Offers a canvas's picture as a PNG download.
pub fn download_canvas_png(canvas: &web_sys::HtmlCanvasElement, file_name: &str) -> Result<(), String> {
    let url = canvas.to_data_url_with_type("image/png").map_err(|e| format!("could not read the chart ({e:?})"))?;
    click_download(file_name, &url)
}

fn click_download(file_name: &str, url: &str) -> Result<(), String> {
    let document = window().and_then(|w| w.document()).ok_or("no document")?;
    let anchor: web_sys::HtmlAnchorElement = document
        .create_element("a")
        .map_err(|e| format!("{e:?}"))?
        .dyn_into()
        .map_err(|_| "not an anchor".to_string())?;
    anchor.set_href(url);
    anchor.set_download(file_name);
    anchor.click();
    Ok(())
}

/// Sets `<html lang>` so that screen readers and fonts follow the page's language.
pub fn set_document_language(code: &str) {
    if let Some(root) = window().and_then(|w| w.document()).and_then(|d| d.document_element()) {
        let _ = root.set_attribute("lang", code);
    }
}
