//! Free lists of small blocks in front of another allocator. An assessment makes and
//! drops many small values of a few sizes; reusing a block of the same size class from a
//! list is cheaper than a trip through the general allocator.
//!
//! Blocks of at most [`MAX_SMALL`] bytes (alignment at most [`CLASS`]) are rounded up to a
//! multiple of [`CLASS`]; a freed one goes onto the list of its class and is never given
//! back to the inner allocator (the lists hold at most the peak of small blocks in use).
//! Larger or more aligned blocks go straight to the inner allocator.
//!
//! Not thread-safe: the lists are plain cells. It is `Sync` (as a global allocator must
//! be) only on wasm32 without the atomics feature, where there is one thread.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::UnsafeCell;
use std::ptr::{self, null_mut};

/// The size-class step, and the largest alignment served from the lists.
pub const CLASS: usize = 16;
/// The largest block served from the lists.
pub const MAX_SMALL: usize = 1024;
const CLASSES: usize = MAX_SMALL / CLASS;

pub struct Pooled<A> {
    inner: A,
    /// Per class, the first free block; a free block's first word is the next one.
    heads: UnsafeCell<[*mut u8; CLASSES]>,
}

// SAFETY: wasm32 without atomics has a single thread, so the lists are never touched
// from two threads.
#[cfg(all(target_family = "wasm", not(target_feature = "atomics")))]
unsafe impl<A: Sync> Sync for Pooled<A> {}

impl<A> Pooled<A> {
    pub const fn new(inner: A) -> Self {
        Pooled { inner, heads: UnsafeCell::new([null_mut(); CLASSES]) }
    }

    /// The class of a layout, or None for the inner allocator.
    #[inline]
    fn class(layout: Layout) -> Option<usize> {
        if layout.size() <= MAX_SMALL && layout.align() <= CLASS {
            Some(layout.size().max(1).div_ceil(CLASS) - 1)
        } else {
            None
        }
    }

    // The inner allocator out of line: the fast paths are inlined at every allocation
    // site, the rest would make the module much bigger for nothing.
    #[inline(never)]
    unsafe fn inner_alloc(&self, layout: Layout) -> *mut u8
    where
        A: GlobalAlloc,
    {
        unsafe { self.inner.alloc(layout) }
    }

    #[inline(never)]
    unsafe fn inner_dealloc(&self, p: *mut u8, layout: Layout)
    where
        A: GlobalAlloc,
    {
        unsafe { self.inner.dealloc(p, layout) }
    }

    #[inline]
    fn block_layout(class: usize) -> Layout {
        // (class + 1) * CLASS ≤ MAX_SMALL, a power-of-two alignment: always valid.
        unsafe { Layout::from_size_align_unchecked((class + 1) * CLASS, CLASS) }
    }
}

unsafe impl<A: GlobalAlloc> GlobalAlloc for Pooled<A> {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let Some(c) = Self::class(layout) else { return self.inner_alloc(layout) };
        let heads = &mut *self.heads.get();
        let head = heads[c];
        if head.is_null() {
            return self.inner_alloc(Self::block_layout(c));
        }
        heads[c] = ptr::read(head as *const *mut u8);
        head
    }

    #[inline]
    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        let Some(c) = Self::class(layout) else { return self.inner_dealloc(p, layout) };
        let heads = &mut *self.heads.get();
        // Blocks are at least CLASS bytes, CLASS-aligned: room for the link.
        ptr::write(p as *mut *mut u8, heads[c]);
        heads[c] = p;
    }

    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
        match (Self::class(layout), Self::class(new_layout)) {
            (None, None) => self.inner.realloc(p, layout, new_size),
            (Some(a), Some(b)) if a == b => p,
            _ => {
                let q = self.alloc(new_layout);
                if !q.is_null() {
                    ptr::copy_nonoverlapping(p, q, layout.size().min(new_size));
                    self.dealloc(p, layout);
                }
                q
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::alloc::System;

    #[test]
    fn classes() {
        let l = |s, a| Layout::from_size_align(s, a).unwrap();
        assert_eq!(Pooled::<System>::class(l(1, 1)), Some(0));
        assert_eq!(Pooled::<System>::class(l(16, 8)), Some(0));
        assert_eq!(Pooled::<System>::class(l(17, 8)), Some(1));
        assert_eq!(Pooled::<System>::class(l(1024, 16)), Some(63));
        assert_eq!(Pooled::<System>::class(l(1025, 1)), None);
        assert_eq!(Pooled::<System>::class(l(8, 32)), None);
    }

    #[test]
    fn blocks_are_reused_and_kept_apart() {
        let a = Pooled::new(System);
        unsafe {
            let l24 = Layout::from_size_align(24, 8).unwrap();
            let p = a.alloc(l24);
            let q = a.alloc(l24);
            assert_ne!(p, q);
            assert_eq!(p as usize % CLASS, 0);
            ptr::write_bytes(p, 0xAB, 24);
            ptr::write_bytes(q, 0xCD, 24);
            a.dealloc(p, l24);
            let r = a.alloc(Layout::from_size_align(32, 16).unwrap()); // the same class
            assert_eq!(r, p);
            assert_eq!(*q.add(23), 0xCD);
            // growing within the class keeps the block; past it, the bytes move
            let r2 = a.realloc(r, Layout::from_size_align(32, 16).unwrap(), 20);
            assert_eq!(r2, r);
            ptr::write_bytes(r2, 7, 20);
            let big = a.realloc(r2, Layout::from_size_align(20, 16).unwrap(), 5000);
            assert!((0..20).all(|i| *big.add(i) == 7));
            let small = a.realloc(big, Layout::from_size_align(5000, 16).unwrap(), 10);
            assert!((0..10).all(|i| *small.add(i) == 7));
            a.dealloc(small, Layout::from_size_align(10, 16).unwrap());
            a.dealloc(q, l24);
            let z = a.alloc_zeroed(l24);
            assert!((0..24).all(|i| *z.add(i) == 0));
            a.dealloc(z, l24);
        }
    }
}
