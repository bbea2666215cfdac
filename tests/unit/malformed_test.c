/*
 * malformed_test.c - truncated, corrupted and lying datagrams.
 *
 * Inputs: every hand-written vector of vec.h (scn_all) and sflow_vec.h
 * (scn_sflow_all) and, when FT_CORPUS is set, the NetFlow v5/v9, IPFIX and
 * sFlow v5 UDP payloads of every capture in the shared corpus (captures/,
 * bugs/, derived/; read with libpcap). From each valid datagram we derive:
 *   - every prefix, length 0..len;
 *   - N seeded random corruptions (bit flips, byte and multi-byte
 *     overwrites, 16-bit fields set to boundary values);
 *   - "lies": the message length, record count, set lengths, template field
 *     counts, scope counts and field lengths rewritten to 0 / 65535 / off by
 *     one, and IPFIX variable-length prefixes set to 255 + 0xFFFF (RFC 7011
 *     §7), found by walking the original message (RFC 3954 §5, RFC 7011 §3);
 *     for sFlow (sFlow v5 §5) the sample and record counts and lengths, the
 *     sampled_header header length, extended_gateway's AS path segment
 *     counts and lengths and its communities count, and the agent address
 *     type, found by walking samples and records by their declared lengths.
 * Plus t_sflow_bad: a table of targeted sFlow lies (issue 3 "Bad input")
 * applied to one hand-counted datagram, each with the fault kind it must
 * count and what must survive of the datagram.
 * Each goes to a fresh decoder (after the scenario's earlier datagrams, so
 * data sets meet their templates) and to one long-lived decoder that keeps
 * its state across everything. Every decode input is an exact-size heap
 * copy, so under ASan any read past len is caught.
 *
 * Checked on every call: no crash (ASan/UBSan in CI), the return value is a
 * valid ft_err, the records emitted never exceed what the bytes could hold
 * (v5: (len-24)/48; v9/IPFIX: one per byte of set payload; sFlow: one per
 * 40 bytes after the 28-byte header, the smallest flow sample; counted
 * cumulatively so held sets are covered), each record is sane (known type,
 * sampling_rate >= 1, MPLS/AS-path counts within their arrays; sFlow: 1
 * packet, start = end = time received). For the
 * obviously broken cases (shorter than the header, a prefix cutting a
 * declared length, a set length < 4 or past the message, ...) the exporter's
 * fault counters must have grown.
 */
#include <dirent.h>
#include <pcap/pcap.h>

#include "core/log.h"
#include "test.h"
#include "vec.h"
#include "sflow_vec.h"

/* Budgets, sized to stay well under 20 s under ASan+UBSan on 2 cores. */
#define FLIPS_HAND 2000   /* per hand-written datagram */
#define FLIPS_CORPUS 150  /* per corpus datagram, long-lived decoder */
#define FLIPS_CORPUS_FRESH 30
#define PREFIX_DENSE 96   /* corpus: every prefix up to this length, then sampled */
#define PREFIX_SAMPLES 64

/* ------------------------------------------------------------------ */
/* Inputs                                                              */
/* ------------------------------------------------------------------ */

typedef struct dgram {
    uint8_t *b;
    size_t n;
    uint64_t t_ns;
    ft_addr ex;
} dgram;

typedef struct dseq { /* one scenario or one capture file, in order */
    char name[160];
    dgram *d;
    size_t n, cap;
    bool hand;     /* hand-written: varlen marks known, prefixes replay the earlier datagrams */
    scn *s;        /* hand-written only */
} dseq;

static dseq *g_seq;
static size_t g_nseq;

static void seq_push(dseq *q, const uint8_t *p, size_t n, uint64_t t, const ft_addr *ex)
{
    if (q->n == q->cap) {
        q->cap = q->cap ? 2 * q->cap : 8;
        q->d = realloc(q->d, q->cap * sizeof *q->d);
        if (!q->d)
            abort();
    }
    dgram *g = &q->d[q->n++];
    g->b = malloc(n ? n : 1);
    if (!g->b)
        abort();
    memcpy(g->b, p, n);
    g->n = n, g->t_ns = t, g->ex = *ex;
}

static dseq *new_seq(const char *name)
{
    g_seq = realloc(g_seq, (g_nseq + 1) * sizeof *g_seq);
    if (!g_seq)
        abort();
    dseq *q = &g_seq[g_nseq++];
    memset(q, 0, sizeof *q);
    snprintf(q->name, sizeof q->name, "%s", name);
    return q;
}

static void load_hand_from(size_t (*list)(const scn_builder **))
{
    const scn_builder *all;
    size_t n = list(&all);
    ft_addr ex = vec_addr("192.0.2.1");
    for (size_t i = 0; i < n; i++) {
        scn *s = malloc(sizeof *s);
        if (!s)
            abort();
        all[i](s);
        dseq *q = new_seq(s->name);
        q->hand = true;
        q->s = s;
        for (int k = 0; k < s->n; k++)
            seq_push(q, s->pkt[k].b, s->pkt[k].n, s->t_ns[k], &ex);
    }
}

static void load_hand(void)
{
    load_hand_from(scn_all);
    load_hand_from(scn_sflow_all);
}

static inline uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Is this UDP payload NetFlow v5/v9, IPFIX or sFlow v5 (decoder.h's
 * sniffing rule)? */
static bool is_flow_protocol(const uint8_t *p, size_t n)
{
    if (n < 4)
        return false;
    uint32_t w = be32(p);
    uint16_t v = (uint16_t)(p[0] << 8 | p[1]);
    return w == 5 || v == 5 || v == 9 || v == 10;
}

/* The UDP payload of one captured frame; false when it is not an
 * unfragmented IPv4/IPv6 UDP datagram. */
