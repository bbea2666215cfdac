/*
 * fg_proto.c - flowgen's export encoders (fg_proto.h).
 *
 * Each protocol is laid out the way a real exporter of it does:
 *   - NetFlow v5: Cisco's 24-byte header and 48-byte records, at most 30 per
 *     datagram, the sampling interval in the header (mode 01 = packet
 *     interval, 14-bit rate);
 *   - NetFlow v9 (RFC 3954): data template 256 with the fields and lengths of
 *     Cisco IOS-XR's template 260 (corpus akvorado-nfv9-iosxr-sampling-
 *     options.pcap) minus the VRF ids, and options template 257 with scope
 *     System and FLOW_SAMPLER_ID (48), FLOW_SAMPLER_RANDOM_INTERVAL (50),
 *     FLOW_SAMPLER_MODE (49), SAMPLER_NAME (84), SAMPLING_INTERVAL (34), as
 *     IOS-XR sends it; data records name their sampler (48);
 *   - IPFIX (RFC 7011): data template 256 (IPv4, absolute millisecond times as
 *     Juniper and IOS-XE send), options template 257 with scope selectorId
 *     (302) and samplingPacketInterval (305) = 1, selectorAlgorithm (304) = 3
 *     (random n-out-of-N), samplingSize (309) = 1, samplingPopulation (310) =
 *     the rate and samplerName (84), as IOS-XR 7 sends (corpus pmacct-ipfix-
 *     cisco-ipv6-sampling-option.pcap); data records carry selectorId;
 *   - sFlow v5: compact flow samples (format 1) with sampled_header
 *     (Ethernet/IPv4/TCP or UDP, FCS stripped), extended_switch,
 *     extended_router and extended_gateway (AS path as one AS_SEQUENCE), and
 *     now and then a counters sample (if_counters + ethernet_counters).
 * v9/IPFIX templates (and the sampling options data) go at the head of a
 * stream's first datagram and again every template_packets datagrams or
 * template_ns of export time, whichever comes first (Cisco IOS: "refresh-rate
 * 20 packets, timeout-rate 30 minutes"; RFC 7011 §8.4 asks UDP exporters to
 * re-send periodically).
 */
#include "fg_proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- big-endian writer (sizes are computed before writing) ------------- */

/* A byte store through w->p may alias *w itself, so a writer reached
 * through a wr pointer reloads and stores w->n around every byte (this was
 * 40% of flowgen's time). The record writers therefore copy the cursor into
 * a local whose address never escapes; the compiler keeps it in registers. */

typedef struct wr {
    uint8_t *p;
    size_t n;
} wr;

static inline void w8(wr *w, uint64_t v)
{
    w->p[w->n++] = (uint8_t)v;
}
static inline void w16(wr *w, uint64_t v)
{
    w8(w, v >> 8);
    w8(w, v);
}
static inline void w32(wr *w, uint64_t v)
{
    w16(w, v >> 16);
    w16(w, v);
}
static inline void w64(wr *w, uint64_t v)
{
    w32(w, v >> 32);
    w32(w, v);
}
static inline void wzero(wr *w, size_t n)
{
    memset(w->p + w->n, 0, n);
    w->n += n;
}
static inline void put16(uint8_t *p, uint64_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void put32(uint8_t *p, uint64_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v);
}

static size_t pad4(size_t n)
{
    return (n + 3) & ~(size_t)3;
}

/* ---- random numbers ------------------------------------------------------ */

/* splitmix64's finaliser: a bijection of the 64-bit integers. */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* xoshiro256** (Blackman and Vigna, 2018). */
static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rnd(uint64_t s[4])
{
    uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return r;
}

/* ---- names --------------------------------------------------------------- */

const char *fg_proto_name(fg_proto p)
{
    static const char *const names[FG_NPROTO] = {"netflow_v5", "netflow_v9", "ipfix", "sflow_5"};
    return (unsigned)p < FG_NPROTO ? names[p] : "?";
}

int fg_proto_parse(const char *s, fg_proto *out)
{
    static const struct {
        const char *name;
        fg_proto p;
    } t[] = {{"v5", FG_NETFLOW_V5},     {"netflow_v5", FG_NETFLOW_V5}, {"v9", FG_NETFLOW_V9},
             {"netflow_v9", FG_NETFLOW_V9}, {"ipfix", FG_IPFIX},       {"v10", FG_IPFIX},
             {"sflow", FG_SFLOW_5},     {"sflow_5", FG_SFLOW_5}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        if (strcmp(s, t[i].name) == 0) {
            *out = t[i].p;
            return 0;
        }
    }
    return -1;
}

uint16_t fg_proto_default_port(fg_proto p)
{
    return p == FG_IPFIX ? 4739 : p == FG_SFLOW_5 ? 6343 : 2055;
}

void fg_totals_add(fg_totals *to, const fg_totals *t)
{
    to->datagrams += t->datagrams;
    to->octets += t->octets;
    to->records += t->records;
    to->options_records += t->options_records;
    to->template_records += t->template_records;
    to->counter_samples += t->counter_samples;
    to->bytes += t->bytes;
    to->packets += t->packets;
    to->bytes_scaled += t->bytes_scaled;
    to->packets_scaled += t->packets_scaled;
}

