;; build.sh replaces every memory.copy (memory.fill) of the module with a call to
;; $jiuzhu_memmove ($jiuzhu_memfill).
;; V8 runs memory.copy as a call out to C, about 12 ns whatever the size. An evaluation
;; makes ≈ 290 copies, two thirds of them under 16 bytes (strings, small values), a tenth
;; of 64-512 bytes (moves of values: 136, 280, 536 bytes...); loads and stores (16 bytes
;; each with simd128, which the module is built with) do these in less.
;; Up to 64 bytes everything is loaded before anything is stored, so overlapping ranges
;; move as with memory.copy. Up to 512 bytes a forward loop, unless the destination
;; starts inside the source (the one overlap a forward copy would spoil); the rest still
;; uses memory.copy.
(func $jiuzhu_memmove (param $d i32) (param $s i32) (param $n i32)
  (local $a v128) (local $b v128) (local $c v128) (local $e v128)
  (local $x i64) (local $y i64) (local $i i32)
  ;; the most common sizes first: most copies are under 16 bytes
  (if (i32.lt_u (local.get $n) (i32.const 16))
    (then
      (if (i32.ge_u (local.get $n) (i32.const 8))
        (then
          (local.set $x (i64.load align=1 (local.get $s)))
          (local.set $y (i64.load align=1 (i32.sub (i32.add (local.get $s) (local.get $n)) (i32.const 8))))
          (i64.store align=1 (local.get $d) (local.get $x))
          (i64.store align=1 (i32.sub (i32.add (local.get $d) (local.get $n)) (i32.const 8)) (local.get $y))
          (return)))
      (if (i32.ge_u (local.get $n) (i32.const 4))
        (then
          (local.set $i (i32.load align=1 (local.get $s)))
          (local.set $s (i32.load align=1 (i32.sub (i32.add (local.get $s) (local.get $n)) (i32.const 4))))
          (i32.store align=1 (local.get $d) (local.get $i))
          (i32.store align=1 (i32.sub (i32.add (local.get $d) (local.get $n)) (i32.const 4)) (local.get $s))
          (return)))
      (if (i32.eqz (local.get $n)) (then (return)))
      ;; 1 to 3 bytes: the first, the middle and the last (some are the same byte)
      (local.set $i (i32.load8_u (local.get $s)))
      (local.set $x (i64.extend_i32_u (i32.load8_u (i32.add (local.get $s) (i32.shr_u (local.get $n) (i32.const 1))))))
      (local.set $s (i32.load8_u (i32.sub (i32.add (local.get $s) (local.get $n)) (i32.const 1))))
      (i32.store8 (local.get $d) (local.get $i))
      (i32.store8 (i32.add (local.get $d) (i32.shr_u (local.get $n) (i32.const 1))) (i32.wrap_i64 (local.get $x)))
      (i32.store8 (i32.sub (i32.add (local.get $d) (local.get $n)) (i32.const 1)) (local.get $s))
      (return)))
  (if (i32.le_u (local.get $n) (i32.const 32))
    (then
      (local.set $a (v128.load align=1 (local.get $s)))
      (local.set $b (v128.load align=1 (i32.sub (i32.add (local.get $s) (local.get $n)) (i32.const 16))))
      (v128.store align=1 (local.get $d) (local.get $a))
      (v128.store align=1 (i32.sub (i32.add (local.get $d) (local.get $n)) (i32.const 16)) (local.get $b))
      (return)))
  (if (i32.le_u (local.get $n) (i32.const 64))
    (then
      (local.set $a (v128.load align=1 (local.get $s)))
      (local.set $b (v128.load offset=16 align=1 (local.get $s)))
      (local.set $s (i32.sub (i32.add (local.get $s) (local.get $n)) (i32.const 32)))
      (local.set $c (v128.load align=1 (local.get $s)))
      (local.set $e (v128.load offset=16 align=1 (local.get $s)))
      (v128.store align=1 (local.get $d) (local.get $a))
      (v128.store offset=16 align=1 (local.get $d) (local.get $b))
      (local.set $d (i32.sub (i32.add (local.get $d) (local.get $n)) (i32.const 32)))
      (v128.store align=1 (local.get $d) (local.get $c))
      (v128.store offset=16 align=1 (local.get $d) (local.get $e))
      (return)))
  ;; d - s < n (unsigned): d is in (s, s + n), or d = s
  (if (i32.or (i32.gt_u (local.get $n) (i32.const 512))
              (i32.lt_u (i32.sub (local.get $d) (local.get $s)) (local.get $n)))
    (then (memory.copy (local.get $d) (local.get $s) (local.get $n)) (return)))
  ;; Forward, 16 bytes a step; the last 16 are loaded first (the loop may overwrite
  ;; them when the destination is below the source) and stored last.
  (local.set $a (v128.load align=1 (i32.sub (i32.add (local.get $s) (local.get $n)) (i32.const 16))))
  (local.set $i (i32.const 0))
  (loop $more
    (v128.store align=1 (i32.add (local.get $d) (local.get $i))
      (v128.load align=1 (i32.add (local.get $s) (local.get $i))))
    (local.set $i (i32.add (local.get $i) (i32.const 16)))
    (br_if $more (i32.lt_u (i32.add (local.get $i) (i32.const 16)) (local.get $n))))
  (v128.store align=1 (i32.sub (i32.add (local.get $d) (local.get $n)) (i32.const 16)) (local.get $a)))
;; The same for memory.fill: up to 512 bytes with (overlapping) 16-byte stores.
(func $jiuzhu_memfill (param $d i32) (param $v i32) (param $n i32)
  (local $x v128) (local $e i32)
  (if (i32.gt_u (local.get $n) (i32.const 512))
    (then (memory.fill (local.get $d) (local.get $v) (local.get $n)) (return)))
  (if (i32.ge_u (local.get $n) (i32.const 16))
    (then
      (local.set $x (i8x16.splat (local.get $v)))
      ;; 16 bytes at a time from the start, then the last 16 (overlapping)
      (local.set $e (i32.sub (i32.add (local.get $d) (local.get $n)) (i32.const 16)))
      (loop $more
        (if (i32.lt_u (local.get $d) (local.get $e))
          (then
            (v128.store align=1 (local.get $d) (local.get $x))
            (local.set $d (i32.add (local.get $d) (i32.const 16)))
            (br $more))))
      (v128.store align=1 (local.get $e) (local.get $x))
      (return)))
  (if (i32.ge_u (local.get $n) (i32.const 8))
    (then
      (local.set $x (i8x16.splat (local.get $v)))
      (i64.store align=1 (local.get $d) (i64x2.extract_lane 0 (local.get $x)))
      (i64.store align=1 (i32.sub (i32.add (local.get $d) (local.get $n)) (i32.const 8)) (i64x2.extract_lane 0 (local.get $x)))
      (return)))
  (block $done
    (loop $byte
      (br_if $done (i32.eqz (local.get $n)))
      (i32.store8 (local.get $d) (local.get $v))
      (local.set $d (i32.add (local.get $d) (i32.const 1)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $byte))))
