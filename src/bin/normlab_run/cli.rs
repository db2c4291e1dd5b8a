//! The runner's command line: its own options (derived with clap), and one `--KEY VALUE`
//! option per setting of the page's address, made from the key table of
//! `experiment::query`, so that the help, the checks and the page read one definition.
//!
//! Everything is strict: an unknown option, a value a key does not allow, a key of a
//! `--url` the page would forgive, a setting beside `--preset` that would change what the
//! preset compares: each is an error (exit status 2) that names the key and what it allows.

use std::path::PathBuf;

use clap::builder::PossibleValue;
use clap::error::ErrorKind;
use clap::{Arg, ArgAction, ArgMatches, Command, CommandFactory, FromArgMatches, Parser, ValueEnum};

use normlab::error::Words;
use normlab::experiment::catalog::{named, Experiment, EXPERIMENTS};
use normlab::experiment::presets::Preset;
use normlab::experiment::query::{allowed, check_value, PAGE_KEYS, URL_KEYS};
use normlab::experiment::{ExperimentConfig, ProbeSpec};

/// The settings that may stand beside `--preset`: they change how long, on how much data
/// and from which seed every run of it trains, not what its runs compare.
pub const PRESET_OVERRIDES: [&str; 5] = ["seed", "epochs", "batches", "train", "test"];

/// Keys of a page address that say where the reader is, not what trains: a `--url` copied
/// from the page carries them, and the runner has nothing to do with them.
const PAGE_LOCATION_KEYS: [&str; 2] = ["lesson", "lang"];

const SETTINGS_HEADING: &str = "Experiment settings (the page's URL keys)";

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BackendChoice {
    /// The pure-Rust CPU backend
    Cpu,
    /// The native GPU backend (wgpu on Vulkan)
    Gpu,
}

impl BackendChoice {
    /// The name `Engine::open` and the JSON lines use.
    pub fn name(self) -> &'static str {
        match self {
            BackendChoice::Cpu => "cpu",
            BackendChoice::Gpu => "gpu",
        }
    }
}

/// Trains an experiment from the command line, with the same settings as the page's
/// address. Prints one JSON line per epoch (and per probe), and a summary line per run.
#[derive(Debug, Parser)]
#[command(name = "normlab-run", version, max_term_width = 110)]
pub struct Cli {
    /// Where to train
    #[arg(long, value_enum, default_value_t = BackendChoice::Cpu)]
    pub backend: BackendChoice,
    /// The CPU backend's threads (1, as in the browser; the results depend slightly on it)
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub threads: u16,
    /// A page address, or just its query, whose settings to train; its keys are checked as
    /// strictly as the options, which override them (lesson and lang are ignored)
    #[arg(long, value_name = "URL", conflicts_with = "preset")]
    pub url: Option<String>,
    /// Train a lesson's experiment, every run of it (see --list-presets); only --seed,
    /// --epochs, --batches, --train and --test may stand beside it, and apply to every run
    #[arg(long, value_name = "EXPERIMENT-SIZE", value_parser = preset_names(), hide_possible_values = true)]
    pub preset: Option<String>,
    /// List the lessons' experiments and their runs, then exit
    #[arg(long)]
    pub list_presets: bool,
    /// The folder of the shipped data files
    #[arg(long, value_name = "DIR", default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/www/data"))]
    pub data_dir: PathBuf,
    /// A CIFAR-10 binary batch file, for --data cifar10
    #[arg(long, value_name = "PATH")]
    pub cifar_file: Option<PathBuf>,
    /// Draw the progress bars on standard error even when it is not a terminal
    #[arg(long)]
    pub progress: bool,
    /// Train every lesson's full preset over --seeds and write one results file per
    /// experiment into --results-dir: what the lessons and the README state as measured
    #[arg(long, conflicts_with_all = ["preset", "url"])]
    pub reproduce_course: bool,
    /// The seeds --reproduce-course trains each run at, joined by commas
    #[arg(long, value_name = "N,N,…", value_delimiter = ',', default_value = "1,2,3", requires = "reproduce_course")]
    pub seeds: Vec<u64>,
    /// Only these experiments, joined by commas (the names of --list-presets without the size)
    #[arg(long, value_name = "EXPERIMENT,…", value_delimiter = ',', value_parser = experiment_names(), requires = "reproduce_course", hide_possible_values = true)]
    pub only: Vec<String>,
    /// Where --reproduce-course writes its files (and --results-table reads them)
    #[arg(long, value_name = "DIR", default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/www/results"))]
    pub results_dir: PathBuf,
    /// Print every stored experiment's results (in --results-dir) as the README's Markdown
    /// tables, one column per seed, then exit
    #[arg(long, conflicts_with_all = ["preset", "url", "reproduce_course"])]
    pub results_table: bool,
}

