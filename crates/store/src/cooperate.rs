//! Handing the thread back to the browser's event loop during long compute.
//!
//! In the browser the engine runs on the worker's one thread, and a storage
//! call is a chain of promises whose every step needs that thread. While one
//! table's MERGE computes, another table's OPFS write waits for the compute
//! to end, one step at a time, unless the compute pauses now and then. A
//! future that is merely woken again does not let them run (wasm-bindgen's
//! executor polls it again in the same microtask checkpoint), so a pause
//! posts a message to itself: its continuation is a task, queued behind the
//! storage replies that already arrived.
//!
//! Natively there is nothing to hand back (the native stores do not wait on
//! an event loop), so no pause is ever due.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::channel::oneshot;

/// A pause until the browser has run the tasks queued before it. `Send`, so
/// DataFusion's streams can hold one.
pub struct Pause(oneshot::Receiver<()>);

impl Future for Pause {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // A dropped sender (the worker shutting down) ends the pause too.
        Pin::new(&mut self.0).poll(cx).map(|_| ())
    }
}

/// A pause if this thread has computed for a while since the last one.
pub fn pause_if_due() -> Option<Pause> {
    imp::pause_if_due()
}

/// Pauses if this thread has computed for a while since the last pause.
pub async fn yield_if_due() {
    if let Some(pause) = pause_if_due() {
        pause.await;
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    pub(super) fn pause_if_due() -> Option<super::Pause> {
        None
    }
}

#[cfg(target_arch = "wasm32")]
mod imp {
    use std::cell::{Cell, RefCell};
    use std::collections::VecDeque;
    use std::rc::Rc;

    use futures::channel::oneshot;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::{JsCast, JsValue};
    use web_sys::{MessageChannel, MessagePort};
    use web_time::{Duration, Instant};

    use super::Pause;

    /// The least compute between pauses (a pause costs ~0.05 ms in
    /// Chromium). Compute pauses only where it asks, so a waiting storage
    /// step may wait longer: until the next pause point.
    const SLICE: Duration = Duration::from_millis(1);

    /// One channel for every pause: each message posted to `send` ends the
    /// oldest pause still waiting.
    struct Channel {
        send: MessagePort,
        waiting: Rc<RefCell<VecDeque<oneshot::Sender<()>>>>,
        _receive: MessagePort,
        _on_message: Closure<dyn FnMut()>,
    }

    thread_local! {
        static LAST_PAUSE: Cell<Option<Instant>> = const { Cell::new(None) };
        static CHANNEL: Option<Channel> = Channel::open();
    }

    impl Channel {
        fn open() -> Option<Channel> {
            let channel = MessageChannel::new().ok()?;
            let waiting: Rc<RefCell<VecDeque<oneshot::Sender<()>>>> = Rc::default();
            let queue = waiting.clone();
            let on_message = Closure::<dyn FnMut()>::new(move || {
                LAST_PAUSE.set(Some(Instant::now()));
                if let Some(done) = queue.borrow_mut().pop_front() {
                    let _ = done.send(());
                }
            });
            let receive = channel.port1();
            receive.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
            Some(Channel {
                send: channel.port2(),
                waiting,
                _receive: receive,
                _on_message: on_message,
            })
        }

        fn pause(&self) -> Option<Pause> {
            let (done, wait) = oneshot::channel();
            self.send.post_message(&JsValue::NULL).ok()?;
            self.waiting.borrow_mut().push_back(done);
            Some(Pause(wait))
        }
    }

    pub(super) fn pause_if_due() -> Option<Pause> {
        // Never paused yet: due (one early pause costs nothing to speak of).
        if LAST_PAUSE.get().is_some_and(|last| last.elapsed() < SLICE) {
            return None;
        }
        CHANNEL.with(|c| c.as_ref().and_then(Channel::pause))
    }
}