/* ---- keys ---------------------------------------------------------------- */

/* A seeded bijection of the 32-bit integers: xor, xorshift and odd
 * multiplications are each invertible (the "lowbias32" hash). */
static uint32_t perm32(uint32_t x, uint32_t s)
{
    x ^= s;
    x ^= x >> 16;
    x *= 0x7feb352du;
    x ^= x >> 15;
    x *= 0x846ca68bu;
    x ^= x >> 16;
    return x;
}

/* Destination ports of services, weighted by repetition. */
static const uint16_t TCP_SERVICES[16] = {443, 443, 443, 443, 443, 443, 80,   80,
                                          80,  22,  25,  993, 8080, 3389, 5222, 8443};
static const uint16_t UDP_SERVICES[16] = {53,  53,   53,   53,   443,  443,  443,  123,
                                          123, 514,  161,  5060, 4500, 3478, 1194, 51820};
/* TOS bytes: mostly best effort, some AF11, AF21, EF. */
static const uint8_t TOS[8] = {0, 0, 0, 0, 0, 10 << 2, 18 << 2, 46 << 2};
/* Transit ASes that show up in AS paths. */
static const uint32_t TRANSIT[8] = {174, 1299, 2914, 3257, 3356, 6453, 6762, 6939};

void fg_key_of(uint64_t c, uint64_t seed, fg_key *k)
{
    /* (src, dst) carries all 32 bits of p, a bijection of c: distinct key
     * numbers can never collide, whatever the other fields are. */
    uint32_t p = perm32((uint32_t)c, (uint32_t)(seed ^ (seed >> 32)));
    uint64_t h = mix64(c ^ mix64(seed + 0x6a09e667f3bcc909ull));
    uint64_t g = mix64(h);
    k->src = 0x0a000000u | (p >> 8);
    k->dst = 0xc6120000u | ((p & 0xffu) << 9) | (uint32_t)(h & 0x1ff);
    int tcp = (h >> 9) % 10 < 8;
    k->proto = tcp ? 6 : 17;
    uint16_t service = (tcp ? TCP_SERVICES : UDP_SERVICES)[(h >> 16) & 15];
    uint16_t ephemeral = (uint16_t)(1024 + (h >> 20) % 64512);
    if ((h >> 40) & 1) { /* the server's answer */
        k->sport = service;
        k->dport = ephemeral;
    } else {
        k->sport = ephemeral;
        k->dport = service;
    }
    k->tos = TOS[(h >> 41) & 7];
    k->src_mask = (uint8_t)(16 + (h >> 44) % 9);
    k->dst_mask = (uint8_t)(16 + (h >> 48) % 9);
    k->in_if = 1 + (uint32_t)(g % 48);
    k->out_if = 1 + (uint32_t)((k->in_if + (g >> 8) % 47) % 48); /* never in_if */
    k->next_hop = 0xac100000u | k->out_if;
    k->src_as = 1 + (uint32_t)((g >> 16) % 64000);
    k->dst_as = 1 + (uint32_t)((g >> 32) % 64000);
    k->as_path_len = 1 + (uint32_t)((g >> 56) % 3);
    uint32_t t1 = (uint32_t)(g >> 59) & 7, t2 = (t1 + 1 + ((uint32_t)(g >> 62) & 3)) & 7;
    if (k->as_path_len == 1) {
        k->as_path[0] = k->dst_as;
    } else if (k->as_path_len == 2) {
        k->as_path[0] = TRANSIT[t1];
        k->as_path[1] = k->dst_as;
    } else {
        k->as_path[0] = TRANSIT[t1];
        k->as_path[1] = TRANSIT[t2];
        k->as_path[2] = k->dst_as;
    }
    k->vlan = 100 + k->in_if;
}

void fg_key_public(fg_key *k)
{
    k->src = 0x0b000000u | (k->src & 0x00ffffffu);
    k->dst = 0x1e000000u | (k->dst & 0x0001ffffu);
}

fg_key *fg_key_table(uint64_t keys, uint64_t seed)
{
    if (keys > FG_KEY_TABLE_MAX)
        return NULL;
    fg_key *t = malloc((size_t)keys * sizeof *t);
    if (!t)
        return NULL;
    for (uint64_t c = 0; c < keys; c++)
        fg_key_of(c, seed, &t[c]);
    return t;
}

/* The per-record values that are not part of the key. */
typedef struct fg_rec {
    uint64_t packets, bytes;
    uint32_t tcp_flags;
    uint32_t end_ago_ms; /* the flow ended this long before the export */
    uint32_t dur_ms;
    uint32_t frame_len;  /* sFlow: sampled frame length incl. FCS */
    uint32_t ip_id, tcp_seq, tcp_ack;
} fg_rec;

static void next_key(fg_stream *s, const fg_params *p, fg_key *k)
{
    uint64_t c = s->key_cur;
    if (++s->key_cur == p->keys)
        s->key_cur = 0;
    if (p->key_table)
        *k = p->key_table[c];
    else
        fg_key_of(c, p->seed, k);
    if (p->public_addrs)
        fg_key_public(k);
}

