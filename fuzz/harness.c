/*
 * harness.c - the libFuzzer target bodies (see harness.h, fuzz/README.md).
 *
 * Every input is copied into an exact-size heap buffer before it is handed
 * to flowtally, so under ASan a read one byte past the datagram or span is
 * reported even when the caller's buffer happens to be larger.
 */
#include "harness.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "decode/decoder.h"
#include "decode/pkt_header.h"
#include "flow/flow_json.h"

/* A broken contract: say which, then abort so libFuzzer keeps the input. */
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz harness: contract broken at %s:%d: %s\n", __FILE__, __LINE__,    \
                    #cond);                                                                        \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define NS_PER_S 1000000000ull

/* --print lines formatted per input: the formatter sees hostile values, and
 * jansson's allocations (costly under ASan) do not dominate the run. */
#define JSON_PER_INPUT 1

static const char *const names[FT_FUZZ_COUNT] = {"nfv5",       "nfv9",    "ipfix",
                                                 "sflow",      "pkt_header", "stateful"};

const char *ft_fuzz_name(ft_fuzz_target t)
{
    return (unsigned)t < FT_FUZZ_COUNT ? names[t] : NULL;
}

ft_fuzz_target ft_fuzz_by_name(const char *s)
{
    for (int i = 0; i < FT_FUZZ_COUNT; i++)
        if (strcmp(s, names[i]) == 0)
            return (ft_fuzz_target)i;
    return FT_FUZZ_COUNT;
}

static void quiet_logs(void)
{
    static bool done;
    if (done)
        return;
    done = true;
    const char *e = getenv("FT_FUZZ_LOG");
    if (!e || strcmp(e, "1") != 0)
        ft_log_threshold = FT_LOG_ERROR;
}

static uint8_t *dup_exact(const uint8_t *p, size_t n)
{
    uint8_t *b = malloc(n ? n : 1);
    CHECK(b != NULL);
    if (n)
        memcpy(b, p, n);
    return b;
}

static bool family_ok(const ft_addr *a)
{
    return a->family == 0 || a->family == 4 || a->family == 6;
}

/* ---- the capturing sink: contract checks on every record ----------------- */

typedef struct sink_ctx {
    ft_flow_type want;  /* the type every record of this datagram must have; UNKNOWN: any */
    uint64_t datagrams; /* decode calls so far */
    uint64_t records;   /* emitted so far, all datagrams */
    uint64_t this_call; /* emitted during the current decode call */
    unsigned json_left;
} sink_ctx;

static void check_record(sink_ctx *c, const ft_flow *f)
{
    CHECK(f->type >= FT_FLOW_SFLOW_5 && f->type <= FT_FLOW_IPFIX);
    if (c->want != FT_FLOW_UNKNOWN)
        CHECK(f->type == c->want);
    CHECK(f->sampling_rate >= 1);
    CHECK(family_ok(&f->sampler_address) && f->sampler_address.family != 0);
    CHECK(family_ok(&f->src_addr) && family_ok(&f->dst_addr));
    CHECK(family_ok(&f->next_hop) && family_ok(&f->bgp_next_hop));
    CHECK(family_ok(&f->src_addr_encap) && family_ok(&f->dst_addr_encap));
    CHECK(f->as_path_len <= FT_AS_PATH_MAX);
    CHECK(f->has_mpls == (f->mpls_count != 0));
    CHECK(f->ipv6_flow_label <= 0xfffff);
    CHECK(f->src_country[2] == 0 && f->dst_country[2] == 0);
    if (c->json_left) {
        /* flow_json.h: FT_FLOW_JSON_MAX bounds any record's line. */
        static char line[FT_FLOW_JSON_MAX];
        c->json_left--;
        size_t n = ft_flow_json(f, line, sizeof line);
        CHECK(n > 0 && n < sizeof line && line[n - 1] == '\n' && line[n] == 0);
    }
}

