;; The flow table's memory-bound probe passes (src/flow/table.ts, lookupMany), in WebAssembly.
;;
;; Why WebAssembly: these two passes are one load each per frame, and what bounds them is how
;; many of those loads (index slots, hot records: random lines far beyond the cache) are in
;; flight at once. The same loops in optimised JavaScript carry per-iteration map checks, typed-
;; array length and base reloads and interrupt checks (30+ instructions), so fewer iterations fit
;; the out-of-order window; here an iteration is a handful of instructions. Everything else of a
;; lookup (key compare, expiry, counters) stays in TypeScript.
;;
;; The memory is the table's own (imported): hot records, cold records, the index, and two
;; scratch arrays the caller fills (hashes) and reads (handles). All addresses are byte offsets.
;; src/flow/probe-wasm.ts holds these bytes, made by `npm run build:wasm` (wabt); a test checks
;; that they are what this text assembles to.
(module
  (memory (import "table" "memory") 0)
  ;; probe(hashes, handles, n, slots, shift, mask, handleBits, tagMask, handleMask, hot) -> xor
  ;;   pass 0, for j < n: handles[j] = the word of the home slot of hashes[j], as it is: a pure
  ;;     gather, so that the index misses of the whole chunk are in flight together (1.09x on
  ;;     acl-hit 1M, whose 16 MiB index misses to DRAM, 6 of 6 paired passes; 1.005x on 64k).
  ;;   pass 1, for j < n: from that word, walk on (only if the home slot holds another tag; its
  ;;     line is in the cache now) to the first slot that is empty or carries the hash's tag;
  ;;     handles[j] = its handle, -1 for an empty slot.
  ;;   pass 2, for j < n with handles[j] >= 0: load the first word of that hot record, so that
  ;;     every record line is on its way before the caller compares keys. The xor of the words
  ;;     is returned so that the loads cannot be dropped.
  (func (export "probe")
    (param $hashes i32) (param $handles i32) (param $n i32) (param $slots i32) (param $shift i32)
    (param $mask i32) (param $hb i32) (param $tm i32) (param $hm i32) (param $hot i32) (result i32)
    (local $j i32) (local $hs i32) (local $tag i32) (local $s i32) (local $v i32) (local $h i32)
    (local $acc i32)
    ;; pass 0: each frame's home slot word, raw, into handles[j] (a pure gather: the most loads in flight)
    (block $done0
      (loop $next0
        (br_if $done0 (i32.ge_u (local.get $j) (local.get $n)))
        (local.set $hs (i32.load (i32.add (local.get $hashes) (i32.shl (local.get $j) (i32.const 2)))))
        (i32.store
          (i32.add (local.get $handles) (i32.shl (local.get $j) (i32.const 2)))
          (i32.load (i32.add (local.get $slots)
            (i32.shl (i32.shr_u (i32.mul (local.get $hs) (i32.const -1640531535)) (local.get $shift)) (i32.const 2)))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $next0)))
    (local.set $j (i32.const 0))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $j) (local.get $n)))
        (local.set $hs (i32.load (i32.add (local.get $hashes) (i32.shl (local.get $j) (i32.const 2)))))
        (local.set $tag (i32.and (local.get $hs) (local.get $tm)))
        (local.set $v (i32.load (i32.add (local.get $handles) (i32.shl (local.get $j) (i32.const 2)))))
        (if (i32.and (i32.ne (local.get $v) (i32.const 0)) (i32.ne (i32.shr_u (local.get $v) (local.get $hb)) (local.get $tag)))
          (then
            ;; the home slot holds another tag: walk on (its line is in the cache now)
            (local.set $s (i32.shr_u (i32.mul (local.get $hs) (i32.const -1640531535)) (local.get $shift)))
            (block $found
              (loop $walk
                (local.set $s (i32.and (i32.add (local.get $s) (i32.const 1)) (local.get $mask)))
                (local.set $v (i32.load (i32.add (local.get $slots) (i32.shl (local.get $s) (i32.const 2)))))
                (br_if $found (i32.eqz (local.get $v)))
                (br_if $found (i32.eq (i32.shr_u (local.get $v) (local.get $hb)) (local.get $tag)))
                (br $walk)))))
        (i32.store
          (i32.add (local.get $handles) (i32.shl (local.get $j) (i32.const 2)))
          (i32.sub (i32.and (local.get $v) (local.get $hm)) (i32.const 1)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $next)))
    (local.set $j (i32.const 0))
    (block $done2
      (loop $next2
        (br_if $done2 (i32.ge_u (local.get $j) (local.get $n)))
        (local.set $h (i32.load (i32.add (local.get $handles) (i32.shl (local.get $j) (i32.const 2)))))
        (if (i32.ge_s (local.get $h) (i32.const 0))
          (then
            (local.set $acc
              (i32.xor (local.get $acc)
                (i32.load (i32.add (local.get $hot) (i32.shl (local.get $h) (i32.const 6))))))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $next2)))
    (local.get $acc)))
