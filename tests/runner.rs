//! The native runner's command line, end to end: what it refuses (exit status 2, naming
//! the key and what it allows), what it applies to every run of a preset, what its help
//! says and how its JSON lines print numbers. Every run is a few batches.

use std::process::{Command, Output};

use normlab::experiment::catalog::named;
use normlab::experiment::query::URL_KEYS;
use serde_json::Value;

fn runner(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_normlab-run")).args(args).output().expect("the runner starts")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The JSON lines of standard output, each checked to name the backend the one way.
fn json_lines(output: &Output) -> Vec<Value> {
    let text = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<Value> = text.lines().map(|line| serde_json::from_str(line).expect("a JSON line")).collect();
    for line in &lines {
        assert_eq!(line["backend"], "cpu", "{line}");
        assert!(line["device"].is_string(), "{line}");
    }
    lines
}

fn assert_refused(args: &[&str], naming: &[&str]) {
    let output = runner(args);
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{args:?}: {message}");
    for words in naming {
        assert!(message.contains(words), "{args:?} should name {words}: {message}");
    }
    assert!(output.stdout.is_empty(), "{args:?} trained nothing");
}

#[test]
fn a_mistyped_key_is_refused_naming_the_nearest() {
    assert_refused(&["--epoch", "8"], &["--epoch", "--epochs"]);
    assert_refused(&["--url", "http://127.0.0.1:8080/?epoch=8"], &["epoch", "epochs"]);
}

#[test]
fn a_value_out_of_range_is_refused_naming_the_range() {
    assert_refused(&["--lr", "2"], &["--lr", "0.0001 to 1"]);
    assert_refused(&["--batch", "1"], &["--batch", "2 to 512"]);
    assert_refused(&["--url", "?lr=2"], &["lr=2", "0.0001 to 1"]);
    assert_refused(&["--opt", "sgdm"], &["--opt", "sgd (with momentum), adam"]);
}

#[test]
fn a_setting_a_preset_compares_is_refused_beside_it() {
    assert_refused(&["--preset", "high-lr-quick", "--norm", "none"], &["--norm", "--preset"]);
    assert_refused(&["--preset", "high-lr-quik"], &["high-lr-quick"]);
}

#[test]
fn the_seed_beside_a_preset_applies_to_every_run() {
    let args = ["--preset", "high-lr-quick", "--seed", "3", "--epochs", "1", "--batches", "2", "--test", "64"];
    let output = runner(&args);
    assert!(output.status.success(), "{}", stderr(&output));
    let summaries: Vec<Value> = json_lines(&output).into_iter().filter(|line| line.get("summary").is_some()).collect();
    let runs = named("high-lr-quick").expect("the preset").len();
    assert_eq!(summaries.len(), runs);
    for summary in &summaries {
        let config = &summary["config"];
        assert_eq!(
            (&config["seed"], &config["epochs"], &config["max_batches_per_epoch"]),
            (&3.into(), &1.into(), &2.into())
        );
    }
}

#[test]
fn the_help_gives_every_keys_default() {
    let output = runner(&["--help"]);
    assert!(output.status.success());
    // Whitespace as one space, wherever the help wraps its lines.
    let help = String::from_utf8_lossy(&output.stdout).split_whitespace().collect::<Vec<_>>().join(" ");
    for key in URL_KEYS {
        assert!(help.contains(&format!("--{} <VALUE>", key.name)), "--{}: {help}", key.name);
        assert!(help.contains(&format!("[default: {}]", key.default)), "{}'s default: {help}", key.name);
    }
    assert!(help.contains("sgd is SGD with momentum 0.9"), "{help}");
}

#[test]
fn json_lines_print_an_f32_at_its_precision() {
    let output = runner(&["--data", "moons", "--batches", "2", "--epochs", "1"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(text.contains("\"learning_rate\":0.001"), "{text}");
    assert!(!text.contains("0.0010000000474974513"), "{text}");
    let lines = json_lines(&output);
    assert!(lines.iter().any(|line| line.get("epoch").is_some()), "an epoch line: {text}");
    assert!(lines.iter().any(|line| line.get("summary").is_some()), "a summary line: {text}");
}
