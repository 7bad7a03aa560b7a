//! Pipelines no first frame drawn on the CPU draws with: on a CPU adapter
//! each pipeline is compiled, 2 to 5 ms of CPU, and making them before the
//! first frame delays it. The rects' and the composite's are made on a
//! thread of their own at once and waited for at their first use; the
//! cursor's smear and the rects' shapes are never started, so they are
//! made at their first use, if any (on a GPU all are made at once).

use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

pub struct Later<T: Send + 'static>(State<T>);

enum State<T> {
    /// Not begun: how to make it.
    Pending(Box<dyn FnOnce() -> T + Send>),
    Making(JoinHandle<T>),
    Made(T),
    /// Only while changing state.
    Gone,
}

impl<T: Send + 'static> Later<T> {
    pub fn pending(make: impl FnOnce() -> T + Send + 'static) -> Later<T> {
        Later(State::Pending(Box::new(make)))
    }

    /// Starts making it on a thread of its own, if not begun.
    pub fn start(&mut self) {
        if !matches!(self.0, State::Pending(_)) {
            return;
        }
        let State::Pending(make) = std::mem::replace(&mut self.0, State::Gone) else {
            unreachable!("matched above")
        };
        // Kept here as well: if no thread can be had, it stays pending.
        let ours = Arc::new(Mutex::new(Some(make)));
        let theirs = ours.clone();
        let spawned = std::thread::Builder::new().name("vireo-later".into()).spawn(move || {
            let make = theirs.lock().unwrap_or_else(PoisonError::into_inner).take();
            make.expect("taken only here once the thread runs")()
        });
        self.0 = match spawned {
            Ok(thread) => State::Making(thread),
            Err(e) => {
                log::debug!("no thread for pipelines, made at their first use: {e}");
                let make = ours.lock().unwrap_or_else(PoisonError::into_inner).take();
                State::Pending(make.expect("the thread never ran"))
            }
        };
    }

    /// It, made here or waited for if not yet.
    pub fn get(&mut self) -> &mut T {
        let made = match std::mem::replace(&mut self.0, State::Gone) {
            State::Pending(make) => make(),
            State::Making(thread) => thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            State::Made(made) => made,
            State::Gone => unreachable!("only while changing state"),
        };
        self.0 = State::Made(made);
        match &mut self.0 {
            State::Made(made) => made,
            _ => unreachable!("made above"),
        }
    }

    /// It, if made already (its thread done).
    pub fn ready(&mut self) -> Option<&mut T> {
        if matches!(&self.0, State::Making(thread) if thread.is_finished()) {
            self.get();
        }
        match &mut self.0 {
            State::Made(made) => Some(made),
            _ => None,
        }
    }
}

impl<T: Send + 'static> Drop for Later<T> {
    /// Waits for a thread still making it: the process must not exit with
    /// the driver compiling.
    fn drop(&mut self) {
        if let State::Making(thread) = std::mem::replace(&mut self.0, State::Gone) {
            thread.join().ok();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_on_a_thread_once_started_or_here_at_first_use() {
        let mut started = Later::pending(|| std::thread::current().name().map(str::to_owned));
        assert!(started.ready().is_none(), "nothing is made before it is asked for");
        started.start();
        started.start();
        while started.ready().is_none() {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        assert_eq!(started.get().as_deref(), Some("vireo-later"), "made on its own thread");
        assert!(started.ready().is_some());

        let mut asked = Later::pending(|| std::thread::current().id());
        assert_eq!(*asked.get(), std::thread::current().id(), "never started: made where first used");
        asked.start();
        assert_eq!(*asked.get(), std::thread::current().id(), "made once");
    }
}
