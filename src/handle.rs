//! The handle table (contract §3).
//!
//! A handle is `generation << 32 | (slot + 1)`. Each slot has one atomic word holding its
//! generation, a LIVE bit, a CLOSED bit and the number of calls in flight, so a lookup is
//! one compare-and-swap on the slot's own cache line: no global lock on any call.
//!
//! The invariant everything rests on: the object (and so its descriptor) is dropped only
//! by the last call to leave a CLOSED slot. A descriptor number is therefore never
//! reused while a call is still using it.

use crate::error::{Error, Result};
use crate::poller::Poller;
use crate::socket::Socket;
use crate::state_word::*;
use crate::status::*;
use crate::sync::SpinLock;
use once_cell::sync::OnceCell;
use std::cell::UnsafeCell;
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// What a handle refers to.
pub enum Object {
    Socket(Socket),
    Poller(Arc<Poller>),
    TlsConfig(Arc<crate::tls::config::Config>),
}

impl Object {
    /// Marks the object closed, so that calls woken from now on answer `OXS_ERR_CLOSED`.
    fn mark_closing(&self) {
        match self {
            Object::Socket(s) => s.mark_closing(),
            Object::Poller(p) => p.mark_closing(),
            Object::TlsConfig(_) => {}
        }
    }

    /// Wakes the calls in flight on an object being closed.
    fn wake_in_flight(&self) {
        match self {
            Object::Socket(s) => s.shutdown_for_close(),
            Object::Poller(p) => p.wake_for_close(),
            Object::TlsConfig(_) => {}
        }
    }

    fn kind(&self) -> Kind {
        match self {
            Object::Socket(_) => Kind::Socket,
            Object::Poller(_) => Kind::Poller,
            Object::TlsConfig(_) => Kind::TlsConfig,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Socket,
    Poller,
    TlsConfig,
}

const CHUNK_BITS: u32 = 10;
const CHUNK: usize = 1 << CHUNK_BITS;
const MAX_CHUNKS: usize = 1024;
const MAX_SLOTS: u32 = (CHUNK * MAX_CHUNKS) as u32;

/// A slot holds its object in place (no allocation per handle). The object is
/// written only while the slot is free (not LIVE, so no call can enter), read only by
/// calls that entered, and dropped only by the last call to leave a CLOSED slot.
struct Slot {
    state: AtomicU64,
    object: UnsafeCell<MaybeUninit<Object>>,
}

// SAFETY: access to `object` follows the protocol above, ordered by `state`'s
// Release stores and Acquire loads.
unsafe impl Sync for Slot {}

struct FreeSlots {
    never_used: u32,
    released: Vec<u32>,
}

#[allow(clippy::declare_interior_mutable_const)]
const NO_CHUNK: OnceCell<Box<[Slot]>> = OnceCell::new();
static CHUNKS: [OnceCell<Box<[Slot]>>; MAX_CHUNKS] = [NO_CHUNK; MAX_CHUNKS];
static FREE: SpinLock<FreeSlots> = SpinLock::new(FreeSlots { never_used: 0, released: Vec::new() });

#[inline]
fn slot(index: u32) -> Option<&'static Slot> {
    let chunk = CHUNKS.get((index >> CHUNK_BITS) as usize)?.get()?;
    chunk.get(index as usize & (CHUNK - 1))
}

fn slot_or_create(index: u32) -> &'static Slot {
    let chunk = CHUNKS[(index >> CHUNK_BITS) as usize].get_or_init(|| {
        (0..CHUNK)
            .map(|_| Slot { state: AtomicU64::new(0), object: UnsafeCell::new(MaybeUninit::uninit()) })
            .collect()
    });
    &chunk[index as usize & (CHUNK - 1)]
}

#[inline]
fn split(handle: u64) -> Option<(u32, u64)> {
    let low = (handle & 0xffff_ffff) as u32;
    let generation = handle >> GEN_SHIFT;
    (low != 0 && generation != 0).then_some((low - 1, generation))
}

