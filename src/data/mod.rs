//! Datasets shipped with the page, and the seeded order in which training visits them.
//!
//! Every data set is a [`Dataset`]: rows of input values and a class label per row. Image
//! rows hold standardised pixels; the first-names set (`names`) holds token ids of a
//! character context, with the next character as the label.
//!
//! Image sets are stored as `*.nlds.gz` (see `www/data/README.md` and the converter in
//! `tools/convert_data.py`): a gzip stream holding a 32-byte header of little-endian u32
//! (`NLDS`, version, n_train, n_test, height, width, channels, classes), then the training
//! labels, training pixels, test labels and test pixels as bytes.

use std::io::Read;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::NormlabError;

pub mod cifar;
pub mod image_folder;
pub mod names;
pub mod toy;

/// The data sets the lab knows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DatasetId {
    #[default]
    FashionMnist,
    Mnist,
    /// US first names as (3-character context → next character) examples.
    Names,
    /// The same names as whole sequences (one example per name, a target per position),
    /// for the transformer.
    NameSequences,
    /// Toy 2-D sets, generated on the spot.
    Moons,
    Circles,
    Spirals,
    /// The student's own CIFAR-10 binary batch file, loaded from disk in the browser.
    Cifar10,
    /// The student's own folder of images, one sub-folder per class, decoded in the
    /// browser (`image_folder`).
    ImageFolder,
}

/// Where a data set's rows come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// A file shipped with the page, under `www/data/`.
    Shipped(&'static str),
    /// Made by [`toy::generate`].
    Generated(toy::Shape),
    /// A file (or a folder of images) the student picks.
    UserFile,
}

impl DatasetId {
    pub const ALL: [DatasetId; 9] = [
        DatasetId::FashionMnist,
        DatasetId::Mnist,
        DatasetId::Names,
        DatasetId::NameSequences,
        DatasetId::Moons,
        DatasetId::Circles,
        DatasetId::Spirals,
        DatasetId::Cifar10,
        DatasetId::ImageFolder,
    ];

    pub fn name(self) -> &'static str {
        match self {
            DatasetId::FashionMnist => "fashion-mnist",
            DatasetId::Mnist => "mnist",
            DatasetId::Names => "names",
            DatasetId::NameSequences => "name-sequences",
            DatasetId::Moons => "moons",
            DatasetId::Circles => "circles",
            DatasetId::Spirals => "spirals",
            DatasetId::Cifar10 => "cifar10",
            DatasetId::ImageFolder => "image-folder",
        }
    }

    pub fn source(self) -> Source {
        match self {
            DatasetId::FashionMnist => Source::Shipped("fashion-mnist.nlds.gz"),
            DatasetId::Mnist => Source::Shipped("mnist.nlds.gz"),
            DatasetId::Names | DatasetId::NameSequences => Source::Shipped("names.txt"),
            DatasetId::Moons => Source::Generated(toy::Shape::Moons),
            DatasetId::Circles => Source::Generated(toy::Shape::Circles),
            DatasetId::Spirals => Source::Generated(toy::Shape::Spirals),
            DatasetId::Cifar10 | DatasetId::ImageFolder => Source::UserFile,
        }
    }

    /// Whether the rows are images (rather than token ids or points).
    pub fn is_images(self) -> bool {
        matches!(self, DatasetId::FashionMnist | DatasetId::Mnist | DatasetId::Cifar10 | DatasetId::ImageFolder)
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.name() == name)
    }

    pub fn title(self) -> &'static str {
        match self {
            DatasetId::FashionMnist => "Fashion-MNIST",
            DatasetId::Mnist => "MNIST",
            DatasetId::Names => "first names",
            DatasetId::NameSequences => "first names, whole",
            DatasetId::Moons => "two moons",
            DatasetId::Circles => "circles",
            DatasetId::Spirals => "spirals",
            DatasetId::Cifar10 => "CIFAR-10 (your file)",
            DatasetId::ImageFolder => "your images",
        }
    }

    /// The name in Chinese, for the page.
    pub fn title_zh(self) -> &'static str {
        match self {
            DatasetId::Names => "名字",
            DatasetId::NameSequences => "名字（整个序列）",
            DatasetId::Moons => "双月",
            DatasetId::Circles => "同心圆",
            DatasetId::Spirals => "螺旋",
            DatasetId::Cifar10 => "CIFAR-10（你的文件）",
            DatasetId::ImageFolder => "你的图像",
            other => other.title(),
        }
    }
}

