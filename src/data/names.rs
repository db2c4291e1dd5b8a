//! The first-names data set of lesson 3: a character-level language model's examples.
//!
//! Every name becomes one example per character plus one for its end: the previous
//! `CONTEXT` characters (padded with the end marker `.` at the start) predict the next
//! one, as in Bengio et al. (2003) and Karpathy's makemore. Token 0 is `.`, tokens 1–26
//! are `a`–`z`.
//!
//! For a sequence model every name is instead one example: `.` and its letters as input,
//! its letters and `.` as the targets, one per position, padded to a fixed length with
//! targets of −1 that the loss ignores (see [`name_sequences`]).

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::{Dataset, Split};
use crate::error::NormlabError;

/// Characters of context per example.
pub const CONTEXT: usize = 3;
/// Positions per sequence: the start marker and up to 15 letters (the shipped names have
/// at most 11, plus their end).
pub const SEQUENCE_LEN: usize = 16;
/// `.` and `a`–`z`.
pub const VOCAB: usize = 27;
/// The share of names held out for the validation split.
const HELD_OUT: f64 = 0.1;
/// Fixed, so that every run and every backend sees the same split.
const SPLIT_SEED: u64 = 2003;

/// The token of a character, if it is in the vocabulary.
pub fn token(c: char) -> Option<usize> {
    match c {
        '.' => Some(0),
        'a'..='z' => Some(c as usize - 'a' as usize + 1),
        _ => None,
    }
}

/// The character of a token (`.` for 0).
pub fn character(token: usize) -> char {
    if token == 0 || token >= VOCAB {
        '.'
    } else {
        (b'a' + token as u8 - 1) as char
    }
}

/// Parses one name per line (lower-case a–z; blank lines skipped) into a data set whose
/// rows are `CONTEXT` token ids and whose labels are the next token. 90 % of the names
/// (a fixed shuffle) train, the rest validate.
pub fn names_dataset(text: &str) -> Result<Dataset, NormlabError> {
    let (train, test) = split_names(text)?;
    Ok(token_dataset(examples(&train), examples(&test), CONTEXT))
}

/// A data set of `width` token ids per example over the names' vocabulary.
fn token_dataset(train: Split, test: Split, width: usize) -> Dataset {
    Dataset {
        train,
        test,
        channels: width,
        height: 1,
        width: 1,
        classes: VOCAB,
        pixel_mean: 0.0,
        pixel_std: 1.0,
        vocab: Some(VOCAB),
    }
}

/// The target of a padding position: ignored by the loss (PyTorch's `ignore_index`).
pub const PADDING_TARGET: f32 = -1.0;

/// Parses the names (as [`names_dataset`], the same split) into whole sequences of
/// `seq_len` positions: the input `. n a m e . . …` and the targets `n a m e . −1 −1 …`, so
/// that position t predicts the character after the first t + 1. Names longer than
/// `seq_len − 1` letters do not fit and are left out.
pub fn name_sequences(text: &str, seq_len: usize) -> Result<Dataset, NormlabError> {
    let (train, test) = split_names(text)?;
    let (mut train, mut test) = (train, test);
    train.retain(|n| n.len() < seq_len);
    test.retain(|n| n.len() < seq_len);
    if train.len() < 2 || test.is_empty() {
        let most = seq_len.saturating_sub(1);
        return Err(NormlabError::BadData(crate::words!(
            "too few names of at most {most} letters for sequences of {seq_len}",
            "最多 {most} 个字母的名字太少，不够组成长度为 {seq_len} 的序列"
        )));
    }
    Ok(token_dataset(sequences(&train, seq_len), sequences(&test, seq_len), seq_len))
}

fn sequences(names: &[&str], seq_len: usize) -> Split {
    let mut images = Vec::with_capacity(names.len() * seq_len);
    let mut labels = Vec::with_capacity(names.len() * seq_len);
    for name in names {
        let tokens: Vec<f32> = name.chars().map(|c| token(c).expect("checked when parsed") as f32).collect();
        images.push(0.0);
        images.extend(&tokens);
        labels.extend(&tokens);
        labels.push(0.0);
        let pad = seq_len - tokens.len() - 1;
        images.extend(std::iter::repeat_n(0.0, pad));
        labels.extend(std::iter::repeat_n(PADDING_TARGET, pad));
    }
    Split { images, labels, len: names.len() }
}

/// The names of `text`, checked, shuffled with the fixed seed and split: (train, held out).
fn split_names(text: &str) -> Result<(Vec<&str>, Vec<&str>), NormlabError> {
    let mut names = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let name = line.trim();
        if name.is_empty() {
            continue;
        }
        if let Some(bad) = name.chars().find(|&c| !c.is_ascii_lowercase()) {
            let line = number + 1;
            return Err(NormlabError::BadData(crate::words!(
                "line {line}: {bad:?} is not a lower-case letter a–z",
                "第 {line} 行：{bad:?} 不是小写字母 a–z"
            )));
        }
        names.push(name);
    }
    if names.len() < 10 {
        let count = names.len();
        return Err(NormlabError::BadData(crate::words!(
            "only {count} names; at least 10 are needed",
            "只有 {count} 个名字；至少需要 10 个"
        )));
    }
    names.shuffle(&mut ChaCha8Rng::seed_from_u64(SPLIT_SEED));
    let held_out = ((names.len() as f64 * HELD_OUT).round() as usize).max(1);
    let (test, train) = names.split_at(held_out);
    Ok((train.to_vec(), test.to_vec()))
}

fn examples(names: &[&str]) -> Split {
    let mut images = Vec::new();
    let mut labels = Vec::new();
    for name in names {
        let mut context = [0usize; CONTEXT];
        for c in name.chars().chain(std::iter::once('.')) {
            let next = token(c).expect("checked when parsed");
            images.extend(context.iter().map(|&t| t as f32));
            labels.push(next as f32);
            context.rotate_left(1);
            context[CONTEXT - 1] = next;
        }
    }
    let len = labels.len();
    Split { images, labels, len }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_example_per_character_and_end() {
        let text = "emma\nava\nli\nbo\nal\nzoe\nmia\nkai\nleo\nivy\nmax\n";
        let data = names_dataset(text).unwrap();
        let letters: usize = text.lines().map(|n| n.len() + 1).sum();
        assert_eq!(data.train.len + data.test.len, letters);
        assert_eq!(data.features(), CONTEXT);
        // Every example starts its name from the padded context "...".
        let starts = (0..data.train.len).filter(|&r| data.train.images[r * 3..r * 3 + 3] == [0.0; 3]).count();
        let ends = data.train.labels.iter().filter(|&&l| l == 0.0).count();
        assert_eq!(starts, ends, "one start and one end per name");
    }

    #[test]
    fn contexts_slide_over_the_name() {
        let split = examples(&["emma"]);
        let row = |r: usize| split.images[r * 3..r * 3 + 3].iter().map(|&t| character(t as usize)).collect::<String>();
        let rows: Vec<String> = (0..split.len).map(row).collect();
        let next: String = split.labels.iter().map(|&t| character(t as usize)).collect();
        assert_eq!(rows, ["...", "..e", ".em", "emm", "mma"]);
        assert_eq!(next, "emma.");
    }

    #[test]
    fn rejects_other_characters_with_the_line() {
        let error = names_dataset("anna\nJo\n").unwrap_err();
        assert!(error.to_string().contains("line 2"), "{error}");
        assert!(names_dataset("").is_err());
    }
}
