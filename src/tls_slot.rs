//! The TLS part of every socket (contract §12), as the socket sees it: a slot that is
//! empty on a plain socket, and otherwise holds the handshake timeout and the TLS state
//! (the tls module puts it there). It knows nothing of rustls, so that `socket` need not
//! depend on `tls`: the socket only asks whether the descriptor must stay O_NONBLOCK and
//! tells the state when its descriptor is about to close.

use once_cell::sync::OnceCell;
use std::any::Any;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

/// What a socket's TLS state does for the socket itself.
pub(crate) trait TlsState: Send + Sync + 'static {
    /// The final close: send what the kernel takes at once, never wait.
    fn on_close(&self, fd: i32);
    /// True for a session (its descriptor stays O_NONBLOCK), false for a listener's config.
    fn is_session(&self) -> bool;
    fn as_any(&self) -> &dyn Any;
}

/// One pointer per socket, allocated only on sockets that use TLS or its handshake
/// timeout, so a plain socket grows by 8 bytes.
#[derive(Default)]
pub(crate) struct SocketTls {
    /// Null, or a `Box<Inner>` set once and freed when the socket drops.
    inner: AtomicPtr<Inner>,
}

#[derive(Default)]
struct Inner {
    handshake_timeout_ms: AtomicU64,
    state: OnceCell<Box<dyn TlsState>>,
}

impl Drop for SocketTls {
    fn drop(&mut self) {
        let p = *self.inner.get_mut();
        if !p.is_null() {
            // SAFETY: p came from Box::into_raw in inner() and is freed only here, once.
            drop(unsafe { Box::from_raw(p) });
        }
    }
}

impl SocketTls {
    #[inline]
    fn get(&self) -> Option<&Inner> {
        let p = self.inner.load(Ordering::Acquire);
        // SAFETY: a non-null pointer is a live Box<Inner> until this SocketTls drops.
        (!p.is_null()).then(|| unsafe { &*p })
    }

    fn inner(&self) -> &Inner {
        if let Some(i) = self.get() {
            return i;
        }
        let new = Box::into_raw(Box::<Inner>::default());
        match self.inner.compare_exchange(std::ptr::null_mut(), new, Ordering::AcqRel, Ordering::Acquire) {
            // SAFETY: we just published it; it lives until this SocketTls drops.
            Ok(_) => unsafe { &*new },
            Err(existing) => {
                // SAFETY: `new` was never published; `existing` is live as above.
                unsafe {
                    drop(Box::from_raw(new));
                    &*existing
                }
            }
        }
    }

    /// The TLS state, if any.
    #[inline]
    pub fn state(&self) -> Option<&dyn TlsState> {
        self.get()?.state.get().map(|b| b.as_ref())
    }

    /// True when the descriptor must stay O_NONBLOCK (a TLS session).
    pub fn is_on(&self) -> bool {
        self.state().is_some_and(|s| s.is_session())
    }

    /// True on a TLS socket or a `tls://` listener.
    pub fn is_tls(&self) -> bool {
        self.state().is_some()
    }

    pub fn handshake_timeout_ms(&self) -> u64 {
        self.get().map_or(0, |i| i.handshake_timeout_ms.load(Ordering::Relaxed))
    }

    pub fn set_handshake_timeout_ms(&self, ms: u64) {
        if ms != 0 || self.get().is_some() {
            self.inner().handshake_timeout_ms.store(ms, Ordering::Relaxed);
        }
    }

    /// Installs the TLS state; false when the socket already has one.
    pub fn install(&self, state: Box<dyn TlsState>) -> bool {
        self.inner().state.set(state).is_ok()
    }

    /// The socket's final close (see `TlsState::on_close`).
    pub fn on_close(&self, fd: i32) {
        if let Some(s) = self.state() {
            s.on_close(fd);
        }
    }
}
