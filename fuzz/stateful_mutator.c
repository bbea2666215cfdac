/*
 * stateful_mutator.c - a libFuzzer custom mutator for fuzz_stateful that
 * knows the chunk format (harness.h), linked into that target only.
 *
 * libFuzzer's byte mutations mostly break the length prefixes, so most
 * mutants of a session are one garbled datagram. Here, most mutations act
 * on whole chunks: mutate one datagram's bytes (libFuzzer's own mutator,
 * lengths kept right), change one chunk's clock/expiry byte, duplicate a
 * chunk (a template resent, a datagram replayed), delete one (a datagram
 * lost), swap two (reordering) or move one from the other exporter. One
 * mutation in eight is libFuzzer's plain one, so the framing itself still
 * gets broken now and then.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);

#define MAX_CHUNKS 256

typedef struct chunk {
    uint8_t ctl;
    size_t off, len; /* body in the input */
} chunk;

/* Splits data as harness.c reads it; returns the chunk count. */
static size_t split(const uint8_t *data, size_t size, chunk *c)
{
    size_t n = 0, off = 0;
    while (off < size && n < MAX_CHUNKS) {
        c[n].ctl = data[off++];
        size_t len = 0;
        if (size - off >= 2) {
            len = (size_t)data[off] << 8 | data[off + 1];
            off += 2;
        } else {
            off = size;
        }
        if (len > size - off)
            len = size - off;
        c[n].off = off;
        c[n].len = len;
        off += len;
        n++;
    }
    return n;
}

static uint32_t next(uint32_t *s)
{
    /* xorshift32: libFuzzer hands a seed, the mutation must follow from it. */
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
    static chunk c[MAX_CHUNKS + 1];
    static uint8_t out[1 << 16], body[1 << 16];
    uint32_t s = seed ? seed : 1;
    size_t n = split(data, size, c);
    if (n == 0 || max_size > sizeof out || next(&s) % 8 == 0)
        return LLVMFuzzerMutate(data, size, max_size);

    size_t i = next(&s) % n, j = next(&s) % n;
    uint8_t *mutated = NULL;
    size_t mutated_len = 0;
    switch (next(&s) % 6) {
    case 0: /* one datagram's bytes, its length prefix kept right */
    default: {
        size_t cap = 0xffff;
        if (cap > max_size - (size - c[i].len))
            cap = max_size - (size - c[i].len);
        if (cap == 0)
            return LLVMFuzzerMutate(data, size, max_size);
        size_t len = c[i].len < cap ? c[i].len : cap;
        memcpy(body, data + c[i].off, len);
        mutated_len = LLVMFuzzerMutate(body, len, cap);
        mutated = body;
        break;
    }
    case 1: /* clock step, direction, expiry, exporter */
        c[i].ctl = (uint8_t)next(&s);
        break;
    case 2: /* duplicate chunk i after chunk j */
        if (n == MAX_CHUNKS)
            return LLVMFuzzerMutate(data, size, max_size);
        memmove(&c[j + 2], &c[j + 1], (n - j - 1) * sizeof c[0]);
        c[j + 1] = c[i < j + 1 ? i : i + 1];
        n++;
        break;
    case 3: /* delete chunk i */
        if (n == 1)
            return LLVMFuzzerMutate(data, size, max_size);
        memmove(&c[i], &c[i + 1], (n - i - 1) * sizeof c[0]);
        n--;
        break;
    case 4: { /* swap chunks i and j */
        chunk t = c[i];
        c[i] = c[j];
        c[j] = t;
        break;
    }
    case 5: /* the other exporter sends it */
        c[i].ctl ^= FT_FUZZ_CTL_OTHER;
        break;
    }

    size_t o = 0;
    for (size_t k = 0; k < n; k++) {
        const uint8_t *b = (mutated && k == i) ? mutated : data + c[k].off;
        size_t len = (mutated && k == i) ? mutated_len : c[k].len;
        if (o + 3 + len > max_size)
            break;
        out[o++] = c[k].ctl;
        out[o++] = (uint8_t)(len >> 8);
        out[o++] = (uint8_t)len;
        memcpy(out + o, b, len);
        o += len;
    }
    memcpy(data, out, o);
    return o;
}
