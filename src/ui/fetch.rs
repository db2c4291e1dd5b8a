//! Loading the shipped data files over HTTP from the page's own origin.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::data::{Dataset, DatasetId};
use crate::error::NormlabError;

thread_local! {
    /// Parsed data sets, kept for the page's lifetime so a second run starts at once.
    static CACHE: RefCell<HashMap<DatasetId, Rc<Dataset>>> = RefCell::new(HashMap::new());
}

async fn fetch_bytes(url: &str) -> Result<Vec<u8>, NormlabError> {
    let fail = |reason: String| NormlabError::Fetch { what: url.to_string(), reason };
    let window = web_sys::window().ok_or_else(|| fail("no window".into()))?;
    let response = JsFuture::from(window.fetch_with_str(url)).await.map_err(|e| fail(format!("{e:?}")))?;
    let response: web_sys::Response = response.dyn_into().map_err(|_| fail("not a response".into()))?;
    if !response.ok() {
        return Err(fail(format!("HTTP {}", response.status())));
    }
    let buffer = JsFuture::from(response.array_buffer().map_err(|e| fail(format!("{e:?}")))?)
        .await
        .map_err(|e| fail(format!("{e:?}")))?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// Fetches and parses a shipped data set (once per page).
pub async fn load_dataset(id: DatasetId) -> Result<Rc<Dataset>, NormlabError> {
    if let Some(hit) = CACHE.with(|c| c.borrow().get(&id).cloned()) {
        return Ok(hit);
    }
    let bytes = fetch_bytes(&format!("data/{}", id.file_name())).await?;
    let dataset = Rc::new(Dataset::from_file_bytes(id, &bytes)?);
    CACHE.with(|c| c.borrow_mut().insert(id, dataset.clone()));
    Ok(dataset)
}
