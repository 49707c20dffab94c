//! The library's error value and the per-thread record behind `oxs_last_error()`.
//!
//! A failing call is a hot path (a non-blocking read in a poll loop fails millions of
//! times a second), so a failure records only the operation, its argument, the status and
//! the errno; the text is built when `oxs_last_error()` asks for it.

use crate::status::*;
use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::ffi::{c_char, CStr, CString};

/// Why a call failed: a status, the OS error behind it (0 if none), and optional detail.
///
/// 16 bytes, so that a `Result` on the data path stays small: the rare detail is boxed.
#[derive(Debug)]
pub struct Error {
    pub status: oxs_status,
    pub errno: i32,
    detail: Option<Box<Detail>>,
}

#[derive(Debug)]
enum Detail {
    /// Said before the OS error (if any): "bind 127.0.0.1:80: address in use".
    Context(Cow<'static, str>),
    /// The whole text: the OS error is not appended again.
    Complete(String),
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// A failure with no OS error behind it.
    pub fn new(status: oxs_status, detail: impl Into<Cow<'static, str>>) -> Error {
        Error { status, errno: 0, detail: Some(Box::new(Detail::Context(detail.into()))) }
    }

    /// A bare status (its description is the message).
    pub fn status(status: oxs_status) -> Error {
        Error { status, errno: 0, detail: None }
    }

    /// The OS error `errno`, mapped to its status.
    pub fn os(errno: i32) -> Error {
        Error { status: from_errno(errno), errno, detail: None }
    }

    /// A `std::io::Error` from the standard library's file calls (EIO if it carries no
    /// errno, so that it can never map to OXS_OK).
    pub fn io(e: std::io::Error) -> Error {
        Error::os(e.raw_os_error().unwrap_or(libc::EIO))
    }

    /// The calling thread's current `errno`.
    pub fn last_os() -> Error {
        Error::os(errno())
    }

    /// An OS error with a status chosen by the caller (the errno is kept).
    pub fn os_as(status: oxs_status, errno: i32) -> Error {
        Error { status, errno, detail: None }
    }

    /// An error whose text is complete as given (it already names the OS error).
    pub fn complete(status: oxs_status, errno: i32, text: String) -> Error {
        Error { status, errno, detail: Some(Box::new(Detail::Complete(text))) }
    }

    /// Keeps the OS error behind a failure described by `new`.
    pub fn with_errno(mut self, errno: i32) -> Error {
        self.errno = errno;
        self
    }

    pub fn invalid(detail: impl Into<Cow<'static, str>>) -> Error {
        Error::new(OXS_ERR_INVALID_ARGUMENT, detail)
    }

    pub fn address(detail: impl Into<Cow<'static, str>>) -> Error {
        Error::new(OXS_ERR_ADDRESS, detail)
    }

    pub fn unsupported(detail: impl Into<Cow<'static, str>>) -> Error {
        Error::new(OXS_ERR_UNSUPPORTED, detail)
    }

    /// The handle's own timeout passed (no OS error: the socket is intact).
    pub fn timed_out() -> Error {
        Error::status(OXS_ERR_TIMED_OUT)
    }

    /// Adds detail in front of whatever the error already says.
    pub fn context(mut self, what: impl Into<Cow<'static, str>>) -> Error {
        let what = what.into();
        self.detail = Some(Box::new(match self.detail.take().map(|d| *d) {
            Some(Detail::Context(d)) => Detail::Context(Cow::Owned(format!("{what}: {d}"))),
            Some(Detail::Complete(d)) => Detail::Complete(format!("{what}: {d}")),
            None => Detail::Context(what),
        }));
        self
    }

    /// The message text after "op arg: ".
    pub fn text(&self) -> String {
        let os = || format!("{} (os error {})", os_text(self.errno), self.errno);
        match self.detail.as_deref() {
            Some(Detail::Complete(text)) => text.clone(),
            Some(Detail::Context(d)) if self.errno != 0 => format!("{d}: {}", os()),
            Some(Detail::Context(d)) => d.to_string(),
            None if self.errno != 0 => os(),
            None => describe(self.status).to_string(),
        }
    }
}

/// The OS's text for an errno, starting lower-case as Go's and our own messages do.
fn os_text(errno: i32) -> String {
    let text = std::io::Error::from_raw_os_error(errno).to_string();
    let text = text.split(" (os error").next().unwrap_or("").to_string();
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().collect::<String>() + chars.as_str(),
        None => text,
    }
}

/// The calling thread's errno.
pub fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// How a message learns a live socket handle's descriptor, so that it names both
/// (`handle 0x100000001 (fd 5)`): set by the handle table (which this module does not
/// name), and asked only when `oxs_last_error()` builds the text, never on the failing
/// call itself.
static HANDLE_FD: std::sync::OnceLock<fn(u64) -> Option<i32>> = std::sync::OnceLock::new();

/// Sets the lookup behind `HANDLE_FD` (once; later calls change nothing).
pub fn set_handle_fd_lookup(lookup: fn(u64) -> Option<i32>) {
    let _ = HANDLE_FD.set(lookup);
}