/* A flow record's counters and times: the flow ended 0-2 s before the
 * export and lasted under 60 s (0 when it had one packet). */
static void next_rec(fg_stream *s, const fg_key *k, fg_rec *r)
{
    uint64_t x = rnd(s->rng);
    uint32_t sel = (uint32_t)(x % 100);
    /* Sampled flows are short: 70% one packet, 20% 2-5, 10% 6-100. */
    r->packets = sel < 70 ? 1 : sel < 90 ? 2 + (x >> 8) % 4 : 6 + (x >> 8) % 95;
    r->bytes = r->packets * (40 + (x >> 16) % 1461);
    r->tcp_flags = k->proto != 6 ? 0 : r->packets == 1 ? 0x10 : 0x1b;
    r->end_ago_ms = (uint32_t)((x >> 32) % 2000);
    r->dur_ms = r->packets == 1 ? 0 : (uint32_t)((x >> 44) % 60000);
}

/* A sampled packet (sFlow): its frame length and header fields. */
static void next_packet(fg_stream *s, fg_rec *r)
{
    uint64_t y = rnd(s->rng);
    r->frame_len = 64 + (uint32_t)(y % 1455); /* 64..1518 incl. FCS */
    r->ip_id = (uint32_t)(y >> 16) & 0xffff;
    r->tcp_seq = (uint32_t)(y >> 32);
    r->tcp_ack = (uint32_t)rnd(s->rng);
    r->packets = 1;
    r->bytes = r->frame_len;
}

static void count_record(fg_totals *t, const fg_rec *r, uint64_t rate)
{
    t->records++;
    t->bytes += r->bytes;
    t->packets += r->packets;
    t->bytes_scaled += r->bytes * rate;
    t->packets_scaled += r->packets * rate;
}

void fg_stream_init(fg_stream *s, const fg_params *p, fg_proto proto, uint32_t index, uint32_t n_streams,
                    uint32_t exporter_index, uint32_t addr, uint32_t rate, uint64_t start_ns)
{
    memset(s, 0, sizeof *s);
    s->proto = proto;
    s->exporter = exporter_index;
    s->addr = addr;
    s->domain = exporter_index;
    s->rate = rate ? rate : 1;
    uint64_t x = p->seed * 0x9e3779b97f4a7c15ull + index;
    for (int i = 0; i < 4; i++)
        s->rng[i] = mix64(x += 0x9e3779b97f4a7c15ull);
    s->key_start = n_streams ? (uint64_t)index * p->keys / n_streams : 0;
    s->key_cur = s->key_start;
    /* Booted one to two days before the run (same for all its protocols):
     * uptimes are large but far from their 49.7-day wrap. */
    uint64_t up = 86400000ull + mix64(p->seed ^ (0x5bd1e995ull * (exporter_index + 1))) % 86400000ull;
    s->boot_ms = start_ns / 1000000 - up;
    s->seq = (uint32_t)rnd(s->rng);
    s->sample_pool = (uint32_t)rnd(s->rng);
    s->counter_if = 1;
}

