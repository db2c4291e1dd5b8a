//! The browser entry point (built by Trunk). Natively this binary only points to the
//! runner, which is the command-line way to train.

#[cfg(target_arch = "wasm32")]
fn main() {
    normlab::ui::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("normlab's page is built with Trunk (see README.md); to train from the command line, run normlab-run.");
}
