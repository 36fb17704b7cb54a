//! DataLoader batches that do not depend on a timer.
//!
//! async-graphql's `DataLoader` collects keys, then loads them in a task it spawns, which waits a
//! delay (1 ms by default) before it takes the keys collected so far. On a busy machine the
//! resolvers of one list may not all have asked within that millisecond, so one list became two
//! or more statements, and an overload grew the work per request (the hub benchmark: 18 → 118
//! statements per request past saturation).
//!
//! Here the loaders' tasks are not spawned: they wait in a per-request [`Batches`] queue and run
//! inside the request's own future ([`Batches::drive`]), only after the resolver tree has been
//! polled and can make no further progress, with no delay. Every key the tree asks for in one
//! pass is in one batch however slowly the machine runs: the batch is decided by the shape of
//! the query, not by the clock. (A library would have to own the executor for this; async-graphql
//! offers the spawner hook, which is what this uses.)

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use async_graphql::dataloader::{DataLoader, HashMapCache};
use futures_util::future::BoxFuture;
use futures_util::stream::{FuturesUnordered, StreamExt as _};

/// The load tasks of one request's DataLoaders, run by [`Batches::drive`].
#[derive(Clone, Default)]
pub struct Batches {
    queue: Arc<Mutex<Vec<BoxFuture<'static, ()>>>>,
}

impl Batches {
    /// A DataLoader whose loads run inside this request's [`Batches::drive`], with no delay.
    ///
    /// Its loads wait until the future given to `drive` is polled: a loader made here and used
    /// outside `drive` never answers. Its `Loader::load` must not itself load through a
    /// DataLoader of the same `Batches`: such a key may join a batch that waits for the next
    /// pass, which waits for this load (no loader here does; they only query the database).
    pub fn loader<T: Send + Sync + 'static>(&self, loader: T) -> DataLoader<T> {
        let queue = Arc::clone(&self.queue);
        DataLoader::new(loader, move |task: BoxFuture<'static, ()>| {
            queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(task);
        })
        .delay(Duration::ZERO)
    }

    /// Like [`Batches::loader`], with a per-request cache: a key loaded (or fed with
    /// `feed_many`) once is answered from the cache for the rest of the request.
    pub fn cached_loader<T: Send + Sync + 'static>(&self, loader: T) -> DataLoader<T, HashMapCache> {
        let queue = Arc::clone(&self.queue);
        DataLoader::with_cache(
            loader,
            move |task: BoxFuture<'static, ()>| {
                queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(task);
            },
            HashMapCache::default(),
        )
        .delay(Duration::ZERO)
    }

    /// Runs `request` (the schema's execution) with the loads its resolvers queue, in passes:
    /// first the resolvers, until they wait; then every load they asked for, each with all its
    /// keys; the keys asked once those answered wait until all of them have, and are the next pass.
    pub fn drive<F: Future>(&self, request: F) -> Driven<F> {
        Driven {
            request: Box::pin(request),
            queue: Arc::clone(&self.queue),
            running: FuturesUnordered::new(),
            waiting: Vec::new(),
            woken: Arc::default(),
        }
    }
}

/// The future of [`Batches::drive`].
pub struct Driven<F> {
    request: Pin<Box<F>>,
    queue: Arc<Mutex<Vec<BoxFuture<'static, ()>>>>,
    running: FuturesUnordered<BoxFuture<'static, ()>>,
    /// Loads the resolvers asked for, to start with the next pass.
    waiting: Vec<BoxFuture<'static, ()>>,
    woken: Arc<Woken>,
}

/// The waker the request is polled with: it tells whether the request woke itself while it was
/// polled (a resolver that yields, a join of many futures that hands the thread back), which
/// means it is not waiting for its loads yet.
#[derive(Default)]
struct Woken {
    during_poll: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl Wake for Woken {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.during_poll.store(true, Ordering::SeqCst);
        if let Some(waker) = self.waker.lock().unwrap_or_else(std::sync::PoisonError::into_inner).as_ref() {
            waker.wake_by_ref();
        }
    }
}

