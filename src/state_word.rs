//! The state word of a handle-table slot, and its transitions as pure functions.
//!
//! `handle.rs` applies these with one atomic operation each (a CAS to enter, `fetch_or`
//! to close, `fetch_sub` to leave, plain stores while the slot is free or in a forked
//! child). Keeping them pure lets the model test below explore every interleaving of
//! calls, closes and forks over exactly the code the table runs.
//!
//! Layout: `generation << 32 | LIVE | CLOSED | TAKEN | count of calls in flight`.

pub const COUNT_MASK: u64 = (1 << 29) - 1;
/// The object was moved out (`oxs_into_fd`): the final close has nothing to drop.
pub const TAKEN: u64 = 1 << 29;
pub const CLOSED: u64 = 1 << 30;
pub const LIVE: u64 = 1 << 31;
pub const GEN_SHIFT: u32 = 32;

/// Why a call could not enter a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Not live, closed, or another generation: `OXS_ERR_BAD_HANDLE`.
    Stale,
    /// The count of calls in flight is full: `OXS_ERR_BUSY`.
    Busy,
}

/// The word after one more call enters a slot of `generation`.
#[inline(always)]
pub fn enter(state: u64, generation: u64) -> Result<u64, Refused> {
    if state >> GEN_SHIFT != generation || state & (LIVE | CLOSED) != LIVE {
        return Err(Refused::Stale);
    }
    if state & COUNT_MASK == COUNT_MASK {
        return Err(Refused::Busy);
    }
    Ok(state + 1)
}

/// Given the word before a call left (`fetch_sub(1)`): whether that call was the last one
/// in a closed slot, and so runs the final close.
#[inline(always)]
pub fn leaving_finalizes(before: u64) -> bool {
    before & COUNT_MASK == 1 && before & CLOSED != 0
}

/// A slot in the middle of its final close: LIVE and CLOSED with no call counted. Only the
/// final close is in that state (a close with calls in flight counts them, the closer's
/// own call included).
pub fn finalizing(state: u64) -> bool {
    state & (LIVE | CLOSED) == LIVE | CLOSED && state & COUNT_MASK == 0
}

/// The word of a slot freed after its final close: the next generation, not live; or,
/// when the generations are exhausted, `None` (the slot is retired with this word).
pub fn freed(state: u64) -> (u64, bool) {
    let generation = state >> GEN_SHIFT;
    if generation >= u32::MAX as u64 {
        return (generation << GEN_SHIFT, false);
    }
    ((generation + 1) << GEN_SHIFT, true)
}

/// What a forked child does with a slot (only the forking thread exists in the child:
/// the calls of the parent's other threads will never leave).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFork {
    /// Free or retired: nothing to do.
    Nothing,
    /// A parent thread was in the final close: the object may be half dropped and its
    /// descriptor number reused. Free the slot without touching either.
    FreeUntouched,
    /// Closed with calls in flight in the parent: finish the close here (drop once).
    FinishClose,
    /// Live: forget the parent's calls in flight (set the count to 0).
    ForgetCalls,
}

pub fn after_fork(state: u64) -> AfterFork {
    if state & LIVE == 0 {
        AfterFork::Nothing
    } else if finalizing(state) {
        AfterFork::FreeUntouched
    } else if state & CLOSED != 0 {
        AfterFork::FinishClose
    } else {
        AfterFork::ForgetCalls
    }
}

#[cfg(test)]
mod model {
    //! An exhaustive model check of the state word (what `loom` would do for the table,
    //! on the same transition functions): every interleaving of the atomic steps of two
    //! calls and one close on a live slot, with a fork() possible between any two steps.
    //!
    //! Checked: the object is dropped exactly once, never while a call is inside; every
    //! call either entered before the close or was refused; and in a child forked at any
    //! point, the child's decision is right: it never drops an object a parent thread is
    //! dropping (defect 6), finishes a close whose calls were in flight exactly once,
    //! and keeps a live slot live.
    use super::*;

    const GEN: u64 = 7;

    /// Program counters. A call: enter, leave (and maybe finalize: drop, then free).
    /// The close: enter, set CLOSED, leave (and maybe finalize).
    #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
    enum Pc {
        Start,
        Inside,
        Dropping, // in the final close, object being dropped
        Freeing,  // object dropped, slot not yet freed
        Done,
        Refused,
    }

    #[derive(Clone, PartialEq, Eq, Hash, Debug)]
    struct World {
        word: u64,
        pcs: Vec<Pc>, // threads 0..n-1 are calls, the last one is the close
        closed_set: bool,
        drops: u32,
    }

