/*
 * rd.h - the one bounds-checked big-endian reader over a const byte span.
 *
 * Every read of network bytes in flowtally goes through ft_rd. A read past the
 * end sets a sticky error flag, returns 0 (or copies zeros) and moves nothing,
 * so a decoder can read a whole header and test r.err once. The span is never
 * written: replay, tee and hex dumps need the original bytes.
 *
 * Byte order: all multi-byte reads are network byte order (big-endian), as used
 * by NetFlow v5/v9 (RFC 3954 §5), IPFIX (RFC 7011 §3) and sFlow v5 (XDR, RFC 4506).
 */
#ifndef FT_RD_H
#define FT_RD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct ft_rd {
    const uint8_t *p; /* first byte of the span; not owned */
    size_t len;       /* span length in bytes */
    size_t off;       /* next byte to read, 0 <= off <= len */
    int err;          /* sticky: 1 once any read ran past the end */
} ft_rd;

/* A reader over p[0..n). p may be NULL when n is 0. */
static inline ft_rd ft_rd_init(const uint8_t *p, size_t n)
{
    ft_rd r = {p, n, 0, 0};
    return r;
}

/* Bytes left to read; 0 once err is set. */
static inline size_t ft_rd_left(const ft_rd *r)
{
    return r->err ? 0 : r->len - r->off;
}

/* Claims n bytes and returns a pointer to them, or NULL (and sets err) when
 * fewer than n are left. Checked without overflow: off <= len always holds. */
static inline const uint8_t *ft_rd_take(ft_rd *r, size_t n)
{
    if (r->err || n > r->len - r->off) {
        r->err = 1;
        return NULL;
    }
    const uint8_t *q = r->p + r->off;
    r->off += n;
    return q;
}

static inline void ft_rd_skip(ft_rd *r, size_t n)
{
    (void)ft_rd_take(r, n);
}

static inline uint8_t ft_rd_u8(ft_rd *r)
{
    const uint8_t *q = ft_rd_take(r, 1);
    return q ? q[0] : 0;
}

static inline uint16_t ft_rd_u16(ft_rd *r)
{
    const uint8_t *q = ft_rd_take(r, 2);
    return q ? (uint16_t)((q[0] << 8) | q[1]) : 0;
}

static inline uint32_t ft_rd_u32(ft_rd *r)
{
    const uint8_t *q = ft_rd_take(r, 4);
    return q ? ((uint32_t)q[0] << 24) | ((uint32_t)q[1] << 16) | ((uint32_t)q[2] << 8) | q[3] : 0;
}

static inline uint64_t ft_rd_u64(ft_rd *r)
{
    uint64_t hi = ft_rd_u32(r);
    return (hi << 32) | ft_rd_u32(r);
}

/* Unsigned big-endian integer of n bytes, 0 <= n <= 8 (reduced-size encoding,
 * RFC 7011 §6.2). n > 8 sets err. */
static inline uint64_t ft_rd_uint(ft_rd *r, size_t n)
{
    if (n > 8) {
        r->err = 1;
        return 0;
    }
    const uint8_t *q = ft_rd_take(r, n);
    uint64_t v = 0;
    if (!q)
        return 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | q[i];
    return v;
}

/* Copies n bytes into dst (zeros on short input). */
static inline void ft_rd_copy(ft_rd *r, void *dst, size_t n)
{
    const uint8_t *q = ft_rd_take(r, n);
    if (q)
        memcpy(dst, q, n);
    else
        memset(dst, 0, n);
}

/* A child reader over the next n bytes, which the parent skips. When fewer
 * than n bytes are left both readers are in error. */
static inline ft_rd ft_rd_sub(ft_rd *r, size_t n)
{
    const uint8_t *q = ft_rd_take(r, n);
    ft_rd c = ft_rd_init(q, q ? n : 0);
    c.err = q ? 0 : 1;
    return c;
}

/* Big-endian loads from a span already length-checked by ft_rd_take. */
static inline uint64_t ft_be_uint(const uint8_t *q, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | q[i];
    return v;
}

/* The same for the common widths, written so that the compiler emits one
 * load and a byte swap (a byte loop per field showed in the profile). */
static inline uint16_t ft_be16(const uint8_t *q)
{
    return (uint16_t)((q[0] << 8) | q[1]);
}

static inline uint32_t ft_be32(const uint8_t *q)
{
    return ((uint32_t)q[0] << 24) | ((uint32_t)q[1] << 16) | ((uint32_t)q[2] << 8) | q[3];
}

static inline uint64_t ft_be64(const uint8_t *q)
{
    return ((uint64_t)ft_be32(q) << 32) | ft_be32(q + 4);
}

#endif
