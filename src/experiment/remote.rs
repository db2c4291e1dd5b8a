//! One run as an order and its answer, so that it can be trained away from the page's
//! thread: in the browser the CPU engine trains each run in a Web Worker of its own (a
//! separate instance of this crate's engine, `src/bin/engine_worker.rs`), which reports
//! the run's events back to the page as they happen.
//!
//! [`train_order`] is what both sides do with an order: the page on its own thread (the
//! GPU, or where no worker can start) and the worker in its thread. Messages are CBOR,
//! a self-describing binary form that keeps every `f32` exactly (NaN and infinities
//! included: a diverged run's last loss must arrive as it was) and reads the serde
//! attributes the configuration uses (tagged enums, flattened fields).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::benchmark::{time_training_steps, BenchModel, BenchSchedule, StepTiming};
use super::pace::StepCost;
use super::{decision_grid, sample_names, AttentionMaps, Event, ExperimentConfig, Observer, Outcome, ProbeSpec, Run};
use crate::backend::Backend;
use crate::data::Dataset;
use crate::error::NormlabError;
use crate::words;

/// What a live piece asks of one run, beyond its configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunOrder {
    pub config: ExperimentConfig,
    pub probes: Option<ProbeSpec>,
    /// How many names to sample from the trained model (the name models only).
    pub sample_names: usize,
    /// The decision regions of the trained model over this square, `(x0, x1, y0, y1)`,
    /// at this many cells a side (2-D data only).
    pub boundary: Option<((f32, f32, f32, f32), usize)>,
    /// Keep the trained model for questions asked of it afterwards (lesson 10's attention
    /// map of a typed name).
    pub keep_model: bool,
}

impl RunOrder {
    pub fn new(config: ExperimentConfig) -> Self {
        RunOrder { config, probes: None, sample_names: 0, boundary: None, keep_model: false }
    }
}

/// What a run leaves besides its events.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    pub outcome: Outcome,
    pub names: Vec<String>,
    pub boundary: Option<Vec<(usize, f32)>>,
    /// Whether the trained model was kept (asked for, and the run finished).
    pub kept: bool,
}

/// Trains `order` on `backend` and computes what it asks for afterwards. The model comes
/// back when the order asks to keep it and the run finished.
pub async fn train_order<B: Backend>(
    backend: B,
    order: &RunOrder,
    data: &Dataset,
    observer: &mut dyn Observer,
) -> Result<(RunResult, Option<Run<B>>), NormlabError> {
    let mut run = Run::new(backend, &order.config, data)?;
    if let Some(spec) = &order.probes {
        run.set_probes(spec.clone());
    }
    let outcome = run.train(observer).await?;
    // A stopped run leaves work queued; what it finished is all there is to show.
    let usable = matches!(outcome, Outcome::Finished { .. });
    let names = if order.sample_names > 0 && usable {
        sample_names(&mut run, order.sample_names, order.config.seed).await?
    } else {
        Vec::new()
    };
    let boundary = match order.boundary {
        Some((extent, resolution)) if usable => Some(decision_grid(&mut run, extent, resolution).await?),
        _ => None,
    };
    let kept = order.keep_model && usable;
    Ok((RunResult { outcome, names, boundary, kept }, kept.then_some(run)))
}

/// Times `model` at `batch` on `backend` (see [`ToWorker::Benchmark`]).
pub async fn benchmark<B: Backend>(
    backend: B,
    model: BenchModel,
    batch: usize,
    schedule: BenchSchedule,
    data: &Dataset,
) -> Result<StepTiming, NormlabError> {
    let mut run = Run::new(backend, &model.config(batch), data)?;
    time_training_steps(&mut run, schedule, |_| None).await
}

