//! The student's folder of images in the browser: the files of a folder chosen with the
//! folder picker (`<input type=file webkitdirectory>`) or dropped on the page (walked with
//! the entries API), each decoded by the browser's own decoder (`createImageBitmap`) and
//! drawn at the model's size on a canvas, whose pixels go to `data::image_folder`. No
//! image-decoding code ships with the page, and no file leaves the browser.

use js_sys::{Array, Promise, Reflect};
use wasm_bindgen::{Clamped, JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    CanvasRenderingContext2d, DataTransfer, File, FileList, FileSystemDirectoryEntry, FileSystemEntry,
    FileSystemFileEntry, HtmlCanvasElement,
};

use crate::data::image_folder::{self, Decoded, ImagePool, ImageShape};
use crate::error::NormlabError;

/// One file of the chosen folder, with its path inside it (`cats/tabby.png`).
#[derive(Clone)]
pub struct FolderFile {
    pub path: String,
    pub file: File,
}

/// The text of a JavaScript error (a `DOMException`'s message), or its debug form.
fn reason(error: &JsValue) -> String {
    Reflect::get(error, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| format!("{error:?}"))
}

fn browser_error(what: &str, error: &JsValue) -> NormlabError {
    NormlabError::Fetch { what: what.to_string(), reason: reason(error) }
}

/// The files of a folder picker: their `webkitRelativePath` is `folder/class/file.png`;
/// the chosen folder's own name is dropped.
pub fn from_picker(files: &FileList) -> Vec<FolderFile> {
    (0..files.length())
        .filter_map(|i| files.get(i))
        .map(|file| {
            let relative = Reflect::get(&file, &"webkitRelativePath".into())
                .ok()
                .and_then(|p| p.as_string())
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| file.name());
            let path = relative.split_once('/').map(|(_, rest)| rest.to_string()).unwrap_or(relative);
            FolderFile { path, file }
        })
        .collect()
}

/// The entries of a drop, taken while the drop event lasts (the browser empties its
/// `DataTransfer` afterwards).
pub fn dropped_entries(transfer: &DataTransfer) -> Vec<FileSystemEntry> {
    let items = transfer.items();
    (0..items.length())
        .filter_map(|i| items.get(i))
        .filter_map(|item| item.webkit_get_as_entry().ok().flatten())
        .collect()
}

/// Waits for a callback-style call (`readEntries`, `file`) as a promise.
async fn callback_call(call: impl FnOnce(&js_sys::Function, &js_sys::Function)) -> Result<JsValue, JsValue> {
    let mut call = Some(call);
    let promise = Promise::new(&mut |resolve, reject| {
        if let Some(call) = call.take() {
            call(&resolve, &reject);
        }
    });
    JsFuture::from(promise).await
}

/// The entries in a dropped directory. `readEntries` answers in batches (100 at a time in
/// Chromium) until an empty one.
async fn read_directory(entry: &FileSystemEntry) -> Result<Vec<FileSystemEntry>, NormlabError> {
    // Checked by `is_directory` rather than `instanceof`, which older engines name otherwise.
    if !entry.is_directory() {
        return Ok(Vec::new());
    }
    let reader = entry.unchecked_ref::<FileSystemDirectoryEntry>().create_reader();
    let mut entries = Vec::new();
    loop {
        let batch = callback_call(|ok, fail| {
            let _ = reader.read_entries_with_callback_and_callback(ok, fail);
        })
        .await
        .map_err(|e| browser_error(&entry.name(), &e))?;
        let batch: Array = batch.unchecked_into();
        if batch.length() == 0 {
            return Ok(entries);
        }
        entries.extend(batch.iter().map(|e| e.unchecked_into::<FileSystemEntry>()));
    }
}

/// Every file under the dropped entries. One dropped folder is the chosen folder (its
/// sub-folders are the classes); several dropped folders are taken as the class folders
/// themselves.
pub async fn walk(entries: Vec<FileSystemEntry>) -> Result<Vec<FolderFile>, NormlabError> {
    let mut stack: Vec<(FileSystemEntry, String)> = match entries.as_slice() {
        [only] if only.is_directory() => read_directory(only).await?.into_iter().map(|e| (e, String::new())).collect(),
        _ => entries.into_iter().map(|e| (e, String::new())).collect(),
    };
    let mut files = Vec::new();
    while let Some((entry, prefix)) = stack.pop() {
        if entry.is_directory() {
            let inner = format!("{prefix}{}/", entry.name());
            stack.extend(read_directory(&entry).await?.into_iter().map(|e| (e, inner.clone())));
        } else if entry.is_file() {
            let file_entry = entry.unchecked_ref::<FileSystemFileEntry>();
            let path = format!("{prefix}{}", entry.name());
            let file = callback_call(|ok, fail| file_entry.file_with_callback_and_callback(ok, fail))
                .await
                .map_err(|e| browser_error(&path, &e))?;
            files.push(FolderFile { path, file: file.unchecked_into() });
        }
    }
    Ok(files)
}

