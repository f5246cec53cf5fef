//! Python's object memory taken in whole arenas while many results are made.
//!
//! Why: the results of `evaluate_many` are ≈ 8.5 KB of new Python objects a household
//! (a frame's columns ≈ 1 KB), and the caller keeps them, so CPython takes fresh arenas
//! for them (1 MiB each from 3.10, 256 KiB before) and the kernel hands out their pages
//! one fault at a time as they are first written: ≈ 1.8 faults a household, each about a
//! microsecond on this project's virtual machines, and the slowest, noisiest part of
//! the call. One `madvise(MADV_POPULATE_WRITE)` (Linux 5.14) when an arena is made gives
//! all its pages at once: ≈ 32 µs for 256 pages (strace), 0.13 µs a page.
//!
//! How: while such a call runs, CPython's arena allocator is wrapped: the arena comes
//! from the allocator that was there (CPython's `mmap`), then its pages are populated.
//! Freeing goes to that same allocator, so an arena made by either can be freed by
//! either, and the wrapper can come and go at any time. It is put in only over the
//! allocator it found on its first call (CPython's own, unless another library changed
//! it before: then never), and taken out only if it is still the one installed; calls
//! inside calls and on other threads share it (a count). With the GIL held throughout.
//! Outside Linux, or when the kernel says no, nothing changes.
//!
//! Not for `evaluate` (one household): its few pages would cost a whole arena whenever
//! CPython has just freed one, as it may in a loop that drops each result.

#[cfg(target_os = "linux")]
mod linux {
    use std::ffi::{c_int, c_void};
    use std::sync::Mutex;

    /// CPython's `PyObjectArenaAllocator` (cpython/objimpl.h, 3.4 on; not in the limited
    /// API, but exported by every CPython on Linux, as `text_of`'s function is).
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct ArenaAllocator {
        ctx: *mut c_void,
        alloc: Option<unsafe extern "C" fn(*mut c_void, usize) -> *mut c_void>,
        free: Option<unsafe extern "C" fn(*mut c_void, *mut c_void, usize)>,
    }

    impl ArenaAllocator {
        /// Ours is told by its context, the address of [`STATE`] (unique to this
        /// library), not by its functions: Rust does not promise a function one address.
        fn is_ours(&self) -> bool {
            self.ctx == mark()
        }

        /// The same three words (what CPython would call).
        fn same(&self, other: &Self) -> bool {
            let words = |a: &Self| (a.ctx, a.alloc.map(|f| f as usize), a.free.map(|f| f as usize));
            words(self) == words(other)
        }
    }

    // SAFETY: the pointers are CPython's allocator functions and their context, which
    // live as long as the process; they are only called by CPython, with the GIL.
    unsafe impl Send for ArenaAllocator {}

    extern "C" {
        fn PyObject_GetArenaAllocator(allocator: *mut ArenaAllocator);
        fn PyObject_SetArenaAllocator(allocator: *mut ArenaAllocator);
        fn madvise(addr: *mut c_void, len: usize, advice: c_int) -> c_int;
    }

    /// linux/mman.h (5.14): fault in the range's pages, writable, now.
    const MADV_POPULATE_WRITE: c_int = 23;

    struct State {
        /// The allocator found on the first call (CPython's own), which ours wraps.
        under: Option<ArenaAllocator>,
        /// Calls running with ours installed.
        depth: usize,
    }

    static STATE: Mutex<State> = Mutex::new(State { under: None, depth: 0 });

    /// The allocator ours wraps (set before ours is ever installed, never unset).
    fn under() -> Option<ArenaAllocator> {
        STATE.lock().unwrap_or_else(|p| p.into_inner()).under
    }

    // Called by CPython: nothing here may unwind (a panic in an `extern "C"` function
    // aborts the process), hence no `expect`.
    unsafe extern "C" fn alloc(_: *mut c_void, size: usize) -> *mut c_void {
        let Some((ctx, Some(make))) = under().map(|u| (u.ctx, u.alloc)) else {
            return std::ptr::null_mut(); // cannot happen; CPython reports no memory
        };
        // SAFETY: the allocator CPython had, called as CPython calls it.
        let arena = unsafe { make(ctx, size) };
        if !arena.is_null() {
            // An error (an older kernel, memory short) leaves the pages to fault in as
            // before; an arena is page-aligned.
            // SAFETY: the arena just made, `size` bytes, ours until CPython frees it.
            unsafe { madvise(arena, size, MADV_POPULATE_WRITE) };
        }
        arena
    }

    unsafe extern "C" fn free(_: *mut c_void, arena: *mut c_void, size: usize) {
        if let Some((ctx, Some(release))) = under().map(|u| (u.ctx, u.free)) {
            // SAFETY: an arena of `under` (ours are), freed as CPython frees it.
            unsafe { release(ctx, arena, size) }
        }
    }

    fn mark() -> *mut c_void {
        std::ptr::addr_of!(STATE).cast_mut().cast()
    }

    fn ours() -> ArenaAllocator {
        ArenaAllocator { ctx: mark(), alloc: Some(alloc), free: Some(free) }
    }

    fn current() -> ArenaAllocator {
        let mut a = ArenaAllocator { ctx: std::ptr::null_mut(), alloc: None, free: None };
        // SAFETY: fills `a`; the GIL is held by the caller (a `Python` token).
        unsafe { PyObject_GetArenaAllocator(&mut a) };
        a
    }

    pub fn enter() -> bool {
        let mut state = STATE.lock().unwrap_or_else(|p| p.into_inner());
        let now = current();
        if !now.is_ours() {
            let under = *state.under.get_or_insert(now);
            if !now.same(&under) || under.alloc.is_none() || under.free.is_none() {
                return false; // another library's allocator: left alone
            }
            // SAFETY: with the GIL; CPython copies the struct.
            unsafe { PyObject_SetArenaAllocator(&mut ours()) };
        }
        state.depth += 1;
        true
    }

    pub fn leave() {
        let mut state = STATE.lock().unwrap_or_else(|p| p.into_inner());
        state.depth -= 1;
        if let (0, Some(mut under)) = (state.depth, state.under) {
            if current().is_ours() {
                // SAFETY: with the GIL; CPython copies the struct.
                unsafe { PyObject_SetArenaAllocator(&mut under) };
            }
        }
    }
}

use pyo3::Python;

/// Arenas populated as they are made, while it lives ([module docs](self)).
pub struct Prefault {
    #[cfg(target_os = "linux")]
    entered: bool,
}

impl Prefault {
    pub fn new(_py: Python<'_>) -> Self {
        #[cfg(target_os = "linux")]
        return Prefault { entered: linux::enter() };
        #[cfg(not(target_os = "linux"))]
        Prefault {}
    }
}

impl Drop for Prefault {
    fn drop(&mut self) {
        #[cfg(target_os = "linux")]
        if self.entered {
            linux::leave();
        }
    }
}