/// What the command line asks for.
pub enum Plan {
    ListPresets,
    /// The stored results as Markdown tables, from this folder.
    ResultsTable(PathBuf),
    Train(Training),
    /// Every full preset (or those of `only`) over `cli.seeds`.
    Reproduce {
        cli: Cli,
        experiments: Vec<Experiment>,
    },
}

pub struct Training {
    pub cli: Cli,
    pub runs: Vec<(ExperimentConfig, Option<ProbeSpec>)>,
}

/// Every experiment's name, for `--only`.
fn experiment_names() -> Vec<PossibleValue> {
    EXPERIMENTS.iter().map(PossibleValue::new).collect()
}

/// Every `EXPERIMENT-SIZE` that `--preset` takes.
fn preset_names() -> Vec<PossibleValue> {
    EXPERIMENTS
        .iter()
        .flat_map(|experiment| Preset::ALL.iter().map(move |size| format!("{experiment}-{}", size.name())))
        .map(PossibleValue::new)
        .collect()
}

/// One `--KEY VALUE` option per URL key, its help saying its default, what it allows and
/// what it means, its value checked by the same parser as the page's links.
fn setting_args() -> Vec<Arg> {
    URL_KEYS
        .iter()
        .map(|key| {
            let name = key.name;
            let arg = Arg::new(name)
                .long(name)
                .value_name("VALUE")
                .action(ArgAction::Set)
                .help_heading(SETTINGS_HEADING)
                .help(format!("{} [default: {}] [allowed: {}]", key.meaning, key.default, allowed(name).0))
                .value_parser(move |value: &str| check_value(name, value).map(|()| value.to_string()));
            let arg = arg.conflicts_with("reproduce_course");
            if PRESET_OVERRIDES.contains(&name) {
                arg
            } else {
                arg.conflicts_with("preset")
            }
        })
        .collect()
}

pub fn command() -> Command {
    Cli::command().args(setting_args()).after_help(
        "Every setting is also a key of the page's address (--url): the runner trains what a link to \
         the page would show. Numbers print at their real precision; \"backend\" is cpu or gpu, \
         \"device\" describes it.",
    )
}

/// Reads the command line; on an error, prints it and exits with status 2 (clap's way).
pub fn parse() -> Plan {
    let mut command = command();
    let matches = command.clone().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
    if cli.list_presets {
        return Plan::ListPresets;
    }
    if cli.results_table {
        return Plan::ResultsTable(cli.results_dir);
    }
    if cli.reproduce_course {
        if cli.seeds.is_empty() {
            command.error(ErrorKind::ValueValidation, "--seeds needs at least one seed").exit()
        }
        let experiments = Experiment::ALL
            .into_iter()
            .filter(|e| cli.only.is_empty() || cli.only.iter().any(|name| name == e.name()))
            .collect();
        return Plan::Reproduce { cli, experiments };
    }
    let settings = given_settings(&matches);
    let runs = match &cli.preset {
        Some(name) => {
            let Some(runs) = named(name) else {
                command.error(ErrorKind::InvalidValue, format!("no experiment called {name}")).exit()
            };
            let mut applied = Vec::with_capacity(runs.len());
            for (config, probes) in runs {
                match config.with_query_strict(&settings) {
                    Ok(config) => applied.push((config, probes)),
                    Err(problems) => refuse(&mut command, problems),
                }
            }
            applied
        }
        None => {
            let url_settings = match &cli.url {
                Some(url) => url_query(url).unwrap_or_else(|message| {
                    command.error(ErrorKind::ValueValidation, format!("in --url: {message}")).exit()
                }),
                None => String::new(),
            };
            match ExperimentConfig::from_query_strict(&format!("{url_settings}&{settings}")) {
                Ok(config) => vec![(config, None)],
                Err(problems) => refuse(&mut command, problems),
            }
        }
    };
    Plan::Train(Training { cli, runs })
}

/// Prints what is wrong with the settings, as clap prints its errors, and exits with 2.
fn refuse(command: &mut Command, problems: Vec<Words>) -> ! {
    let lines: Vec<String> = problems.into_iter().map(|problem| problem.en).collect();
    command.error(ErrorKind::ValueValidation, lines.join("\n       ")).exit()
}