static void sink_emit(void *ctx, const ft_flow *f)
{
    sink_ctx *c = ctx;
    c->records++;
    c->this_call++;
    check_record(c, f);
}

/* ---- exporter snapshots ---------------------------------------------------- */

typedef struct stats_ctx {
    uint64_t max_templates, max_pending;
    uint64_t exporters;
    uint64_t templates, pending; /* summed */
    uint64_t packets, records;   /* summed counters */
} stats_ctx;

static void stats_cb(void *arg, const ft_exporter_stats *s)
{
    stats_ctx *c = arg;
    c->exporters++;
    c->templates += s->templates;
    c->pending += s->pending;
    c->packets += s->ctr[FT_CTR_packets];
    c->records += s->ctr[FT_CTR_records];
    CHECK(s->templates <= c->max_templates);
    CHECK(s->pending <= c->max_pending);
    CHECK(family_ok(&s->addr));
}

static void if_cb(void *arg, const ft_if_counters *c)
{
    uint64_t *n = arg;
    (*n)++;
    CHECK(family_ok(&c->agent));
}

/* The counters must tell the truth: one `packets` per datagram decoded,
 * one `records` per record emitted (sc), summed over the exporters. */
static stats_ctx snapshot(ft_decoder *d, const ft_decoder_opts *o, const sink_ctx *sc)
{
    stats_ctx s = {o->max_templates_per_exporter, o->pending_max_sets, 0, 0, 0, 0, 0};
    ft_decoder_foreach_exporter(d, stats_cb, &s);
    CHECK(s.packets == sc->datagrams);
    CHECK(s.records == sc->records);
    CHECK(s.exporters <= (uint64_t)o->max_exporters + 1); /* + the over-cap pseudo-exporter */
    uint64_t ifs = 0;
    ft_decoder_foreach_interface(d, if_cb, &ifs);
    return s;
}

/* The flow type a datagram's first bytes announce (decoder.h's sniffing). */
static ft_flow_type sniff(const uint8_t *p, size_t n)
{
    if (n < 4)
        return FT_FLOW_UNKNOWN;
    uint32_t w = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    if (w == 5)
        return FT_FLOW_SFLOW_5;
    switch (w >> 16) {
    case 5:
        return FT_FLOW_NETFLOW_V5;
    case 9:
        return FT_FLOW_NETFLOW_V9;
    case 10:
        return FT_FLOW_IPFIX;
    }
    return FT_FLOW_UNKNOWN;
}

static ft_err decode_one(ft_decoder *d, const ft_addr *ex, uint64_t t_ns, const uint8_t *p, size_t n,
                         sink_ctx *c)
{
    ft_datagram dg = {*ex, 50000, t_ns, p, n};
    ft_flow_sink sink = {sink_emit, c};
    c->want = sniff(p, n);
    c->this_call = 0;
    c->datagrams++;
    ft_err e = ft_decoder_decode(d, &dg, &sink);
    CHECK((unsigned)e < FT_ERR_COUNT);
    if (c->want == FT_FLOW_UNKNOWN)
        CHECK(c->this_call == 0);
    return e;
}

/* ---- one-datagram targets ---------------------------------------------------- */

/*
 * NetFlow v5 / v9 / IPFIX / sFlow: the input is one datagram whose version
 * is forced (the first 2 bytes, 4 for sFlow, overwritten as far as the input
 * reaches), so every input reaches the decoder under test. A fresh decoder
 * with the default options decodes it twice, 1 s apart (the second time its
 * templates are known and refreshed, its held sets released, its sequence
 * number seen before), then expires everything 2 h later: no template and
 * no held set may survive that.
 */
