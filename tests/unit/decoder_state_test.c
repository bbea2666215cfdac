/*
 * decoder_state_test.c - decode state saved and loaded across a restart
 * (ft_decoder_export / ft_decoder_import, decode/decoder.h).
 *
 * Oracle: the decoder that never restarted. Every multi-datagram scenario of
 * vec.h (hand-checked NetFlow v9 / IPFIX vectors: templates, options
 * templates with sampler rates, systemInitTimeMilliseconds, redefinitions,
 * withdrawals) is cut after each datagram; decoder A goes on, decoder B
 * starts from A's exported state: both must print the same records (as
 * --print JSON) for the rest. A third decoder starting from nothing shows
 * the state is what made the difference. Corrupt blobs load what precedes
 * the damage and never read past their end (ASan).
 */
#include "decode/decoder.h"

#include "flow/flow_json.h"
#include "test.h"
#include "vec.h"

typedef struct blobs {
    int n;
    ft_addr addr[8];
    uint8_t *b[8];
    size_t len[8];
} blobs;

static void keep_blob(void *arg, const ft_addr *exporter, const uint8_t *state, size_t len)
{
    blobs *s = arg;
    if (s->n == 8)
        abort();
    s->addr[s->n] = *exporter;
    s->b[s->n] = malloc(len);
    memcpy(s->b[s->n], state, len);
    s->len[s->n++] = len;
}

static void blobs_free(blobs *s)
{
    for (int i = 0; i < s->n; i++)
        free(s->b[i]);
    s->n = 0;
}

/* The records of c as --print lines, concatenated. */
static char *as_json(const cap *c)
{
    size_t cap_ = 1 + c->n * FT_FLOW_JSON_MAX, n = 0;
    char *out = malloc(cap_);
    out[0] = 0;
    for (size_t i = 0; i < c->n; i++)
        n += ft_flow_json(&c->f[i], out + n, cap_ - n);
    return out;
}

static ft_err decode_pkt(ft_decoder *d, const scn *s, int i, cap *c)
{
    ft_addr ex = vec_addr("192.0.2.1");
    return vec_decode(d, &ex, s->t_ns[i], s->pkt[i].b, s->pkt[i].n, c);
}

static void t_restart_equals_no_restart(void)
{
    const scn_builder *all;
    size_t n = scn_all(&all);
    scn *s = malloc(sizeof *s);
    int compared = 0, mattered = 0;
    for (size_t k = 0; k < n; k++) {
        all[k](s);
        for (int cut = 1; cut < s->n; cut++) {
            ft_decoder *a = ft_decoder_new(NULL, "a"), *b = ft_decoder_new(NULL, "b"), *c = ft_decoder_new(NULL, "c");
            cap ca = {0}, cb = {0}, cc = {0};
            for (int i = 0; i < cut; i++)
                decode_pkt(a, s, i, &ca);
            /* Data sets held for a template still to come are not state. */
            vec_stats vs;
            vec_all_stats(a, &vs);
            bool held = vs.n && vs.s[0].pending;
            blobs bl = {0};
            ft_decoder_export(a, keep_blob, &bl);
            for (int i = 0; i < bl.n; i++)
                ASSERT_TRUE(ft_decoder_import(b, &bl.addr[i], bl.b[i], bl.len[i], s->t_ns[cut]) >= 0);
            cap_reset(&ca);
            for (int i = cut; i < s->n; i++) {
                decode_pkt(a, s, i, &ca);
                decode_pkt(b, s, i, &cb);
                decode_pkt(c, s, i, &cc);
            }
            char *ja = as_json(&ca), *jb = as_json(&cb), *jc = as_json(&cc);
            if (!held) {
                if (strcmp(ja, jb) != 0)
                    FT_FAIL("%s cut after datagram %d: %zu records without restart, %zu after:\n%s\n---\n%s", s->name,
                            cut, ca.n, cb.n, ja, jb);
                compared++;
                mattered += strcmp(ja, jc) != 0;
            }
            free(ja);
            free(jb);
            free(jc);
            blobs_free(&bl);
            cap_free(&ca);
            cap_free(&cb);
            cap_free(&cc);
            ft_decoder_free(a);
            ft_decoder_free(b);
            ft_decoder_free(c);
        }
    }
    free(s);
    fprintf(stderr, "  %d cuts compared, %d where a decoder without the state differs\n", compared, mattered);
    ASSERT_TRUE(compared >= 8);
    ASSERT_TRUE(mattered >= 4);
}

/* Sampler rates from options data and the template survive alone: data
 * right after the restart gets the rate (scn_nfv9_sampler: options template,
 * options data 5 -> 1000, 6 -> 64, template and data in one datagram). */
