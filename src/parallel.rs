//! An ordered parallel map: the render loop's groups are independent, so
//! they render on every core while the calling thread merges their results
//! in group order (issue 11). Output does not depend on the thread count.

use std::collections::BTreeMap;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

/// Items per unit of work handed to a thread.
const CHUNK: usize = 8;

/// The most threads used, whatever the machine has.
const MAX_THREADS: usize = 8;

/// The stack of every thread that parses or renders templates (reserved,
/// not committed): Tera recurses per nesting level, include and macro
/// call, which `render` bounds, and the bounds are sized for this.
pub const STACK: usize = 64 << 20;

/// How many threads to render on: `CHILDGEN_THREADS` when it is a number
/// from 1 up (for a runner shared with other jobs), else the cores this
/// process may use; at most [`MAX_THREADS`].
pub fn threads() -> usize {
    std::env::var("CHILDGEN_THREADS")
        .ok()
        .and_then(|n| n.trim().parse::<usize>().ok())
        .filter(|n| *n >= 1)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, NonZeroUsize::get))
        .min(MAX_THREADS)
}

/// Calls `work` on every item, on several threads when there are enough
/// items, and hands the results to `sink` in item order. The first `Err` of
/// `sink` stops the work (threads finish the chunk they hold) and is
/// returned.
///
/// # Errors
/// The first error `sink` returns.
pub fn ordered<T, R, E>(
    items: &[T],
    work: impl Fn(&T) -> R + Sync,
    mut sink: impl FnMut(R) -> Result<(), E>,
) -> Result<(), E>
where
    T: Sync,
    R: Send,
{
    let threads = threads();
    if threads == 1 || items.len() < 2 {
        return items.iter().try_for_each(|item| sink(work(item)));
    }
    // A few items (a typical merge request's groups) go one per unit, so
    // that they spread over the cores; many go [`CHUNK`] at a time.
    let chunk = (items.len() / (threads * 4)).clamp(1, CHUNK);
    let chunks = items.chunks(chunk).collect::<Vec<_>>();
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let (send, receive) = mpsc::channel::<(usize, Vec<R>)>();
        for _ in 0..threads.min(chunks.len()) {
            let send = send.clone();
            let (chunks, next, stop, work) = (&chunks, &next, &stop, &work);
            let worker = move || {
                while !stop.load(Ordering::Relaxed) {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(chunk) = chunks.get(index) else { break };
                    let results = chunk.iter().map(work).collect();
                    if send.send((index, results)).is_err() {
                        break;
                    }
                }
            };
            let spawned = std::thread::Builder::new()
                .stack_size(STACK)
                .spawn_scoped(scope, worker.clone());
            if spawned.is_err() {
                // The system refused a thread: this one does the work.
                worker();
            }
        }
        drop(send);
        // Chunks finished out of order wait here for their turn.
        let mut waiting: BTreeMap<usize, Vec<R>> = BTreeMap::new();
        let mut turn = 0;
        let outcome = (|| {
            for (index, results) in &receive {
                waiting.insert(index, results);
                while let Some(results) = waiting.remove(&turn) {
                    turn += 1;
                    for result in results {
                        sink(result)?;
                    }
                }
            }
            Ok(())
        })();
        if outcome.is_err() {
            stop.store(true, Ordering::Relaxed);
        }
        outcome
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_arrive_in_item_order() {
        let items: Vec<usize> = (0..1000).collect();
        let mut seen = Vec::new();
        // Later items finish first: the sink must still see them in order.
        let outcome: Result<(), ()> = ordered(
            &items,
            |i| {
                if *i < 16 {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                i * 2
            },
            |r| {
                seen.push(r);
                Ok(())
            },
        );
        assert_eq!(outcome, Ok(()));
        assert_eq!(seen, (0..1000).map(|i| i * 2).collect::<Vec<_>>());
    }

    #[test]
    fn the_first_error_in_order_stops_the_work() {
        let items: Vec<usize> = (0..2_000).collect();
        let done = AtomicUsize::new(0);
        let mut seen = 0;
        let outcome = ordered(
            &items,
            |i| {
                done.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(std::time::Duration::from_micros(200));
                if *i == 100 || *i == 50 { Err(*i) } else { Ok(()) }
            },
            |r| {
                seen += 1;
                r
            },
        );
        assert_eq!(outcome, Err(50));
        assert_eq!(seen, 51);
        // Work stops soon after the error, not after all 2,000 items.
        assert!(done.load(Ordering::Relaxed) < 1_000, "{}", done.load(Ordering::Relaxed));
    }
}
