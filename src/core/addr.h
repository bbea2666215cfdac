/*
 * addr.h - an IPv4 or IPv6 address in one 16-byte value, and CIDR prefixes.
 *
 * IPv4 addresses are stored as IPv4-mapped IPv6 (::ffff:a.b.c.d, RFC 4291
 * §2.5.5.2) so that one comparison, one hash and one CIDR match serve both
 * families; `family` says which one the wire carried. Bytes are in network
 * byte order.
 */
#ifndef FT_ADDR_H
#define FT_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct ft_addr {
    uint8_t b[16];  /* network byte order; IPv4 as ::ffff:a.b.c.d */
    uint8_t family; /* 0 = none, 4 = IPv4, 6 = IPv6 */
} ft_addr;

/* Longest text form of ft_addr_format, NUL included (INET6_ADDRSTRLEN). */
#define FT_ADDR_STRLEN 46

/* The constructors and the comparison are inline: decoders build several
 * addresses per flow record (v5 §"flow record", v9/IPFIX address fields,
 * sFlow sampled headers), and a call each was a measurable share of the
 * per-record cost (bench/RESULTS.md, "Optimisations (decode)"). */

/* An IPv4 address from 4 bytes in network byte order. */
static inline ft_addr ft_addr_v4(const uint8_t b[4])
{
    ft_addr a = {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, b[0], b[1], b[2], b[3]}, 4};
    return a;
}

/* An IPv4 address from a host-order 32-bit value. */
static inline ft_addr ft_addr_v4u(uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    return ft_addr_v4(b);
}

/* An IPv6 address from 16 bytes in network byte order. An IPv4-mapped
 * address stays family 6: the wire said IPv6. */
static inline ft_addr ft_addr_v6(const uint8_t b[16])
{
    ft_addr a;
    memcpy(a.b, b, 16);
    a.family = 6;
    return a;
}

/* Equal family and bytes. */
static inline bool ft_addr_eq(const ft_addr *a, const ft_addr *b)
{
    return a->family == b->family && memcmp(a->b, b->b, 16) == 0;
}
/* A 64-bit hash of family and bytes (not keyed: exporter tables are small
 * and their keys are the exporters' own addresses). */
uint64_t ft_addr_hash(const ft_addr *a);

/* Writes the text form ("192.0.2.1", "2001:db8::1", "" for family 0) into
 * buf of at least FT_ADDR_STRLEN bytes; returns buf. */
char *ft_addr_format(const ft_addr *a, char *buf);
/* Parses an IPv4 or IPv6 literal. Returns 0, or -1 on a bad literal. */
int ft_addr_parse(const char *s, ft_addr *out);

/* A prefix: address and length in bits of the family (0..32 or 0..128). */
typedef struct ft_cidr {
    ft_addr addr;
    uint8_t bits;
} ft_cidr;

/* Parses "a.b.c.d/len", "x::y/len" or a bare address (full length).
 * Returns 0, or -1 with nothing written on a bad prefix. */
int ft_cidr_parse(const char *s, ft_cidr *out);
/* True when a is inside c (IPv4 prefixes match IPv4 addresses only). */
bool ft_cidr_match(const ft_cidr *c, const ft_addr *a);

#endif