static int run_datagram(ft_fuzz_target t, const uint8_t *data, size_t size)
{
    static const uint8_t ver[][4] = {
        [FT_FUZZ_NFV5] = {0, 5},
        [FT_FUZZ_NFV9] = {0, 9},
        [FT_FUZZ_IPFIX] = {0, 10},
        [FT_FUZZ_SFLOW] = {0, 0, 0, 5},
    };
    size_t vlen = t == FT_FUZZ_SFLOW ? 4 : 2;
    uint8_t *b = dup_exact(data, size);
    memcpy(b, ver[t], size < vlen ? size : vlen);

    ft_decoder_opts o;
    ft_decoder_opts_default(&o);
    ft_decoder *d = ft_decoder_new(&o, "fuzz.0");
    CHECK(d != NULL);
    ft_addr ex;
    CHECK(ft_addr_parse("192.0.2.1", &ex) == 0);
    sink_ctx c = {FT_FLOW_UNKNOWN, 0, 0, 0, JSON_PER_INPUT};

    for (int pass = 0; pass < 2; pass++) {
        (void)decode_one(d, &ex, FT_FUZZ_T0_NS + (uint64_t)pass * NS_PER_S, b, size, &c);
        if (t == FT_FUZZ_NFV5) /* 24-byte header, 48-byte records, never one more */
            CHECK(c.this_call <= (size >= 24 ? (size - 24) / 48 : 0));
        (void)snapshot(d, &o, &c);
    }
    /* Each record is at least one byte of some set or sample. */
    CHECK(c.records <= 2 * (uint64_t)size);

    ft_decoder_expire(d, FT_FUZZ_T0_NS + 7200 * NS_PER_S);
    stats_ctx s = snapshot(d, &o, &c);
    CHECK(s.templates == 0 && s.pending == 0);
    ft_decoder_finish(d);
    ft_decoder_free(d);
    free(b);
    return 0;
}

/* ---- pkt_header ------------------------------------------------------------------ */

/*
 * Byte 0 selects the link type (value mod 9, in ft_link order), the rest is
 * the span as a capture or an sFlow agent would cut it. The walk runs twice,
 * with and without a flow record: the info must be the same (pure function),
 * every offset it reports must lie inside the span, and every payload byte
 * it points at is read (so ASan checks the slice --pcap would hand on).
 * Then a prefix of the span (byte 0 / 9 picks where, in 28ths) must give
 * a consistent partial result.
 */