static bool udp_payload(int dlt, const uint8_t *p, size_t n, const uint8_t **pl, size_t *pn, ft_addr *src)
{
    size_t off = 0;
    uint16_t et;
    switch (dlt) {
    case DLT_EN10MB:
        if (n < 14)
            return false;
        et = (uint16_t)(p[12] << 8 | p[13]);
        off = 14;
        while ((et == 0x8100 || et == 0x88a8) && off + 4 <= n) {
            et = (uint16_t)(p[off + 2] << 8 | p[off + 3]);
            off += 4;
        }
        break;
    case DLT_LINUX_SLL:
        if (n < 16)
            return false;
        et = (uint16_t)(p[14] << 8 | p[15]);
        off = 16;
        break;
#ifdef DLT_LINUX_SLL2
    case DLT_LINUX_SLL2:
        if (n < 20)
            return false;
        et = (uint16_t)(p[0] << 8 | p[1]);
        off = 20;
        break;
#endif
    case DLT_RAW:
#if DLT_RAW != 101
    case 101: /* LINKTYPE_RAW as stored in files */
#endif
        if (n < 1)
            return false;
        et = (p[0] >> 4) == 6 ? 0x86dd : 0x0800;
        break;
    case DLT_NULL:
        if (n < 4)
            return false;
        et = (p[0] == 2 || p[3] == 2) ? 0x0800 : 0x86dd;
        off = 4;
        break;
    default:
        return false;
    }
    const uint8_t *ip = p + off;
    size_t il = n - off, uoff;
    if (et == 0x0800) {
        if (il < 20 || (ip[0] >> 4) != 4 || ip[9] != 17)
            return false;
        if ((ip[6] & 0x20) || ((ip[6] & 0x1f) << 8 | ip[7]))
            return false; /* fragment */
        uoff = (size_t)(ip[0] & 15) * 4;
        *src = ft_addr_v4(ip + 12);
    } else if (et == 0x86dd) {
        if (il < 40 || ip[6] != 17)
            return false;
        uoff = 40;
        *src = ft_addr_v6(ip + 8);
    } else {
        return false;
    }
    if (il < uoff + 8)
        return false;
    size_t ulen = (size_t)(ip[uoff + 4] << 8 | ip[uoff + 5]);
    if (ulen < 8)
        return false;
    size_t avail = il - uoff - 8;
    *pl = ip + uoff + 8;
    *pn = ulen - 8 < avail ? ulen - 8 : avail;
    return true;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Loads every *.pcap under corpus/{captures,bugs,derived}; returns the
 * number of NetFlow/IPFIX/sFlow datagrams, or -1 when the corpus is absent. */
static long load_corpus(void)
{
    const char *root = getenv("FT_CORPUS");
    if (!root || !*root)
        return -1;
    static const char *const subdirs[] = {"captures", "bugs", "derived"};
    long total = 0;
    bool any_dir = false;
    for (size_t sd = 0; sd < sizeof subdirs / sizeof subdirs[0]; sd++) {
        char dir[512];
        snprintf(dir, sizeof dir, "%s/%s", root, subdirs[sd]);
        DIR *dp = opendir(dir);
        if (!dp)
            continue;
        any_dir = true;
        char **names = NULL;
        size_t nn = 0;
        struct dirent *de;
        while ((de = readdir(dp))) {
            size_t l = strlen(de->d_name);
            if (l < 5 || (strcmp(de->d_name + l - 5, ".pcap") && (l < 7 || strcmp(de->d_name + l - 7, ".pcapng"))))
                continue;
            names = realloc(names, (nn + 1) * sizeof *names);
            if (!names || !(names[nn] = strdup(de->d_name)))
                abort();
            nn++;
        }
        closedir(dp);
        qsort(names, nn, sizeof *names, cmp_str);
        for (size_t i = 0; i < nn; i++) {
            char path[1024], eb[PCAP_ERRBUF_SIZE];
            snprintf(path, sizeof path, "%s/%s", dir, names[i]);
            pcap_t *pc = pcap_open_offline(path, eb);
            if (!pc) {
                fprintf(stderr, "  cannot read %s: %s\n", path, eb);
                free(names[i]);
                continue;
            }
            int dlt = pcap_datalink(pc);
            dseq *q = NULL;
            struct pcap_pkthdr *h;
            const uint8_t *data;
            while (pcap_next_ex(pc, &h, &data) == 1) {
                const uint8_t *pl;
                size_t pn;
                ft_addr src;
                if (!udp_payload(dlt, data, h->caplen, &pl, &pn, &src) || !is_flow_protocol(pl, pn))
                    continue;
                if (!q) {
                    char nm[160];
                    snprintf(nm, sizeof nm, "%s/%s", subdirs[sd], names[i]);
                    q = new_seq(nm);
                }
                uint64_t t = (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec * 1000ull;
                seq_push(q, pl, pn, t, &src);
                total++;
            }
            pcap_close(pc);
            free(names[i]);
        }
        free(names);
    }
    return any_dir ? total : -1;
}

/* ------------------------------------------------------------------ */
/* Checked decoding                                                    */
/* ------------------------------------------------------------------ */

typedef struct run {
    ft_decoder *d;
    uint64_t emitted; /* records emitted by this decoder so far */
    uint64_t budget;  /* records its datagrams could hold, so far */
    uint64_t insane;  /* records that broke an invariant */
    const char *why;
} run;

static void run_emit(void *ctx, const ft_flow *f)
{
    run *r = ctx;
    r->emitted++;
    /* cannot longjmp out of the decoder: note it, assert after the call */
    if (f->type != FT_FLOW_NETFLOW_V5 && f->type != FT_FLOW_NETFLOW_V9 && f->type != FT_FLOW_IPFIX &&
        f->type != FT_FLOW_SFLOW_5)
        r->insane++, r->why = "type";
    else if (f->sampling_rate < 1)
        r->insane++, r->why = "sampling_rate 0";
    else if (f->mpls_count > 10)
        r->insane++, r->why = "mpls_count > 10";
    else if (f->as_path_len > FT_AS_PATH_MAX)
        r->insane++, r->why = "as_path_len";
    else if (f->src_country[2] || f->dst_country[2])
        r->insane++, r->why = "country not terminated";
    else if (f->src_addr.family != 0 && f->src_addr.family != 4 && f->src_addr.family != 6)
        r->insane++, r->why = "src_addr family";
    else if (f->type == FT_FLOW_SFLOW_5 && f->packets != 1)
        r->insane++, r->why = "sFlow record with packets != 1";
    else if (f->type == FT_FLOW_SFLOW_5 &&
             (f->time_flow_start_ns != f->time_received_ns || f->time_flow_end_ns != f->time_received_ns))
        r->insane++, r->why = "sFlow record times != time received";
}

static inline uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

/* Upper bound of the records n bytes can carry (each data record takes at
 * least one byte of a data set; a v5 record 48). */
static uint64_t max_records(const uint8_t *p, size_t n)
{
    if (n < 4)
        return 0;
    if (be32(p) == 5) /* sFlow: 28-byte header, a flow sample 8 + 32 bytes at least */
        return n >= 28 ? (n - 28) / 40 : 0;
    switch (be16(p)) {
    case 5:
        return n >= 24 ? (n - 24) / 48 : 0;
    case 9:
        return n >= 24 ? n - 24 : 0;
    case 10:
        return n >= 20 ? n - 20 : 0;
    default:
        return 0;
    }
}

static uint64_t fault_total(ft_decoder *d)
{
    vec_stats *vs = malloc(sizeof *vs);
    if (!vs)
        abort();
    vec_all_stats(d, vs);
    uint64_t t = 0;
    for (size_t i = 0; i < vs->n; i++)
        t += vec_fault_sum(&vs->s[i]);
    free(vs);
    return t;
}

static const char *g_ctx_name; /* what is being decoded, for failure messages */
static const char *g_ctx_kind;
static size_t g_ctx_pkt, g_ctx_arg;

/* Decodes an exact-size heap copy of p[0..n) and checks the call. */
static ft_err run_decode(run *r, const ft_addr *ex, uint64_t t, const uint8_t *p, size_t n)
{
    uint8_t *copy = malloc(n ? n : 1);
    if (!copy)
        abort();
    if (n)
        memcpy(copy, p, n);
    ft_datagram dg = {*ex, 50000, t, n ? copy : NULL, n};
    ft_flow_sink s = {run_emit, r};
    r->budget += max_records(p, n);
    ft_err e = ft_decoder_decode(r->d, &dg, &s);
    free(copy);
    if ((int)e < 0 || e >= FT_ERR_COUNT)
        FT_FAIL("%s pkt %zu %s %zu: invalid ft_err %d", g_ctx_name, g_ctx_pkt, g_ctx_kind, g_ctx_arg, (int)e);
    if (!ft_err_name(e))
        FT_FAIL("%s: ft_err_name(%d) is NULL", g_ctx_name, (int)e);
    if (r->insane)
        FT_FAIL("%s pkt %zu %s %zu: insane record (%s)", g_ctx_name, g_ctx_pkt, g_ctx_kind, g_ctx_arg, r->why);
    if (r->emitted > r->budget)
        FT_FAIL("%s pkt %zu %s %zu: %llu records emitted, the bytes hold at most %llu", g_ctx_name, g_ctx_pkt,
                g_ctx_kind, g_ctx_arg, (unsigned long long)r->emitted, (unsigned long long)r->budget);
    return e;
}

/* Small caps for the fresh decoders: tables stay tiny and new/free cheap. */
static ft_decoder *fresh_decoder(void)
{
    ft_decoder_opts o;
    ft_decoder_opts_default(&o);
    o.max_exporters = 4;
    o.max_templates_per_exporter = 64;
    o.pending_max_sets = 8;
    o.pending_max_bytes = 1 << 16;
    ft_decoder *d = ft_decoder_new(&o, "malformed");
    if (!d)
        abort();
    return d;
}

/* The long-lived decoder, default options, virtual clock 1 ms per call. */
static run g_keep;
static uint64_t g_keep_t = 1700000000ull * 1000000000ull;
static uint64_t g_keep_calls;

static void keep_decode(const dgram *g, const uint8_t *p, size_t n)
{
    g_keep_t += 1000000;
    run_decode(&g_keep, &g->ex, g_keep_t, p, n);
    if (++g_keep_calls % 4096 == 0)
        ft_decoder_expire(g_keep.d, g_keep_t); /* exercise expiry on corrupted state */
}

/* Fresh decoder: the sequence's datagrams before k (hand-written ones
 * only: their templates), then p[0..n) as datagram k. Asserts the faults
 * grew when must_fault. */
static ft_decoder *g_fresh; /* freed by the next fresh_decode when an assert jumped out */

static void fresh_decode(const dseq *q, size_t k, const uint8_t *p, size_t n, bool must_fault)
{
    ft_decoder_free(g_fresh);
    g_fresh = fresh_decoder();
    run r = {g_fresh, 0, 0, 0, NULL};
    if (q->hand)
        for (size_t i = 0; i < k; i++)
            run_decode(&r, &q->d[i].ex, q->d[i].t_ns, q->d[i].b, q->d[i].n);
    uint64_t before = must_fault ? fault_total(r.d) : 0;
    run_decode(&r, &q->d[k].ex, q->d[k].t_ns, p, n);
    uint64_t after = must_fault ? fault_total(r.d) : 0;
    ft_decoder_finish(r.d);
    ft_decoder_free(r.d);
    g_fresh = NULL;
    if (must_fault && after <= before)
        FT_FAIL("%s pkt %zu %s %zu: obviously broken datagram but no fault counted", g_ctx_name, g_ctx_pkt,
                g_ctx_kind, g_ctx_arg);
}

/* ------------------------------------------------------------------ */
/* What must count a fault                                             */
/* ------------------------------------------------------------------ */

/* A prefix p[0..n) of the valid datagram p[0..len): does it cut something
 * the header or a set header declares? */
static size_t sflow_samples_end(const uint8_t *p, size_t len);

static bool prefix_must_fault(const uint8_t *p, size_t len, size_t n)
{
    if (n >= len)
        return false;
    if (n < 4)
        return true;
    if (be32(p) == 5) {
        /* sFlow v5 §5: the header, then every declared sample must fit;
         * a cut anywhere before the end of the last declared sample leaves
         * a sample or the count unsatisfied. 0 = the walk fails on the
         * original: it cannot be satisfied by a prefix either. */
        size_t end = sflow_samples_end(p, len);
        return end == 0 || n < end;
    }
    switch (be16(p)) {
    case 5: {
        if (n < 24)
            return true;
        size_t want = 24 + 48 * (size_t)be16(p + 2);
        return want <= len && n < want;
    }
    case 9: {
        if (n < 20)
            return true;
        size_t off = 20;
        while (off + 4 <= len) {
            size_t sl = be16(p + off + 2);
            if (sl < 4 || off + sl > len)
                break;
            if (n >= off + 4 && n < off + sl)
                return true; /* set header read, its body cut */
            off += sl;
        }
        return false;
    }
    case 10: {
        if (n < 16)
            return true;
        size_t ml = be16(p + 2);
        return ml <= len && n < ml;
    }
    }
    return false;
}

/* ------------------------------------------------------------------ */
/* Lies                                                                */
/* ------------------------------------------------------------------ */

typedef struct lie {
    size_t off;
    int bytes;    /* 1, 2, 4 or 3 (3 = varlen 255 + u16) */
    uint32_t val;
    bool must_fault;
    const char *what;
} lie;

#define MAX_LIES 4096

static void add_lie(lie *l, size_t *nl, size_t off, int bytes, uint32_t val, bool must, const char *what)
{
    if (*nl < MAX_LIES)
        l[(*nl)++] = (lie){off, bytes, val, must, what};
}

static size_t find_sflow_lies(const uint8_t *p, size_t len, lie *l);

/* Walks a valid v5 / v9 / IPFIX / sFlow datagram and lists the lies to tell. */
static size_t find_lies(const uint8_t *p, size_t len, lie *l)
{
    size_t nl = 0;
    if (len < 4)
        return 0;
    if (be32(p) == 5)
        return find_sflow_lies(p, len, l);
    uint16_t v = be16(p);
    if (v == 5) {
        if (len < 24)
            return 0;
        size_t cnt = be16(p + 2);
        bool valid = 24 + 48 * cnt == len;
        add_lie(l, &nl, 2, 2, 0xffff, true, "v5 count 0xFFFF");
        add_lie(l, &nl, 2, 2, (uint32_t)cnt + 1, valid, "v5 count+1");
        add_lie(l, &nl, 2, 2, 0, false, "v5 count 0");
        return nl;
    }
    if (v != 9 && v != 10)
        return 0;
    bool ipfix = v == 10;
    size_t hdr = ipfix ? 16 : 20;
    if (len < hdr)
        return 0;
    size_t end = len;
    if (ipfix) {
        size_t ml = be16(p + 2);
        if (ml <= len)
            end = ml;
        add_lie(l, &nl, 2, 2, 0, true, "ipfix length 0");
        add_lie(l, &nl, 2, 2, 0xffff, true, "ipfix length 0xFFFF");
        add_lie(l, &nl, 2, 2, (uint32_t)len + 1, true, "ipfix length len+1");
        add_lie(l, &nl, 2, 2, 15, true, "ipfix length 15");
    } else {
        add_lie(l, &nl, 2, 2, 0, false, "v9 count 0");
        add_lie(l, &nl, 2, 2, 0xffff, false, "v9 count 0xFFFF");
    }
    size_t off = hdr;
    while (off + 4 <= end) {
        uint16_t sid = be16(p + off);
        size_t sl = be16(p + off + 2);
        if (sl < 4 || off + sl > end)
            break;
        add_lie(l, &nl, off + 2, 2, 0, true, "set length 0");
        add_lie(l, &nl, off + 2, 2, 1, true, "set length 1");
        add_lie(l, &nl, off + 2, 2, 3, true, "set length 3");
        add_lie(l, &nl, off + 2, 2, 0xffff, true, "set length 0xFFFF");
        add_lie(l, &nl, off + 2, 2, (uint32_t)(end - off + 4), true, "set length past the end");
        add_lie(l, &nl, off + 2, 2, (uint32_t)sl - 1, false, "set length - 1");
        bool tpl = ipfix ? sid == 2 : sid == 0;
        bool otpl = ipfix ? sid == 3 : sid == 1;
        size_t r = off + 4, send = off + sl;
        while ((tpl || otpl) && r + 4 <= send) {
            uint16_t fc = be16(p + r + 2);
            size_t specs = r + 4, nfields = fc;
            if (ipfix && otpl) {
                if (r + 6 > send)
                    break;
                add_lie(l, &nl, r + 4, 2, 0, true, "scope field count 0");
                add_lie(l, &nl, r + 4, 2, 0xffff, true, "scope field count 65535");
                specs = r + 6;
            } else if (!ipfix && otpl) {
                if (r + 6 > send)
                    break;
                uint16_t scl = be16(p + r + 2), ol = be16(p + r + 4);
                add_lie(l, &nl, r + 2, 2, 0xffff, true, "v9 scope length 0xFFFF");
                add_lie(l, &nl, r + 4, 2, 0xffff, true, "v9 option length 0xFFFF");
                add_lie(l, &nl, r + 2, 2, 0, false, "v9 scope length 0");
                add_lie(l, &nl, r + 2, 2, (uint32_t)scl + 1, false, "v9 scope length odd");
                nfields = ((size_t)scl + ol) / 4;
                specs = r + 6;
            }
            if (fc == 0 && ipfix)
                break; /* a withdrawal: its record is 4 bytes, then the next */
            if (!(otpl && !ipfix)) {
                add_lie(l, &nl, r + 2, 2, 0xffff, true, "field count 65535");
                add_lie(l, &nl, r + 2, 2, 0, !ipfix, "field count 0");
            }
            size_t q = specs;
            for (size_t i = 0; i < nfields && q + 4 <= send; i++) {
                uint16_t ie = be16(p + q);
                add_lie(l, &nl, q + 2, 2, 0, false, "field length 0");
                add_lie(l, &nl, q + 2, 2, 0xffff, false, "field length 65535");
                q += 4 + (ipfix && (ie & 0x8000) ? 4 : 0);
            }
            if (q > send)
                break;
            r = q;
            if (send - r < 4)
                break; /* padding */
        }
        off += sl;
    }
    return nl;
}

/* ------------------------------------------------------------------ */
/* sFlow walk (sFlow v5 §5 sample_datagram_v5, by declared lengths)    */
/* ------------------------------------------------------------------ */

/* Header length by the agent address type: 28 (IP_V4) or 40 (IP_V6); 0 for
 * another type or a datagram shorter than that. */
static size_t sflow_header_len(const uint8_t *p, size_t len)
{
    if (len < 8)
        return 0;
    uint32_t t = be32(p + 4);
    size_t h = t == 1 ? 28 : t == 2 ? 40 : 0;
    return h <= len ? h : 0;
}

/* End of the last sample the header declares, walking by the declared
 * lengths as the decoder does; 0 when the header or a sample does not fit.
 * Each step takes 8 bytes at least, so a huge count ends at the datagram. */
static size_t sflow_samples_end(const uint8_t *p, size_t len)
{
    size_t h = sflow_header_len(p, len);
    if (!h)
        return 0;
    uint32_t n = be32(p + h - 4);
    size_t off = h;
    for (uint32_t i = 0; i < n; i++) {
        if (len - off < 8)
            return 0;
        uint32_t sl = be32(p + off + 4);
        if (sl > len - off - 8)
            return 0;
        off += 8 + (size_t)sl;
    }
    return off;
}

/* extended_gateway body b[0..bl): the bytes its structure needs (0 when
 * its next hop type is unknown), and where its dst_as_path<> count, first
 * segment count and communities<> count are (0 when past bl). */
static size_t sflow_gateway(const uint8_t *b, size_t bl, size_t *segs_at, size_t *seg1_at, size_t *comms_at)
{
    *segs_at = *seg1_at = *comms_at = 0;
    if (bl < 4)
        return 4;
    uint32_t t = be32(b);
    if (t > 2)
        return 0;
    size_t o = 4 + (t == 1 ? 4 : t == 2 ? 16 : 0) + 12; /* nexthop; as, src_as, src_peer_as */
    if (bl < o + 4)
        return o + 4;
    *segs_at = o;
    uint32_t segs = be32(b + o);
    o += 4;
    for (uint32_t g = 0; g < segs; g++) {
        if (bl < o + 8)
            return o + 8;
        if (g == 0)
            *seg1_at = o + 4;
        o += 8 + 4 * (size_t)be32(b + o + 4);
        if (o > bl)
            return o;
    }
    if (bl < o + 4)
        return o + 4;
    *comms_at = o;
    o += 4 + 4 * (size_t)be32(b + o);
    return o + 4; /* localpref */
}

/* Bytes a standard (enterprise 0) flow or counter record of format fmt
 * needs, body b[0..bl); 0 when this decoder does not decode the format
 * (skipped by length: no length is too short for it). */
static size_t sflow_record_need(bool flow, uint32_t fmt, const uint8_t *b, size_t bl)
{
    size_t x, y, z;
    if (!flow)
        return fmt == 1 ? 88 : fmt == 2 ? 52 : 0; /* if_counters, ethernet_counters */
    switch (fmt) {
    case 1: /* sampled_header: 4 words, then header<> */
        return bl >= 16 ? 16 + (size_t)be32(b + 12) : 16;
    case 2: /* sampled_ethernet */
        return 24;
    case 3: /* sampled_ipv4 */
        return 32;
    case 4: /* sampled_ipv6 */
        return 56;
    case 1001: /* extended_switch */
        return 16;
    case 1002: { /* extended_router */
        if (bl < 4)
            return 4;
        uint32_t t = be32(b);
        return t == 1 ? 16 : t == 2 ? 28 : t == 0 ? 12 : 0;
    }
    case 1003:
        return sflow_gateway(b, bl, &x, &y, &z);
    }
    return 0;
}

/* The lies to tell a valid sFlow v5 datagram: counts, lengths and the
 * fields whose values size what follows. */
static size_t find_sflow_lies(const uint8_t *p, size_t len, lie *l)
{
    size_t nl = 0, h = sflow_header_len(p, len);
    if (!h)
        return 0;
    uint32_t n = be32(p + h - 4);
    add_lie(l, &nl, 4, 4, 3, true, "sflow agent address type 3");
    add_lie(l, &nl, h - 4, 4, 0xffffffff, true, "sflow sample count 0xFFFFFFFF");
    add_lie(l, &nl, h - 4, 4, n + 1, sflow_samples_end(p, len) == len, "sflow sample count + 1");
    add_lie(l, &nl, h - 4, 4, 0, false, "sflow sample count 0");
    size_t off = h;
    for (uint32_t i = 0; i < n && len - off >= 8; i++) {
        uint32_t fmt = be32(p + off), sl = be32(p + off + 4);
        if (sl > len - off - 8)
            break;
        bool known = fmt >= 1 && fmt <= 4; /* enterprise 0, formats 1..4 */
        add_lie(l, &nl, off + 4, 4, 0, known, "sflow sample length 0");
        add_lie(l, &nl, off + 4, 4, 0xffffffff, true, "sflow sample length 0xFFFFFFFF");
        add_lie(l, &nl, off + 4, 4, (uint32_t)(len - off - 8 + 4), true,
                "sflow sample length past the datagram");
        if (sl >= 4)
            add_lie(l, &nl, off + 4, 4, sl - 4, false, "sflow sample length - 4");
        bool flow = fmt == 1 || fmt == 3, expanded = fmt == 3 || fmt == 4;
        size_t head = flow ? (expanded ? 44 : 32) : (expanded ? 16 : 12);
        const uint8_t *b = p + off + 8;
        if (known && sl >= head) {
            add_lie(l, &nl, off + 8 + head - 4, 4, 0xffffffff, true, "sflow record count 0xFFFFFFFF");
            uint32_t nrec = be32(b + head - 4);
            size_t ro = head;
            for (uint32_t k = 0; k < nrec && sl - ro >= 8; k++) {
                uint32_t rf = be32(b + ro), rl = be32(b + ro + 4);
                if (rl > sl - ro - 8)
                    break;
                const uint8_t *rb = b + ro + 8;
                size_t at = off + 8 + ro + 4; /* the record's length field */
                size_t need = rf >> 12 ? 0 : sflow_record_need(flow, rf, rb, rl);
                add_lie(l, &nl, at, 4, 0, need > 0, "sflow record length 0");
                add_lie(l, &nl, at, 4, 0xffffffff, true, "sflow record length 0xFFFFFFFF");
                add_lie(l, &nl, at, 4, (uint32_t)(sl - ro - 8 + 4), true,
                        "sflow record length past the sample");
                if (rl >= 4)
                    add_lie(l, &nl, at, 4, rl - 4, need > rl - 4, "sflow record length - 4");
                if (flow && rf == 1 && rl >= 16) {
                    add_lie(l, &nl, at + 4 + 12, 4, 0xffffffff, true, "sampled_header length 0xFFFFFFFF");
                    add_lie(l, &nl, at + 4 + 12, 4, rl - 16 + 4, true, "sampled_header past its record");
                }
                if (flow && rf == 1003) {
                    size_t segs, seg1, comms;
                    if (sflow_gateway(rb, rl, &segs, &seg1, &comms) <= rl) {
                        add_lie(l, &nl, at + 4 + segs, 4, 0xffffffff, true, "as path 0xFFFFFFFF segments");
                        if (seg1) {
                            size_t a = at + 4 + seg1;
                            add_lie(l, &nl, a, 4, 0x80000000u, true, "as path segment length 2^31");
                            add_lie(l, &nl, a, 4, 0xffffffff, true, "as path segment length 0xFFFFFFFF");
                        }
                        add_lie(l, &nl, at + 4 + comms, 4, 0xffffffff, true, "communities 0xFFFFFFFF");
                    }
                }
                ro += 8 + (size_t)rl;
            }
        }
        off += 8 + (size_t)sl;
    }
    return nl;
}

static void apply_lie(uint8_t *b, size_t n, const lie *x)
{
    if (x->bytes == 3) {
        if (x->off + 3 <= n)
            b[x->off] = 255, b[x->off + 1] = 0xff, b[x->off + 2] = 0xff;
    } else if (x->off + (size_t)x->bytes <= n) {
        for (int i = x->bytes - 1, k = 0; i >= 0; i--, k++)
            b[x->off + (size_t)k] = (uint8_t)((uint64_t)x->val >> (8 * i));
    }
}

/* ------------------------------------------------------------------ */
/* Corruption                                                          */
/* ------------------------------------------------------------------ */

static uint64_t g_rng = 0x9e3779b97f4a7c15ull; /* fixed seed: runs are reproducible */

static uint64_t rnd(void)
{
    uint64_t x = g_rng; /* xorshift64* */
    x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
    g_rng = x;
    return x * 0x2545f4914f6cdd1dull;
}

/* Mutates b[0..n) in place, one of several kinds. Mostly spares the two
 * version bytes so the mutation reaches the decoder proper. */
static void corrupt(uint8_t *b, size_t n)
{
    if (n == 0)
        return;
    size_t lo = (n > 2 && rnd() % 16) ? 2 : 0;
    size_t span = n - lo;
    size_t at = lo + rnd() % span;
    static const uint16_t edge[] = {0, 1, 2, 3, 4, 5, 255, 256, 0x7fff, 0x8000, 0xfffe, 0xffff};
    switch (rnd() % 5) {
    case 0:
        b[at] ^= (uint8_t)(1u << (rnd() % 8));
        break;
    case 1:
        b[at] = (uint8_t)rnd();
        break;
    case 2: {
        size_t k = 2 + rnd() % 3;
        for (size_t i = 0; i < k && at + i < n; i++)
            b[at + i] = (uint8_t)rnd();
        break;
    }
    case 3: {
        size_t k = 2 + rnd() % 7;
        for (size_t i = 0; i < k; i++)
            b[lo + rnd() % span] ^= (uint8_t)(1 + rnd() % 255);
        break;
    }
    default:
        if (at + 1 < n) {
            uint16_t e = edge[rnd() % (sizeof edge / sizeof edge[0])];
            b[at] = (uint8_t)(e >> 8), b[at + 1] = (uint8_t)e;
        }
    }
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */
/* ------------------------------------------------------------------ */

static void set_ctx(const dseq *q, size_t k, const char *kind, size_t arg)
{
    g_ctx_name = q->name, g_ctx_pkt = k, g_ctx_kind = kind, g_ctx_arg = arg;
}

/* 0..3-byte datagrams of each protocol are "truncated". */
static void t_tiny(void)
{
    static const uint8_t hdr[][3] = {{0, 5, 0}, {0, 9, 0}, {0, 10, 0}};
    ft_addr ex = vec_addr("192.0.2.9");
    for (size_t h = 0; h < 3; h++)
        for (size_t n = 1; n <= 3; n++) {
            run r = {fresh_decoder(), 0, 0, 0, NULL};
            g_ctx_name = "tiny", g_ctx_kind = "len", g_ctx_pkt = h, g_ctx_arg = n;
            ft_err e = run_decode(&r, &ex, VEC_T_RECV_NS, hdr[h], n);
            ft_exporter_stats st;
            (void)vec_stats_of(r.d, &ex, &st);
            ft_decoder_free(r.d);
            ASSERT_EQ(e, FT_ERR_TRUNCATED);
            ASSERT_EQ(st.errors[FT_ERR_TRUNCATED], 1);
            ASSERT_EQ(r.emitted, 0);
        }
    run r = {fresh_decoder(), 0, 0, 0, NULL};
    ft_err e = run_decode(&r, &ex, VEC_T_RECV_NS, hdr[0], 0);
    uint64_t faults = fault_total(r.d);
    ft_decoder_free(r.d);
    ASSERT_TRUE(e != FT_OK);
    ASSERT_TRUE(faults >= 1);
}

static void prefixes(bool hand)
{
    size_t done = 0;
    for (size_t i = 0; i < g_nseq; i++) {
        dseq *q = &g_seq[i];
        if (q->hand != hand)
            continue;
        for (size_t k = 0; k < q->n; k++) {
            dgram *g = &q->d[k];
            size_t step = 1;
            if (!hand && g->n > PREFIX_DENSE)
                step = (g->n - PREFIX_DENSE) / PREFIX_SAMPLES + 1;
            for (size_t n = 0; n <= g->n; n = (n < PREFIX_DENSE || step == 1) ? n + 1 : n + step) {
                set_ctx(q, k, "prefix", n);
                fresh_decode(q, k, g->b, n, prefix_must_fault(g->b, g->n, n));
                keep_decode(g, g->b, n);
                done++;
            }
            set_ctx(q, k, "prefix", g->n - (g->n > 0));
            if (g->n)
                fresh_decode(q, k, g->b, g->n - 1, prefix_must_fault(g->b, g->n, g->n - 1));
            keep_decode(g, g->b, g->n); /* the whole datagram: restores the keeper's templates */
        }
    }
    fprintf(stderr, "  %zu prefixes\n", done);
}

static uint8_t g_buf[65536]; /* mutation scratch; run_decode copies to an exact-size heap block */

static void flips(bool hand)
{
    size_t done = 0;
    uint8_t *buf = g_buf;
    for (size_t i = 0; i < g_nseq; i++) {
        dseq *q = &g_seq[i];
        if (q->hand != hand)
            continue;
        for (size_t k = 0; k < q->n; k++) {
            dgram *g = &q->d[k];
            if (g->n == 0 || g->n > 65536)
                continue;
            size_t nf = hand ? FLIPS_HAND : FLIPS_CORPUS;
            for (size_t m = 0; m < nf; m++) {
                memcpy(buf, g->b, g->n);
                corrupt(buf, g->n);
                set_ctx(q, k, "flip", m);
                if (hand || m < FLIPS_CORPUS_FRESH)
                    fresh_decode(q, k, buf, g->n, false);
                keep_decode(g, buf, g->n);
                if (m % 64 == 63)
                    keep_decode(g, g->b, g->n);
                done++;
            }
            keep_decode(g, g->b, g->n);
        }
    }
    fprintf(stderr, "  %zu corrupted datagrams\n", done);
}

static lie g_lies[MAX_LIES];

static void lies(bool hand)
{
    size_t done = 0, asserted = 0;
    uint8_t *buf = g_buf;
    for (size_t i = 0; i < g_nseq; i++) {
        dseq *q = &g_seq[i];
        if (q->hand != hand)
            continue;
        for (size_t k = 0; k < q->n; k++) {
            dgram *g = &q->d[k];
            if (g->n > 65536)
                continue;
            size_t nl = find_lies(g->b, g->n, g_lies);
            if (hand)
                for (int m = 0; m < q->s->n_varlen; m++)
                    if ((size_t)q->s->varlen_pkt[m] == k)
                        add_lie(g_lies, &nl, q->s->varlen_off[m], 3, 0, true, "varlen 255 + 0xFFFF");
            for (size_t j = 0; j < nl; j++) {
                memcpy(buf, g->b, g->n);
                apply_lie(buf, g->n, &g_lies[j]);
                set_ctx(q, k, g_lies[j].what, g_lies[j].off);
                fresh_decode(q, k, buf, g->n, g_lies[j].must_fault);
                keep_decode(g, buf, g->n);
                done++, asserted += g_lies[j].must_fault;
            }
            keep_decode(g, g->b, g->n);
        }
    }
    fprintf(stderr, "  %zu lies (%zu must count a fault)\n", done, asserted);
}

/* ------------------------------------------------------------------ */
/* Targeted sFlow bad input (issue 3 "Bad input")                      */
/* ------------------------------------------------------------------ */

/* The base datagram every row mutates, offsets counted by hand (sFlow v5 §5):
 *   0 version 5 | 4 agent type 1 | 8 agent 192.0.2.60 | 12 sub-agent 0 |
 *  16 sequence 1 | 20 uptime | 24 samples<> count 2
 *  28 sample 1 flow_sample (0,1) | 32 length 168 | 36 sequence 77 |
 *  40 source_id 3 | 44 rate 256 | 48 pool | 52 drops | 56 input 1 |
 *  60 output 2 | 64 flow_records<> count 3
 *  68 sampled_header (0,1) | 72 length 44 | 76 protocol 11 | 80 frame_length
 *     100 | 84 stripped | 88 header length 28 | 92..119 frame B
 * 120 extended_switch | 124 length 16 | 128 src_vlan 10 | 132 src_priority 0
 *     | 136 dst_vlan 20 | 140 dst_priority 3
 * 144 extended_gateway | 148 length 52 | 152 nexthop type 1 | 156 192.0.2.9
 *     | 160 as 64496 | 164 src_as 64497 | 168 src_peer_as 64498 |
 *     172 dst_as_path<> 1 | 176 AS_SEQUENCE | 180 2 ASes | 184 64500 |
 *     188 64501 | 192 communities<> 1 | 196 65000:1 | 200 localpref 100
 * 204 sample 2 counters_sample (0,2) | 208 length 168 | 212 sequence 5 |
 *     216 source_id 5 | 220 counters<> 2
 * 224 if_counters | 228 length 88 | 232 ifIndex 5 ...
 * 320 ethernet_counters | 324 length 52 | 328..379 dot3Stats 31..43
 * 380 end.
 * Valid, it yields 1 flow record (frame B, VLANs 10/20, dst_as 64501) and
 * the counters of ifIndex 5 with Ethernet counters. */
#define SFB_LEN 380

static void sfb_at(const vec *v, size_t off)
{
    if (v->n != off)
        v_die("sflow bad-input base: offset counted by hand is wrong", v->n, off);
}

static void sfb_build(vec *v)
{
    memset(v, 0, sizeof *v);
    v_begin(v, SFB_LEN);
    sf_header4(v, 192, 0, 2, 60, 0, 1, 1000, 2);
    sfb_at(v, 28);
    v_begin(v, 176);
    v_u32(v, SF_FMT(0, 1)), v_u32(v, 168); /* 32 + 52 + 24 + 60 */
    sf_flow_head(v, 77, 3, 256, 25600, 0, 1, 2, 3);
    sfb_at(v, 68);
    sf_rec_header_b(v);
    sfb_at(v, 120);
    v_u32(v, SF_FMT(0, 1001)), v_u32(v, 16);
    v_u32(v, 10), v_u32(v, 0), v_u32(v, 20), v_u32(v, 3);
    sfb_at(v, 144);
    v_begin(v, 60);
    v_u32(v, SF_FMT(0, 1003)), v_u32(v, 52); /* 8 + 12 + 4 + 16 + 8 + 4 */
    v_u32(v, 1), v_ip4(v, 192, 0, 2, 9);
    v_u32(v, 64496), v_u32(v, 64497), v_u32(v, 64498);
    sfb_at(v, 172);
    v_u32(v, 1), v_u32(v, 2), v_u32(v, 2), v_u32(v, 64500), v_u32(v, 64501);
    sfb_at(v, 192);
    v_u32(v, 1), v_u32(v, 0xfde80001), v_u32(v, 100);
    v_end(v);
    v_end(v);
    sfb_at(v, 204);
    v_begin(v, 176);
    v_u32(v, SF_FMT(0, 2)), v_u32(v, 168); /* 12 + 96 + 60 */
    v_u32(v, 5), v_u32(v, 5), v_u32(v, 2);
    sfb_at(v, 224);
    sf_ifc c5 = {5, 6, 1000000000ull, 1, 3, 5000, 50, 0, 0, 0, 0, 0, 6000, 60, 0, 0, 0, 0, 0};
    sf_rec_if_counters(v, &c5);
    sfb_at(v, 320);
    sf_rec_ethernet_counters(v, 31);
    v_end(v);
    v_end(v);
}

/* What one bad datagram left behind, summed over every exporter. */
typedef struct sfb_out {
    run r;
    cap c;                 /* the records, copied */
    ft_exporter_stats sum; /* counters and errors of all exporters */
    size_t n_ifs;
    ft_if_counters ifc; /* ifIndex 5, when kept */
    bool have_if5;
} sfb_out;

static void sfb_emit(void *ctx, const ft_flow *f)
{
    sfb_out *o = ctx;
    run_emit(&o->r, f);
    cap_emit(&o->c, f);
}
static void sfb_if(void *arg, const ft_if_counters *c)
{
    sfb_out *o = arg;
    o->n_ifs++;
    if (c->if_index == 5)
        o->ifc = *c, o->have_if5 = true;
}
static void sfb_stats(void *arg, const ft_exporter_stats *st)
{
    sfb_out *o = arg;
    for (int i = 0; i < FT_CTR_COUNT; i++)
        o->sum.ctr[i] += st->ctr[i];
    for (int i = 0; i < FT_ERR_COUNT; i++)
        o->sum.errors[i] += st->errors[i];
}

/* Checks on what survived; each fails the row with FT_FAIL. */
static void sfb_none(const sfb_out *o) { (void)o; }
static void sfb_flow_intact(const sfb_out *o) /* the flow sample's records all applied */
{
    const ft_flow *f = &o->c.f[0];
    ASSERT_TRUE(vec_addr_is(&f->src_addr, "198.51.100.11"));
    ASSERT_EQ(f->bytes, 100);
    ASSERT_EQ(f->src_vlan, 10);
    ASSERT_EQ(f->dst_as, 64501);
}
static void sfb_no_header(const sfb_out *o) /* header skipped, the rest applied */
{
    const ft_flow *f = &o->c.f[0];
    ASSERT_EQ(f->src_addr.family, 0);
    ASSERT_EQ(f->bytes, 0);
    ASSERT_EQ(f->src_vlan, 10);
    ASSERT_EQ(f->dst_vlan, 20);
    ASSERT_EQ(f->dst_as, 64501);
    ASSERT_EQ(f->src_as, 64497);
}
static void sfb_no_switch(const sfb_out *o) /* a cut extended_switch sets nothing */
{
    const ft_flow *f = &o->c.f[0];
    ASSERT_TRUE(vec_addr_is(&f->src_addr, "198.51.100.11"));
    ASSERT_EQ(f->src_vlan, 0);
    ASSERT_EQ(f->dst_vlan, 0);
    ASSERT_EQ(f->vlan_id, 0);
}
static void sfb_no_gateway(const sfb_out *o) /* a bad extended_gateway sets nothing */
{
    const ft_flow *f = &o->c.f[0];
    ASSERT_TRUE(vec_addr_is(&f->src_addr, "198.51.100.11"));
    ASSERT_EQ(f->src_vlan, 10);
    ASSERT_EQ(f->dst_as, 0);
    ASSERT_EQ(f->src_as, 0);
    ASSERT_EQ(f->next_hop_as, 0);
    ASSERT_EQ(f->as_path_len, 0);
    ASSERT_EQ(f->bgp_next_hop.family, 0);
    ASSERT_EQ(f->next_hop.family, 0);
}
static void sfb_if_intact(const sfb_out *o)
{
    ASSERT_TRUE(o->have_if5);
    ASSERT_EQ(o->ifc.in_octets, 5000);
    ASSERT_TRUE(o->ifc.has_ethernet);
    ASSERT_EQ(o->ifc.eth.alignment_errors, 31);
    ASSERT_EQ(o->ifc.eth.symbol_errors, 43);
}
static void sfb_if_no_eth(const sfb_out *o)
{
    ASSERT_TRUE(o->have_if5);
    ASSERT_EQ(o->ifc.in_octets, 5000);
    ASSERT_TRUE(!o->ifc.has_ethernet);
}

typedef struct sfb_row {
    const char *what;
    size_t off;    /* the 32-bit field to rewrite, or 0 */
    uint32_t val;
    size_t cut;    /* keep only the first cut bytes, or 0 */
    int kind;      /* FT_ERR_* that must count exactly `count`; -1: any fault kind, at least count */
    int count;
    int records;   /* flow records emitted (= flow_samples); -1: any */
    int counters;  /* counter_samples; -1: any */
    int n_ifs;     /* interfaces kept; -1: any */
    void (*check)(const sfb_out *o);
} sfb_row;

static const sfb_row g_sfb[] = {
    {"valid base datagram", 0, 0, 0, FT_OK, 0, 1, 1, 1, sfb_flow_intact},
    /* sample counts */
    {"sample count 0xFFFFFFFF", 24, 0xffffffff, 0, FT_ERR_BAD_COUNT, 1, 1, 1, 1, sfb_flow_intact},
    {"sample count 3, 2 present", 24, 3, 0, FT_ERR_BAD_COUNT, 1, 1, 1, 1, sfb_if_intact},
    {"sample count 2, header only", 0, 0, 28, FT_ERR_BAD_COUNT, 1, 0, 0, 0, sfb_none},
    /* sample lengths */
    {"flow sample length past the datagram", 32, SFB_LEN - 36 + 4, 0, FT_ERR_BAD_SAMPLE, 1, 0, 0, 0,
     sfb_none},
    {"flow sample length 0xFFFFFFFF", 32, 0xffffffff, 0, FT_ERR_BAD_SAMPLE, 1, 0, 0, 0, sfb_none},
    /* length 0: the flow sample is empty; sample 2 is then read from its
     * body: data_format 77 (sequence), length 3 (source_id): unknown kind */
    {"flow sample length 0", 32, 0, 0, FT_ERR_BAD_SAMPLE, 1, 0, 0, 0, sfb_none},
    {"flow sample length cuts its records", 32, 32 + 52, 0, -1, 1, 1, 0, 0, sfb_none},
    {"datagram cut inside flow sample 1", 0, 0, 68, FT_ERR_BAD_SAMPLE, 1, 0, 0, 0, sfb_none},
    {"counters sample length 0xFFFFFFFF", 208, 0xffffffff, 0, FT_ERR_BAD_SAMPLE, 1, 1, 0, 0, sfb_flow_intact},
    {"counters sample length 0", 208, 0, 0, FT_ERR_BAD_SAMPLE, 1, 1, 0, 0, sfb_flow_intact},
    {"counters sample length 8 (cuts its header)", 208, 8, 0, FT_ERR_BAD_SAMPLE, 1, 1, 0, 0, sfb_flow_intact},
    /* record counts */
    {"flow record count 0xFFFFFFFF", 64, 0xffffffff, 0, FT_ERR_BAD_COUNT, 1, 1, 1, 1, sfb_flow_intact},
    {"counter record count 0xFFFFFFFF", 220, 0xffffffff, 0, FT_ERR_BAD_COUNT, 1, 1, 1, 1, sfb_if_intact},
    /* record lengths */
    {"sampled_header record length 0xFFFF", 72, 0xffff, 0, FT_ERR_BAD_SAMPLE, 1, 1, 1, 1, sfb_none},
    {"sampled_header record length 0", 72, 0, 0, -1, 1, 1, 1, 1, sfb_none},
    {"extended_switch length 0", 124, 0, 0, FT_ERR_BAD_SAMPLE, 1, 1, 1, 1, sfb_no_switch},
    {"extended_switch length 8", 124, 8, 0, FT_ERR_BAD_SAMPLE, 1, 1, 1, 1, sfb_no_switch},
    /* 12: the switch is cut (1), and its last 4 bytes start a third record
     * whose length is the gateway's data_format 1003, past the sample (2) */
    {"extended_switch length 12", 124, 12, 0, FT_ERR_BAD_SAMPLE, 2, 1, 1, 1, sfb_no_switch},
    {"extended_gateway length 0xFFFFFFFF", 148, 0xffffffff, 0, FT_ERR_BAD_SAMPLE, 1, 1, 1, 1, sfb_no_gateway},
    {"extended_gateway length 48 (cuts localpref)", 148, 48, 0, FT_ERR_BAD_SAMPLE, 1, 1, 1, 1,
     sfb_no_gateway},
    {"if_counters length 84 (cuts ifPromiscuousMode)", 228, 84, 0, FT_ERR_BAD_SAMPLE, 1, 1, 1, 0, sfb_none},
    {"if_counters length 0", 228, 0, 0, -1, 1, 1, 1, -1, sfb_none},
    {"ethernet_counters length 48", 324, 48, 0, FT_ERR_BAD_SAMPLE, 1, 1, 1, 1, sfb_if_no_eth},
    {"ethernet_counters length 0", 324, 0, 0, FT_ERR_BAD_SAMPLE, 1, 1, 1, 1, sfb_if_no_eth},
    /* header lengths past the record */
    {"sampled_header length 32 (28 present)", 88, 32, 0, FT_ERR_BAD_SAMPLE, 1, 1, 1, 1, sfb_no_header},
    {"sampled_header length 0xFFFFFFFF", 88, 0xffffffff, 0, FT_ERR_BAD_SAMPLE, 1, 1, 1, 1, sfb_no_header},
    /* absurd AS paths */
    {"AS path 0xFFFFFFFF segments", 172, 0xffffffff, 0, FT_ERR_BAD_SAMPLE, 1, 1, 1, 1, sfb_no_gateway},
    {"AS path segment length 2^31", 180, 0x80000000u, 0, FT_ERR_BAD_SAMPLE, 1, 1, 1, 1, sfb_no_gateway},
    {"AS path segment length 0xFFFFFFFF", 180, 0xffffffff, 0, FT_ERR_BAD_SAMPLE, 1, 1, 1, 1, sfb_no_gateway},
    {"AS path segment length 3 (2 present)", 180, 3, 0, FT_ERR_BAD_SAMPLE, 1, 1, 1, 1, sfb_no_gateway},
    {"communities count 0xFFFFFFFF", 192, 0xffffffff, 0, FT_ERR_BAD_SAMPLE, 1, 1, 1, 1, sfb_no_gateway},
    /* the header */
    {"agent address type 3", 4, 3, 0, FT_ERR_TRUNCATED, 1, 0, 0, 0, sfb_none},
    {"agent address type 0 (unknown)", 4, 0, 0, -1, 1, 0, 0, 0, sfb_none},
    /* 16 agent bytes shift everything: the count becomes 77 and sample 1 an
     * expanded flow sample that decodes; 77 samples cannot all fit */
    {"agent address type 2 (16 bytes)", 4, 2, 0, -1, 1, -1, -1, -1, sfb_none},
    {"version word only", 0, 0, 4, FT_ERR_TRUNCATED, 1, 0, 0, 0, sfb_none},
    {"cut inside the agent address", 0, 0, 10, FT_ERR_TRUNCATED, 1, 0, 0, 0, sfb_none},
    {"cut before the sample count", 0, 0, 24, FT_ERR_TRUNCATED, 1, 0, 0, 0, sfb_none},
};

static sfb_out g_sfb_out; /* static: a failed check longjmps out, main frees g_sfb_out.c */
static vec g_sfb_base;

static void t_sflow_bad(void)
{
    vec *base = &g_sfb_base;
    sfb_out *o = &g_sfb_out;
    sfb_build(base);
    ft_addr src = vec_addr("192.0.2.1");
    size_t n = sizeof g_sfb / sizeof g_sfb[0];
    int failed = 0;
    for (size_t i = 0; i < n; i++) {
        const sfb_row *row = &g_sfb[i];
        uint8_t b[SFB_LEN];
        memcpy(b, base->b, SFB_LEN);
        if (row->off)
            b[row->off] = (uint8_t)(row->val >> 24), b[row->off + 1] = (uint8_t)(row->val >> 16),
            b[row->off + 2] = (uint8_t)(row->val >> 8), b[row->off + 3] = (uint8_t)row->val;
        size_t len = row->cut ? row->cut : SFB_LEN;
        cap_free(&o->c);
        memset(o, 0, sizeof *o);
        o->r.d = fresh_decoder();
        g_ctx_name = "sflow bad input", g_ctx_kind = row->what, g_ctx_pkt = 0, g_ctx_arg = i;
        /* an exact-size heap copy, as run_decode; the sink also keeps the records */
        uint8_t *copy = malloc(len);
        if (!copy)
            abort();
        memcpy(copy, b, len);
        ft_datagram dg = {src, 50000, VEC_T_RECV_NS, copy, len};
        ft_flow_sink sink = {sfb_emit, o};
        ft_err e = ft_decoder_decode(o->r.d, &dg, &sink);
        free(copy);
        ft_decoder_foreach_exporter(o->r.d, sfb_stats, o);
        ft_decoder_foreach_interface(o->r.d, sfb_if, o);
        ft_decoder_free(o->r.d);
        keep_decode(&(dgram){b, len, VEC_T_RECV_NS, src}, b, len);

        char why[256] = "";
        uint64_t faults = vec_fault_sum(&o->sum);
        if (o->r.insane)
            snprintf(why, sizeof why, "insane record (%s)", o->r.why);
        else if (row->kind == FT_OK && (faults != 0 || e != FT_OK))
            snprintf(why, sizeof why, "%llu faults (returned %s), want none", (unsigned long long)faults,
                     ft_err_name(e));
        else if (row->kind > 0 &&
                 (o->sum.errors[row->kind] != (uint64_t)row->count || faults != (uint64_t)row->count))
            snprintf(why, sizeof why, "%s %llu of %llu faults, want %d and no other",
                     ft_err_name((ft_err)row->kind), (unsigned long long)o->sum.errors[row->kind],
                     (unsigned long long)faults, row->count);
        else if (row->kind < 0 && faults < (uint64_t)row->count)
            snprintf(why, sizeof why, "%llu faults, want >= %d", (unsigned long long)faults, row->count);
        else if (row->kind != FT_OK && e == FT_OK)
            snprintf(why, sizeof why, "returned ok after a fault (decoder.h: the first fault is returned)");
        else if (row->kind > 0 && e != (ft_err)row->kind)
            snprintf(why, sizeof why, "returned %s", ft_err_name(e));
        else if (o->sum.ctr[FT_CTR_flow_samples] != o->c.n)
            snprintf(why, sizeof why, "flow_samples %llu, %zu records",
                     (unsigned long long)o->sum.ctr[FT_CTR_flow_samples], o->c.n);
        else if (row->records >= 0 && o->c.n != (size_t)row->records)
            snprintf(why, sizeof why, "%zu records, want %d", o->c.n, row->records);
        else if (row->counters >= 0 && o->sum.ctr[FT_CTR_counter_samples] != (uint64_t)row->counters)
            snprintf(why, sizeof why, "counter_samples %llu, want %d",
                     (unsigned long long)o->sum.ctr[FT_CTR_counter_samples], row->counters);
        else if (row->n_ifs >= 0 && o->n_ifs != (size_t)row->n_ifs)
            snprintf(why, sizeof why, "%zu interfaces kept, want %d", o->n_ifs, row->n_ifs);
        if (why[0]) {
            fprintf(stderr, "  FAIL row %zu \"%s\": %s\n", i, row->what, why);
            failed++;
            continue;
        }
        /* the row's own checks: a failed assert ends the test, so report first */
        fprintf(stderr, "  row %zu \"%s\": %s %llu, %zu records\n", i, row->what,
                row->kind > 0 ? ft_err_name((ft_err)row->kind) : "faults", (unsigned long long)
                (row->kind > 0 ? o->sum.errors[row->kind] : faults), o->c.n);
        row->check(o);
    }
    cap_free(&o->c);
    ASSERT_EQ(failed, 0);
}

static long g_corpus = -2;

static void t_hand_prefixes(void) { prefixes(true); }
static void t_hand_flips(void) { flips(true); }
static void t_hand_lies(void) { lies(true); }

static void need_corpus(void)
{
    if (g_corpus < 0)
        FT_SKIP("FT_CORPUS not set or corpus absent: corpus payloads skipped");
    if (g_corpus == 0)
        FT_SKIP("no NetFlow/IPFIX/sFlow datagrams found in the corpus");
}
static void t_corpus_prefixes(void)
{
    need_corpus();
    prefixes(false);
}
static void t_corpus_flips(void)
{
    need_corpus();
    flips(false);
}
static void t_corpus_lies(void)
{
    need_corpus();
    lies(false);
}

/* The long-lived decoder after everything: still answers, and expiring far
 * in the future empties its templates and held sets (memory is bounded by
 * time as well as by the caps). */
static void t_keeper_state(void)
{
    g_ctx_name = "keeper", g_ctx_kind = "", g_ctx_pkt = 0, g_ctx_arg = 0;
    fprintf(stderr, "  %llu datagrams through one decoder\n", (unsigned long long)g_keep_calls);
    vec_stats *vs = malloc(sizeof *vs);
    ASSERT_TRUE(vs != NULL);
    vec_all_stats(g_keep.d, vs);
    ASSERT_TRUE(vs->total >= 1);
    uint64_t faults = 0;
    for (size_t i = 0; i < vs->n; i++)
        faults += vec_fault_sum(&vs->s[i]);
    ASSERT_TRUE(faults > 0);
    ft_decoder_expire(g_keep.d, g_keep_t + VEC_S2NS(86400));
    vec_all_stats(g_keep.d, vs);
    for (size_t i = 0; i < vs->n; i++) {
        ASSERT_EQ(vs->s[i].templates, 0);
        ASSERT_EQ(vs->s[i].pending, 0);
    }
    free(vs);
    /* and it still decodes a valid datagram afterwards */
    scn *s = malloc(sizeof *s);
    ASSERT_TRUE(s != NULL);
    scn_nfv9_basic(s);
    uint64_t before = g_keep.emitted;
    ft_addr ex = vec_addr("192.0.2.1");
    ft_err e = run_decode(&g_keep, &ex, g_keep_t + VEC_S2NS(86401), s->pkt[0].b, s->pkt[0].n);
    free(s);
    ASSERT_EQ(e, FT_OK);
    ASSERT_EQ(g_keep.emitted - before, 2);
    ft_decoder_finish(g_keep.d);
}

int main(void)
{
    ft_log_threshold = FT_LOG_ERROR; /* thousands of rate-limited warnings otherwise */
    load_hand();
    g_corpus = load_corpus();
    if (g_corpus < 0)
        fprintf(stderr, "FT_CORPUS not set or absent: only the hand-written vectors are mutated\n");
    else
        fprintf(stderr, "corpus: %ld NetFlow/IPFIX/sFlow datagrams\n", g_corpus);
    g_keep.d = ft_decoder_new(NULL, "keeper");
    if (!g_keep.d)
        return 1;

    FT_RUN(t_tiny);
    FT_RUN(t_hand_prefixes);
    FT_RUN(t_hand_lies);
    FT_RUN(t_hand_flips);
    FT_RUN(t_sflow_bad);
    FT_RUN(t_corpus_prefixes);
    FT_RUN(t_corpus_lies);
    FT_RUN(t_corpus_flips);
    FT_RUN(t_keeper_state);

    ft_decoder_free(g_keep.d);
    ft_decoder_free(g_fresh);
    cap_free(&g_sfb_out.c);
    for (size_t i = 0; i < g_nseq; i++) {
        for (size_t k = 0; k < g_seq[i].n; k++)
            free(g_seq[i].d[k].b);
        free(g_seq[i].d);
        free(g_seq[i].s);
    }
    free(g_seq);
    return FT_DONE();
}
