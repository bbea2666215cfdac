/*
 * pcap_test.c - --pcap replay (listen/pcap.h) on captures written here.
 *
 * Each capture is built byte by byte (IEEE 802.3/802.1Q, RFC 791, RFC 8200,
 * RFC 768 layouts, the NetFlow v5 header and record of Cisco's "NetFlow
 * Export Datagram Format" v5 table) and written with libpcap's own writer,
 * or for pcapng by hand following draft-ietf-opsawg-pcapng (SHB, IDB with
 * if_tsresol = 9, EPB). The oracle is what was written: which packets are
 * export datagrams, their source address and port, their capture time in
 * ns, their payload length (the decoder's octets counter), and which are
 * other traffic, fragments or cut by the snap length.
 */
#include "listen/pcap.h"

#include <pcap/pcap.h>
#include <unistd.h>

#include "test.h"

static char dir[64];

/* ---- packet builders ------------------------------------------------------ */

typedef struct pkt {
    uint8_t b[2048];
    size_t n;
} pkt;

static void put(pkt *p, const void *d, size_t n)
{
    memcpy(p->b + p->n, d, n);
    p->n += n;
}

static void put16(pkt *p, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    put(p, b, 2);
}

static void put32(pkt *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p, (uint16_t)v);
}

/* A NetFlow v5 datagram: 24-byte header + one 48-byte record. */
static size_t nf5(uint8_t *out, uint32_t seq)
{
    pkt p = {{0}, 0};
    put16(&p, 5);          /* version */
    put16(&p, 1);          /* count */
    put32(&p, 100000);     /* sysUptime ms */
    put32(&p, 1700000000); /* unix_secs */
    put32(&p, 0);          /* unix_nsecs */
    put32(&p, seq);        /* flow_sequence */
    put32(&p, 0);          /* engine type, id, sampling interval */
    static const uint8_t rec[48] = {10, 0, 0, 1, 10, 0, 0, 2, 0, 0, 0, 0, 0, 1, 0, 2,
                                    0, 0, 0, 10, 0, 0, 5, 220, 0, 1, 0x82, 0xb8, 0, 1, 0x84, 0xa0,
                                    0x04, 0xd2, 0, 80, 0, 0x12, 6, 0, 0, 0, 0, 0, 24, 16, 0, 0};
    put(&p, rec, 48);
    memcpy(out, p.b, p.n);
    return p.n;
}

/* IPv4 header (RFC 791 §3.1) with total length for `l4` bytes after it. */
static void ipv4(pkt *p, uint8_t proto, const uint8_t src[4], size_t l4, uint16_t frag)
{
    put16(p, 0x4500);
    put16(p, (uint16_t)(20 + l4));
    put16(p, 0x0101); /* id */
    put16(p, frag);   /* flags + offset */
    uint8_t ttl_proto[2] = {64, proto};
    put(p, ttl_proto, 2);
    put16(p, 0);
    put(p, src, 4);
    static const uint8_t dst[4] = {192, 0, 2, 200};
    put(p, dst, 4);
}

static void udp(pkt *p, uint16_t sport, const uint8_t *payload, size_t n)
{
    put16(p, sport);
    put16(p, 2055);
    put16(p, (uint16_t)(8 + n));
    put16(p, 0);
    put(p, payload, n);
}

static void eth(pkt *p, uint16_t type)
{
    static const uint8_t macs[12] = {0, 0, 0x5e, 0, 0x53, 1, 0, 0, 0x5e, 0, 0x53, 2};
    put(p, macs, 12);
    put16(p, type);
}

/* ---- capture writers ------------------------------------------------------- */

typedef struct rec {
    pkt p;
    uint32_t caplen; /* 0 = whole packet */
    uint64_t ts_ns;
} rec;

static void write_pcap(const char *path, int dlt, const rec *r, size_t n)
{
    pcap_t *pc = pcap_open_dead_with_tstamp_precision(dlt, 65535, PCAP_TSTAMP_PRECISION_NANO);
    pcap_dumper_t *d = pcap_dump_open(pc, path);
    if (!d)
        FT_FAIL("cannot write %s: %s", path, pcap_geterr(pc));
    for (size_t i = 0; i < n; i++) {
        struct pcap_pkthdr h;
        h.ts.tv_sec = (time_t)(r[i].ts_ns / 1000000000u);
        h.ts.tv_usec = (suseconds_t)(r[i].ts_ns % 1000000000u); /* ns: NANO precision dumper */
        h.len = (bpf_u_int32)r[i].p.n;
        h.caplen = r[i].caplen ? r[i].caplen : h.len;
        pcap_dump((u_char *)d, &h, r[i].p.b);
    }
    pcap_dump_close(d);
    pcap_close(pc);
}