static int run_pkt_header(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    ft_link link = (ft_link)(data[0] % 9);
    size_t n = size - 1;
    uint8_t *b = dup_exact(data + 1, n);

    ft_flow f;
    ft_pkt_info info, info2;
    memset(&f, 0, sizeof f);
    ft_pkt_parse(b, n, link, &f, &info);
    ft_pkt_parse(b, n, link, NULL, &info2);
    CHECK(memcmp(&info, &info2, sizeof info) == 0);

    CHECK(info.ip_version == 0 || info.ip_version == 4 || info.ip_version == 6);
    if (info.ip_version)
        CHECK(info.l3_off <= n);
    if (info.layers & (FT_PKT_IPV4 | FT_PKT_IPV6))
        CHECK(info.l3_off <= info.ip_end && info.ip_end <= n && info.l4_off <= n);
    if (info.layers & FT_PKT_L4) {
        CHECK(info.payload_off <= n && info.payload_len <= n - info.payload_off);
        CHECK(info.payload_len <= info.payload_declared);
        volatile uint8_t sum = 0;
        for (size_t i = 0; i < info.payload_len; i++)
            sum += b[info.payload_off + i];
        (void)sum;
    }
    if (info.later_fragment)
        CHECK(info.fragment && !(info.layers & FT_PKT_L4));

    CHECK(family_ok(&f.src_addr) && family_ok(&f.dst_addr));
    CHECK(family_ok(&f.src_addr_encap) && family_ok(&f.dst_addr_encap));
    CHECK(family_ok(&info.src_addr) && family_ok(&info.dst_addr));
    CHECK(info.tunnels <= FT_PKT_MAX_TUNNELS);
    if (f.has_encap) /* the first tunnelled IP header was read: a tunnel was entered */
        CHECK(info.tunnels >= 1 && (info.layers & FT_PKT_TUNNEL));
    CHECK(f.vlan_id <= 0xfff);
    CHECK(f.ipv6_flow_label <= 0xfffff);
    CHECK(f.fragment_offset <= 0x1fff);
    CHECK(f.tcp_flags <= 0x1ff);
    CHECK(f.icmp_type <= 0xff && f.icmp_code <= 0xff);
    CHECK(f.src_port <= 0xffff && f.dst_port <= 0xffff);
    CHECK(f.has_mpls == (f.mpls_count != 0));
    CHECK((f.mpls_count != 0) == ((info.layers & FT_PKT_MPLS) != 0));

    /* The same span cut short (pkt_header.h: "a cut gives a partial result
     * (info->truncated), never a fault"), the cut chosen by byte 0 / 9:
     * no header becomes malformed, no layer appears, a layer lost is a
     * truncation, and every header still read in full says the same. */
    size_t k = (size_t)(data[0] / 9) * n / 28;
    ft_flow g;
    ft_pkt_info ci;
    memset(&g, 0, sizeof g);
    ft_pkt_parse(b, k, link, &g, &ci);
    if (!info.malformed)
        CHECK(!ci.malformed);
    CHECK((ci.layers & ~info.layers) == 0);
    if (ci.layers != info.layers)
        CHECK(ci.truncated);
    if (ci.layers & FT_PKT_LINK)
        CHECK(g.src_mac == f.src_mac && g.dst_mac == f.dst_mac);
    if (ci.layers & FT_PKT_VLAN)
        CHECK(g.vlan_id == f.vlan_id);
    if (g.mpls_count)
        CHECK(g.mpls_count <= f.mpls_count && g.mpls_1_label == f.mpls_1_label);
    CHECK(ci.tunnels <= info.tunnels);
    if (ci.layers & (FT_PKT_IPV4 | FT_PKT_IPV6)) {
        /* The main fields are the outer header's, whatever the depth reached. */
        CHECK(ft_addr_eq(&g.src_addr, &f.src_addr) && ft_addr_eq(&g.dst_addr, &f.dst_addr));
        CHECK(g.ip_ttl == f.ip_ttl && g.ip_tos == f.ip_tos);
        /* info's IP fields are the innermost header read in full: one at
         * the same offset is the same header. */
        if (ci.ip_version && ci.l3_off == info.l3_off)
            CHECK(ci.ip_version == info.ip_version && ft_addr_eq(&ci.src_addr, &info.src_addr) &&
                  ft_addr_eq(&ci.dst_addr, &info.dst_addr));
    }
    /* (proto_encap, like proto, follows the extension headers as far as
     * they were read: a prefix may stop earlier.) */
    if (g.has_encap)
        CHECK(f.has_encap && ft_addr_eq(&g.src_addr_encap, &f.src_addr_encap) &&
              ft_addr_eq(&g.dst_addr_encap, &f.dst_addr_encap) && g.etype_encap == f.etype_encap &&
              g.ip_ttl_encap == f.ip_ttl_encap);
    if (ci.layers & FT_PKT_L4) {
        CHECK(ci.l4_proto == info.l4_proto && ci.payload_off == info.payload_off);
        CHECK(g.proto == f.proto && g.src_port == f.src_port && g.dst_port == f.dst_port);
        CHECK(g.tcp_flags == f.tcp_flags && g.icmp_type == f.icmp_type);
        CHECK(ci.payload_len <= info.payload_len);
    }
    free(b);
    return 0;
}

/* ---- stateful ---------------------------------------------------------------------- */

/*
 * A sequence of datagrams (harness.h's chunk format) from one exporter, or
 * a second one, through one decoder with small caps and timeouts, the clock
 * moved and ft_decoder_expire called where the input says. After every 8th
 * chunk the gauges must respect the caps; at the end ft_decoder_finish must
 * leave no held set, and an expiry past every timeout no template (the
 * per-exporter template counts must agree with the cache).
 */
