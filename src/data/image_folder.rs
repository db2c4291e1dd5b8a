//! The student's own images: a folder with one sub-folder per class (PNG or JPEG), chosen
//! or dropped in the page. The browser decodes and resizes each file (`ui::image_files`);
//! this module takes what came out (RGBA pixels at the model's size, or the reason a file
//! could not be decoded) and makes a [`Dataset`] of it, with a seeded split that holds
//! out the same share of every class.
//!
//! Nothing here touches the browser, so every rule (what counts as an image, the
//! refusals, the split) is tested natively.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::Dataset;
use crate::error::{NormlabError, Words};

/// The share of each class held out for testing (rounded, at least one image).
pub const TEST_SHARE: f64 = 0.2;
/// The most images a folder may hold: 10 000 colour images are 123 MB of floats in the
/// page (and as much again on the GPU), about what a phone's tab can spare.
pub const MAX_IMAGES: usize = 10_000;
/// The most classes (sub-folders) a folder may hold.
pub const MAX_CLASSES: usize = 100;
/// Each class needs one image to train on and one to test with.
pub const MIN_PER_CLASS: usize = 2;
/// Thumbnails shown per class in the preview.
pub const PREVIEW_PER_CLASS: usize = 6;

/// The model's input, which the student picks: the sizes of the shipped sets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ImageShape {
    /// 28×28, one grey channel (as MNIST and Fashion-MNIST).
    #[default]
    Grey28,
    /// 32×32, red, green and blue planes (as CIFAR-10).
    Colour32,
}

impl ImageShape {
    pub fn side(self) -> usize {
        match self {
            ImageShape::Grey28 => 28,
            ImageShape::Colour32 => 32,
        }
    }

    pub fn channels(self) -> usize {
        match self {
            ImageShape::Grey28 => 1,
            ImageShape::Colour32 => 3,
        }
    }

    /// Bytes of one image as the model reads it (`channels·side·side`).
    pub fn features(self) -> usize {
        self.channels() * self.side() * self.side()
    }

    pub fn name(self) -> &'static str {
        match self {
            ImageShape::Grey28 => "grey28",
            ImageShape::Colour32 => "colour32",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [ImageShape::Grey28, ImageShape::Colour32].into_iter().find(|s| s.name() == name)
    }

    /// One image from RGBA bytes (`side·side·4`, row by row, as `getImageData` gives them):
    /// grey as ITU-R BT.601 luma (0.299 R + 0.587 G + 0.114 B), colour as the red, green
    /// and blue planes one after the other (the CHW layout of a CIFAR-10 record). Alpha
    /// is ignored: the page draws each image on white first.
    pub fn from_rgba(self, rgba: &[u8]) -> Vec<u8> {
        let pixels = rgba.chunks_exact(4);
        match self {
            ImageShape::Grey28 => pixels
                .map(|p| (0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32).round() as u8)
                .collect(),
            ImageShape::Colour32 => (0..3).flat_map(|c| rgba.chunks_exact(4).map(move |p| p[c])).collect(),
        }
    }

    /// RGBA bytes of one image as the model reads it, for a thumbnail.
    pub fn to_rgba(self, image: &[u8]) -> Vec<u8> {
        let area = self.side() * self.side();
        match self {
            ImageShape::Grey28 => image.iter().flat_map(|&v| [v, v, v, 255]).collect(),
            ImageShape::Colour32 => {
                (0..area).flat_map(|i| [image[i], image[area + i], image[2 * area + i], 255]).collect()
            }
        }
    }
}

/// Whether a file name is one of the images the page reads: `.png`, `.jpg` or `.jpeg`
/// in any case, and not a hidden file (`.DS_Store`, or macOS's `._photo.png` companions,
/// which are not images despite their ending).
pub fn is_image_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    !name.starts_with('.') && [".png", ".jpg", ".jpeg"].iter().any(|e| lower.ends_with(e) && lower.len() > e.len())
}

/// An image file found in a class folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageFile {
    /// The class: the name of the sub-folder it lies in.
    pub class: String,
    /// Its path inside the chosen folder (`cats/tabby.png`), for messages.
    pub path: String,
}

/// What a folder holds, before anything is decoded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Listing {
    /// The image files, sorted by path (so the result never depends on the order in which
    /// the browser lists them).
    pub images: Vec<ImageFile>,
    /// Files that are not PNG or JPEG images (skipped).
    pub not_images: Vec<String>,
    /// Images lying in the chosen folder itself, in no class folder (skipped).
    pub outside_classes: Vec<String>,
}