/* pcapng by hand (little-endian section): SHB, IDB with if_tsresol 9
 * (nanoseconds), one EPB per record. */
static void le32(FILE *f, uint32_t v)
{
    fwrite(&v, 4, 1, f); /* test host is little-endian x86/arm; the SHB magic says so */
}

static void write_pcapng(const char *path, uint16_t linktype, const rec *r, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        FT_FAIL("cannot write %s", path);
    le32(f, 0x0A0D0D0A); /* SHB */
    le32(f, 28);
    le32(f, 0x1A2B3C4D);
    le32(f, 0x00000001); /* major 1, minor 0 */
    le32(f, 0xffffffff); /* section length -1 */
    le32(f, 0xffffffff);
    le32(f, 28);
    le32(f, 1); /* IDB */
    le32(f, 32);
    le32(f, linktype); /* linktype + reserved */
    le32(f, 65535);    /* snaplen */
    le32(f, 9 | (1u << 16)); /* option if_tsresol, length 1 */
    le32(f, 9);              /* 10^-9, 3 pad bytes */
    le32(f, 0);              /* opt_endofopt */
    le32(f, 32);
    for (size_t i = 0; i < n; i++) {
        uint32_t len = (uint32_t)r[i].p.n, padded = (len + 3) & ~3u;
        le32(f, 6); /* EPB */
        le32(f, 32 + padded);
        le32(f, 0); /* interface 0 */
        le32(f, (uint32_t)(r[i].ts_ns >> 32));
        le32(f, (uint32_t)r[i].ts_ns);
        le32(f, len);
        le32(f, len);
        fwrite(r[i].p.b, 1, len, f);
        fwrite("\0\0\0", 1, padded - len, f);
        le32(f, 32 + padded);
    }
    fclose(f);
}

/* ---- the decoder's view ------------------------------------------------------ */

#define MAXREC 16
typedef struct seen {
    size_t n;
    ft_flow f[MAXREC];
} seen;

static void seen_emit(void *ctx, const ft_flow *f)
{
    seen *s = ctx;
    if (s->n < MAXREC)
        s->f[s->n] = *f;
    s->n++;
}

static int flushes;
static void seen_flush(void *ctx)
{
    (void)ctx;
    flushes++;
}

typedef struct octets {
    ft_addr addr;
    uint64_t octets, packets;
} octets;

static void get_octets(void *arg, const ft_exporter_stats *s)
{
    octets *o = arg;
    if (ft_addr_eq(&o->addr, &s->addr)) {
        o->octets += s->ctr[FT_CTR_octets];
        o->packets += s->ctr[FT_CTR_packets];
    }
}

static int replay(const char *path, seen *s, ft_pcap_stats *st, ft_decoder **dec, char *err, size_t n)
{
    static atomic_bool stop;
    memset(s, 0, sizeof *s);
    *dec = ft_decoder_new(NULL, "pcap-test");
    ft_worker_out out = {{seen_emit, s}, seen_flush};
    return ft_pcap_replay(path, *dec, &out, NULL, &stop, st, err, n);
}

static const uint8_t SRC_A[4] = {192, 0, 2, 10}, SRC_B[4] = {192, 0, 2, 11}, SRC_C[4] = {192, 0, 2, 12};

/* ---- tests ----------------------------------------------------------------- */

