//! Runs the C contract programs for API.md §14 and issue 12 (what a real port needs),
//! through the C ABI, natively and under valgrind, as tests/c_core.rs runs its own:
//!
//! - `ports_addr`: oxs_addr_host (against glibc's inet_ntop), oxs_addr_unmap (also on a
//!   real dual-stack accept), oxs_resolve_host (against glibc's getaddrinfo), and
//!   oxs_resolve's domain filter for numeric hosts (issue 12, bug 1);
//! - `ports_pollfd`: oxs_poller_add_fd/modify_fd/remove_fd with pipes, stdin, an
//!   eventfd, a timerfd and a socket other code owns; every error of §14; descriptors
//!   closed while registered, and their numbers coming back as socket handles;
//! - `ports_endpoints`: dial with `?broadcast=1` to a broadcast address (bug 2), when
//!   each query key of §8 takes effect, the brackets message (bug 3), and messages that
//!   name a live handle's descriptor.
//!
//! `ports_addr` also needs a host name with both families: as root, with `unshare`, it
//! runs in a private mount namespace whose `/etc/hosts` adds `oxs-dual`.

mod common;

#[test]
fn c_ports_host_text_unmap_and_resolve_host() {
    common::run_c_check("ports_addr", true);
}

#[test]
fn c_ports_foreign_descriptors_in_a_poller() {
    common::run_c_check("ports_pollfd", false);
}

#[test]
fn c_ports_endpoint_query_keys_and_messages() {
    common::run_c_check("ports_endpoints", false);
}
