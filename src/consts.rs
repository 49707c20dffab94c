//! The enum-like constants of the C API (contract §4, §6, §7, §9). Those with a POSIX
//! twin carry Linux's values, so a POSIX constant passed by ported code means the same.
//! They are plain `int32_t` values, never C enum types: every one is checked on entry.

/// Unix-domain sockets (AF_UNIX): paths and Linux abstract names.
pub const OXS_DOMAIN_UNIX: i32 = 1;
/// IPv4 (AF_INET).
pub const OXS_DOMAIN_INET: i32 = 2;
/// IPv6 (AF_INET6).
pub const OXS_DOMAIN_INET6: i32 = 3;

/// A reliable byte stream (SOCK_STREAM; TCP on INET and INET6).
pub const OXS_TYPE_STREAM: i32 = 1;
/// Datagrams (SOCK_DGRAM; UDP on INET and INET6).
pub const OXS_TYPE_DGRAM: i32 = 2;
/// Raw packets (SOCK_RAW; needs CAP_NET_RAW; not on UNIX).
pub const OXS_TYPE_RAW: i32 = 3;
/// Reliable records (SOCK_SEQPACKET; UNIX only).
pub const OXS_TYPE_SEQPACKET: i32 = 4;

/// Out-of-band data (MSG_OOB; TCP only).
pub const OXS_MSG_OOB: i32 = 0x1;
/// Look at the data without consuming it (MSG_PEEK; receive only).
pub const OXS_MSG_PEEK: i32 = 0x2;
/// Do not block for this call (MSG_DONTWAIT): `OXS_ERR_WOULD_BLOCK` instead.
pub const OXS_MSG_DONTWAIT: i32 = 0x40;
/// Wait for the whole buffer (MSG_WAITALL; receive only).
pub const OXS_MSG_WAITALL: i32 = 0x100;

/// Shut down the reading side (SHUT_RD).
pub const OXS_SHUT_READ: i32 = 0;
/// Shut down the writing side (SHUT_WR): the peer reads the end of the stream.
pub const OXS_SHUT_WRITE: i32 = 1;
/// Shut down both sides (SHUT_RDWR).
pub const OXS_SHUT_BOTH: i32 = 2;

/// SO_REUSEADDR, 0/1 (IPv4 and IPv6 sockets).
pub const OXS_OPT_REUSEADDR: i32 = 1;
/// SO_REUSEPORT, 0/1 (IPv4 and IPv6 sockets).
pub const OXS_OPT_REUSEPORT: i32 = 2;
/// TCP_NODELAY, 0/1 (TCP only).
pub const OXS_OPT_NODELAY: i32 = 3;
/// SO_KEEPALIVE, 0/1 (TCP only).
pub const OXS_OPT_KEEPALIVE: i32 = 4;
/// TCP_KEEPIDLE in seconds, 1 to 32767 (TCP only).
pub const OXS_OPT_KEEPALIVE_IDLE_S: i32 = 5;
/// TCP_KEEPINTVL in seconds, 1 to 32767 (TCP only).
pub const OXS_OPT_KEEPALIVE_INTERVAL_S: i32 = 6;
/// TCP_KEEPCNT, probes, 1 to 127 (TCP only).
pub const OXS_OPT_KEEPALIVE_COUNT: i32 = 7;
/// SO_LINGER in seconds: -1 off, 0 reset the connection on close (stream and seqpacket).
pub const OXS_OPT_LINGER_S: i32 = 8;
/// SO_RCVBUF in bytes; getopt reports the kernel's value (Linux doubles what was set).
pub const OXS_OPT_RECV_BUFFER: i32 = 9;
/// SO_SNDBUF in bytes; getopt reports the kernel's value (Linux doubles what was set).
pub const OXS_OPT_SEND_BUFFER: i32 = 10;
/// Milliseconds, 0 = none: bounds read, recv, recv_from, read_exact and accept.
pub const OXS_OPT_READ_TIMEOUT_MS: i32 = 11;
/// Milliseconds, 0 = none: bounds write, send, send_to and write_all.
pub const OXS_OPT_WRITE_TIMEOUT_MS: i32 = 12;
/// Milliseconds, 0 = none: bounds connect.
pub const OXS_OPT_CONNECT_TIMEOUT_MS: i32 = 13;
/// 0/1: calls that would block return `OXS_ERR_WOULD_BLOCK`.
pub const OXS_OPT_NONBLOCKING: i32 = 14;
/// SO_BROADCAST, 0/1 (IPv4 datagram and raw sockets).
pub const OXS_OPT_BROADCAST: i32 = 15;
/// Unicast hops, 1 to 255 (IPv4 TTL / IPv6 hop limit).
pub const OXS_OPT_TTL: i32 = 16;
/// IPV6_V6ONLY, 0/1 (IPv6 sockets).
pub const OXS_OPT_V6ONLY: i32 = 17;
/// Multicast hops, 0 to 255 (datagram and raw IP sockets).
pub const OXS_OPT_MULTICAST_TTL: i32 = 18;
/// Multicast loopback, 0/1 (datagram and raw IP sockets).
pub const OXS_OPT_MULTICAST_LOOP: i32 = 19;
/// 0/1: a signal that interrupts a blocking system call on this handle (a handler
/// installed without SA_RESTART, or any handler while the handle has a timeout) makes
/// the call return `OXS_ERR_INTERRUPTED` instead of retrying it with the time left.
pub const OXS_OPT_INTERRUPTIBLE: i32 = 20;
/// Read-only: the pending socket error as an `oxs_status`; reading clears it.
pub const OXS_OPT_ERROR: i32 = 21;
/// Read-only: the socket's `OXS_DOMAIN_*`.
pub const OXS_OPT_DOMAIN: i32 = 22;
/// Read-only: the socket's `OXS_TYPE_*`.
pub const OXS_OPT_TYPE: i32 = 23;
/// Read-only, Unix domain: the peer's user id (SO_PEERCRED).
pub const OXS_OPT_PEER_UID: i32 = 24;
/// Read-only, Unix domain: the peer's process id (SO_PEERCRED).
pub const OXS_OPT_PEER_PID: i32 = 25;
/// Milliseconds, 0 = none: a deadline for the whole TLS handshake; inherited by accepted sockets.
pub const OXS_OPT_HANDSHAKE_TIMEOUT_MS: i32 = 26;
/// Read-only: 0 plain, `OXS_TLS_CLIENT` (1) or `OXS_TLS_SERVER` (2).
pub const OXS_OPT_TLS: i32 = 27;
/// Read-only: the `OXS_POLL_IN`/`OXS_POLL_OUT` bits a TLS session waits for (0 on a plain
/// socket), for event loops of their own on `oxs_fd`.
pub const OXS_OPT_TLS_WANTS: i32 = 28;