/// Sorts the files of a folder into images by class and the files skipped. `paths` are
/// relative to the chosen folder: `class/file.png`; deeper files (`class/a/b.png`) belong
/// to their top sub-folder's class. Refuses, before anything is decoded, a folder with no
/// images, with only one class, or with more than the page can hold.
pub fn list(paths: impl IntoIterator<Item = String>) -> Result<Listing, NormlabError> {
    let mut listing = Listing::default();
    for path in paths {
        let path = path.trim_start_matches('/').to_string();
        let file = path.rsplit('/').next().unwrap_or_default();
        if !is_image_name(file) {
            listing.not_images.push(path);
            continue;
        }
        match path.split_once('/') {
            Some((class, _)) if !class.is_empty() => {
                listing.images.push(ImageFile { class: class.to_string(), path: path.clone() })
            }
            _ => listing.outside_classes.push(path),
        }
    }
    listing.images.sort_by(|a, b| a.path.cmp(&b.path));
    listing.not_images.sort();
    listing.outside_classes.sort();
    let images = listing.images.len();
    if images == 0 {
        let others = listing.not_images.len() + listing.outside_classes.len();
        return Err(NormlabError::BadData(crate::words!(
            "the folder holds no PNG or JPEG images in class folders ({others} other files); put each class's images in a sub-folder named after the class",
            "文件夹里的类别子文件夹中没有 PNG 或 JPEG 图像（另有 {others} 个其他文件）；请把每个类别的图像放进以类别命名的子文件夹"
        )));
    }
    if images > MAX_IMAGES {
        return Err(NormlabError::BadData(crate::words!(
            "the folder holds {images} images, more than this page can train on ({MAX_IMAGES}); use a smaller folder",
            "文件夹里有 {images} 张图像，超过了本页面能训练的上限（{MAX_IMAGES} 张）；请换一个小一些的文件夹"
        )));
    }
    check_classes(&class_names(&listing.images))?;
    Ok(listing)
}

/// The distinct class names of `files` (sorted, as `files` are).
fn class_names(files: &[ImageFile]) -> Vec<String> {
    let mut names: Vec<String> = files.iter().map(|f| f.class.clone()).collect();
    names.sort();
    names.dedup();
    names
}

fn check_classes(names: &[String]) -> Result<(), NormlabError> {
    match names {
        [] => Err(NormlabError::BadData(crate::words!(
            "none of the images could be read, so there is nothing to train on",
            "没有一张图像能读取，没有可训练的数据"
        ))),
        [only] => Err(NormlabError::BadData(crate::words!(
            "all the images are in one class ({only}); a classifier needs at least two sub-folders, one per class",
            "所有图像都属于同一个类别（{only}）；分类器至少需要两个子文件夹，每个类别一个"
        ))),
        _ if names.len() > MAX_CLASSES => {
            let count = names.len();
            Err(NormlabError::BadData(crate::words!(
                "the folder has {count} class folders, more than this page trains ({MAX_CLASSES})",
                "文件夹里有 {count} 个类别子文件夹，超过了本页面的上限（{MAX_CLASSES} 个）"
            )))
        }
        _ => Ok(()),
    }
}

/// What the browser made of one image file.
#[derive(Clone, Debug, PartialEq)]
pub enum Decoded {
    /// RGBA bytes at the model's size (`side·side·4`).
    Rgba(Vec<u8>),
    /// The browser could not decode it; its reason.
    Unreadable(String),
}

/// One class of a decoded folder.
#[derive(Clone, Debug, PartialEq)]
pub struct Class {
    pub name: String,
    /// Its images as the model reads them ([`ImageShape::features`] bytes each), in path order.
    pub images: Vec<Vec<u8>>,
}

impl Class {
    /// How many of its images are held out for testing.
    pub fn test_count(&self) -> usize {
        ((self.images.len() as f64 * TEST_SHARE).round() as usize).max(1)
    }
}

/// A decoded folder, before it is split: kept so that the split can follow the run's seed.
#[derive(Clone, Debug, PartialEq)]
pub struct ImagePool {
    pub shape: ImageShape,
    pub classes: Vec<Class>,
    /// Files that could not be decoded (path, the browser's reason): skipped.
    pub unreadable: Vec<(String, String)>,
    pub not_images: usize,
    pub outside_classes: usize,
}

