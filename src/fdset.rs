//! Which descriptors are owned by a live handle, so that `oxs_from_fd` can refuse a
//! descriptor that already has one. A lazily grown bitmap of atomic words: lock-free.

use once_cell::sync::OnceCell;
use std::sync::atomic::{AtomicU64, Ordering};

const WORDS_PER_CHUNK: usize = 1024; // 65,536 descriptors per chunk
const CHUNKS: usize = 1024;

#[allow(clippy::declare_interior_mutable_const)]
const NO_CHUNK: OnceCell<Box<[AtomicU64]>> = OnceCell::new();
static OWNED: [OnceCell<Box<[AtomicU64]>>; CHUNKS] = [NO_CHUNK; CHUNKS];

fn word(fd: i32) -> Option<(&'static AtomicU64, u64)> {
    let fd = usize::try_from(fd).ok()?;
    let (w, bit) = (fd / 64, fd % 64);
    let chunk = OWNED.get(w / WORDS_PER_CHUNK)?;
    let chunk = chunk.get_or_init(|| (0..WORDS_PER_CHUNK).map(|_| AtomicU64::new(0)).collect());
    Some((&chunk[w % WORDS_PER_CHUNK], 1 << bit))
}

/// Marks `fd` owned; false when it already was.
pub fn claim(fd: i32) -> bool {
    word(fd).is_some_and(|(w, bit)| w.fetch_or(bit, Ordering::AcqRel) & bit == 0)
}

/// Marks `fd` free again (before it is closed or handed back).
pub fn release(fd: i32) {
    if let Some((w, bit)) = word(fd) {
        w.fetch_and(!bit, Ordering::AcqRel);
    }
}

/// True when `fd` is owned by a live handle (never allocates).
pub fn owned(fd: i32) -> bool {
    let Ok(fd) = usize::try_from(fd) else { return false };
    let (w, bit) = (fd / 64, fd % 64);
    OWNED
        .get(w / WORDS_PER_CHUNK)
        .and_then(|c| c.get())
        .is_some_and(|chunk| chunk[w % WORDS_PER_CHUNK].load(Ordering::Acquire) & (1 << bit) != 0)
}