static int want_templates(const fg_stream *s, const fg_params *p, uint64_t now_ns)
{
    if (!s->tmpl_sent)
        return 1;
    if (p->template_packets && s->dgrams - s->tmpl_dgram >= p->template_packets)
        return 1;
    if (p->template_ns && now_ns > s->tmpl_ns && now_ns - s->tmpl_ns >= p->template_ns)
        return 1;
    return 0;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/* How many records of rec_len fit in room bytes, within both caps. */
static uint64_t fit(size_t room, size_t rec_len, uint64_t max_records, const fg_params *p)
{
    uint64_t n = room / rec_len;
    n = min_u64(n, max_records);
    if (p->max_records)
        n = min_u64(n, p->max_records);
    return n ? n : 1;
}

static const char SAMPLER_NAME[32] = "flowgen-sampler";

/* ---- NetFlow v5 ----------------------------------------------------------- */

#define V5_HDR 24
#define V5_REC 48
#define V5_MAX 30

static void v5_record(wr *out, const fg_key *k, const fg_rec *r, uint32_t up)
{
    wr l = *out, *w = &l; /* a local cursor: see wr */
    uint32_t last = up - r->end_ago_ms, first = last - r->dur_ms;
    w32(w, k->src);
    w32(w, k->dst);
    w32(w, k->next_hop);
    w16(w, k->in_if);
    w16(w, k->out_if);
    w32(w, r->packets);
    w32(w, r->bytes);
    w32(w, first);
    w32(w, last);
    w16(w, k->sport);
    w16(w, k->dport);
    w8(w, 0); /* pad1 */
    w8(w, r->tcp_flags);
    w8(w, k->proto);
    w8(w, k->tos);
    w16(w, k->src_as);
    w16(w, k->dst_as);
    w8(w, k->src_mask);
    w8(w, k->dst_mask);
    w16(w, 0); /* pad2 */
    *out = l;
}

static size_t enc_v5(fg_stream *s, const fg_params *p, uint64_t now_ns, uint64_t max, uint8_t *buf, fg_totals *t)
{
    uint64_t n = min_u64(fit(p->max_dgram - V5_HDR, V5_REC, max, p), V5_MAX);
    uint32_t up = (uint32_t)(now_ns / 1000000 - s->boot_ms);
    wr w = {buf, 0};
    w16(&w, 5);
    w16(&w, n);
    w32(&w, up);
    w32(&w, now_ns / 1000000000);
    w32(&w, now_ns % 1000000000);
    w32(&w, s->seq); /* flows sent before this datagram */
    w8(&w, 0);       /* engine_type */
    w8(&w, s->exporter & 0xff);
    /* Top 2 bits mode (01 = one of N packets), low 14 bits N; 0 = unsampled. */
    w16(&w, s->rate > 1 ? (1u << 14) | (s->rate & 0x3fff) : 0);
    for (uint64_t i = 0; i < n; i++) {
        fg_key k;
        fg_rec r;
        next_key(s, p, &k);
        next_rec(s, &k, &r);
        v5_record(&w, &k, &r, up);
        count_record(t, &r, s->rate);
    }
    s->seq += (uint32_t)n;
    return w.n;
}

/* ---- NetFlow v9 ----------------------------------------------------------- */

#define V9_HDR 20
#define V9_DATA_ID 256
#define V9_OPT_ID 257
#define V9_REC 57
#define V9_OPT_REC 47

/* {type, length} as written by v9_record / the options record below. */
static const uint16_t V9_FIELDS[][2] = {
    {2, 4},   /* IN_PKTS */
    {1, 4},   /* IN_BYTES */
    {8, 4},   /* IPV4_SRC_ADDR */
    {12, 4},  /* IPV4_DST_ADDR */
    {10, 4},  /* INPUT_SNMP */
    {14, 4},  /* OUTPUT_SNMP */
    {21, 4},  /* LAST_SWITCHED (sysUptime ms) */
    {22, 4},  /* FIRST_SWITCHED */
    {7, 2},   /* L4_SRC_PORT */
    {11, 2},  /* L4_DST_PORT */
    {16, 4},  /* SRC_AS */
    {17, 4},  /* DST_AS */
    {18, 4},  /* BGP_IPV4_NEXT_HOP */
    {9, 1},   /* SRC_MASK */
    {13, 1},  /* DST_MASK */
    {4, 1},   /* PROTOCOL */
    {6, 1},   /* TCP_FLAGS */
    {5, 1},   /* SRC_TOS */
    {61, 1},  /* DIRECTION: 0 ingress */
    {89, 1},  /* FORWARDING_STATUS: 0x40 forwarded */
    {48, 2},  /* FLOW_SAMPLER_ID */
};
static const uint16_t V9_OPT_SCOPE[][2] = {{1, 4}}; /* System */
static const uint16_t V9_OPT_FIELDS[][2] = {
    {48, 2},  /* FLOW_SAMPLER_ID */
    {50, 4},  /* FLOW_SAMPLER_RANDOM_INTERVAL */
    {49, 1},  /* FLOW_SAMPLER_MODE: 2 random */
    {84, 32}, /* SAMPLER_NAME */
    {34, 4},  /* SAMPLING_INTERVAL */
};
#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))

static void v9_record(wr *out, const fg_key *k, const fg_rec *r, uint32_t up)
{
    wr l = *out, *w = &l; /* a local cursor: see wr */
    uint32_t last = up - r->end_ago_ms, first = last - r->dur_ms;
    w32(w, r->packets);
    w32(w, r->bytes);
    w32(w, k->src);
    w32(w, k->dst);
    w32(w, k->in_if);
    w32(w, k->out_if);
    w32(w, last);
    w32(w, first);
    w16(w, k->sport);
    w16(w, k->dport);
    w32(w, k->src_as);
    w32(w, k->dst_as);
    w32(w, k->next_hop);
    w8(w, k->src_mask);
    w8(w, k->dst_mask);
    w8(w, k->proto);
    w8(w, r->tcp_flags);
    w8(w, k->tos);
    w8(w, 0);
    w8(w, 0x40);
    w16(w, 1);
    *out = l;
}

static void v9_options_record(wr *w, const fg_stream *s)
{
    w32(w, s->addr); /* scope System */
    w16(w, 1);
    w32(w, s->rate);
    w8(w, 2);
    memcpy(w->p + w->n, SAMPLER_NAME, sizeof SAMPLER_NAME);
    w->n += sizeof SAMPLER_NAME;
    w32(w, s->rate);
}

/* RFC 3954 §5.2-§5.3: a FlowSet is padded to a 4-byte boundary. */
static void v9_close_set(wr *w, size_t start)
{
    size_t len = pad4(w->n - start);
    wzero(w, len - (w->n - start));
    put16(w->p + start + 2, len);
}

static size_t enc_v9(fg_stream *s, const fg_params *p, uint64_t now_ns, uint64_t max, uint8_t *buf, fg_totals *t)
{
    uint32_t up = (uint32_t)(now_ns / 1000000 - s->boot_ms);
    wr w = {buf, 0};
    uint32_t count = 0;
    w16(&w, 9);
    w16(&w, 0); /* count, below */
    w32(&w, up);
    w32(&w, now_ns / 1000000000);
    w32(&w, s->seq); /* export packets sent before this one */
    w32(&w, s->domain);
    if (want_templates(s, p, now_ns)) {
        size_t st = w.n;
        w16(&w, 0); /* Template FlowSet */
        w16(&w, 0);
        w16(&w, V9_DATA_ID);
        w16(&w, NFIELDS(V9_FIELDS));
        for (size_t i = 0; i < NFIELDS(V9_FIELDS); i++) {
            w16(&w, V9_FIELDS[i][0]);
            w16(&w, V9_FIELDS[i][1]);
        }
        v9_close_set(&w, st);
        st = w.n;
        w16(&w, 1); /* Options Template FlowSet (RFC 3954 §6.1) */
        w16(&w, 0);
        w16(&w, V9_OPT_ID);
        w16(&w, 4 * NFIELDS(V9_OPT_SCOPE));  /* scope length, bytes */
        w16(&w, 4 * NFIELDS(V9_OPT_FIELDS)); /* option length, bytes */
        for (size_t i = 0; i < NFIELDS(V9_OPT_SCOPE); i++) {
            w16(&w, V9_OPT_SCOPE[i][0]);
            w16(&w, V9_OPT_SCOPE[i][1]);
        }
        for (size_t i = 0; i < NFIELDS(V9_OPT_FIELDS); i++) {
            w16(&w, V9_OPT_FIELDS[i][0]);
            w16(&w, V9_OPT_FIELDS[i][1]);
        }
        v9_close_set(&w, st);
        st = w.n;
        w16(&w, V9_OPT_ID); /* the sampler's options data */
        w16(&w, 0);
        v9_options_record(&w, s);
        v9_close_set(&w, st);
        count += 3;
        t->template_records += 2;
        t->options_records += 1;
        s->tmpl_sent = 1;
        s->tmpl_dgram = s->dgrams;
        s->tmpl_ns = now_ns;
    }
    size_t st = w.n;
    w16(&w, V9_DATA_ID);
    w16(&w, 0);
    uint64_t n = fit(p->max_dgram - w.n, V9_REC, max, p);
    for (uint64_t i = 0; i < n; i++) {
        fg_key k;
        fg_rec r;
        next_key(s, p, &k);
        next_rec(s, &k, &r);
        v9_record(&w, &k, &r, up);
        count_record(t, &r, s->rate);
    }
    v9_close_set(&w, st);
    /* RFC 3954 §5.1: count = template, options and data records. */
    put16(buf + 2, count + n);
    s->seq++;
    return w.n;
}

/* ---- IPFIX ---------------------------------------------------------------- */

#define IPFIX_HDR 16
#define IPFIX_DATA_ID 256
#define IPFIX_OPT_ID 257
#define IPFIX_REC 79
#define IPFIX_OPT_REC 50

static const uint16_t IPFIX_FIELDS[][2] = {
    {2, 8},   /* packetDeltaCount */
    {1, 8},   /* octetDeltaCount */
    {8, 4},   /* sourceIPv4Address */
    {12, 4},  /* destinationIPv4Address */
    {10, 4},  /* ingressInterface */
    {14, 4},  /* egressInterface */
    {152, 8}, /* flowStartMilliseconds */
    {153, 8}, /* flowEndMilliseconds */
    {7, 2},   /* sourceTransportPort */
    {11, 2},  /* destinationTransportPort */
    {16, 4},  /* bgpSourceAsNumber */
    {17, 4},  /* bgpDestinationAsNumber */
    {18, 4},  /* bgpNextHopIPv4Address */
    {9, 1},   /* sourceIPv4PrefixLength */
    {13, 1},  /* destinationIPv4PrefixLength */
    {4, 1},   /* protocolIdentifier */
    {6, 2},   /* tcpControlBits */
    {5, 1},   /* ipClassOfService */
    {61, 1},  /* flowDirection: 0 ingress */
    {89, 4},  /* forwardingStatus (RFC 7270 §4.12): 0x40 forwarded */
    {302, 4}, /* selectorId */
};
static const uint16_t IPFIX_OPT_FIELDS[][2] = {
    {302, 4}, /* selectorId (scope) */
    {305, 4}, /* samplingPacketInterval */
    {304, 2}, /* selectorAlgorithm: 3 random n-out-of-N (RFC 5475) */
    {309, 4}, /* samplingSize */
    {310, 4}, /* samplingPopulation */
    {84, 32}, /* samplerName */
};

static void ipfix_record(wr *out, const fg_key *k, const fg_rec *r, uint64_t now_ms)
{
    wr l = *out, *w = &l; /* a local cursor: see wr */
    uint64_t end = now_ms - r->end_ago_ms, start = end - r->dur_ms;
    w64(w, r->packets);
    w64(w, r->bytes);
    w32(w, k->src);
    w32(w, k->dst);
    w32(w, k->in_if);
    w32(w, k->out_if);
    w64(w, start);
    w64(w, end);
    w16(w, k->sport);
    w16(w, k->dport);
    w32(w, k->src_as);
    w32(w, k->dst_as);
    w32(w, k->next_hop);
    w8(w, k->src_mask);
    w8(w, k->dst_mask);
    w8(w, k->proto);
    w16(w, r->tcp_flags);
    w8(w, k->tos);
    w8(w, 0);
    w32(w, 0x40);
    w32(w, 1);
    *out = l;
}

static void ipfix_options_record(wr *w, const fg_stream *s)
{
    w32(w, 1); /* selectorId */
    w32(w, 1); /* samplingPacketInterval */
    w16(w, 3); /* selectorAlgorithm */
    w32(w, 1); /* samplingSize */
    w32(w, s->rate);
    memcpy(w->p + w->n, SAMPLER_NAME, sizeof SAMPLER_NAME);
    w->n += sizeof SAMPLER_NAME;
}

static size_t enc_ipfix(fg_stream *s, const fg_params *p, uint64_t now_ns, uint64_t max, uint8_t *buf,
                        fg_totals *t)
{
    uint64_t now_ms = now_ns / 1000000;
    wr w = {buf, 0};
    uint32_t data_records = 0;
    w16(&w, 10);
    w16(&w, 0); /* length, below */
    w32(&w, now_ns / 1000000000);
    w32(&w, s->seq); /* data records sent before this message (RFC 7011 §3.1) */
    w32(&w, s->domain);
    if (want_templates(s, p, now_ns)) {
        /* RFC 7011 §3.4.1: Template Set 2; no padding needed in IPFIX. */
        size_t st = w.n;
        w16(&w, 2);
        w16(&w, 0);
        w16(&w, IPFIX_DATA_ID);
        w16(&w, NFIELDS(IPFIX_FIELDS));
        for (size_t i = 0; i < NFIELDS(IPFIX_FIELDS); i++) {
            w16(&w, IPFIX_FIELDS[i][0]);
            w16(&w, IPFIX_FIELDS[i][1]);
        }
        put16(buf + st + 2, w.n - st);
        /* §3.4.2.2: Options Template Set 3, scope field count 1. */
        st = w.n;
        w16(&w, 3);
        w16(&w, 0);
        w16(&w, IPFIX_OPT_ID);
        w16(&w, NFIELDS(IPFIX_OPT_FIELDS));
        w16(&w, 1);
        for (size_t i = 0; i < NFIELDS(IPFIX_OPT_FIELDS); i++) {
            w16(&w, IPFIX_OPT_FIELDS[i][0]);
            w16(&w, IPFIX_OPT_FIELDS[i][1]);
        }
        put16(buf + st + 2, w.n - st);
        st = w.n;
        w16(&w, IPFIX_OPT_ID);
        w16(&w, 0);
        ipfix_options_record(&w, s);
        put16(buf + st + 2, w.n - st);
        data_records++;
        t->template_records += 2;
        t->options_records += 1;
        s->tmpl_sent = 1;
        s->tmpl_dgram = s->dgrams;
        s->tmpl_ns = now_ns;
    }
    size_t st = w.n;
    w16(&w, IPFIX_DATA_ID);
    w16(&w, 0);
    uint64_t n = fit(p->max_dgram - w.n, IPFIX_REC, max, p);
    for (uint64_t i = 0; i < n; i++) {
        fg_key k;
        fg_rec r;
        next_key(s, p, &k);
        next_rec(s, &k, &r);
        ipfix_record(&w, &k, &r, now_ms);
        count_record(t, &r, s->rate);
    }
    put16(buf + st + 2, w.n - st);
    put16(buf + 2, w.n);
    s->seq += data_records + (uint32_t)n;
    return w.n;
}

/* ---- sFlow v5 -------------------------------------------------------------- */

#define SFLOW_HDR 28
/* counters_sample: tag, length, sequence, source_id, record count, then
 * if_counters (8 + 88) and ethernet_counters (8 + 52). */
#define SFLOW_COUNTERS 176
#define SFLOW_AGENT_AS 64512

/* Flow sample bytes: tag+length 8, header 32; sampled_header 8+16+header;
 * extended_switch 8+16; extended_router 8+16; extended_gateway 8+40+4/AS. */
static size_t sflow_sample_size(size_t hlen, uint32_t path_len)
{
    return 40 + 24 + pad4(hlen) + 24 + 24 + 48 + 4 * (size_t)path_len;
}

static uint32_t csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return ~sum & 0xffff;
}