/// Gathers the decoded images of `listing` (`decoded[i]` is what became of
/// `listing.images[i]`), skipping the unreadable ones. Refuses what is left when it is no
/// longer two classes, or when a class has fewer than [`MIN_PER_CLASS`] images.
pub fn collect(listing: &Listing, decoded: Vec<Decoded>, shape: ImageShape) -> Result<ImagePool, NormlabError> {
    let expected = shape.side() * shape.side() * 4;
    let mut unreadable = Vec::new();
    let mut classes: Vec<Class> = Vec::new();
    for (file, decoded) in listing.images.iter().zip(decoded) {
        let rgba = match decoded {
            Decoded::Rgba(rgba) if rgba.len() == expected => rgba,
            Decoded::Rgba(rgba) => {
                let found = rgba.len();
                unreadable.push((file.path.clone(), format!("{found} bytes of pixels, not {expected}")));
                continue;
            }
            Decoded::Unreadable(reason) => {
                unreadable.push((file.path.clone(), reason));
                continue;
            }
        };
        let image = shape.from_rgba(&rgba);
        match classes.last_mut() {
            Some(class) if class.name == file.class => class.images.push(image),
            _ => classes.push(Class { name: file.class.clone(), images: vec![image] }),
        }
    }
    let names: Vec<String> = classes.iter().map(|c| c.name.clone()).collect();
    check_classes(&names).map_err(|e| with_unreadable(e, &unreadable))?;
    if let Some(class) = classes.iter().find(|c| c.images.len() < MIN_PER_CLASS) {
        let (name, count) = (&class.name, class.images.len());
        return Err(with_unreadable(
            NormlabError::BadData(crate::words!(
                "the class {name} has only {count} readable image; each class needs at least {MIN_PER_CLASS}, one to train on and one to test with",
                "类别 {name} 只有 {count} 张可读取的图像；每个类别至少需要 {MIN_PER_CLASS} 张，一张用于训练，一张用于测试"
            )),
            &unreadable,
        ));
    }
    Ok(ImagePool {
        shape,
        classes,
        unreadable,
        not_images: listing.not_images.len(),
        outside_classes: listing.outside_classes.len(),
    })
}

/// A refusal that also names the files that could not be read (they may be the reason).
fn with_unreadable(error: NormlabError, unreadable: &[(String, String)]) -> NormlabError {
    match (error, unreadable.is_empty()) {
        (NormlabError::BadData(w), false) => {
            let skipped = skipped_words(unreadable);
            NormlabError::BadData(Words {
                en: format!("{} ({})", w.en, skipped.en),
                zh: format!("{}（{}）", w.zh, skipped.zh),
            })
        }
        (error, _) => error,
    }
}

/// "2 files could not be read and were skipped: a/x.png, b/y.jpg".
fn skipped_words(unreadable: &[(String, String)]) -> Words {
    let count = unreadable.len();
    let names: Vec<&str> = unreadable.iter().map(|(path, _)| path.as_str()).collect();
    let (en_list, zh_list) = (names.join(", "), names.join("、"));
    if count == 1 {
        crate::words!("1 file could not be read and was skipped: {en_list}", "有 1 个文件无法读取，已跳过：{zh_list}")
    } else {
        crate::words!(
            "{count} files could not be read and were skipped: {en_list}",
            "有 {count} 个文件无法读取，已跳过：{zh_list}"
        )
    }
}

/// A labelled image of a split: its class's label and its bytes.
type Row<'a> = (u8, &'a [u8]);