static int run_stateful(const uint8_t *data, size_t size)
{
    ft_decoder_opts o;
    ft_decoder_opts_default(&o);
    o.template_timeout_s = FT_FUZZ_STATEFUL_TEMPLATE_TIMEOUT_S;
    o.pending_max_age_s = FT_FUZZ_STATEFUL_PENDING_MAX_AGE_S;
    o.max_exporters = FT_FUZZ_STATEFUL_MAX_EXPORTERS;
    o.max_templates_per_exporter = FT_FUZZ_STATEFUL_MAX_TEMPLATES;
    o.max_template_bytes = FT_FUZZ_STATEFUL_MAX_TEMPLATE_BYTES;
    o.pending_max_sets = FT_FUZZ_STATEFUL_PENDING_MAX_SETS;
    o.pending_max_bytes = FT_FUZZ_STATEFUL_PENDING_MAX_BYTES;
    ft_sampling_override ov = {.rate = FT_FUZZ_STATEFUL_OVERRIDE_RATE};
    CHECK(ft_cidr_parse(FT_FUZZ_STATEFUL_OVERRIDE, &ov.prefix) == 0);
    o.overrides = &ov;
    o.n_overrides = 1;
    ft_decoder *d = ft_decoder_new(&o, "fuzz.0");
    CHECK(d != NULL);
    ft_addr ex[2];
    CHECK(ft_addr_parse("192.0.2.1", &ex[0]) == 0);
    CHECK(ft_addr_parse("2001:db8::2", &ex[1]) == 0);
    sink_ctx c = {FT_FLOW_UNKNOWN, 0, 0, 0, JSON_PER_INPUT};

    uint64_t now = FT_FUZZ_T0_NS, latest = now, fed = 0, chunks = 0;
    size_t off = 0;
    while (off < size) {
        uint8_t ctl = data[off++];
        size_t len = 0;
        if (size - off >= 2) {
            len = (size_t)data[off] << 8 | data[off + 1];
            off += 2;
        } else {
            off = size;
        }
        if (len > size - off)
            len = size - off;
        uint64_t step = (uint64_t)(ctl & FT_FUZZ_CTL_STEP) * NS_PER_S;
        if (ctl & FT_FUZZ_CTL_BACK)
            now = now > step ? now - step : 0;
        else
            now += step;
        if (now > latest)
            latest = now;
        if (ctl & FT_FUZZ_CTL_EXPIRE)
            ft_decoder_expire(d, now);
        if (len) {
            uint8_t *b = dup_exact(data + off, len);
            (void)decode_one(d, &ex[(ctl & FT_FUZZ_CTL_OTHER) ? 1 : 0], now, b, len, &c);
            free(b);
            fed += len;
            off += len;
        }
        /* A snapshot walks every exporter: every 8th chunk keeps the run fast. */
        if (++chunks % 8 == 0)
            (void)snapshot(d, &o, &c);
    }
    CHECK(c.records <= fed);

    ft_decoder_finish(d);
    stats_ctx s = snapshot(d, &o, &c);
    CHECK(s.pending == 0);
    ft_decoder_expire(d, latest + (uint64_t)(FT_FUZZ_STATEFUL_TEMPLATE_TIMEOUT_S + 1) * NS_PER_S);
    s = snapshot(d, &o, &c);
    CHECK(s.templates == 0 && s.pending == 0);
    ft_decoder_free(d);
    return 0;
}

int ft_fuzz_run(ft_fuzz_target t, const uint8_t *data, size_t size)
{
    quiet_logs();
    switch (t) {
    case FT_FUZZ_NFV5:
    case FT_FUZZ_NFV9:
    case FT_FUZZ_IPFIX:
    case FT_FUZZ_SFLOW:
        return run_datagram(t, data, size);
    case FT_FUZZ_PKT_HEADER:
        return run_pkt_header(data, size);
    case FT_FUZZ_STATEFUL:
        return run_stateful(data, size);
    case FT_FUZZ_COUNT:
        break;
    }
    CHECK(!"unknown fuzz target");
    return 0;
}