static void t_ethernet_mixed_traffic(void)
{
    uint8_t v5[128];
    size_t v5n = nf5(v5, 7);
    rec r[9];
    memset(r, 0, sizeof r);
    uint64_t t0 = 1700000000123456789ull;
    /* 0: an export datagram */
    eth(&r[0].p, 0x0800);
    ipv4(&r[0].p, 17, SRC_A, 8 + v5n, 0);
    udp(&r[0].p, 40000, v5, v5n);
    r[0].ts_ns = t0;
    /* 1: ARP */
    eth(&r[1].p, 0x0806);
    put32(&r[1].p, 0x00010800);
    r[1].ts_ns = t0 + 1;
    /* 2: TCP */
    eth(&r[2].p, 0x0800);
    ipv4(&r[2].p, 6, SRC_A, 20, 0);
    for (int i = 0; i < 5; i++)
        put32(&r[2].p, i == 3 ? 0x50020000 : 0);
    r[2].ts_ns = t0 + 2;
    /* 3, 4: the two fragments of a UDP datagram (MF, then offset 185) */
    eth(&r[3].p, 0x0800);
    ipv4(&r[3].p, 17, SRC_A, 8 + v5n, 0x2000);
    udp(&r[3].p, 40000, v5, v5n);
    eth(&r[4].p, 0x0800);
    ipv4(&r[4].p, 17, SRC_A, 16, 185);
    put32(&r[4].p, 0), put32(&r[4].p, 0), put32(&r[4].p, 0), put32(&r[4].p, 0);
    /* 5: 802.1Q-tagged UDP with a 4-byte payload and Ethernet padding to 64 */
    eth(&r[5].p, 0x8100);
    put16(&r[5].p, 100);
    put16(&r[5].p, 0x0800);
    static const uint8_t four[4] = {0, 5, 0, 0};
    ipv4(&r[5].p, 17, SRC_B, 12, 0);
    udp(&r[5].p, 40001, four, 4);
    while (r[5].p.n < 64)
        put(&r[5].p, "\0", 1);
    r[5].ts_ns = t0 + 5;
    /* 6: an export datagram cut by a 60-byte snap length: 18 payload bytes */
    eth(&r[6].p, 0x0800);
    ipv4(&r[6].p, 17, SRC_C, 8 + v5n, 0);
    udp(&r[6].p, 40002, v5, v5n);
    r[6].caplen = 60;
    r[6].ts_ns = t0 + 2000000000ull; /* two seconds later: an expiry tick */
    /* 7: cut inside the IPv4 header */
    eth(&r[7].p, 0x0800);
    ipv4(&r[7].p, 17, SRC_A, 8 + v5n, 0);
    udp(&r[7].p, 40000, v5, v5n);
    r[7].caplen = 30;
    /* 8: UDP length 5 (< 8, RFC 768) */
    eth(&r[8].p, 0x0800);
    ipv4(&r[8].p, 17, SRC_A, 8, 0);
    put16(&r[8].p, 1), put16(&r[8].p, 2), put16(&r[8].p, 5), put16(&r[8].p, 0);

    char path[128];
    snprintf(path, sizeof path, "%s/eth.pcap", dir);
    write_pcap(path, DLT_EN10MB, r, 9);

    seen s;
    ft_pcap_stats st;
    ft_decoder *dec;
    char err[256];
    flushes = 0;
    int rc = replay(path, &s, &st, &dec, err, sizeof err);
    if (rc != 0)
        FT_FAIL("replay failed: %s", err);
    ASSERT_EQ(st.packets, 9);
    ASSERT_EQ(st.datagrams, 3); /* packets 0, 5, 6 */
    ASSERT_EQ(st.bytes, v5n + 4 + 18);
    ASSERT_EQ(st.clipped, 1);
    ASSERT_EQ(st.not_ip, 1);
    ASSERT_EQ(st.not_udp, 1);
    ASSERT_EQ(st.fragments, 2);
    ASSERT_EQ(st.truncated, 1);
    ASSERT_EQ(st.malformed, 1);
    ASSERT_TRUE(flushes >= 1);

    /* The one complete datagram became one record, stamped with the capture
     * time to the nanosecond, from the IP source. */
    ASSERT_EQ(s.n, 1);
    char a[FT_ADDR_STRLEN];
    ASSERT_STR(ft_addr_format(&s.f[0].sampler_address, a), "192.0.2.10");
    ASSERT_EQ(s.f[0].time_received_ns, t0);
    ASSERT_EQ(s.f[0].sequence_num, 7);

    /* The padded packet gave the decoder exactly its 4 UDP payload bytes. */
    octets o = {ft_addr_v4(SRC_B), 0, 0};
    ft_decoder_foreach_exporter(dec, get_octets, &o);
    ASSERT_EQ(o.packets, 1);
    ASSERT_EQ(o.octets, 4);
    /* The clipped one gave 60 - 14 - 20 - 8 = 18 bytes. */
    o = (octets){ft_addr_v4(SRC_C), 0, 0};
    ft_decoder_foreach_exporter(dec, get_octets, &o);
    ASSERT_EQ(o.octets, 18);
    ft_decoder_free(dec);
}

/* Export datagrams carried in a tunnel (pkt_header.h): the exporter is the
 * innermost IP source, not the tunnel endpoint. GRE v0 (RFC 2784 §2.1, 4
 * bytes, protocol 0x0800) and IPv4 in IP (RFC 2003 §3); MPLS over GRE is
 * not followed, so that packet stays "not UDP". */