/// One split of an image data set, pixels already scaled to floats.
#[derive(Clone, Debug, PartialEq)]
pub struct Split {
    /// `[len, channels·height·width]`, standardised with the training set's mean and std.
    pub images: Vec<f32>,
    /// Class indices stored as f32 (exact for any realistic class count).
    pub labels: Vec<f32>,
    pub len: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    pub train: Split,
    pub test: Split,
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub classes: usize,
    /// The pixel mean and standard deviation (of the training set, in [0, 1] units) used
    /// to standardise both splits, as `transforms.Normalize` would.
    pub pixel_mean: f32,
    pub pixel_std: f32,
    /// Some(v): the rows hold token ids below `v` instead of pixels.
    pub vocab: Option<usize>,
}

impl Dataset {
    pub fn features(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// Targets per example: one class label, or one per position of a sequence.
    pub fn targets_per_example(&self) -> usize {
        self.train.labels.len() / self.train.len.max(1)
    }

    /// Parses the shipped file of `id` (see [`DatasetId::file_name`]). Image files may
    /// arrive already un-gzipped (a server may have undone the gzip layer).
    pub fn from_file_bytes(id: DatasetId, bytes: &[u8]) -> Result<Self, NormlabError> {
        match id {
            DatasetId::Names | DatasetId::NameSequences => {
                let text = std::str::from_utf8(bytes).map_err(|e| {
                    NormlabError::BadData(crate::words!(
                        "the names file is not UTF-8 text ({e})",
                        "名字文件不是 UTF-8 文本（{e}）"
                    ))
                })?;
                match id {
                    DatasetId::Names => names::names_dataset(text),
                    _ => names::name_sequences(text, names::SEQUENCE_LEN),
                }
            }
            DatasetId::Cifar10 => cifar::parse(bytes),
            DatasetId::ImageFolder => Err(NormlabError::BadData(crate::words!(
                "a folder of images is decoded in the browser, not read from one file",
                "图像文件夹在浏览器里解码，不是从单个文件读取的"
            ))),
            _ if bytes.starts_with(&[0x1f, 0x8b]) => Self::from_nlds_gz(bytes),
            _ => Self::from_nlds(bytes),
        }
    }

    /// Parses an `.nlds.gz` file, checking every size against the bytes present.
    pub fn from_nlds_gz(bytes: &[u8]) -> Result<Self, NormlabError> {
        let mut raw = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_end(&mut raw)
            .map_err(|e| NormlabError::BadData(crate::words!("not a gzip stream ({e})", "不是 gzip 数据流（{e}）")))?;
        Self::from_nlds(&raw)
    }

    /// Parses the uncompressed NLDS layout.
    pub fn from_nlds(raw: &[u8]) -> Result<Self, NormlabError> {
        const HEADER: usize = 32;
        if raw.len() < HEADER || &raw[0..4] != b"NLDS" {
            return Err(NormlabError::BadData(crate::words!("missing the NLDS header", "缺少 NLDS 文件头")));
        }
        let field =
            |i: usize| u32::from_le_bytes([raw[4 * i], raw[4 * i + 1], raw[4 * i + 2], raw[4 * i + 3]]) as usize;
        let (version, n_train, n_test) = (field(1), field(2), field(3));
        let (height, width, channels, classes) = (field(4), field(5), field(6), field(7));
        if version != 1 {
            return Err(NormlabError::BadData(crate::words!(
                "unsupported NLDS version {version}",
                "不支持的 NLDS 版本 {version}"
            )));
        }
        let features = height
            .checked_mul(width)
            .and_then(|v| v.checked_mul(channels))
            .filter(|&f| f > 0 && f <= 1 << 20)
            .ok_or_else(|| {
                NormlabError::BadData(crate::words!(
                    "implausible image size {channels}×{height}×{width}",
                    "不合理的图像尺寸 {channels}×{height}×{width}"
                ))
            })?;
        if !(2..=1000).contains(&classes) {
            return Err(NormlabError::BadData(crate::words!(
                "implausible class count {classes}",
                "不合理的类别数 {classes}"
            )));
        }
        let expected = (n_train + n_test)
            .checked_mul(features + 1)
            .and_then(|v| v.checked_add(HEADER))
            .ok_or_else(|| NormlabError::BadData(crate::words!("sizes overflow", "尺寸溢出")))?;
        if raw.len() != expected {
            let found = raw.len();
            return Err(NormlabError::BadData(crate::words!(
                "expected {expected} bytes for {n_train} training and {n_test} test images, found {found}",
                "{n_train} 张训练图像和 {n_test} 张测试图像应有 {expected} 字节，实际为 {found} 字节"
            )));
        }
        let mut at = HEADER;
        let mut take = |len: usize| {
            let part = &raw[at..at + len];
            at += len;
            part
        };
        let train_labels = take(n_train);
        let train_pixels = take(n_train * features);
        let test_labels = take(n_test);
        let test_pixels = take(n_test * features);
        if let Some(&bad) = train_labels.iter().chain(test_labels).find(|&&l| l as usize >= classes) {
            return Err(NormlabError::BadData(crate::words!(
                "label {bad} is out of range for {classes} classes",
                "标签 {bad} 超出了 {classes} 个类别的范围"
            )));
        }
        Ok(Self::from_bytes(
            (train_labels, train_pixels),
            (test_labels, test_pixels),
            (channels, height, width),
            classes,
        ))
    }

    /// An image data set from label and pixel bytes, pixels standardised with the training
    /// split's mean and standard deviation.
    fn from_bytes(
        (train_labels, train_pixels): (&[u8], &[u8]),
        (test_labels, test_pixels): (&[u8], &[u8]),
        (channels, height, width): (usize, usize, usize),
        classes: usize,
    ) -> Self {
        let (pixel_mean, pixel_std) = pixel_moments(train_pixels);
        let split = |labels: &[u8], pixels: &[u8]| Split {
            images: pixels.iter().map(|&p| (p as f32 / 255.0 - pixel_mean) / pixel_std).collect(),
            labels: labels.iter().map(|&l| l as f32).collect(),
            len: labels.len(),
        };
        Dataset {
            train: split(train_labels, train_pixels),
            test: split(test_labels, test_pixels),
            channels,
            height,
            width,
            classes,
            pixel_mean,
            pixel_std,
            vocab: None,
        }
    }
}

/// Mean and standard deviation of pixels scaled to [0, 1].
fn pixel_moments(pixels: &[u8]) -> (f32, f32) {
    if pixels.is_empty() {
        return (0.0, 1.0);
    }
    let n = pixels.len() as f64;
    let mean = pixels.iter().map(|&p| p as f64 / 255.0).sum::<f64>() / n;
    let var = pixels.iter().map(|&p| (p as f64 / 255.0 - mean).powi(2)).sum::<f64>() / n;
    (mean as f32, var.sqrt().max(1e-6) as f32)
}

/// The order of training examples in one epoch: a shuffle seeded by the run's seed and
/// the epoch number, so the same settings visit the same batches on every backend.
pub fn epoch_order(len: usize, seed: u64, epoch: usize) -> Vec<u32> {
    let mut order: Vec<u32> = (0..len as u32).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (epoch as u64 + 1));
    order.shuffle(&mut rng);
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny_nlds(n_train: u32, n_test: u32, label: u8) -> Vec<u8> {
        let mut raw = b"NLDS".to_vec();
        for v in [1, n_train, n_test, 2, 2, 1, 10] {
            raw.extend_from_slice(&u32::to_le_bytes(v));
        }
        raw.extend(std::iter::repeat_n(label, n_train as usize));
        raw.extend((0..n_train * 4).map(|i| (i * 37 % 256) as u8));
        raw.extend(std::iter::repeat_n(label, n_test as usize));
        raw.extend((0..n_test * 4).map(|i| (i * 11 % 256) as u8));
        raw
    }