/// The page to a worker. (A message lives only between its encoding and its decoding, so
/// the size of its largest variant costs nothing worth boxing for.)
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ToWorker {
    /// Train on the data set the worker was last given (see [`DatasetParts`]).
    Train(RunOrder),
    /// Finish the run after its current step, keeping what it finished.
    Stop,
    /// The page's tab was hidden (training waits) or shown again.
    Pause,
    Resume,
    /// The attention maps of a name, from the model the last run kept.
    AttentionMaps {
        name: String,
    },
    /// Time training steps of a benchmark model on the data set the worker holds (the
    /// page's benchmark hook: the CPU engine as the page runs it, in a worker).
    Benchmark {
        model: BenchModel,
        batch: usize,
        schedule: BenchSchedule,
    },
    /// Time a few steps of `config`'s model on the data set the worker holds, at the
    /// engine probe's two batch sizes (`pace::measure_cost`): the CPU's cost as the page's
    /// jobs will meet it, measured where they will train.
    MeasureCost {
        config: ExperimentConfig,
    },
}

/// A worker to the page.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum FromWorker {
    /// The engine has started and takes orders.
    Ready,
    Event(Event),
    Finished(Result<RunResult, NormlabError>),
    AttentionMaps(Result<AttentionMaps, NormlabError>),
    Benchmark(Result<StepTiming, NormlabError>),
    Cost(Result<StepCost, NormlabError>),
    /// A message the worker could not read (a page and a worker of different builds).
    Unreadable(String),
}

/// A data set in the pieces a worker receives: the scalars in CBOR, the four arrays as
/// they are (in the browser they travel as `Float32Array`s, copied once, not encoded).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DatasetShape {
    pub train_len: usize,
    pub test_len: usize,
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub classes: usize,
    pub pixel_mean: f32,
    pub pixel_std: f32,
    pub vocab: Option<usize>,
}

impl DatasetShape {
    pub fn of(data: &Dataset) -> Self {
        DatasetShape {
            train_len: data.train.len,
            test_len: data.test.len,
            channels: data.channels,
            height: data.height,
            width: data.width,
            classes: data.classes,
            pixel_mean: data.pixel_mean,
            pixel_std: data.pixel_std,
            vocab: data.vocab,
        }
    }

    /// The data set again from its shape and arrays, which must fit it.
    pub fn assemble(
        &self,
        train_images: Vec<f32>,
        train_labels: Vec<f32>,
        test_images: Vec<f32>,
        test_labels: Vec<f32>,
    ) -> Result<Dataset, NormlabError> {
        let features = self.channels * self.height * self.width;
        let fits = |images: &[f32], labels: &[f32], len: usize| {
            images.len() == len * features && (len == 0 || labels.len().is_multiple_of(len)) && labels.len() >= len
        };
        if !fits(&train_images, &train_labels, self.train_len) || !fits(&test_images, &test_labels, self.test_len) {
            return Err(NormlabError::BadData(words!(
                "the data set sent to the worker does not match its shape",
                "发送给后台线程的数据集与其形状不符"
            )));
        }
        Ok(Dataset {
            train: crate::data::Split { images: train_images, labels: train_labels, len: self.train_len },
            test: crate::data::Split { images: test_images, labels: test_labels, len: self.test_len },
            channels: self.channels,
            height: self.height,
            width: self.width,
            classes: self.classes,
            pixel_mean: self.pixel_mean,
            pixel_std: self.pixel_std,
            vocab: self.vocab,
        })
    }
}

/// A message as bytes.
pub fn encode<T: Serialize>(message: &T) -> Vec<u8> {
    let mut bytes = Vec::new();
    // Writing into a Vec fails only if serialization itself does, which these types never do.
    ciborium::into_writer(message, &mut bytes).expect("a message serializes");
    bytes
}

