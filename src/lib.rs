//! oxsock: the POSIX socket lifecycle behind a stable C ABI with opaque handles.
//!
//! The safe core (handles, sockets, addresses, endpoints, polling, errors) lives in the
//! top-level modules; `ffi` is the thin `extern "C"` layer over it, and the only place
//! that turns caller pointers into references. See ARCHITECTURE.md.
#![deny(unsafe_op_in_unsafe_fn)]

pub mod addr;
pub mod consts;
mod endpoint;
mod error;
mod fdset;
pub mod ffi;
mod handle;
mod hostaddr;
mod io;
mod lifecycle;
mod messages;
mod options;
pub mod poll;
pub mod poller;
mod resolve;
mod socket;
mod state_word;
pub mod status;
mod sync;
mod sys;
pub(crate) mod tls;
mod tls_endpoint;
mod tls_slot;
mod wait;