/* The first hlen bytes of the sampled frame: Ethernet, IPv4 (checksummed),
 * TCP or UDP, then zero payload. */
static void sflow_frame(uint8_t *h, size_t hlen, const fg_key *k, const fg_rec *r)
{
    uint8_t f[FG_MAX_HEADER_BYTES];
    memset(f, 0, sizeof f);
    wr w = {f, 0};
    w16(&w, 0x0200);           /* dst MAC 02:00:5e:00:00:<in_if>: the router port */
    w32(&w, 0x5e000000u | k->in_if);
    w16(&w, 0x020a);           /* src MAC 02:0a:<src 24 bits>: the sending host */
    w32(&w, (uint64_t)(k->src & 0xffffffu));
    w16(&w, 0x0800);
    size_t ip = w.n;
    uint32_t ip_len = r->frame_len - 18; /* minus Ethernet header and FCS */
    w8(&w, 0x45);
    w8(&w, k->tos);
    w16(&w, ip_len);
    w16(&w, r->ip_id);
    w16(&w, 0x4000); /* DF */
    w8(&w, 60);
    w8(&w, k->proto);
    w16(&w, 0); /* checksum, below */
    w32(&w, k->src);
    w32(&w, k->dst);
    uint32_t sum = 0;
    for (size_t i = 0; i < 20; i += 2)
        sum += (uint32_t)f[ip + i] << 8 | f[ip + i + 1];
    put16(f + ip + 10, csum_fold(sum));
    w16(&w, k->sport);
    w16(&w, k->dport);
    if (k->proto == 6) {
        w32(&w, r->tcp_seq);
        w32(&w, r->tcp_ack);
        w8(&w, 5 << 4);
        w8(&w, 0x18); /* PSH ACK */
        w16(&w, 65535);
        w16(&w, 0); /* checksum (not computable without the whole payload) */
        w16(&w, 0);
    } else {
        w16(&w, ip_len - 20);
        w16(&w, 0); /* no checksum */
    }
    memcpy(h, f, hlen);
}