/// Readable: data, a connection to accept, or the end of the stream.
pub const OXS_POLL_IN: i32 = 0x1;
/// Writable, or a non-blocking connect has finished.
pub const OXS_POLL_OUT: i32 = 0x4;
/// An error is pending (always reported).
pub const OXS_POLL_ERR: i32 = 0x8;
/// The peer will send nothing more: an orderly close or a reset (always reported).
pub const OXS_POLL_HUP: i32 = 0x10;
/// `oxs_poll` only: the handle is not live, or was closed during the wait.
pub const OXS_POLL_INVALID: i32 = 0x20;

/// TLS sides (contract §12): the side that connects.
pub const OXS_TLS_CLIENT: i32 = 1;
/// `OXS_TLS_SERVER`: the side that accepts.
pub const OXS_TLS_SERVER: i32 = 2;

/// PEM file of trust anchors (adds to those set before).
pub const OXS_TLS_CA_FILE: i32 = 1;
/// PEM text of trust anchors (adds to those set before).
pub const OXS_TLS_CA_PEM: i32 = 2;
/// PEM file: own certificate chain, leaf first.
pub const OXS_TLS_CERT_FILE: i32 = 3;
/// PEM text: own certificate chain, leaf first.
pub const OXS_TLS_CERT_PEM: i32 = 4;
/// PEM file: own private key (PKCS#8, PKCS#1 RSA or SEC1 EC).
pub const OXS_TLS_KEY_FILE: i32 = 5;
/// PEM text: own private key.
pub const OXS_TLS_KEY_PEM: i32 = 6;
/// ALPN protocols in preference order, comma-separated: "h2,http/1.1".
pub const OXS_TLS_ALPN: i32 = 7;
/// Client: the name to verify and send (SNI).
pub const OXS_TLS_SERVER_NAME: i32 = 8;
/// Client: "peer" (default) or "none"; server: "none" (default), "optional" or "require".
pub const OXS_TLS_VERIFY: i32 = 9;
/// "1.2" (default) or "1.3".
pub const OXS_TLS_MIN_VERSION: i32 = 10;
/// Append NSS key-log lines to this file (for Wireshark); off by default, SSLKEYLOGFILE ignored.
pub const OXS_TLS_KEYLOG_FILE: i32 = 11;

/// `OXS_TLS_INFO_VERSION`: "TLSv1.2" or "TLSv1.3".
pub const OXS_TLS_INFO_VERSION: i32 = 1;
/// `OXS_TLS_INFO_CIPHER`: the suite's IANA name.
pub const OXS_TLS_INFO_CIPHER: i32 = 2;
/// `OXS_TLS_INFO_ALPN`: the agreed protocol, or "".
pub const OXS_TLS_INFO_ALPN: i32 = 3;
/// `OXS_TLS_INFO_SERVER_NAME`: the SNI name sent (client) or received (server), or "".
pub const OXS_TLS_INFO_SERVER_NAME: i32 = 4;
/// `OXS_TLS_INFO_PEER_CERT`: the peer's leaf certificate in DER (0 bytes when none).
pub const OXS_TLS_INFO_PEER_CERT: i32 = 5;