/// A message from bytes; an error names what could not be read.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    ciborium::from_reader(bytes).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::catalog::Experiment;
    use crate::experiment::presets::Preset;
    use crate::experiment::EpochSummary;

    #[test]
    fn every_float_of_an_event_arrives_exactly_nan_and_infinities_included() {
        let losses = vec![2.25, 1.0e-38, f32::MIN_POSITIVE / 3.0, f32::INFINITY, f32::NAN, -0.0];
        let event = Event::Losses {
            epoch: 1,
            first_step: 7,
            losses: losses.clone(),
            grad_norms: vec![(f32::NAN, 1.0); losses.len()],
            steps_per_epoch: 60,
        };
        let back: Event = decode(&encode(&event)).unwrap();
        let Event::Losses { losses: got, grad_norms, .. } = back else { panic!("another event: {back:?}") };
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&got), bits(&losses));
        assert!(grad_norms.iter().all(|(a, b)| a.is_nan() && *b == 1.0));
    }

    #[test]
    fn every_preset_run_order_survives_the_trip() {
        // Tagged enums and flattened fields (the configuration has both) need a
        // self-describing format; this fails if one of them does not come back.
        let mut count = 0;
        for experiment in Experiment::ALL {
            for preset in Preset::ALL {
                for variant in experiment.variants(preset) {
                    let order = RunOrder {
                        probes: variant.probes.clone(),
                        sample_names: 3,
                        boundary: Some(((-2.0, 2.0, -2.0, 2.0), 60)),
                        keep_model: true,
                        ..RunOrder::new(variant.config.clone())
                    };
                    let message = ToWorker::Train(order.clone());
                    assert_eq!(decode::<ToWorker>(&encode(&message)).unwrap(), message);
                    count += 1;
                }
            }
        }
        assert!(count > 50, "only {count} orders");
    }

    #[test]
    fn results_and_errors_come_back_as_they_were() {
        let summary = EpochSummary {
            epoch: 2,
            train_loss: 0.5,
            train_accuracy: 0.8,
            test_loss: f32::NAN,
            test_accuracy: 0.75,
            grad_norm: 1.5,
            grad_norm_clipped: 1.0,
            elapsed_secs: 3.25,
            ..EpochSummary::default()
        };
        let event: Event = decode(&encode(&Event::Epoch(summary.clone()))).unwrap();
        let Event::Epoch(back) = event else { panic!("another event") };
        assert!(back.test_loss.is_nan());
        assert_eq!(EpochSummary { test_loss: 0.0, ..back }, EpochSummary { test_loss: 0.0, ..summary });
        let finished = FromWorker::Finished(Ok(RunResult {
            outcome: Outcome::Stopped { epoch: 1, batch: 12 },
            names: vec!["ada".into()],
            boundary: Some(vec![(3, 0.25)]),
            kept: false,
        }));
        assert_eq!(decode::<FromWorker>(&encode(&finished)).unwrap(), finished);
        let refused = FromWorker::Finished(Err(NormlabError::TooLarge {
            what: words!("the model's tensors", "模型的张量"),
            requested: 3 << 30,
            limit: 2 << 30,
        }));
        assert_eq!(decode::<FromWorker>(&encode(&refused)).unwrap(), refused);
    }

    #[test]
    fn a_message_from_another_build_is_an_error_not_a_panic() {
        assert!(decode::<ToWorker>(b"\xa1\x63odd\x01").is_err());
        assert!(decode::<ToWorker>(&[]).is_err());
        assert!(decode::<FromWorker>(&encode(&ToWorker::Stop)).is_err());
    }

    #[test]
    fn a_data_set_is_reassembled_from_its_parts_and_a_wrong_part_is_refused() {
        let data = crate::data::toy::generate(crate::data::toy::Shape::Moons);
        let shape = DatasetShape::of(&data);
        let shape: DatasetShape = decode(&encode(&shape)).unwrap();
        let back = shape
            .assemble(
                data.train.images.clone(),
                data.train.labels.clone(),
                data.test.images.clone(),
                data.test.labels.clone(),
            )
            .unwrap();
        assert_eq!(back, data);
        let short = data.train.images[1..].to_vec();
        assert!(shape
            .assemble(short, data.train.labels.clone(), data.test.images.clone(), data.test.labels.clone())
            .is_err());
    }
}
