//! One-call endpoints (contract §8): `oxs_dial` and `oxs_listen_on` for URLs such as
//! `tcp://host:port?nodelay=1`, `udp://…`, `unix:///path`, `unix://@name`.
//!
//! `url` reads the URL once into typed settings; `listen` and `dial` build the socket.

mod dial;
mod listen;
mod url;

pub use dial::dial;
pub use listen::listen_on;