    fn is_close(w: &World, t: usize) -> bool {
        t == w.pcs.len() - 1
    }

    /// The successors of `w`: one atomic step of one thread.
    fn steps(w: &World) -> Vec<World> {
        let mut out = Vec::new();
        for t in 0..w.pcs.len() {
            let mut n = w.clone();
            match w.pcs[t] {
                Pc::Start => match enter(w.word, GEN) {
                    Ok(s) => {
                        n.word = s;
                        n.pcs[t] = Pc::Inside;
                    }
                    Err(_) => n.pcs[t] = Pc::Refused,
                },
                Pc::Inside if is_close(w, t) && !w.closed_set => {
                    // close(): fetch_or(CLOSED) (acquire() let it in, so it was not yet closed)
                    n.word |= CLOSED;
                    n.closed_set = true;
                }
                Pc::Inside => {
                    let before = w.word;
                    n.word = before - 1;
                    n.pcs[t] = if leaving_finalizes(before) { Pc::Dropping } else { Pc::Done };
                }
                Pc::Dropping => {
                    assert!(
                        !w.pcs.contains(&Pc::Inside),
                        "the object is dropped while a call is inside: {w:?}"
                    );
                    n.drops += 1;
                    n.pcs[t] = Pc::Freeing;
                }
                Pc::Freeing => {
                    n.word = freed(w.word).0;
                    n.pcs[t] = Pc::Done;
                }
                Pc::Done | Pc::Refused => continue,
            }
            out.push(n);
        }
        out
    }

    /// What a child forked in world `w` (by a thread that is in no call) must decide.
    fn check_fork(w: &World) {
        let decision = after_fork(w.word);
        let someone_dropping = w.pcs.iter().any(|p| matches!(p, Pc::Dropping | Pc::Freeing));
        let inside = w.pcs.iter().filter(|p| **p == Pc::Inside).count() as u64;
        match decision {
            AfterFork::Nothing => assert!(w.word & LIVE == 0, "{w:?}"),
            AfterFork::FreeUntouched => {
                assert!(someone_dropping, "the child leaks an object nobody is dropping: {w:?}")
            }
            AfterFork::FinishClose => {
                assert!(!someone_dropping, "the child would drop an object a parent thread drops: {w:?}");
                assert!(w.closed_set && inside > 0, "{w:?}");
                assert_eq!(w.drops, 0, "the child would drop the object a second time: {w:?}");
            }
            AfterFork::ForgetCalls => {
                assert!(!w.closed_set && !someone_dropping, "{w:?}");
                assert_eq!(w.word & COUNT_MASK, inside, "the count is the calls inside: {w:?}");
            }
        }
        if someone_dropping {
            assert_eq!(decision, AfterFork::FreeUntouched, "{w:?}");
        }
    }

    fn explore(calls: usize) -> usize {
        let start = World {
            word: GEN << GEN_SHIFT | LIVE,
            pcs: vec![Pc::Start; calls + 1],
            closed_set: false,
            drops: 0,
        };
        let mut seen = std::collections::HashSet::new();
        let mut todo = vec![start];
        let mut finals = 0;
        while let Some(w) = todo.pop() {
            if !seen.insert(w.clone()) {
                continue;
            }
            check_fork(&w);
            let next = steps(&w);
            if next.is_empty() {
                finals += 1;
                let close_ran = w.pcs.last() == Some(&Pc::Done);
                assert!(close_ran, "the close always enters a live slot: {w:?}");
                assert_eq!(w.drops, 1, "the object is dropped exactly once: {w:?}");
                assert_eq!(w.word, (GEN + 1) << GEN_SHIFT, "the slot is free, next generation: {w:?}");
            }
            todo.extend(next);
        }
        assert!(finals > 0);
        seen.len()
    }

    #[test]
    fn every_interleaving_of_calls_close_and_fork() {
        for calls in 1..=3 {
            let states = explore(calls);
            assert!(states > 10, "{states}");
        }
    }

    #[test]
    fn the_words_of_the_edge_cases() {
        let live = GEN << GEN_SHIFT | LIVE;
        assert_eq!(enter(live | COUNT_MASK, GEN), Err(Refused::Busy));
        assert_eq!(enter(live | CLOSED | 1, GEN), Err(Refused::Stale));
        assert_eq!(enter(live, GEN + 1), Err(Refused::Stale));
        assert_eq!(
            freed((u32::MAX as u64) << GEN_SHIFT | LIVE | CLOSED),
            ((u32::MAX as u64) << GEN_SHIFT, false)
        );
        assert_eq!(after_fork(live | CLOSED | TAKEN), AfterFork::FreeUntouched);
    }
}