static void t_tunnelled_export(void)
{
    uint8_t v5[128];
    size_t v5n = nf5(v5, 11);
    static const uint8_t tunnel_src[4] = {198, 51, 100, 1};
    rec r[3];
    memset(r, 0, sizeof r);
    uint64_t t0 = 1700000100000000000ull;
    /* 0: Ethernet, IPv4 198.51.100.1 proto 47, GRE, IPv4 192.0.2.10, UDP, v5 */
    eth(&r[0].p, 0x0800);
    ipv4(&r[0].p, 47, tunnel_src, 4 + 20 + 8 + v5n, 0);
    put32(&r[0].p, 0x00000800);
    ipv4(&r[0].p, 17, SRC_A, 8 + v5n, 0);
    udp(&r[0].p, 40010, v5, v5n);
    r[0].ts_ns = t0;
    /* 1: IPv4 198.51.100.1 proto 4, IPv4 192.0.2.11, UDP, v5 */
    eth(&r[1].p, 0x0800);
    ipv4(&r[1].p, 4, tunnel_src, 20 + 8 + v5n, 0);
    ipv4(&r[1].p, 17, SRC_B, 8 + v5n, 0);
    udp(&r[1].p, 40011, v5, v5n);
    r[1].ts_ns = t0 + 1;
    /* 2: GRE protocol 0x8847 (MPLS): not followed */
    eth(&r[2].p, 0x0800);
    ipv4(&r[2].p, 47, tunnel_src, 4 + 4 + 20 + 8 + v5n, 0);
    put32(&r[2].p, 0x00008847);
    put32(&r[2].p, 0x00010140); /* label 16, S, TTL 64 */
    ipv4(&r[2].p, 17, SRC_C, 8 + v5n, 0);
    udp(&r[2].p, 40012, v5, v5n);
    r[2].ts_ns = t0 + 2;

    char path[128];
    snprintf(path, sizeof path, "%s/tunnel.pcap", dir);
    write_pcap(path, DLT_EN10MB, r, 3);
    seen s;
    ft_pcap_stats st;
    ft_decoder *dec;
    char err[256];
    if (replay(path, &s, &st, &dec, err, sizeof err) != 0)
        FT_FAIL("replay failed: %s", err);
    ASSERT_EQ(st.packets, 3);
    ASSERT_EQ(st.datagrams, 2);
    ASSERT_EQ(st.not_udp, 1);
    ASSERT_EQ(st.bytes, 2 * v5n);
    ASSERT_EQ(s.n, 2);
    char a[FT_ADDR_STRLEN];
    ASSERT_STR(ft_addr_format(&s.f[0].sampler_address, a), "192.0.2.10");
    ASSERT_STR(ft_addr_format(&s.f[1].sampler_address, a), "192.0.2.11");
    ASSERT_EQ(s.f[0].time_received_ns, t0);
    ASSERT_EQ(s.f[1].sequence_num, 11);
    /* No exporter was created for the tunnel endpoint. */
    octets o = {ft_addr_v4(tunnel_src), 0, 0};
    ft_decoder_foreach_exporter(dec, get_octets, &o);
    ASSERT_EQ(o.packets, 0);
    o = (octets){ft_addr_v4(SRC_B), 0, 0};
    ft_decoder_foreach_exporter(dec, get_octets, &o);
    ASSERT_EQ(o.packets, 1);
    ASSERT_EQ(o.octets, v5n);
    ft_decoder_free(dec);
}

/* DLT_RAW with IPv6, DLT_LINUX_SLL2 and DLT_NULL: same datagram, other links. */
static void t_other_links(void)
{
    uint8_t v5[128];
    size_t v5n = nf5(v5, 9);
    static const uint8_t src6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x99};
    struct {
        const char *name;
        int dlt;
        const char *exporter;
    } links[] = {{"raw6.pcap", DLT_RAW, "2001:db8::99"},
                 {"sll2.pcap", DLT_LINUX_SLL2, "192.0.2.10"},
                 {"null.pcap", DLT_NULL, "192.0.2.10"}};
    for (size_t k = 0; k < 3; k++) {
        rec r;
        memset(&r, 0, sizeof r);
        r.ts_ns = 1600000000000000001ull;
        if (links[k].dlt == DLT_RAW) {
            put32(&r.p, 0x60000000);
            put16(&r.p, (uint16_t)(8 + v5n));
            uint8_t nh[2] = {17, 64};
            put(&r.p, nh, 2);
            put(&r.p, src6, 16);
            put(&r.p, src6, 16);
        } else {
            if (links[k].dlt == DLT_LINUX_SLL2) {
                static const uint8_t sll2[20] = {0x08, 0, 0, 0, 0, 0, 0, 3, 0, 1, 0, 6,
                                                 2, 0, 0, 0, 0, 1, 0, 0};
                put(&r.p, sll2, 20);
            } else {
                uint32_t af = 2; /* host order, as the BSD capturer wrote it */
                put(&r.p, &af, 4);
            }
            ipv4(&r.p, 17, SRC_A, 8 + v5n, 0);
        }
        udp(&r.p, 41000, v5, v5n);
        char path[128];
        snprintf(path, sizeof path, "%s/%s", dir, links[k].name);
        write_pcap(path, links[k].dlt, &r, 1);
        seen s;
        ft_pcap_stats st;
        ft_decoder *dec;
        char err[256];
        if (replay(path, &s, &st, &dec, err, sizeof err) != 0)
            FT_FAIL("%s: %s", links[k].name, err);
        ASSERT_EQ(st.datagrams, 1);
        ASSERT_EQ(s.n, 1);
        char a[FT_ADDR_STRLEN];
        ASSERT_STR(ft_addr_format(&s.f[0].sampler_address, a), links[k].exporter);
        ASSERT_EQ(s.f[0].time_received_ns, 1600000000000000001ull);
        ft_decoder_free(dec);
    }
}

