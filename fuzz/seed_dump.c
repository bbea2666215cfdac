/*
 * seed_dump.c - writes fuzz seeds from the unit tests' hand-checked byte
 * vectors (tests/unit/vec.h, every scenario of scn_all()).
 *
 *   fuzz_seed_dump OUTDIR
 *
 * Each datagram goes to OUTDIR/<target>/vec-<scenario>-<k>, <target> from
 * its version (nfv5, nfv9, ipfix, sflow: decoder.h's sniffing rule); each
 * whole scenario goes to OUTDIR/stateful/vec-<scenario> in the stateful
 * target's chunk format (harness.h): one chunk per datagram, the clock
 * stepped by the scenario's own receive-time gaps (capped at 31 s) and
 * ft_decoder_expire called before every datagram but the first, as the
 * listeners call it about once a second. Folders must exist or are made.
 * Exit status 0, or 1 with a message when a file cannot be written.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"
#include "vec.h"

static int mkdir_p(const char *dir)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "fuzz_seed_dump: mkdir %s: %s\n", dir, strerror(errno));
        return -1;
    }
    return 0;
}

static int write_file(const char *path, const uint8_t *p, size_t n)
{
    FILE *fp = fopen(path, "wb");
    if (!fp || (n && fwrite(p, 1, n, fp) != n) || fclose(fp) != 0) {
        fprintf(stderr, "fuzz_seed_dump: write %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

static const char *target_of(const uint8_t *p, size_t n)
{
    if (n < 4)
        return NULL;
    uint32_t w = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    if (w == 5)
        return "sflow";
    switch (w >> 16) {
    case 5:
        return "nfv5";
    case 9:
        return "nfv9";
    case 10:
        return "ipfix";
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: fuzz_seed_dump OUTDIR\n");
        return 2;
    }
    const char *out = argv[1];
    char path[4096];
    if (mkdir_p(out) != 0)
        return 1;
    for (int t = 0; t < FT_FUZZ_COUNT; t++) {
        snprintf(path, sizeof path, "%s/%s", out, ft_fuzz_name((ft_fuzz_target)t));
        if (mkdir_p(path) != 0)
            return 1;
    }

    static scn s;
    static uint8_t chain[SCN_MAX_PKT * (3 + VEC_CAP)];
    const scn_builder *all;
    size_t n = scn_all(&all), files = 0;
    for (size_t i = 0; i < n; i++) {
        all[i](&s);
        size_t cn = 0;
        for (int k = 0; k < s.n; k++) {
            const vec *v = &s.pkt[k];
            const char *t = target_of(v->b, v->n);
            if (t) {
                snprintf(path, sizeof path, "%s/%s/vec-%s-%d", out, t, s.name, k);
                if (write_file(path, v->b, v->n) != 0)
                    return 1;
                files++;
            }
            uint8_t ctl = 0;
            if (k) {
                uint64_t a = s.t_ns[k - 1], b = s.t_ns[k];
                uint64_t gap = (b >= a ? b - a : a - b) / 1000000000ull;
                ctl = (uint8_t)(gap > FT_FUZZ_CTL_STEP ? FT_FUZZ_CTL_STEP : gap);
                ctl |= FT_FUZZ_CTL_EXPIRE | (b < a ? FT_FUZZ_CTL_BACK : 0);
            }
            chain[cn++] = ctl;
            chain[cn++] = (uint8_t)(v->n >> 8);
            chain[cn++] = (uint8_t)v->n;
            memcpy(chain + cn, v->b, v->n);
            cn += v->n;
        }
        snprintf(path, sizeof path, "%s/stateful/vec-%s", out, s.name);
        if (write_file(path, chain, cn) != 0)
            return 1;
        files++;
    }
    printf("fuzz_seed_dump: %zu seeds from %zu scenarios in %s\n", files, n, out);
    return 0;
}