static size_t sflow_flow_sample(wr *out, fg_stream *s, const fg_params *p, fg_totals *t)
{
    wr l = *out, *w = &l; /* a local cursor: see wr */
    fg_key k;
    fg_rec r = {0};
    next_key(s, p, &k);
    next_packet(s, &r);
    size_t hlen = r.frame_len - 4 < p->header_bytes ? r.frame_len - 4 : p->header_bytes;
    size_t start = w->n;
    s->sample_pool += s->rate;
    w32(w, 1); /* flow_sample */
    w32(w, sflow_sample_size(hlen, k.as_path_len) - 8);
    w32(w, ++s->sample_seq[k.in_if]);
    w32(w, k.in_if); /* source_id: type 0 (ifIndex) << 24 | index */
    w32(w, s->rate);
    w32(w, s->sample_pool);
    w32(w, 0); /* drops */
    w32(w, k.in_if);
    w32(w, k.out_if);
    w32(w, 4); /* flow records */

    w32(w, 1); /* sampled_header */
    w32(w, 16 + pad4(hlen));
    w32(w, 1); /* ETHERNET-ISO88023 */
    w32(w, r.frame_len);
    w32(w, 4); /* stripped: the FCS */
    w32(w, hlen);
    sflow_frame(w->p + w->n, hlen, &k, &r);
    w->n += hlen;
    wzero(w, pad4(hlen) - hlen);

    w32(w, 1001); /* extended_switch */
    w32(w, 16);
    w32(w, k.vlan);
    w32(w, 0);
    w32(w, k.vlan);
    w32(w, 0);

    w32(w, 1002); /* extended_router */
    w32(w, 16);
    w32(w, 1); /* next hop: IPv4 */
    w32(w, k.next_hop);
    w32(w, k.src_mask);
    w32(w, k.dst_mask);

    w32(w, 1003); /* extended_gateway */
    w32(w, 40 + 4 * k.as_path_len);
    w32(w, 1); /* BGP next hop: IPv4 */
    w32(w, k.next_hop);
    w32(w, SFLOW_AGENT_AS + s->exporter % 1000); /* the router's own AS */
    w32(w, k.src_as);
    w32(w, k.src_as); /* src_peer_as */
    w32(w, 1);        /* dst_as_path: one segment */
    w32(w, 2);        /* AS_SEQUENCE */
    w32(w, k.as_path_len);
    for (uint32_t i = 0; i < k.as_path_len; i++)
        w32(w, k.as_path[i]);
    w32(w, 0);   /* communities */
    w32(w, 100); /* localpref */
    count_record(t, &r, s->rate);
    *out = l;
    return w->n - start;
}