/// The `--KEY VALUE` settings given, as a query.
fn given_settings(matches: &ArgMatches) -> String {
    URL_KEYS
        .iter()
        .filter_map(|key| matches.get_one::<String>(key.name).map(|value| format!("{}={value}", key.name)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The settings of a page address (or of its query alone), each checked as its option
/// would be: an unknown key names the nearest one, a value says what the key allows.
fn url_query(url: &str) -> Result<String, String> {
    let query = url.split_once('?').map_or(url, |(_, query)| query);
    let query = query.split('#').next().unwrap_or_default();
    let mut settings = Vec::new();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if PAGE_LOCATION_KEYS.contains(&key) {
            eprintln!("note: --url's {key}={value} is where the page was, not a setting; the runner ignores it");
            continue;
        }
        if PAGE_KEYS.contains(&key) {
            return Err(format!("{key}={value} is the page's own choice; give it as --{key} (see --help)"));
        }
        if !URL_KEYS.iter().any(|known| known.name == key) {
            return Err(match nearest_key(key) {
                Some(near) => format!("no setting called {key}; did you mean {near}?"),
                None => format!("no setting called {key} (see --help for the settings)"),
            });
        }
        check_value(key, value).map_err(|why| format!("{key}={value}: {why}"))?;
        settings.push(pair);
    }
    Ok(settings.join("&"))
}

/// The URL key most like `key`, if one is close (the same measure and threshold as clap's
/// suggestions for the options).
fn nearest_key(key: &str) -> Option<&'static str> {
    URL_KEYS
        .iter()
        .map(|known| (strsim::jaro(key, known.name), known.name))
        .filter(|(likeness, _)| *likeness > 0.7)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, name)| name)
}

/// The lessons' experiments, each size with its runs, for `--list-presets`.
pub fn list_presets() -> String {
    let mut lines =
        vec!["The lessons' experiments (--preset EXPERIMENT-SIZE; SIZE is smoke, quick or full):".to_string()];
    for experiment in EXPERIMENTS {
        lines.push(String::new());
        for size in Preset::ALL {
            let name = format!("{experiment}-{}", size.name());
            let runs = named(&name).unwrap_or_default();
            lines.push(format!("{name} ({} runs)", runs.len()));
            lines.extend(runs.iter().map(|(config, _)| format!("    {}", config.label())));
        }
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_from(args: &[&str]) -> Result<ArgMatches, clap::Error> {
        command().try_get_matches_from(std::iter::once("normlab-run").chain(args.iter().copied()))
    }

    #[test]
    fn every_url_key_is_an_option_with_its_default_in_the_help() {
        let help = command().render_help().to_string();
        for key in URL_KEYS {
            assert!(help.contains(&format!("--{}", key.name)), "--{}", key.name);
            assert!(help.contains(&format!("[default: {}]", key.default)), "{}'s default", key.name);
        }
        assert!(help.contains("sgd is SGD with momentum 0.9"), "{help}");
        assert!(help.contains("running-statistics momentum"), "{help}");
    }

    #[test]
    fn a_mistyped_option_names_the_nearest() {
        let error = parse_from(&["--epoch", "8"]).expect_err("--epoch is no option");
        assert_eq!(error.exit_code(), 2);
        assert!(error.to_string().contains("--epochs"), "{error}");
    }

    #[test]
    fn a_value_out_of_range_names_the_range() {
        let error = parse_from(&["--lr", "2"]).expect_err("lr 2 is out of range");
        assert_eq!(error.exit_code(), 2);
        assert!(error.to_string().contains("0.0001 to 1"), "{error}");
        assert!(parse_from(&["--batch", "1"]).is_err());
    }

    #[test]
    fn a_preset_takes_only_what_keeps_its_comparison() {
        assert!(parse_from(&["--preset", "high-lr-quick", "--seed", "3", "--epochs", "2"]).is_ok());
        let error = parse_from(&["--preset", "high-lr-quick", "--norm", "none"]).expect_err("norm is compared");
        assert!(error.to_string().contains("--preset"), "{error}");
        let error = parse_from(&["--preset", "high-lr-quik"]).expect_err("no such preset");
        assert!(error.to_string().contains("high-lr-quick"), "{error}");
    }

    #[test]
    fn a_url_is_as_strict_as_the_options() {
        assert_eq!(url_query("http://x/?lesson=l2&norm=none&opt=sgd&lr=1#top"), Ok("norm=none&opt=sgd&lr=1".into()));
        assert!(url_query("?epoch=3").is_err_and(|e| e.contains("did you mean epochs")));
        assert!(url_query("?lr=2").is_err_and(|e| e.contains("0.0001 to 1")));
        assert!(url_query("?backend=gpu").is_err_and(|e| e.contains("--backend")));
    }

    #[test]
    fn every_preset_lists_its_runs() {
        let list = list_presets();
        for experiment in EXPERIMENTS {
            assert!(list.contains(&format!("{experiment}-quick (")), "{experiment}");
        }
    }
}