    #[test]
    fn parses_a_well_formed_file() {
        let data = Dataset::from_nlds(&tiny_nlds(3, 2, 7)).unwrap();
        assert_eq!((data.train.len, data.test.len, data.features(), data.classes), (3, 2, 4, 10));
        assert_eq!(data.train.labels, vec![7.0; 3]);
        let mean: f32 = data.train.images.iter().sum::<f32>() / data.train.images.len() as f32;
        assert!(mean.abs() < 1e-5, "training pixels are standardised, mean {mean}");
    }

    #[test]
    fn rejects_truncated_and_out_of_range_files() {
        let raw = tiny_nlds(3, 2, 7);
        assert!(matches!(Dataset::from_nlds(&raw[..raw.len() - 1]), Err(NormlabError::BadData(_))));
        assert!(matches!(Dataset::from_nlds(&tiny_nlds(3, 2, 10)), Err(NormlabError::BadData(_))));
        assert!(matches!(Dataset::from_nlds(b"NOPE"), Err(NormlabError::BadData(_))));
        assert!(matches!(Dataset::from_nlds_gz(&raw), Err(NormlabError::BadData(_))));
    }

    #[test]
    fn epoch_order_is_a_seeded_permutation() {
        let a = epoch_order(100, 7, 0);
        assert_eq!(a, epoch_order(100, 7, 0));
        assert_ne!(a, epoch_order(100, 7, 1));
        assert_ne!(a, epoch_order(100, 8, 0));
        let mut sorted = a.clone();
        sorted.sort();
        assert_eq!(sorted, (0..100).collect::<Vec<_>>());
    }
}