/// What a failing call was given, for the message. Text arguments are read again only
/// when the message is recorded, so a successful call never copies them.
#[derive(Clone, Copy)]
pub enum Arg {
    None,
    Handle(u64),
    Text(*const c_char),
    Number(i64),
}

enum SavedArg {
    None,
    Handle(u64),
    Text(String),
    Number(i64),
}

struct Record {
    op: &'static str,
    arg: SavedArg,
    error: Error,
}

#[derive(Default)]
struct Last {
    record: Option<Record>,
    text: Option<CString>,
}

thread_local! {
    static LAST: RefCell<Last> = RefCell::new(Last::default());
    /// True while `record` or `last_message` works on `LAST`: a signal handler that
    /// interrupted them must leave the record alone.
    static RECORD_BUSY: Cell<bool> = const { Cell::new(false) };
    /// A failure of an async-signal-safe call (operation, handle, status), kept apart
    /// from `LAST` because recording there allocates and frees. Plain data with no
    /// destructor: using it from a handler takes no lock and allocates nothing.
    static FROM_HANDLER: Cell<Option<(&'static str, u64, oxs_status)>> = const { Cell::new(None) };
}

/// Runs `f` on this thread's record, marked busy meanwhile; `None` when it is already
/// busy (a signal handler interrupted a call that was recording) or being torn down.
fn with_record<T>(f: impl FnOnce(&mut Last) -> T) -> Option<T> {
    let busy = RECORD_BUSY.try_with(|b| b.replace(true)).unwrap_or(true);
    if busy {
        return None;
    }
    let out = LAST.try_with(|last| last.try_borrow_mut().ok().map(|mut l| f(&mut l))).ok().flatten();
    let _ = RECORD_BUSY.try_with(|b| b.set(false));
    out
}

/// Records the failure of an async-signal-safe call (`oxs_poller_wake`): no lock, no
/// allocation, and nothing at all when the thread's record is in use (contract §14).
/// The message is built later, when `oxs_last_error()` asks.
pub fn record_from_handler(op: &'static str, handle: u64, status: oxs_status) -> oxs_status {
    if RECORD_BUSY.try_with(|b| !b.get()).unwrap_or(false) {
        let _ = FROM_HANDLER.try_with(|f| f.set(Some((op, handle, status))));
    }
    status
}

/// Moves a failure recorded by a signal handler into the regular record.
fn adopt_handler_failure(last: &mut Last) {
    if let Some((op, handle, status)) = FROM_HANDLER.try_with(|f| f.take()).ok().flatten() {
        last.record = Some(Record { op, arg: SavedArg::Handle(handle), error: Error::status(status) });
        last.text = None;
    }
}

/// Records a failure for this thread and returns its status.
pub fn record(op: &'static str, arg: Arg, error: Error) -> oxs_status {
    let status = error.status;
    let arg = match arg {
        Arg::None => SavedArg::None,
        Arg::Handle(h) => SavedArg::Handle(h),
        Arg::Number(n) => SavedArg::Number(n),
        Arg::Text(p) if p.is_null() => SavedArg::Text("(null)".into()),
        // SAFETY: the pointer came from the caller of the call still in progress, which
        // promised a NUL-terminated string; it was checked non-NULL above.
        Arg::Text(p) => SavedArg::Text(short(&unsafe { CStr::from_ptr(p) }.to_string_lossy())),
    };
    with_record(|last| {
        let _ = FROM_HANDLER.try_with(|f| f.set(None));
        last.record = Some(Record { op, arg, error });
        last.text = None;
    });
    status
}

/// Caps an argument's text so that a megabyte of garbage does not become the message.
fn short(s: &str) -> String {
    const MAX: usize = 200;
    if s.len() <= MAX {
        return s.to_string();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} bytes)", &s[..end], s.len())
}

/// This thread's last failure message, built on first request and kept until the next failure.
pub fn last_message() -> *const c_char {
    static EMPTY: &CStr = c"";
    with_record(|last| {
        adopt_handler_failure(last);
        if last.text.is_none() {
            let Some(rec) = &last.record else { return EMPTY.as_ptr() };
            let arg = match &rec.arg {
                SavedArg::None => String::new(),
                SavedArg::Handle(h) => match HANDLE_FD.get().and_then(|fd_of| fd_of(*h)) {
                    Some(fd) => format!(" handle {h:#x} (fd {fd})"),
                    None => format!(" handle {h:#x}"),
                },
                SavedArg::Text(t) => format!(" {t}"),
                SavedArg::Number(n) => format!(" {n}"),
            };
            let msg = format!("{}{}: {}", rec.op, arg, rec.error.text()).replace('\0', "\\x00");
            last.text = CString::new(msg).ok();
        }
        last.text.as_ref().map_or(EMPTY.as_ptr(), |t| t.as_ptr())
    })
    .unwrap_or(EMPTY.as_ptr())
}

/// This thread's last failure's errno (0 when none, or when it was not an OS error).
pub fn last_os_error() -> i32 {
    with_record(|last| {
        adopt_handler_failure(last);
        last.record.as_ref().map_or(0, |r| r.error.errno)
    })
    .unwrap_or(0)
}
