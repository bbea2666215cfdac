/*
 * geo_bench.c - cost of ft_enrich per record: cache misses (every address
 * new: one MMDB tree walk + value read per database) and hits (addresses
 * repeating, as in real traffic).
 *
 *   cc -O2 -Isrc bench/geo_bench.c build/libflowtally_core.a -lmaxminddb -lsqlite3 \
 *      -ljansson -lpcap -lpthread -lm -o build/geo_bench
 *   build/geo_bench geo/iptoasn-country.mmdb [ASN.mmdb]
 *
 * Not a test: the numbers depend on the machine.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "enrich/geo.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static ft_addr v4(uint32_t x)
{
    return ft_addr_v4u(x);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: geo_bench COUNTRY.mmdb [ASN.mmdb]\n");
        return 2;
    }
    ft_geo_opts o = {argv[1], argc > 2 ? argv[2] : NULL, NULL, NULL, FT_ASN_PREFER_FLOW};
    char err[1024];
    ft_geo *g = ft_geo_open(&o, err, sizeof err);
    if (!g) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    ft_enricher *e = ft_enricher_new(g);
    enum { N = 2000000 };
    ft_flow f;
    memset(&f, 0, sizeof f);
    /* Misses: public addresses spread over the space (a multiplicative walk). */
    uint32_t x = 0x01020304;
    double t0 = now_s();
    for (int i = 0; i < N; i++) {
        x = x * 2654435761u + 12345;
        f.src_addr = v4(x | 0x01000000);
        f.dst_addr = v4((x >> 7) | 0x40000000);
        ft_enrich(e, &f);
    }
    double miss = (now_s() - t0) / (2.0 * N);
    /* Hits: 1000 addresses repeating. */
    t0 = now_s();
    for (int i = 0; i < N; i++) {
        f.src_addr = v4(0x08080800u + (uint32_t)(i % 500));
        f.dst_addr = v4(0x01010100u + (uint32_t)(i % 500));
        ft_enrich(e, &f);
    }
    double hit = (now_s() - t0) / (2.0 * N);
    uint64_t c[FT_GEO_CTR_COUNT] = {0};
    ft_enricher_counters(e, c);
    printf("per address: %.0f ns uncached (database lookup), %.0f ns cached; %llu lookups, %llu cache hits\n",
           miss * 1e9, hit * 1e9, (unsigned long long)c[FT_GEO_CTR_lookups],
           (unsigned long long)c[FT_GEO_CTR_cache_hits]);
    ft_enricher_free(e);
    ft_geo_close(g);
    return 0;
}