/// A canvas `side` pixels square and its 2-D context.
fn canvas(side: usize) -> Result<(HtmlCanvasElement, CanvasRenderingContext2d), JsValue> {
    let document = web_sys::window().and_then(|w| w.document()).ok_or_else(|| JsValue::from_str("no document"))?;
    let canvas: HtmlCanvasElement = document.create_element("canvas")?.unchecked_into();
    canvas.set_width(side as u32);
    canvas.set_height(side as u32);
    let options = js_sys::Object::new();
    Reflect::set(&options, &"willReadFrequently".into(), &JsValue::TRUE)?;
    let context = canvas
        .get_context_with_context_options("2d", &options)?
        .ok_or_else(|| JsValue::from_str("no 2-D canvas"))?
        .unchecked_into::<CanvasRenderingContext2d>();
    // A smoother downscale of large photos than the default.
    Reflect::set(&context, &"imageSmoothingQuality".into(), &"high".into())?;
    Ok((canvas, context))
}

/// Decodes one image with the browser's decoder and draws its centred square on white at
/// the model's size (a photo is cropped to a square, not squashed).
async fn decode(file: &File, context: &CanvasRenderingContext2d, side: usize) -> Decoded {
    let inner = async {
        let window = web_sys::window().ok_or_else(|| JsValue::from_str("no window"))?;
        let bitmap: web_sys::ImageBitmap =
            JsFuture::from(window.create_image_bitmap_with_blob(file)?).await?.unchecked_into();
        let (w, h) = (bitmap.width() as f64, bitmap.height() as f64);
        let square = w.min(h);
        let s = side as f64;
        context.set_fill_style_str("#fff");
        context.fill_rect(0.0, 0.0, s, s);
        context.draw_image_with_image_bitmap_and_sw_and_sh_and_dx_and_dy_and_dw_and_dh(
            &bitmap,
            (w - square) / 2.0,
            (h - square) / 2.0,
            square,
            square,
            0.0,
            0.0,
            s,
            s,
        )?;
        bitmap.close();
        Ok::<_, JsValue>(context.get_image_data(0.0, 0.0, s, s)?.data().0)
    };
    match inner.await {
        Ok(rgba) => Decoded::Rgba(rgba),
        Err(e) => Decoded::Unreadable(reason(&e)),
    }
}

/// Sorts, checks, decodes and gathers a folder's files. `progress(done, total)` is called
/// as images are decoded (the page yields to the browser between them, so it stays live).
pub async fn read_folder(
    files: &[FolderFile],
    shape: ImageShape,
    progress: impl Fn(usize, usize),
) -> Result<ImagePool, NormlabError> {
    let listing = image_folder::list(files.iter().map(|f| f.path.clone()))?;
    let by_path: std::collections::HashMap<&str, &File> =
        files.iter().map(|f| (f.path.trim_start_matches('/'), &f.file)).collect();
    let (_canvas, context) = canvas(shape.side()).map_err(|e| browser_error("canvas", &e))?;
    let total = listing.images.len();
    let mut decoded = Vec::with_capacity(total);
    for (done, image) in listing.images.iter().enumerate() {
        decoded.push(match by_path.get(image.path.as_str()) {
            Some(file) => decode(file, &context, shape.side()).await,
            None => Decoded::Unreadable("missing".into()),
        });
        if done % 25 == 24 {
            progress(done + 1, total);
        }
    }
    image_folder::collect(&listing, decoded, shape)
}

/// A `data:` address of an RGBA image `side` pixels square, for a thumbnail `<img>`.
pub fn thumbnail_url(rgba: &[u8], side: usize) -> Option<String> {
    let (canvas, context) = canvas(side).ok()?;
    let image = web_sys::ImageData::new_with_u8_clamped_array_and_sh(Clamped(rgba), side as u32, side as u32).ok()?;
    context.put_image_data(&image, 0.0, 0.0).ok()?;
    canvas.to_data_url().ok()
}
