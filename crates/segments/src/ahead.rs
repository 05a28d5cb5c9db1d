//! Reads ahead on other threads, consumed in order: what a scan over
//! many row groups uses so that decompressing the next ones overlaps
//! evaluating this one, on every core.

use parking_lot::{Condvar, Mutex};
use std::collections::BTreeMap;
use std::sync::mpsc;

/// Calls `read(i)` for `i` in `0..n` and hands the results to `consume`
/// in order of `i` on the calling thread: the first `inline` on it, the
/// rest on up to `threads` threads, at most `ahead` items beyond the last
/// consumed (a scan that ends early costs no threads; a long one uses
/// every core). Stops (no further `read` starts; those under way finish
/// and are dropped) when `consume` returns false.
pub fn read_ahead<T: Send>(
    n: usize,
    inline: usize,
    threads: usize,
    ahead: usize,
    read: &(dyn Fn(usize) -> T + Sync),
    consume: &mut dyn FnMut(T) -> bool,
) {
    let inline = if threads <= 1 { n } else { inline.min(n) };
    for i in 0..inline {
        if !consume(read(i)) {
            return;
        }
    }
    let (first, n) = (inline, n - inline);
    let read = &|i: usize| read(first + i);
    if n == 0 {
        return;
    }
    if n == 1 {
        consume(read(0));
        return;
    }
    let ahead = ahead.max(1);
    // Next item to start, items consumed, stop asked.
    let state = Mutex::new((0usize, 0usize, false));
    let wake = Condvar::new();
    let (tx, rx) = mpsc::channel::<(usize, T)>();
    std::thread::scope(|scope| {
        for _ in 0..threads.min(n) {
            let tx = tx.clone();
            let (state, wake) = (&state, &wake);
            scope.spawn(move || loop {
                let i = {
                    let mut st = state.lock();
                    loop {
                        let (next, consumed, stop) = *st;
                        if stop || next >= n {
                            return;
                        }
                        if next < consumed + ahead {
                            st.0 += 1;
                            break next;
                        }
                        wake.wait(&mut st);
                    }
                };
                if tx.send((i, read(i))).is_err() {
                    return;
                }
            });
        }
        drop(tx);
        let mut pending: BTreeMap<usize, T> = BTreeMap::new();
        let mut want = 0;
        let finish = |stop: bool, consumed: usize| {
            let mut st = state.lock();
            st.1 = consumed;
            st.2 |= stop;
            wake.notify_all();
        };
        while want < n {
            if let Some(v) = pending.remove(&want) {
                want += 1;
                let go_on = consume(v);
                finish(!go_on, want);
                if !go_on {
                    return;
                }
                continue;
            }
            match rx.recv() {
                Ok((i, v)) => {
                    pending.insert(i, v);
                }
                // Every worker has ended (a read panicked: the scope
                // propagates it).
                Err(_) => return,
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn results_come_in_order_and_a_stop_ends_the_reads() {
        for threads in [1, 2, 4] {
            for inline in [0, 1, 7, 50, 60] {
                let mut got = Vec::new();
                read_ahead(50, inline, threads, 3, &|i| i * 10, &mut |v| {
                    got.push(v);
                    true
                });
                assert_eq!(got, (0..50).map(|i| i * 10).collect::<Vec<_>>());
            }

            let reads = AtomicUsize::new(0);
            let mut got = Vec::new();
            read_ahead(
                1000,
                3,
                threads,
                4,
                &|i| {
                    reads.fetch_add(1, Ordering::Relaxed);
                    i
                },
                &mut |v| {
                    got.push(v);
                    v < 9
                },
            );
            assert_eq!(got, (0..10).collect::<Vec<_>>());
            // No more than `ahead` beyond the consumed ones started.
            let n = reads.load(Ordering::Relaxed);
            assert!((10..=14).contains(&n), "{n} reads with {threads} threads");
        }
        let mut none = 0;
        read_ahead(0, 0, 2, 2, &|i| i, &mut |_| {
            none += 1;
            true
        });
        assert_eq!(none, 0);
    }
}