/// A call in flight on a live handle; dropping it ends the call.
pub struct Guard {
    slot: &'static Slot,
    index: u32,
    object: &'static Object,
}

impl Drop for Guard {
    fn drop(&mut self) {
        release(self.slot, self.index);
    }
}

/// A call in flight on a socket handle: the socket, and the call's place in the table
/// (held for its Drop, which ends the call).
pub struct SocketRef {
    _call: Guard,
    sock: &'static Socket,
}

impl std::ops::Deref for SocketRef {
    type Target = Socket;
    fn deref(&self) -> &Socket {
        self.sock
    }
}

#[cold]
#[inline(never)]
fn bad_handle(kind: Kind) -> Error {
    Error::new(
        OXS_ERR_BAD_HANDLE,
        match kind {
            Kind::Socket => "not a live socket handle",
            Kind::Poller => "not a live poller handle",
            Kind::TlsConfig => "not a live TLS config handle",
        },
    )
}

/// Enters a call on `handle`, which must be live and of `kind`.
#[inline(always)]
pub fn acquire(handle: u64, kind: Kind) -> Result<Guard> {
    let (index, generation) = split(handle).ok_or_else(|| bad_handle(kind))?;
    let slot = slot(index).ok_or_else(|| bad_handle(kind))?;
    let mut state = slot.state.load(Ordering::Relaxed);
    loop {
        let entered = match enter(state, generation) {
            Ok(entered) => entered,
            Err(Refused::Stale) => return Err(bad_handle(kind)),
            Err(Refused::Busy) => return Err(too_many_calls()),
        };
        match slot.state.compare_exchange_weak(state, entered, Ordering::Acquire, Ordering::Relaxed) {
            Ok(_) => break,
            Err(now) => state = now,
        }
    }
    // SAFETY: the slot is LIVE with our count taken, so its object was written before
    // the LIVE store we acquired, and stays until the count drops back (release() drops
    // it only at zero after CLOSED).
    let object = unsafe { (*slot.object.get()).assume_init_ref() };
    let guard = Guard { slot, index, object };
    if object.kind() != kind {
        return Err(bad_handle(kind));
    }
    Ok(guard)
}

/// Enters a call on a socket handle.
#[inline(always)]
pub fn socket(handle: u64) -> Result<SocketRef> {
    let guard = acquire(handle, Kind::Socket)?;
    match guard.object {
        Object::Socket(sock) => Ok(SocketRef { sock, _call: guard }),
        _ => Err(bad_handle(Kind::Socket)),
    }
}

/// Enters a call on a poller handle.
pub fn poller(handle: u64) -> Result<(Guard, &'static Arc<Poller>)> {
    let guard = acquire(handle, Kind::Poller)?;
    match guard.object {
        Object::Poller(p) => Ok((guard, p)),
        _ => Err(bad_handle(Kind::Poller)),
    }
}

/// Enters a call on a TLS config handle.
pub fn tls_config(handle: u64) -> Result<(Guard, &'static Arc<crate::tls::config::Config>)> {
    let guard = acquire(handle, Kind::TlsConfig)?;
    match guard.object {
        Object::TlsConfig(c) => Ok((guard, c)),
        _ => Err(bad_handle(Kind::TlsConfig)),
    }
}

#[inline]
fn release(slot: &'static Slot, index: u32) {
    let before = slot.state.fetch_sub(1, Ordering::Release);
    if leaving_finalizes(before) {
        std::sync::atomic::fence(Ordering::Acquire);
        finalize(slot, index);
    }
}

/// Drops the object of a closed slot with no call left in it and frees the slot.
///
/// While this runs the slot's state is LIVE | CLOSED with no call counted: only a final
/// close is in that state (a close with calls in flight counts them), which is what a
/// forked child's handler relies on (`finalizing`).
#[cold]
#[inline(never)]
fn finalize(slot: &'static Slot, index: u32) {
    let state = slot.state.load(Ordering::Acquire);
    if state & TAKEN == 0 {
        // SAFETY: the slot is CLOSED with no call left, so this thread alone reaches the
        // object, which insert() initialized and nobody moved out (no TAKEN).
        unsafe { (*slot.object.get()).assume_init_drop() };
    }
    free_slot(slot, index, state);
}