static void t_sampler_rates(void)
{
    scn *s = malloc(sizeof *s);
    scn_nfv9_sampler(s);
    ft_decoder *a = ft_decoder_new(NULL, "a");
    cap ca = {0};
    ASSERT_EQ(decode_pkt(a, s, 0, &ca), FT_OK);
    blobs bl = {0};
    ASSERT_EQ(ft_decoder_export(a, keep_blob, &bl), 1);
    ft_decoder *b = ft_decoder_new(NULL, "b");
    /* 2 templates: the options template and the data template. */
    ASSERT_EQ(ft_decoder_import(b, &bl.addr[0], bl.b[0], bl.len[0], s->t_ns[0]), 2);
    vec_stats vs;
    vec_all_stats(b, &vs);
    ASSERT_EQ(vs.n, 0); /* loaded, not seen: no --stats line */
    /* The same datagram again: its data records need the loaded rates only
     * if they came first, so compare the rates: */
    cap cb = {0};
    ASSERT_EQ(decode_pkt(b, s, 0, &cb), FT_OK);
    ASSERT_EQ(cb.n, 2);
    ASSERT_EQ(cb.f[0].sampling_rate, 1000);
    ASSERT_EQ(cb.f[1].sampling_rate, 64);
    vec_all_stats(b, &vs);
    ASSERT_EQ(vs.n, 1);
    ASSERT_EQ(vs.s[0].templates, 2);
    blobs_free(&bl);
    cap_free(&ca);
    cap_free(&cb);
    ft_decoder_free(a);
    ft_decoder_free(b);
    free(s);
}

/* Templates older than the template timeout at load time are left out. */
static void t_expired_not_loaded(void)
{
    scn *s = malloc(sizeof *s);
    scn_nfv9_split(s);
    ft_decoder *a = ft_decoder_new(NULL, "a");
    cap ca = {0};
    decode_pkt(a, s, 0, &ca);
    blobs bl = {0};
    ASSERT_EQ(ft_decoder_export(a, keep_blob, &bl), 1);
    ft_decoder_opts o;
    ft_decoder_opts_default(&o);
    ft_decoder *b = ft_decoder_new(&o, "b");
    uint64_t late = s->t_ns[0] + (uint64_t)o.template_timeout_s * 1000000000ull + 1;
    ASSERT_EQ(ft_decoder_import(b, &bl.addr[0], bl.b[0], bl.len[0], late), 0);
    ASSERT_EQ(ft_decoder_import(b, &bl.addr[0], bl.b[0], bl.len[0], late - 2), 1);
    blobs_free(&bl);
    cap_free(&ca);
    ft_decoder_free(a);
    ft_decoder_free(b);
    free(s);
}

/* Every truncation and every single-byte change of a real blob: no crash,
 * no read past the end; a wrong magic is refused outright. */
static void t_corrupt_blobs(void)
{
    scn *s = malloc(sizeof *s);
    scn_ipfix_sampling(s);
    ft_decoder *a = ft_decoder_new(NULL, "a");
    cap ca = {0};
    for (int i = 0; i < s->n; i++)
        decode_pkt(a, s, i, &ca);
    blobs bl = {0};
    ASSERT_EQ(ft_decoder_export(a, keep_blob, &bl), 1);
    size_t len = bl.len[0];
    ASSERT_TRUE(len > 40);
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1); /* exactly cut bytes: ASan sees any overread */
        memcpy(copy, bl.b[0], cut);
        ft_decoder *b = ft_decoder_new(NULL, "b");
        int r = ft_decoder_import(b, &bl.addr[0], copy, cut, s->t_ns[0]);
        if (r != -1)
            FT_FAIL("blob cut to %zu of %zu bytes: %d, want -1", cut, len, r);
        ft_decoder_free(b);
        free(copy);
    }
    for (size_t i = 0; i < len; i++) {
        uint8_t *copy = malloc(len);
        memcpy(copy, bl.b[0], len);
        copy[i] ^= 0xa5;
        ft_decoder *b = ft_decoder_new(NULL, "b");
        int r = ft_decoder_import(b, &bl.addr[0], copy, len, s->t_ns[0]);
        if (i < 4)
            ASSERT_EQ(r, -1);
        /* decoding after a damaged load still works */
        cap cb = {0};
        for (int k = 0; k < s->n; k++)
            decode_pkt(b, s, k, &cb);
        cap_free(&cb);
        ft_decoder_free(b);
        free(copy);
    }
    blobs_free(&bl);
    cap_free(&ca);
    ft_decoder_free(a);
    free(s);
}

int main(void)
{
    FT_RUN(t_restart_equals_no_restart);
    FT_RUN(t_sampler_rates);
    FT_RUN(t_expired_not_loaded);
    FT_RUN(t_corrupt_blobs);
    fx_done();
    return FT_DONE();
}
