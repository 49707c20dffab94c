//! A hidden trigger that panics inside an exported function, compiled only with the
//! `test-panic` feature, so that a test can prove panics never cross into C.

use super::{call, oxs_socket};
use crate::error::Arg;
use crate::handle;
use crate::status::*;

/// Test only: enters `s` (when non-zero) and panics while the call is in flight.
#[no_mangle]
pub extern "C" fn oxs_test_panic(s: oxs_socket) -> oxs_status {
    call("oxs_test_panic", Arg::Handle(s), || {
        let _sock = if s != 0 { Some(handle::socket(s)?) } else { None };
        panic!("oxs_test_panic: deliberate panic");
    })
}
