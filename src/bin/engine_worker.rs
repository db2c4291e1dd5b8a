//! The CPU engine in a Web Worker. Trunk builds this binary as `engine-worker.js` and
//! `engine-worker_bg.wasm` (index.html, `data-type="worker"`); `www/engine_worker.js`
//! starts it with the module the page compiled once. The page sends one data set and
//! then orders, one run at a time (`experiment::remote`); the worker trains each on its
//! own instance of the CPU engine, off the page's thread, and streams the run's events
//! back as they happen. Natively this binary only says where it belongs.

#[cfg(target_arch = "wasm32")]
fn main() {
    worker::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("engine-worker is the CPU engine of the page's Web Workers, built by Trunk (see README.md).");
}

#[cfg(target_arch = "wasm32")]
mod worker {
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;

    use normlab::backend::engine::{AnyBackend, Engine};
    use normlab::data::Dataset;
    use normlab::error::NormlabError;
    use normlab::experiment::pace::measure_cost;
    use normlab::experiment::remote::{
        benchmark, decode, encode, train_order, DatasetShape, FromWorker, RunOrder, ToWorker,
    };
    use normlab::experiment::{Event, Observer, Run};
    use normlab::platform;
    use normlab::words;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;
    use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

    /// The worker's state: its data set, the run in progress, the model kept after it.
    struct EngineWorker {
        scope: DedicatedWorkerGlobalScope,
        data: RefCell<Option<Rc<Dataset>>>,
        /// Set by Stop; each run gets a fresh one.
        stop: RefCell<Rc<Cell<bool>>>,
        /// The model of the last run that asked to keep it; it answers questions one at a
        /// time (taken out while it works).
        kept: RefCell<Option<Run<AnyBackend>>>,
    }

    pub fn start() {
        console_error_panic_hook::set_once();
        let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
        let worker = Rc::new(EngineWorker {
            scope: scope.clone(),
            data: RefCell::new(None),
            stop: RefCell::new(Rc::new(Cell::new(false))),
            kept: RefCell::new(None),
        });
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            worker.receive(event.data());
        });
        scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        // The handler lives as long as the worker.
        on_message.forget();
        post(&scope, &FromWorker::Ready);
    }

    /// Sends a message to the page, its bytes moved rather than copied.
    fn post(scope: &DedicatedWorkerGlobalScope, message: &FromWorker) {
        let bytes = js_sys::Uint8Array::from(encode(message).as_slice());
        let transfer = js_sys::Array::of1(&bytes.buffer());
        if let Err(error) = scope.post_message_with_transfer(&bytes, &transfer) {
            web_sys::console::error_2(&"engine worker: a message to the page failed".into(), &error);
        }
    }

    impl EngineWorker {
        fn receive(self: &Rc<Self>, data: JsValue) {
            // A data set arrives as [shape (CBOR), train images, train labels, test images,
            // test labels], the arrays as Float32Arrays; everything else is one CBOR message.
            if js_sys::Array::is_array(&data) {
                let parts = js_sys::Array::from(&data);
                let floats = |i: u32| parts.get(i).dyn_into::<js_sys::Float32Array>().map(|a| a.to_vec());
                let shape = parts.get(0).dyn_into::<js_sys::Uint8Array>().map(|b| decode::<DatasetShape>(&b.to_vec()));
                let assembled = match (shape, floats(1), floats(2), floats(3), floats(4)) {
                    (Ok(Ok(shape)), Ok(a), Ok(b), Ok(c), Ok(d)) => shape.assemble(a, b, c, d).ok(),
                    _ => None,
                };
                match assembled {
                    Some(dataset) => *self.data.borrow_mut() = Some(Rc::new(dataset)),
                    None => post(&self.scope, &FromWorker::Unreadable("a data set in pieces that do not fit".into())),
                }
                return;
            }
            let message = match data.dyn_into::<js_sys::Uint8Array>().map(|b| decode::<ToWorker>(&b.to_vec())) {
                Ok(Ok(message)) => message,
                Ok(Err(reason)) => return post(&self.scope, &FromWorker::Unreadable(reason)),
                Err(_) => return post(&self.scope, &FromWorker::Unreadable("not a message of the lab's".into())),
            };
            match message {
                ToWorker::Train(order) => {
                    let worker = self.clone();
                    wasm_bindgen_futures::spawn_local(async move { worker.train(order).await });
                }
                ToWorker::Stop => self.stop.borrow().set(true),
                ToWorker::Pause => platform::set_host_hidden(true),
                ToWorker::Resume => platform::set_host_hidden(false),
                ToWorker::AttentionMaps { name } => {
                    let worker = self.clone();
                    wasm_bindgen_futures::spawn_local(async move { worker.attention_maps(&name).await });
                }
                ToWorker::MeasureCost { config } => {
                    let worker = self.clone();
                    wasm_bindgen_futures::spawn_local(async move {
                        let data = worker.data.borrow().clone();
                        let cost = match data {
                            // Measured first, the CPU has no other engine's time to stop at.
                            Some(data) => {
                                measure_cost(&mut || Engine::cpu().backend(), &config, &data, &|_| false).await
                            }
                            None => Err(no_data()),
                        };
                        post(&worker.scope, &FromWorker::Cost(cost));
                    });
                }
                ToWorker::Benchmark { model, batch, schedule } => {
                    let worker = self.clone();
                    wasm_bindgen_futures::spawn_local(async move {
                        let data = worker.data.borrow().clone();
                        let timing = match data {
                            Some(data) => benchmark(Engine::cpu().backend(), model, batch, schedule, &data).await,
                            None => Err(no_data()),
                        };
                        post(&worker.scope, &FromWorker::Benchmark(timing));
                    });
                }
            }
        }

        async fn train(&self, order: RunOrder) {
            let stop = Rc::new(Cell::new(false));
            *self.stop.borrow_mut() = stop.clone();
            // A new run replaces the model an earlier one kept.
            *self.kept.borrow_mut() = None;
            let data = self.data.borrow().clone();
            let result = match data {
                Some(data) => {
                    let mut relay = Relay { scope: &self.scope, stop };
                    train_order(Engine::cpu().backend(), &order, &data, &mut relay).await
                }
                None => Err(no_data()),
            };
            let result = result.map(|(result, run)| {
                *self.kept.borrow_mut() = run;
                result
            });
            post(&self.scope, &FromWorker::Finished(result));
        }

        async fn attention_maps(&self, name: &str) {
            let taken = self.kept.borrow_mut().take();
            let maps = match taken {
                Some(mut run) => {
                    let maps = run.attention_maps(name, &|| false).await;
                    *self.kept.borrow_mut() = Some(run);
                    maps
                }
                None => Err(NormlabError::InvalidConfig(words!(
                    "the model is still working on the last name",
                    "模型还在处理上一个名字"
                ))),
            };
            post(&self.scope, &FromWorker::AttentionMaps(maps));
        }
    }

    fn no_data() -> NormlabError {
        NormlabError::BadData(words!("the engine worker was sent no data set", "后台引擎线程没有收到数据集"))
    }

    /// Passes a run's events to the page as they happen; Stop from the page ends the run.
    struct Relay<'a> {
        scope: &'a DedicatedWorkerGlobalScope,
        stop: Rc<Cell<bool>>,
    }

    impl Observer for Relay<'_> {
        fn on_event(&mut self, event: &Event) {
            post(self.scope, &FromWorker::Event(event.clone()));
        }

        fn should_stop(&self) -> bool {
            self.stop.get()
        }
    }
}
