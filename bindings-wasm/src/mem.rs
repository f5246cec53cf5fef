//! `memcmp` for wasm32, eight bytes a step. The one from compiler-builtins (a weak
//! symbol, which this replaces) compares byte by byte; string keys and texts are compared
//! often in an evaluation (parameter names, map keys).

/// The sign of the first differing byte, as C's memcmp.
///
/// # Safety
/// `a` and `b` are valid for reads of `n` bytes.
#[inline]
pub unsafe fn compare(a: *const u8, b: *const u8, n: usize) -> i32 {
    let mut i = 0;
    while i + 8 <= n {
        let x = unsafe { (a.add(i) as *const u64).read_unaligned() };
        let y = unsafe { (b.add(i) as *const u64).read_unaligned() };
        if x != y {
            // Little endian: the lowest differing bit is in the first differing byte.
            let at = ((x ^ y).trailing_zeros() / 8) as usize;
            return unsafe { *a.add(i + at) as i32 - *b.add(i + at) as i32 };
        }
        i += 8;
    }
    while i < n {
        let (x, y) = unsafe { (*a.add(i), *b.add(i)) };
        if x != y {
            return x as i32 - y as i32;
        }
        i += 1;
    }
    0
}

/// # Safety
/// As C's memcmp.
#[cfg(all(target_family = "wasm", not(target_feature = "atomics")))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    unsafe { compare(a, b, n) }
}

#[cfg(test)]
mod tests {
    use super::compare;

    fn sign(x: i32) -> i32 {
        x.signum()
    }

    #[test]
    fn as_slices_compare() {
        let texts: [&[u8]; 9] = [b"", b"a", b"b", b"abcdefgh", b"abcdefgi", b"abcdefghij", b"abcdefghik", b"subsistence.standard", b"subsistence.standarc"];
        for x in texts {
            for y in texts {
                let n = x.len().min(y.len());
                let want = x[..n].cmp(&y[..n]) as i32;
                assert_eq!(sign(unsafe { compare(x.as_ptr(), y.as_ptr(), n) }), want, "{x:?} {y:?}");
            }
        }
        let a = [0x01u8, 0xFF, 3, 4, 5, 6, 7, 8, 9];
        let b = [0x01u8, 0x00, 3, 4, 5, 6, 7, 8, 9];
        assert!(unsafe { compare(a.as_ptr(), b.as_ptr(), 9) } > 0);
        assert!(unsafe { compare(b.as_ptr(), a.as_ptr(), 9) } < 0);
    }
}
