/* The core's and the adapters' hashes for keys of more than a word:
 * xs_mix64 folds a word into a running hash, xs_hash64 folds bytes (a word
 * at a time).  Hot paths with one-word keys keep a single multiply.
 * Include before <uthash.h>: it sets uthash's hash function. */
#ifndef XS_HASH_H
#define XS_HASH_H

#include "base.h"

static inline uint64_t xs_mix64(uint64_t h, uint64_t v)
{
    h = (h ^ (v * 0xff51afd7ed558ccdull)) * 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 29);
}

static inline uint64_t xs_hash64(uint64_t h, const void *key, size_t len)
{
    const unsigned char *p = (const unsigned char *)key;
    h ^= len;
    for (; len >= 8; p += 8, len -= 8) {
        uint64_t w;
        __builtin_memcpy(&w, p, 8);
        h = xs_mix64(h, w);
    }
    uint64_t tail = 0;
    __builtin_memcpy(&tail, p, len);
    h = xs_mix64(h, tail);
    return h ^ (h >> 32);
}

static inline uint64_t xs_hash_str(uint64_t h, const char *s)
{
    return s ? xs_hash64(h, s, __builtin_strlen(s)) : h;
}

/* A lock-free cache of nonzero 32-bit ids keyed by 64-bit hashes: a slot is
 * one word, the hash's high half and the id (the slot's index takes some of
 * the low half).  A stale or racing slot only costs a miss; get returns 0
 * for one. */
static inline uint32_t xs_id_cache_get(_Atomic uint64_t *slot, uint64_t hash)
{
    uint64_t v = atomic_load_explicit(slot, memory_order_relaxed);
    return (v >> 32) == (hash >> 32) ? (uint32_t)v : 0;
}

static inline void xs_id_cache_put(_Atomic uint64_t *slot, uint64_t hash, uint32_t id)
{
    if (id != 0)
        atomic_store_explicit(slot, (hash >> 32) << 32 | id, memory_order_relaxed);
}

/* An insert-only set of nonzero 64-bit keys in `n` zeroed atomic slots,
 * lock-free (linear probing), for what threads of several interpreters
 * note they have seen.  Whether `key` was there; with `add`, it is there
 * after (unless the set is full: then false, as for a new key). */
static inline bool xs_keyset_find(_Atomic uint64_t *slots, size_t n, uint64_t key, bool add)
{
    for (size_t i = 0, k = xs_mix64(0, key) % n; i < n; i++, k = (k + 1) % n) {
        uint64_t now = atomic_load_explicit(&slots[k], memory_order_acquire);
        if (now == key)
            return true;
        if (now == 0) {
            if (!add)
                return false;
            if (atomic_compare_exchange_strong(&slots[k], &now, key))
                return false;
            if (now == key)
                return true;
        }
    }
    return false;
}

/* uthash's hash (depot strings, registries). */
static inline uint32_t xs_hash_bytes(const void *key, size_t len)
{
    return (uint32_t)xs_hash64(0x9e3779b97f4a7c15ull, key, len);
}
#define HASH_FUNCTION(keyptr, keylen, hashv) ((hashv) = xs_hash_bytes((keyptr), (keylen)))

#endif
