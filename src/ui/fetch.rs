//! Loading the shipped data files over HTTP from the page's own origin.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::data::{toy, Dataset, DatasetId, Source};
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

/// A text file of the page's own origin (the course's stored results).
pub async fn fetch_text(url: &str) -> Result<String, NormlabError> {
    let bytes = fetch_bytes(url).await?;
    String::from_utf8(bytes).map_err(|e| NormlabError::Fetch { what: url.to_string(), reason: e.to_string() })
}

/// Fetches and parses a shipped data set, or generates a toy one (once per page); the
/// student's own file must have been loaded with [`use_file`] first.
pub async fn load_dataset(id: DatasetId) -> Result<Rc<Dataset>, NormlabError> {
    if let Some(hit) = CACHE.with(|c| c.borrow().get(&id).cloned()) {
        return Ok(hit);
    }
    let dataset = match id.source() {
        Source::Shipped(file) => {
            let bytes = fetch_bytes(&format!("data/{file}")).await?;
            Dataset::from_file_bytes(id, &bytes)?
        }
        Source::Generated(shape) => toy::generate(shape),
        Source::UserFile if id == DatasetId::ImageFolder => {
            // A run's link names the data set but cannot carry the student's images.
            return Err(NormlabError::BadData(crate::words!(
                "no image folder is loaded in this page; choose or drop your folder first (its images stay in your browser)",
                "本页面还没有加载图像文件夹；请先选择或拖入你的文件夹（图像只留在你的浏览器里）"
            )));
        }
        Source::UserFile => {
            return Err(NormlabError::BadData(crate::words!(
                "no CIFAR-10 file is loaded in this page; choose your file first (it stays in your browser)",
                "本页面还没有加载 CIFAR-10 文件；请先选择你的文件（它只留在你的浏览器里）"
            )))
        }
    };
    let dataset = Rc::new(dataset);
    CACHE.with(|c| c.borrow_mut().insert(id, dataset.clone()));
    Ok(dataset)
}

/// Parses the student's file for `id` and keeps it for this page's runs (replacing any
/// earlier one). Nothing is sent anywhere.
pub fn use_file(id: DatasetId, bytes: &[u8]) -> Result<Rc<Dataset>, NormlabError> {
    let dataset = Rc::new(Dataset::from_file_bytes(id, bytes)?);
    CACHE.with(|c| c.borrow_mut().insert(id, dataset.clone()));
    Ok(dataset)
}

/// Keeps a data set made in the page (the student's decoded images) for this page's runs
/// of `id`, replacing any earlier one.
pub fn use_dataset(id: DatasetId, dataset: Dataset) -> Rc<Dataset> {
    let dataset = Rc::new(dataset);
    CACHE.with(|c| c.borrow_mut().insert(id, dataset.clone()));
    dataset
}
