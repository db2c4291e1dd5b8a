//! Splitting an op's work across threads. Natively a [`CpuBackend`](super::CpuBackend)
//! made `with_threads(n)` runs its queued work [`with_pool`] of its own n threads (the
//! calling one and n − 1 workers), and these helpers hand each thread one contiguous share.
//! Everywhere else (the browser, one thread) they run the same closures in order on the
//! calling thread.
//!
//! The workers come from `micropool`, not rayon: between two ops of a training step a
//! rayon worker goes to sleep, and waking it costs more than a small op's share (on a
//! 2-vCPU VM the MLP's step was slower on two threads than on one). micropool's workers
//! spin a while before they sleep, as OpenMP's do under PyTorch.
//!
//! Each share is fixed by the thread count alone, never by work stealing, so a result
//! summed from shares (a weight gradient) is the same on every run with that count.

use std::ops::Range;

#[cfg(not(target_arch = "wasm32"))]
pub use native::{with_pool, ThreadPool};

/// Threads the current op may use: the pool's size while running [`with_pool`], else 1.
pub fn threads() -> usize {
    #[cfg(not(target_arch = "wasm32"))]
    return native::pool_threads();
    #[cfg(target_arch = "wasm32")]
    1
}

/// Work (multiply-adds or element visits) a share should have at least: handing a thread
/// less costs more in waking it than it saves.
const MIN_WORK_PER_SHARE: usize = 1 << 15;

/// `items` split into at most [`threads`] consecutive ranges of nearly equal length
/// (none for no items), each with at least [`MIN_WORK_PER_SHARE`] of work unless there
/// is only one.
pub fn shares(items: usize, work_per_item: usize) -> Vec<Range<usize>> {
    let worth = (items.saturating_mul(work_per_item.max(1)) / MIN_WORK_PER_SHARE).max(1);
    let parts = threads().min(items).min(worth).max(1);
    let per = items.div_ceil(parts);
    (0..items).step_by(per.max(1)).map(|start| start..(start + per).min(items)).collect()
}

/// Calls `f(first_item, chunk)` for consecutive chunks of `data`, `item_len` values per
/// item, each thread taking one share of the items (`work_per_item` sizes the shares).
pub fn for_each_share_mut<T: Send>(
    data: &mut [T],
    item_len: usize,
    work_per_item: usize,
    f: impl Fn(usize, &mut [T]) + Sync + Send,
) {
    let items = data.len() / item_len.max(1);
    let shares = shares(items, work_per_item);
    if shares.len() <= 1 {
        f(0, data);
        return;
    }
    let chunks: Vec<_> = shares.iter().map(|s| s.start).zip(split_shares(data, &shares, item_len)).collect();
    for_each_job(chunks, |(first, chunk)| f(first, chunk));
}

/// Splits `data` at the ends of `shares` (`item_len` values per item): one chunk per share.
pub fn split_shares<'a, T>(data: &'a mut [T], shares: &[Range<usize>], item_len: usize) -> Vec<&'a mut [T]> {
    let mut chunks = Vec::with_capacity(shares.len());
    let mut rest = data;
    for share in shares {
        let (chunk, tail) = std::mem::take(&mut rest).split_at_mut(share.len() * item_len);
        chunks.push(chunk);
        rest = tail;
    }
    chunks
}

/// `f` of each share of `0..items`, in order.
pub fn map_shares<R: Send>(items: usize, work_per_item: usize, f: impl Fn(Range<usize>) -> R + Sync + Send) -> Vec<R> {
    let shares = shares(items, work_per_item);
    if shares.len() <= 1 {
        return shares.into_iter().map(f).collect();
    }
    let mut results: Vec<Option<R>> = shares.iter().map(|_| None).collect();
    for_each_job(shares.into_iter().zip(results.iter_mut()).collect(), |(share, slot)| *slot = Some(f(share)));
    results.into_iter().map(|r| r.expect("every share ran")).collect()
}

