//! Messages (contract §13): gathered writes and scattered reads, descriptor passing,
//! datagram batches, files, and raw socket options. One file per concern; every
//! blocking call goes through `wait::retry_io`, so timeouts, EINTR, non-blocking mode
//! and close-while-blocked behave exactly as for the §6 calls.
#![allow(non_camel_case_types)]

pub mod batch;
pub mod fds;
pub mod file;
pub mod gather;
pub mod rawopt;

use crate::addr::oxs_addr;
use std::ffi::c_void;

/// One buffer of a gathered write or scattered read: the layout of `struct iovec`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct oxs_iovec {
    /// The buffer; may be NULL when `len` is 0.
    pub base: *mut c_void,
    /// Its length in bytes.
    pub len: usize,
}

/// One datagram of a batch (`oxs_send_batch`, `oxs_recv_batch`): 168 bytes on 64-bit
/// platforms.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct oxs_datagram {
    /// Send: the datagram; receive: room for one. May be NULL when `len` is 0.
    pub buf: *mut c_void,
    /// Its length (send) or the room (receive).
    pub len: usize,
    /// Out: bytes sent; received: the datagram's full length (more than `len` when cut).
    pub nbytes: usize,
    /// Out: `OXS_OK`, `OXS_ERR_MESSAGE_TOO_LONG` (received, stored cut to `len`), or the
    /// status of the entry a send stopped at.
    pub status: i32,
    /// 0.
    pub reserved: i32,
    /// Send: where to (`len` 0: the connected peer); receive: where it came from.
    pub addr: oxs_addr,
}

const _: () = assert!(std::mem::size_of::<oxs_iovec>() == std::mem::size_of::<libc::iovec>());
const _: () = assert!(std::mem::size_of::<oxs_datagram>() == 168 || std::mem::size_of::<usize>() != 8);

/// The most buffers or datagrams one call takes (contract §13).
pub const MAX_ENTRIES: usize = 1024;

/// An all-zero `msghdr` (plain data: NULL pointers and zero lengths are a valid value;
/// some libcs add private padding fields, so it is never built field by field).
pub(crate) fn empty_msghdr() -> libc::msghdr {
    // SAFETY: msghdr is a C struct of integers and pointers; all-zero is valid.
    unsafe { std::mem::zeroed() }
}