impl ImagePool {
    pub fn len(&self) -> usize {
        self.classes.iter().map(|c| c.images.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Training and test images, split by `seed`: in every class, a seeded shuffle puts
    /// [`Class::test_count`] images (20 %) in the test set and the rest in the training set;
    /// each set is then shuffled once more (so a test subset of the first images holds
    /// every class). Labels are the classes' places in name order.
    pub fn split(&self, seed: u64) -> Dataset {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x696d_6167_6573);
        // (label, image) rows of each set.
        let (mut train, mut test): (Vec<Row>, Vec<Row>) = (Vec::new(), Vec::new());
        for (label, class) in self.classes.iter().enumerate() {
            let mut order: Vec<usize> = (0..class.images.len()).collect();
            order.shuffle(&mut rng);
            let (held, kept) = order.split_at(class.test_count());
            test.extend(held.iter().map(|&i| (label as u8, class.images[i].as_slice())));
            train.extend(kept.iter().map(|&i| (label as u8, class.images[i].as_slice())));
        }
        train.shuffle(&mut rng);
        test.shuffle(&mut rng);
        let bytes = |rows: &[Row]| -> (Vec<u8>, Vec<u8>) {
            (rows.iter().map(|r| r.0).collect(), rows.iter().flat_map(|r| r.1.iter().copied()).collect())
        };
        let ((train_labels, train_pixels), (test_labels, test_pixels)) = (bytes(&train), bytes(&test));
        let side = self.shape.side();
        Dataset::from_bytes(
            (&train_labels, &train_pixels),
            (&test_labels, &test_pixels),
            (self.shape.channels(), side, side),
            self.classes.len(),
        )
    }

    /// What the folder became, in words: counts, the split and the files skipped.
    pub fn summary(&self, seed: u64) -> Words {
        let (images, classes) = (self.len(), self.classes.len());
        let test: usize = self.classes.iter().map(Class::test_count).sum();
        let train = images - test;
        let share = (TEST_SHARE * 100.0).round() as usize;
        let (side, shape_en, shape_zh) = match self.shape {
            ImageShape::Grey28 => (28, "grey", "灰度"),
            ImageShape::Colour32 => (32, "colour", "彩色"),
        };
        let mut words = crate::words!(
            "{images} images in {classes} classes, {side}×{side} {shape_en}: {train} for training, {test} for testing ({share} % of each class held out, split by seed {seed}).",
            "{classes} 个类别共 {images} 张图像，{side}×{side} {shape_zh}：{train} 张用于训练，{test} 张用于测试（每个类别留出 {share} %，按随机种子 {seed} 划分）。"
        );
        if !self.unreadable.is_empty() {
            let skipped = skipped_words(&self.unreadable);
            words.en += &format!(" {}.", skipped.en);
            words.zh += &format!("{}。", skipped.zh);
        }
        let others = self.not_images;
        if others > 0 {
            let more = if others == 1 {
                crate::words!(
                    " 1 file that is not a PNG or JPEG image was skipped.",
                    "跳过了 1 个不是 PNG 或 JPEG 图像的文件。"
                )
            } else {
                crate::words!(
                    " {others} files that are not PNG or JPEG images were skipped.",
                    "跳过了 {others} 个不是 PNG 或 JPEG 图像的文件。"
                )
            };
            words.en += &more.en;
            words.zh += &more.zh;
        }
        let loose = self.outside_classes;
        if loose > 0 {
            let more = crate::words!(
                " {loose} images outside the class folders were skipped.",
                "跳过了 {loose} 张不在类别子文件夹里的图像。"
            );
            words.en += &more.en;
            words.zh += &more.zh;
        }
        words
    }

    /// RGBA bytes of the first few images of class `class`, as the model reads them (grey
    /// when the model reads grey), for the preview.
    pub fn preview(&self, class: usize) -> Vec<Vec<u8>> {
        self.classes
            .get(class)
            .map(|c| c.images.iter().take(PREVIEW_PER_CLASS).map(|i| self.shape.to_rgba(i)).collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RGBA bytes at `shape`'s size, every pixel `rgb`.
    fn solid(shape: ImageShape, rgb: [u8; 3]) -> Vec<u8> {
        (0..shape.side() * shape.side()).flat_map(|_| [rgb[0], rgb[1], rgb[2], 255]).collect()
    }

    /// A folder of `counts[c]` images for class `c` (named `class{c}`), every image of a
    /// class with its own grey level, in a shuffled listing order.
    fn folder(counts: &[usize]) -> Vec<String> {
        let mut paths: Vec<String> = counts
            .iter()
            .enumerate()
            .flat_map(|(c, &n)| (0..n).map(move |i| format!("class{c}/img{i:03}.png")))
            .collect();
        paths.reverse();
        paths
    }

    fn decode_all(listing: &Listing, shape: ImageShape) -> Vec<Decoded> {
        listing
            .images
            .iter()
            .map(|f| {
                // A level unique to each file: its class and number.
                let number: u8 = f.path[f.path.len() - 7..f.path.len() - 4].parse().unwrap();
                let class: u8 = f.class[5..].parse().unwrap();
                let level = class * 100 + number;
                Decoded::Rgba(solid(shape, [level, level, level]))
            })
            .collect()
    }

    fn pool(counts: &[usize], shape: ImageShape) -> ImagePool {
        let listing = list(folder(counts)).unwrap();
        let decoded = decode_all(&listing, shape);
        collect(&listing, decoded, shape).unwrap()
    }

    fn message(result: Result<impl std::fmt::Debug, NormlabError>) -> String {
        result.unwrap_err().to_string()
    }

    #[test]
    fn holds_out_a_fifth_of_every_class() {
        let data = pool(&[30, 30, 11], ImageShape::Grey28).split(1);
        // round(0.2·30) = 6, round(0.2·11) = 2.
        assert_eq!((data.train.len, data.test.len), (24 + 24 + 9, 6 + 6 + 2));
        let count = |labels: &[f32], class: f32| labels.iter().filter(|&&l| l == class).count();
        assert_eq!([0.0, 1.0, 2.0].map(|c| count(&data.test.labels, c)), [6, 6, 2]);
        assert_eq!([0.0, 1.0, 2.0].map(|c| count(&data.train.labels, c)), [24, 24, 9]);
        assert_eq!((data.channels, data.height, data.width, data.classes), (1, 28, 28, 3));
        assert_eq!(data.train.images.len(), data.train.len * 28 * 28);
    }

    #[test]
    fn a_class_of_two_keeps_one_image_for_each_set() {
        let data = pool(&[2, 2], ImageShape::Grey28).split(5);
        assert_eq!((data.train.len, data.test.len), (2, 2));
    }

    #[test]
    fn the_split_is_the_same_for_a_seed_and_differs_across_seeds() {
        let images = pool(&[30, 30], ImageShape::Colour32);
        assert_eq!(images.split(7), images.split(7));
        assert_ne!(images.split(7).test, images.split(8).test);
        // The same folder listed in another order splits the same way.
        let mut paths = folder(&[30, 30]);
        paths.sort();
        let listing = list(paths).unwrap();
        let again = collect(&listing, decode_all(&listing, ImageShape::Colour32), ImageShape::Colour32).unwrap();
        assert_eq!(again.split(7), images.split(7));
    }

    #[test]
    fn no_image_is_in_both_sets_and_none_is_lost() {
        let data = pool(&[30, 20], ImageShape::Grey28).split(3);
        // Every image is one grey level (standardised the same way in both sets).
        let levels = |images: &[f32]| -> Vec<i32> { images.chunks(28 * 28).map(|i| (i[0] * 1000.0) as i32).collect() };
        let (mut train, test) = (levels(&data.train.images), levels(&data.test.images));
        assert!(test.iter().all(|t| !train.contains(t)), "an image is in both sets");
        train.extend(&test);
        train.sort();
        train.dedup();
        assert_eq!(train.len(), 50);
    }

    #[test]
    fn grey_is_bt601_luma_and_colour_is_planes() {
        let rgba = [255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 10, 20, 30, 0];
        assert_eq!(ImageShape::Grey28.from_rgba(&rgba), [76, 150, 29, 18]);
        assert_eq!(ImageShape::Colour32.from_rgba(&rgba), [255, 0, 0, 10, 0, 255, 0, 20, 0, 0, 255, 30]);
        let image = ImageShape::Colour32.from_rgba(&solid(ImageShape::Colour32, [1, 2, 3]));
        assert_eq!(ImageShape::Colour32.to_rgba(&image), solid(ImageShape::Colour32, [1, 2, 3]));
    }

    #[test]
    fn names_the_unreadable_files_and_trains_on_the_rest() {
        let mut paths = folder(&[5, 5]);
        paths.extend(["class0/broken.png".into(), "class1/half.jpg".into()]);
        let listing = list(paths).unwrap();
        let shape = ImageShape::Grey28;
        let decoded = listing
            .images
            .iter()
            .map(|f| match f.path.as_str() {
                "class0/broken.png" | "class1/half.jpg" => {
                    Decoded::Unreadable("the source image cannot be decoded".into())
                }
                _ => Decoded::Rgba(solid(shape, [9, 9, 9])),
            })
            .collect();
        let images = collect(&listing, decoded, shape).unwrap();
        assert_eq!(images.len(), 10);
        let summary = images.summary(1);
        assert!(
            summary.en.contains("2 files could not be read and were skipped: class0/broken.png, class1/half.jpg"),
            "{summary}"
        );
        assert!(summary.zh.contains("class0/broken.png、class1/half.jpg"), "{}", summary.zh);
        assert!(
            summary.en.starts_with("10 images in 2 classes, 28×28 grey: 8 for training, 2 for testing"),
            "{summary}"
        );
    }

    #[test]
    fn skips_and_counts_files_that_are_not_images() {
        let mut paths = folder(&[4, 4]);
        paths.extend([
            ".DS_Store".into(),
            "class0/.DS_Store".into(),
            "class1/notes.txt".into(),
            "class1/._img000.png".into(),
            "loose.png".into(),
        ]);
        let listing = list(paths).unwrap();
        assert_eq!(listing.images.len(), 8);
        assert_eq!(listing.not_images, [".DS_Store", "class0/.DS_Store", "class1/._img000.png", "class1/notes.txt"]);
        assert_eq!(listing.outside_classes, ["loose.png"]);
        let images = collect(&listing, decode_all(&listing, ImageShape::Grey28), ImageShape::Grey28).unwrap();
        let summary = images.summary(1).en;
        assert!(summary.contains("4 files that are not PNG or JPEG images were skipped"), "{summary}");
        assert!(summary.contains("1 images outside the class folders"), "{summary}");
    }

    #[test]
    fn image_names_are_png_and_jpeg_in_any_case() {
        for name in ["a.png", "B.PNG", "c.jpg", "d.JPEG", "e.Jpg"] {
            assert!(is_image_name(name), "{name}");
        }
        for name in [".DS_Store", "notes.txt", "._a.png", "png", ".png", "a.gif", "a.png.txt"] {
            assert!(!is_image_name(name), "{name}");
        }
    }

    #[test]
    fn refuses_a_folder_without_images() {
        let refusal = message(list(["notes.txt".to_string(), "a/.DS_Store".to_string()]));
        assert!(refusal.contains("no PNG or JPEG images") && refusal.contains("2 other files"), "{refusal}");
        assert!(message(list(Vec::<String>::new())).contains("no PNG or JPEG images"));
    }

    #[test]
    fn refuses_a_single_class() {
        let refusal = message(list(["cats/a.png".to_string(), "cats/b.png".to_string()]));
        assert!(refusal.contains("one class (cats)"), "{refusal}");
    }

    #[test]
    fn refuses_a_class_left_alone_when_the_others_cannot_be_read() {
        let listing = list(folder(&[3, 3])).unwrap();
        let decoded = listing
            .images
            .iter()
            .map(|f| {
                if f.class == "class1" {
                    Decoded::Unreadable("broken".into())
                } else {
                    Decoded::Rgba(solid(ImageShape::Grey28, [0, 0, 0]))
                }
            })
            .collect();
        let refusal = message(collect(&listing, decoded, ImageShape::Grey28));
        assert!(refusal.contains("one class (class0)"), "{refusal}");
        assert!(refusal.contains("3 files could not be read"), "{refusal}");
    }

    #[test]
    fn refuses_a_class_of_one_image() {
        let listing = list(folder(&[5, 1])).unwrap();
        let refusal = message(collect(&listing, decode_all(&listing, ImageShape::Grey28), ImageShape::Grey28));
        assert!(refusal.contains("class1 has only 1 readable image"), "{refusal}");
    }

    #[test]
    fn refuses_more_images_than_the_stated_limit() {
        let refusal = message(list(folder(&[MAX_IMAGES / 2 + 1, MAX_IMAGES / 2])));
        assert!(refusal.contains("10001 images, more than this page can train on (10000)"), "{refusal}");
        assert!(list(folder(&[MAX_IMAGES / 2, MAX_IMAGES / 2])).is_ok());
        let many: Vec<usize> = vec![2; MAX_CLASSES + 1];
        assert!(message(list(folder(&many))).contains("101 class folders"));
    }

    #[test]
    fn an_image_of_the_wrong_size_is_named_not_used() {
        let listing = list(folder(&[3, 3])).unwrap();
        let mut decoded = decode_all(&listing, ImageShape::Grey28);
        decoded[0] = Decoded::Rgba(vec![0; 12]);
        let images = collect(&listing, decoded, ImageShape::Grey28).unwrap();
        assert_eq!(images.len(), 5);
        assert_eq!(images.unreadable[0].0, "class0/img000.png");
    }

    #[test]
    fn the_preview_shows_a_few_images_of_each_class_as_the_model_reads_them() {
        let images = pool(&[10, 3], ImageShape::Grey28);
        let previews = images.preview(0);
        assert_eq!(previews.len(), PREVIEW_PER_CLASS);
        assert_eq!(images.preview(1).len(), 3);
        // class0/img004 is grey level 4 everywhere.
        assert_eq!(previews[4][..8], [4, 4, 4, 255, 4, 4, 4, 255]);
        assert_eq!(previews[0].len(), 28 * 28 * 4);
        assert!(images.preview(2).is_empty());
    }
}