static void sflow_counters_sample(wr *w, fg_stream *s)
{
    uint32_t ifx = s->counter_if;
    s->counter_if = s->counter_if % 48 + 1;
    /* Plausible, increasing counters derived from the sample pool. */
    uint64_t pkts = (uint64_t)s->sample_pool * 3 + ifx * 1000, octets = pkts * 700;
    w32(w, 2); /* counters_sample */
    w32(w, SFLOW_COUNTERS - 8);
    w32(w, ++s->counter_seq);
    w32(w, ifx);
    w32(w, 2);
    w32(w, 1); /* if_counters */
    w32(w, 88);
    w32(w, ifx);
    w32(w, 6);            /* ifType ethernetCsmacd */
    w64(w, 10000000000u); /* ifSpeed */
    w32(w, 1);            /* full duplex */
    w32(w, 3);            /* admin up, oper up */
    w64(w, octets);
    w32(w, pkts);
    w32(w, pkts / 100);
    w32(w, pkts / 1000);
    w32(w, 0);
    w32(w, 0);
    w32(w, 0);
    w64(w, octets / 2);
    w32(w, pkts / 2);
    w32(w, pkts / 200);
    w32(w, pkts / 2000);
    w32(w, 0);
    w32(w, 0);
    w32(w, 0); /* promiscuous: false */
    w32(w, 2); /* ethernet_counters: 13 counters */
    w32(w, 52);
    wzero(w, 52);
}