/// Runs `f` on every job, spread over the pool's threads, and waits for all of them.
#[cfg(not(target_arch = "wasm32"))]
pub use native::for_each_job;

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::cell::RefCell;
    use std::sync::Arc;

    /// A pool of `threads − 1` workers: the thread that runs an op takes a share itself.
    pub struct ThreadPool {
        workers: micropool::ThreadPool,
    }

    /// How long (in pause instructions, about 20–40 ns each) a worker with nothing to do
    /// keeps looking for work before it sleeps: longer than the gap between two ops of a
    /// training step, so a step wakes each worker once, not once per op.
    const IDLE_SPIN: usize = 1 << 15;

    impl ThreadPool {
        pub fn new(threads: usize) -> Self {
            let workers = micropool::ThreadPoolBuilder::default()
                .num_threads(threads.max(2) - 1)
                .idle_spin_cycles(IDLE_SPIN)
                .spawn_handler(|i, work| {
                    std::thread::Builder::new()
                        .name(format!("normlab-cpu-{}", i + 1))
                        .spawn(work)
                        .expect("the operating system starts a worker thread")
                })
                .build();
            ThreadPool { workers }
        }

        /// Threads an op may use, the calling one included.
        pub fn threads(&self) -> usize {
            self.workers.num_threads() + 1
        }
    }

    thread_local! {
        /// The pool of the backend whose work runs on this thread now.
        static CURRENT: RefCell<Option<Arc<ThreadPool>>> = const { RefCell::new(None) };
    }

    /// Runs `f` with `pool` (if any) as the helpers' pool.
    pub fn with_pool<R>(pool: Option<&Arc<ThreadPool>>, f: impl FnOnce() -> R) -> R {
        let previous = CURRENT.with(|c| c.replace(pool.cloned()));
        let result = f();
        CURRENT.with(|c| *c.borrow_mut() = previous);
        result
    }

    pub fn pool_threads() -> usize {
        CURRENT.with(|c| c.borrow().as_ref().map_or(1, |p| p.threads()))
    }

    pub fn for_each_job<J: Send>(jobs: Vec<J>, f: impl Fn(J) + Sync + Send) {
        match CURRENT.with(|c| c.borrow().clone()) {
            Some(pool) => run_halves(&pool.workers, jobs, &f),
            None => jobs.into_iter().for_each(f),
        }
    }

    /// Runs the two halves of `jobs` side by side, each split again until one job is left.
    fn run_halves<J: Send>(workers: &micropool::ThreadPool, mut jobs: Vec<J>, f: &(impl Fn(J) + Sync)) {
        if jobs.len() <= 1 {
            jobs.into_iter().for_each(f);
            return;
        }
        let second = jobs.split_off(jobs.len() / 2);
        workers.join(|| run_halves(workers, jobs, f), || run_halves(workers, second, f));
    }
}

#[cfg(target_arch = "wasm32")]
pub fn for_each_job<J: Send>(jobs: Vec<J>, f: impl Fn(J) + Sync + Send) {
    jobs.into_iter().for_each(f);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_a_pool_everything_is_one_share() {
        assert_eq!(threads(), 1);
        assert_eq!(shares(10, 1 << 20), vec![0..10]);
        assert_eq!(shares(0, 1), Vec::<Range<usize>>::new());
    }

    #[test]
    fn inside_a_pool_shares_cover_the_items_in_order() {
        let pool = std::sync::Arc::new(ThreadPool::new(3));
        with_pool(Some(&pool), || {
            let big = 1 << 20;
            assert_eq!(shares(10, big), vec![0..4, 4..8, 8..10]);
            assert_eq!(shares(2, big), vec![0..1, 1..2]);
            assert_eq!(shares(1000, 1), vec![0..1000], "too little work to share");
            let mut data: Vec<usize> = vec![0; 10 * 2];
            for_each_share_mut(&mut data, 2, big, |first, chunk| {
                for (i, v) in chunk.iter_mut().enumerate() {
                    *v = first * 2 + i;
                }
            });
            assert_eq!(data, (0..20).collect::<Vec<_>>());
            assert_eq!(map_shares(10, big, |r| r.len()), vec![4, 4, 2]);
        });
    }
}