static void t_pcapng_nanoseconds(void)
{
    uint8_t v5[128];
    size_t v5n = nf5(v5, 11);
    rec r[2];
    memset(r, 0, sizeof r);
    for (int i = 0; i < 2; i++) {
        eth(&r[i].p, 0x0800);
        ipv4(&r[i].p, 17, SRC_A, 8 + v5n, 0);
        udp(&r[i].p, 42000, v5, v5n);
        r[i].ts_ns = 1700000000999999999ull + (uint64_t)i;
    }
    char path[128];
    snprintf(path, sizeof path, "%s/ns.pcapng", dir);
    write_pcapng(path, 1 /* LINKTYPE_ETHERNET */, r, 2);
    seen s;
    ft_pcap_stats st;
    ft_decoder *dec;
    char err[256];
    if (replay(path, &s, &st, &dec, err, sizeof err) != 0)
        FT_FAIL("pcapng: %s", err);
    ASSERT_EQ(st.packets, 2);
    ASSERT_EQ(s.n, 2);
    ASSERT_EQ(s.f[0].time_received_ns, 1700000000999999999ull);
    ASSERT_EQ(s.f[1].time_received_ns, 1700000001000000000ull);
    ft_decoder_free(dec);
}

static void t_errors(void)
{
    seen s;
    ft_pcap_stats st;
    ft_decoder *dec;
    char err[256];
    char path[128];
    snprintf(path, sizeof path, "%s/missing.pcap", dir);
    ASSERT_EQ(replay(path, &s, &st, &dec, err, sizeof err), -1);
    ASSERT_TRUE(strstr(err, "cannot open capture") != NULL);
    ft_decoder_free(dec);

    rec r;
    memset(&r, 0, sizeof r);
    put32(&r.p, 0);
    snprintf(path, sizeof path, "%s/wifi.pcap", dir);
    write_pcap(path, DLT_IEEE802_11, &r, 1);
    ASSERT_EQ(replay(path, &s, &st, &dec, err, sizeof err), -1);
    ASSERT_TRUE(strstr(err, "not supported") != NULL);
    ft_decoder_free(dec);

    /* A file cut in the middle of a packet record: the packets before it
     * count, and the cut is an error. */
    uint8_t v5[128];
    size_t v5n = nf5(v5, 1);
    rec two[2];
    memset(two, 0, sizeof two);
    for (int i = 0; i < 2; i++) {
        eth(&two[i].p, 0x0800);
        ipv4(&two[i].p, 17, SRC_A, 8 + v5n, 0);
        udp(&two[i].p, 40000, v5, v5n);
    }
    snprintf(path, sizeof path, "%s/cut.pcap", dir);
    write_pcap(path, DLT_EN10MB, two, 2);
    ASSERT_EQ(truncate(path, 24 + 16 + (off_t)two[0].p.n + 16 + 10), 0);
    ASSERT_EQ(replay(path, &s, &st, &dec, err, sizeof err), -1);
    ASSERT_EQ(st.datagrams, 1);
    ASSERT_EQ(s.n, 1);
    ASSERT_TRUE(strstr(err, "read error after 1 packets") != NULL);
    ft_decoder_free(dec);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/ft_pcap_test.XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    FT_RUN(t_ethernet_mixed_traffic);
    FT_RUN(t_tunnelled_export);
    FT_RUN(t_other_links);
    FT_RUN(t_pcapng_nanoseconds);
    FT_RUN(t_errors);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return FT_DONE();
}
