//! Options and multicast (contract §7).

use super::{call, out, oxs_socket, text};
use crate::error::Arg;
use crate::handle;
use crate::options;
use crate::status::*;
use std::ffi::c_char;

/// Sets option `option` (`OXS_OPT_*`) to `value`. A change applies to calls that start
/// after it. Timeouts are milliseconds, 0 = none.
///
/// Errors: `OXS_ERR_BAD_HANDLE`; `OXS_ERR_INVALID_ARGUMENT` for an unknown option or a
/// value out of range (a negative timeout or buffer size, a TTL above 255, a flag other
/// than 0/1), with a message naming the option; `OXS_ERR_UNSUPPORTED` for a read-only
/// option or one that does not apply to the socket (NODELAY on UDP, a TCP option on a
/// Unix socket). Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_setopt(s: oxs_socket, option: i32, value: i64) -> oxs_status {
    call("oxs_setopt", Arg::Number(option as i64), || options::set(&*handle::socket(s)?, option, value))
}

/// Reads option `option` (`OXS_OPT_*`) into `*value` (left alone on failure). Buffer
/// sizes are the kernel's values (Linux doubles what was set); `OXS_OPT_ERROR` reads and
/// clears the pending socket error, as an `oxs_status`.
///
/// Errors: `OXS_ERR_BAD_HANDLE`, `OXS_ERR_INVALID_ARGUMENT` (unknown option, `value`
/// NULL), `OXS_ERR_UNSUPPORTED` (does not apply), `OXS_ERR_NOT_CONNECTED`
/// (`OXS_OPT_PEER_*` with no peer). Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_getopt(s: oxs_socket, option: i32, value: *mut i64) -> oxs_status {
    call("oxs_getopt", Arg::Number(option as i64), || {
        // SAFETY: value is NULL or a caller's writable int64_t.
        let value = unsafe { out(value, "value") }?;
        *value = options::get(&*handle::socket(s)?, option)?;
        Ok(())
    })
}

fn membership(
    op: &'static str,
    s: oxs_socket,
    group: *const c_char,
    interface: *const c_char,
    join: bool,
) -> oxs_status {
    call(op, Arg::Text(group), || {
        let sock = handle::socket(s)?;
        // SAFETY: group is NULL or a NUL-terminated string; interface likewise (NULL allowed).
        let group = unsafe { text(group, "group") }?;
        let interface = if interface.is_null() {
            None
        } else {
            // SAFETY: as above.
            Some(unsafe { text(interface, "interface") }?)
        };
        options::multicast(&sock, group, interface, join)
    })
}

/// Joins multicast group `group` (an IPv4 or IPv6 group address of the socket's domain)
/// on `interface` (may be NULL: any): an interface name, a decimal interface index, or
/// (IPv4) a local address.
///
/// Errors: `OXS_ERR_BAD_HANDLE`, `OXS_ERR_INVALID_ARGUMENT` (`group` NULL),
/// `OXS_ERR_ADDRESS` (not a multicast group, wrong family, unknown interface),
/// `OXS_ERR_UNSUPPORTED` (not an IP datagram socket), `OXS_ERR_ADDRESS_IN_USE` (already
/// joined). Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_join_multicast(
    s: oxs_socket,
    group: *const c_char,
    interface: *const c_char,
) -> oxs_status {
    membership("oxs_join_multicast", s, group, interface, true)
}

/// Leaves a multicast group joined with `oxs_join_multicast`. Errors: as that call, and
/// `OXS_ERR_ADDRESS_NOT_AVAILABLE` when the group was not joined. Thread-safe.
#[no_mangle]
pub extern "C" fn oxs_leave_multicast(
    s: oxs_socket,
    group: *const c_char,
    interface: *const c_char,
) -> oxs_status {
    membership("oxs_leave_multicast", s, group, interface, false)
}
