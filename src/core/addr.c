#include "core/addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ft_addr ft_addr_v4(const uint8_t b[4])
{
    ft_addr a = {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, b[0], b[1], b[2], b[3]}, 4};
    return a;
}

ft_addr ft_addr_v4u(uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    return ft_addr_v4(b);
}

ft_addr ft_addr_v6(const uint8_t b[16])
{
    ft_addr a;
    memcpy(a.b, b, 16);
    a.family = 6;
    return a;
}

bool ft_addr_eq(const ft_addr *a, const ft_addr *b)
{
    return a->family == b->family && memcmp(a->b, b->b, 16) == 0;
}

uint64_t ft_addr_hash(const ft_addr *a)
{
    /* The two address words multiplied by odd constants, folded and
     * finished with a murmur-style avalanche: four multiplies where FNV-1a
     * took sixteen in a chain (this runs twice per record for GeoIP). */
    uint64_t w0, w1;
    memcpy(&w0, a->b, 8);
    memcpy(&w1, a->b + 8, 8);
    uint64_t h = (w0 * 0x9E3779B97F4A7C15ULL) ^ ((w1 ^ a->family) * 0xC2B2AE3D27D4EB4FULL);
    h ^= h >> 32;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 29;
    h *= 0xc4ceb9fe1a85ec53ULL;
    return h ^ (h >> 32);
}

char *ft_addr_format(const ft_addr *a, char *buf)
{
    buf[0] = 0;
    if (a->family == 4)
        inet_ntop(AF_INET, a->b + 12, buf, FT_ADDR_STRLEN);
    else if (a->family == 6)
        inet_ntop(AF_INET6, a->b, buf, FT_ADDR_STRLEN);
    return buf;
}

int ft_addr_parse(const char *s, ft_addr *out)
{
    uint8_t b[16];
    if (inet_pton(AF_INET, s, b) == 1) {
        *out = ft_addr_v4(b);
        return 0;
    }
    if (inet_pton(AF_INET6, s, b) == 1) {
        *out = ft_addr_v6(b);
        return 0;
    }
    return -1;
}

int ft_cidr_parse(const char *s, ft_cidr *out)
{
    char tmp[FT_ADDR_STRLEN + 8];
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    if (n >= FT_ADDR_STRLEN)
        return -1;
    memcpy(tmp, s, n);
    tmp[n] = 0;
    ft_cidr c;
    if (ft_addr_parse(tmp, &c.addr) != 0)
        return -1;
    int max = c.addr.family == 4 ? 32 : 128;
    long bits = max;
    if (slash) {
        char *end;
        /* Digits only: strtol alone would take " 8" and "+8". */
        if (slash[1] < '0' || slash[1] > '9')
            return -1;
        bits = strtol(slash + 1, &end, 10);
        if (*end || bits > max)
            return -1;
    }
    c.bits = (uint8_t)bits;
    *out = c;
    return 0;
}

bool ft_cidr_match(const ft_cidr *c, const ft_addr *a)
{
    if (c->addr.family != a->family)
        return false;
    int start = c->addr.family == 4 ? 12 : 0;
    int bits = c->bits;
    for (int i = start; bits > 0; i++, bits -= 8) {
        uint8_t mask = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));
        if ((c->addr.b[i] ^ a->b[i]) & mask)
            return false;
    }
    return true;
}
