//! The student's own CIFAR-10 batch file (the "binary version" of the data set): records of
//! one label byte (0–9) and 3 072 pixel bytes, the red, green and blue 32×32 planes one
//! after the other, row by row. Parsed in the browser; the file never leaves it.

use super::Dataset;
use crate::error::NormlabError;

const RECORD: usize = 1 + 3 * 32 * 32;
/// CIFAR-10 has 60 000 images; a file with more records is not one of its batches.
const MAX_RECORDS: usize = 60_000;
/// The share of records held out for testing (the last ones, as a batch file comes
/// shuffled).
const TEST_SHARE: f64 = 0.1;

/// The class names, for display.
pub const CLASSES: [&str; 10] =
    ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

/// Parses a CIFAR-10 binary batch file, checking everything before using anything, and
/// splits it 90/10 into training and test images.
pub fn parse(bytes: &[u8]) -> Result<Dataset, NormlabError> {
    if bytes.is_empty() {
        return Err(NormlabError::BadData(crate::words!(
            "the file is empty; a CIFAR-10 batch file holds records of 3 073 bytes",
            "文件是空的；CIFAR-10 批文件由每条 3 073 字节的记录组成"
        )));
    }
    if !bytes.len().is_multiple_of(RECORD) {
        let (len, whole, left) = (bytes.len(), bytes.len() / RECORD, bytes.len() % RECORD);
        return Err(NormlabError::BadData(crate::words!(
            "the file has {len} bytes, which is not a whole number of 3 073-byte CIFAR-10 records ({whole} records and {left} bytes left over); is it truncated, or another format?",
            "文件有 {len} 字节，不是 3 073 字节的 CIFAR-10 记录的整数倍（{whole} 条记录，多出 {left} 字节）；文件被截断了，还是另一种格式？"
        )));
    }
    let records = bytes.len() / RECORD;
    if records > MAX_RECORDS {
        return Err(NormlabError::BadData(crate::words!(
            "the file holds {records} records, more than all of CIFAR-10 ({MAX_RECORDS}); load one batch file (10 000 images)",
            "文件有 {records} 条记录，比整个 CIFAR-10（{MAX_RECORDS}）还多；请加载一个批文件（10 000 张图像）"
        )));
    }
    if records < 20 {
        return Err(NormlabError::BadData(crate::words!(
            "only {records} images; at least 20 are needed to train and test",
            "只有 {records} 张图像；训练和测试至少需要 20 张"
        )));
    }
    if let Some((index, label)) = bytes.chunks(RECORD).map(|r| r[0]).enumerate().find(|&(_, l)| l > 9) {
        let record = index + 1;
        return Err(NormlabError::BadData(crate::words!(
            "record {record} has label {label}; CIFAR-10 labels are 0 to 9 (is this a CIFAR-100 file?)",
            "第 {record} 条记录的标签是 {label}；CIFAR-10 的标签是 0 到 9（这是 CIFAR-100 的文件吗？）"
        )));
    }
    let test = ((records as f64 * TEST_SHARE).round() as usize).max(1);
    let train = records - test;
    let (labels, pixels): (Vec<u8>, Vec<u8>) = (
        bytes.chunks(RECORD).map(|r| r[0]).collect(),
        bytes.chunks(RECORD).flat_map(|r| r[1..].iter().copied()).collect(),
    );
    let per_image = RECORD - 1;
    Ok(Dataset::from_bytes(
        (&labels[..train], &pixels[..train * per_image]),
        (&labels[train..], &pixels[train * per_image..]),
        (3, 32, 32),
        10,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` records with labels 0, 1, 2, … and pixels from a simple pattern.
    pub fn file(n: usize) -> Vec<u8> {
        (0..n)
            .flat_map(|i| std::iter::once((i % 10) as u8).chain((0..3072).map(move |p| ((p * 7 + i) % 256) as u8)))
            .collect()
    }

    #[test]
    fn parses_and_splits_a_valid_file() {
        let data = parse(&file(100)).unwrap();
        assert_eq!((data.train.len, data.test.len), (90, 10));
        assert_eq!((data.channels, data.height, data.width, data.classes), (3, 32, 32, 10));
        assert_eq!(data.train.labels[..3], [0.0, 1.0, 2.0]);
        assert_eq!(data.train.images.len(), 90 * 3072);
    }

    #[test]
    fn refuses_bad_files_in_words() {
        let message = |bytes: &[u8]| parse(bytes).unwrap_err().to_string();
        assert!(message(&[]).contains("empty"));
        let good = file(30);
        assert!(message(&good[..good.len() - 5]).contains("truncated"));
        let mut bad_label = file(30);
        bad_label[3073 * 4] = 57;
        assert!(message(&bad_label).contains("record 5 has label 57"));
        assert!(message(&file(3)).contains("at least 20"));
        assert!(message(b"not a cifar file at all").contains("3 073"));
    }
}