/// Gives a slot a new generation and puts it back on the free list; retires it when
/// its generations are exhausted, so that no handle value is ever issued twice.
fn free_slot(slot: &'static Slot, index: u32, state: u64) {
    let (word, reusable) = freed(state);
    slot.state.store(word, Ordering::Release);
    if reusable {
        FREE.lock().released.push(index);
    }
}

/// Puts an object in the table and returns its new handle.
pub fn insert(object: Object) -> Result<u64> {
    insert_or_give_back(object).map_err(|(e, _)| e)
}

/// `insert`, giving the object back when the table is full (so that `oxs_from_fd` can
/// leave a caller's descriptor open).
pub fn insert_or_give_back(object: Object) -> std::result::Result<u64, (Error, Object)> {
    register_fork_handler();
    let index = {
        let mut free = FREE.lock();
        match free.released.pop() {
            Some(i) => i,
            None if free.never_used < MAX_SLOTS => {
                free.never_used += 1;
                free.never_used - 1
            }
            None => return Err((Error::new(OXS_ERR_TOO_MANY_OPEN, "the handle table is full"), object)),
        }
    };
    let slot = slot_or_create(index);
    let generation = (slot.state.load(Ordering::Relaxed) >> GEN_SHIFT).max(1);
    // SAFETY: the slot is free (not LIVE): no call can enter it, so no one else reads
    // or writes the object until the Release store below publishes it.
    unsafe { (*slot.object.get()).write(object) };
    slot.state.store(generation << GEN_SHIFT | LIVE, Ordering::Release);
    Ok(generation << GEN_SHIFT | (index as u64 + 1))
}

/// Closes a handle (contract §3): at once when idle; otherwise marks it closed, wakes the
/// calls in flight, and leaves the final drop to the last of them.
pub fn close(handle: u64, kind: Kind) -> Result<()> {
    let guard = acquire(handle, kind)?;
    let before = guard.slot.state.fetch_or(CLOSED, Ordering::AcqRel);
    if before & CLOSED != 0 {
        return Err(bad_handle(kind)); // another thread's close won the race
    }
    guard.object.mark_closing();
    if before & COUNT_MASK > 1 {
        guard.object.wake_in_flight();
        if kind == Kind::Poller {
            wait_for_other_calls(&guard);
        }
    }
    drop(guard);
    Ok(())
}

/// A poller's close waits for the calls in flight on it to leave (each returns at once:
/// a wait is woken, the others are short), so that the close itself drops the poller.
/// Then `oxs_poller_wake`, which a signal handler may call, never runs a final close —
/// which takes a lock and frees memory, neither of them async-signal-safe.
fn wait_for_other_calls(guard: &Guard) {
    while guard.slot.state.load(Ordering::Acquire) & COUNT_MASK > 1 {
        std::thread::yield_now();
    }
}

/// Enters a call on a poller from a signal handler's path (`oxs_poller_wake`): no lock,
/// no allocation — a failure is a bare status, with no message built.
pub fn poller_signal_safe(handle: u64) -> std::result::Result<(Guard, &'static Arc<Poller>), oxs_status> {
    let (index, generation) = split(handle).ok_or(OXS_ERR_BAD_HANDLE)?;
    let slot = slot(index).ok_or(OXS_ERR_BAD_HANDLE)?;
    let mut state = slot.state.load(Ordering::Relaxed);
    loop {
        let entered = match enter(state, generation) {
            Ok(entered) => entered,
            Err(Refused::Stale) => return Err(OXS_ERR_BAD_HANDLE),
            Err(Refused::Busy) => return Err(OXS_ERR_BUSY),
        };
        match slot.state.compare_exchange_weak(state, entered, Ordering::Acquire, Ordering::Relaxed) {
            Ok(_) => break,
            Err(now) => state = now,
        }
    }
    // SAFETY: as in acquire(): LIVE with our count taken.
    let object = unsafe { (*slot.object.get()).assume_init_ref() };
    let guard = Guard { slot, index, object };
    match object {
        Object::Poller(p) => Ok((guard, p)),
        _ => Err(OXS_ERR_BAD_HANDLE), // dropping the guard: not the last
    }
}