static size_t enc_sflow(fg_stream *s, const fg_params *p, uint64_t now_ns, uint64_t max, uint8_t *buf,
                        fg_totals *t)
{
    wr w = {buf, 0};
    uint32_t samples = 0;
    w32(&w, 5);
    w32(&w, 1); /* agent address IPv4 */
    w32(&w, s->addr);
    w32(&w, s->domain); /* sub_agent_id */
    w32(&w, s->seq++);  /* datagrams of this sub-agent (§5.2) */
    w32(&w, (uint32_t)(now_ns / 1000000 - s->boot_ms));
    w32(&w, 0); /* samples, below */
    if (p->counter_every && s->dgrams % p->counter_every == 0) {
        sflow_counters_sample(&w, s);
        samples++;
        t->counter_samples++;
    }
    size_t worst = sflow_sample_size(p->header_bytes, 3);
    uint64_t cap = p->max_records ? min_u64(max, p->max_records) : max;
    uint64_t n = 0;
    /* Always one flow sample, then as many as surely fit. */
    do {
        sflow_flow_sample(&w, s, p, t);
        n++;
    } while (n < cap && w.n + worst <= p->max_dgram);
    put32(buf + SFLOW_HDR - 4, samples + n);
    return w.n;
}

/* ---- dispatch and self check ---------------------------------------------- */

size_t fg_stream_next(fg_stream *s, const fg_params *p, uint64_t now_ns, uint64_t max_records, uint8_t *buf,
                      fg_totals *t)
{
    memset(t, 0, sizeof *t);
    if (max_records == 0)
        max_records = 1;
    size_t n = 0;
    switch (s->proto) {
    case FG_NETFLOW_V5:
        n = enc_v5(s, p, now_ns, max_records, buf, t);
        break;
    case FG_NETFLOW_V9:
        n = enc_v9(s, p, now_ns, max_records, buf, t);
        break;
    case FG_IPFIX:
        n = enc_ipfix(s, p, now_ns, max_records, buf, t);
        break;
    case FG_SFLOW_5:
    case FG_NPROTO:
        n = enc_sflow(s, p, now_ns, max_records, buf, t);
        break;
    }
    s->dgrams++;
    t->datagrams = 1;
    t->octets = n;
    return n;
}

static size_t table_len(const uint16_t (*f)[2], size_t n)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += f[i][1];
    return len;
}

int fg_self_check(char *err, size_t err_len)
{
    uint8_t b[512];
    wr w = {b, 0};
    fg_key k;
    fg_rec r;
    fg_stream s;
    memset(&r, 0, sizeof r);
    memset(&s, 0, sizeof s);
    fg_key_of(0, 0, &k);
    struct {
        const char *what;
        size_t table, want, wrote;
    } c[4];
    v5_record(&w, &k, &r, 0);
    c[0].what = "NetFlow v5 record";
    c[0].table = V5_REC;
    c[0].want = V5_REC;
    c[0].wrote = w.n;
    w.n = 0;
    v9_record(&w, &k, &r, 0);
    c[1].what = "NetFlow v9 template 256";
    c[1].table = table_len(V9_FIELDS, NFIELDS(V9_FIELDS));
    c[1].want = V9_REC;
    c[1].wrote = w.n;
    w.n = 0;
    ipfix_record(&w, &k, &r, 0);
    c[2].what = "IPFIX template 256";
    c[2].table = table_len(IPFIX_FIELDS, NFIELDS(IPFIX_FIELDS));
    c[2].want = IPFIX_REC;
    c[2].wrote = w.n;
    w.n = 0;
    ipfix_options_record(&w, &s);
    c[3].what = "IPFIX options template 257";
    c[3].table = table_len(IPFIX_OPT_FIELDS, NFIELDS(IPFIX_OPT_FIELDS));
    c[3].want = IPFIX_OPT_REC;
    c[3].wrote = w.n;
    for (int i = 0; i < 4; i++) {
        if (c[i].table != c[i].want || c[i].wrote != c[i].want) {
            snprintf(err, err_len, "%s: table %zu bytes, writer %zu, expected %zu", c[i].what, c[i].table,
                     c[i].wrote, c[i].want);
            return -1;
        }
    }
    w.n = 0;
    v9_options_record(&w, &s);
    size_t v9o = table_len(V9_OPT_SCOPE, NFIELDS(V9_OPT_SCOPE)) + table_len(V9_OPT_FIELDS, NFIELDS(V9_OPT_FIELDS));
    if (w.n != V9_OPT_REC || v9o != V9_OPT_REC) {
        snprintf(err, err_len, "NetFlow v9 options template 257: table %zu bytes, writer %zu, expected %d", v9o,
                 w.n, V9_OPT_REC);
        return -1;
    }
    return 0;
}