impl<F: Future> Future for Driven<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        {
            let mut stored = this.woken.waker.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if !stored.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                *stored = Some(cx.waker().clone());
            }
        }
        loop {
            // The loads of the current pass, with any load task a load queues (a `Loader` must not
            // use a DataLoader of the same `Batches`, see `Batches::loader`); one that waits on
            // I/O wakes this future when it can go on.
            loop {
                while let Poll::Ready(Some(())) = this.running.poll_next_unpin(cx) {}
                let nested = std::mem::take(&mut *this.queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
                if nested.is_empty() {
                    break;
                }
                this.running.extend(nested);
            }
            // The resolvers, whenever this future is polled: a load that answered or their own
            // I/O may have woken them (one may hold a pooled connection a load waits for).
            this.woken.during_poll.store(false, Ordering::SeqCst);
            let waker = Waker::from(Arc::clone(&this.woken));
            if let Poll::Ready(out) = this.request.as_mut().poll(&mut Context::from_waker(&waker)) {
                return Poll::Ready(out);
            }
            this.waiting
                .extend(std::mem::take(&mut *this.queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner)));
            if this.woken.during_poll.load(Ordering::SeqCst) {
                // The resolvers handed the thread back but have more to do: they are polled again
                // (the wake is scheduled) before any load starts.
                return Poll::Pending;
            }
            // The resolvers wait. The next pass starts only once every load of this one has
            // answered: a resolver whose load answered early asks for its next keys on its own,
            // and starting them at once would split the next pass over as many batches as loads
            // finishing at different moments (the clock deciding, not the query).
            if !this.running.is_empty() || this.waiting.is_empty() {
                return Poll::Pending;
            }
            this.running.extend(this.waiting.drain(..));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::atomic::AtomicUsize;

    use async_graphql::dataloader::Loader;

    use super::*;

    struct Counting {
        batches: Arc<Mutex<Vec<Vec<u32>>>>,
    }

    impl Loader<u32> for Counting {
        type Value = u32;
        type Error = Arc<String>;

        async fn load(&self, keys: &[u32]) -> Result<HashMap<u32, u32>, Self::Error> {
            let mut sorted = keys.to_vec();
            sorted.sort_unstable();
            self.batches.lock().expect("not poisoned").push(sorted);
            Ok(keys.iter().map(|k| (*k, k * 10)).collect())
        }
    }

    /// 200 resolvers ask one key each, each after a yield and with the machine made slow: one
    /// batch, however long the pass takes.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_pass_of_the_resolvers_is_one_batch_however_slow() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let batches = Batches::default();
        let loader = batches.loader(Counting { batches: Arc::clone(&seen) });
        let slow = AtomicUsize::new(0);
        let resolvers = (0..200u32).map(|k| {
            let loader = &loader;
            let slow = &slow;
            async move {
                // Far longer than the 1 ms the default DataLoader waits.
                let until = std::time::Instant::now() + Duration::from_micros(50);
                while std::time::Instant::now() < until {
                    slow.fetch_add(1, Ordering::Relaxed);
                }
                // A resolver that hands the thread back before it asks (as a join of many
                // futures does) is still part of the pass.
                if k % 3 == 0 {
                    tokio::task::yield_now().await;
                }
                loader.load_one(k).await.expect("loads")
            }
        });
        let answers = batches.drive(futures_util::future::join_all(resolvers)).await;
        assert_eq!(answers, (0..200u32).map(|k| Some(k * 10)).collect::<Vec<_>>());
        assert_eq!(seen.lock().expect("not poisoned").len(), 1, "one batch for one pass");

        // A second pass (keys asked after the first batch answered) is a second batch.
        let again = batches.drive(async {
            let first = loader.load_one(1000).await.expect("loads");
            let second = loader.load_one(2000).await.expect("loads");
            (first, second)
        });
        assert_eq!(again.await, (Some(10_000), Some(20_000)));
        assert_eq!(seen.lock().expect("not poisoned").len(), 3);
    }

    /// Two loads of one pass that answer at different moments are followed by one batch of the
    /// keys that their resolvers ask next, not one batch per load that answered.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_next_pass_waits_for_every_load_of_this_one() {
        struct Slow {
            delay: Duration,
        }
        impl Loader<u32> for Slow {
            type Value = u32;
            type Error = Arc<String>;
            async fn load(&self, keys: &[u32]) -> Result<HashMap<u32, u32>, Self::Error> {
                tokio::time::sleep(self.delay).await;
                Ok(keys.iter().map(|k| (*k, k + 1)).collect())
            }
        }
        let seen = Arc::new(Mutex::new(Vec::new()));
        let batches = Batches::default();
        let fast = batches.loader(Slow { delay: Duration::from_millis(1) });
        let slow = batches.loader(Slow { delay: Duration::from_millis(60) });
        let next = batches.loader(Counting { batches: Arc::clone(&seen) });
        let (a, b) = batches
            .drive(futures_util::future::join(
                async {
                    let k = fast.load_one(1).await.expect("loads").expect("found");
                    next.load_one(k).await.expect("loads")
                },
                async {
                    let k = slow.load_one(10).await.expect("loads").expect("found");
                    next.load_one(k).await.expect("loads")
                },
            ))
            .await;
        assert_eq!((a, b), (Some(20), Some(110)));
        assert_eq!(*seen.lock().expect("not poisoned"), vec![vec![2, 11]], "one batch for the second pass");
    }
}