/// Removes an idle handle from the table and hands its object to the caller, without
/// dropping it (`oxs_into_fd`). With calls in flight: `OXS_ERR_BUSY`, nothing changed.
pub fn take(handle: u64, kind: Kind) -> Result<Object> {
    let guard = acquire(handle, kind)?;
    let generation = handle >> GEN_SHIFT;
    let idle = generation << GEN_SHIFT | LIVE | 1;
    if let Err(now) =
        guard.slot.state.compare_exchange(idle, idle | CLOSED, Ordering::AcqRel, Ordering::Relaxed)
    {
        return Err(if now & CLOSED != 0 {
            bad_handle(kind)
        } else {
            Error::new(OXS_ERR_BUSY, "calls are in flight on the handle")
        });
    }
    // SAFETY: the slot is CLOSED with our call alone in it: nobody else reads the object,
    // and TAKEN (set next, before our guard leaves) stops finalize() from dropping it.
    let object = unsafe { (*guard.slot.object.get()).assume_init_read() };
    guard.slot.state.fetch_or(TAKEN, Ordering::AcqRel);
    drop(guard); // finalize() only frees the slot
    Ok(object)
}

fn register_fork_handler() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: registering a plain extern "C" function with no arguments.
        unsafe { libc::pthread_atfork(None, None, Some(after_fork_in_child)) };
        crate::error::set_handle_fd_lookup(socket_fd);
    });
}

/// A live socket handle's descriptor, for error messages (`handle 0x100000001 (fd 5)`).
fn socket_fd(handle: u64) -> Option<i32> {
    socket(handle).ok().map(|s| s.fd())
}

/// In a forked child only the forking thread exists: calls that were in flight in the
/// parent will never leave, so their counts are dropped and held locks are reset
/// (contract §1, fork()).
extern "C" fn after_fork_in_child() {
    FREE.reset_after_fork();
    for (c, chunk) in CHUNKS.iter().enumerate() {
        let Some(chunk) = chunk.get() else { continue };
        for (i, slot) in chunk.iter().enumerate() {
            let state = slot.state.load(Ordering::Relaxed);
            let index = (c * CHUNK + i) as u32;
            match after_fork(state) {
                AfterFork::Nothing => {}
                // A thread of the parent was in the middle of this slot's final close (a
                // lingering close(2), say): the object may be half dropped and its
                // descriptor number already reused by another open. Leave both alone —
                // at worst the child keeps one descriptor open — and free the slot.
                AfterFork::FreeUntouched => free_slot(slot, index, state),
                AfterFork::FinishClose => {
                    reset_socket_locks(slot);
                    // Closed while calls were in flight in the parent: finish it here.
                    slot.state.store(state & !COUNT_MASK | 1, Ordering::Relaxed);
                    release(slot, index);
                }
                AfterFork::ForgetCalls => {
                    reset_socket_locks(slot);
                    slot.state.store(state & !COUNT_MASK, Ordering::Relaxed);
                }
            }
        }
    }
}

/// Resets the small lock of a live slot's socket in a forked child.
fn reset_socket_locks(slot: &Slot) {
    // SAFETY: called for LIVE slots that are not finalizing (so the object is initialized
    // and whole), in a child where no other thread exists.
    if let Object::Socket(s) = unsafe { (*slot.object.get()).assume_init_ref() } {
        s.reset_after_fork();
    }
}

#[cold]
#[inline(never)]
fn too_many_calls() -> Error {
    Error::new(OXS_ERR_BUSY, "too many calls in flight on one handle")
}
