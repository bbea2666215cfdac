/*
 * flow_json_test.c - the --print and --stats JSON lines (flow/flow_json.h).
 *
 * Oracles: the key list of the project notes' "--print JSON" contract,
 * copied here as written there (not generated from our table); jansson's
 * parser for validity and values (RFC 8259); and threads writing through
 * one output, whose lines must come back whole.
 */
#include "flow/flow_json.h"

#include <jansson.h>
#include <pthread.h>

#include "test.h"

static const char *const KEYS[] = {
    "type", "time_received_ns", "sequence_num", "sampling_rate", "flow_direction", "sampler_address",
    "observation_domain_id", "observation_point_id", "time_flow_start_ns", "time_flow_end_ns", "bytes",
    "packets", "src_addr", "dst_addr", "etype", "proto", "src_port", "dst_port", "in_if", "out_if",
    "src_mac", "dst_mac", "src_vlan", "dst_vlan", "vlan_id", "ingress_vrf_id", "egress_vrf_id", "ip_tos",
    "forwarding_status", "ip_ttl", "ip_flags", "tcp_flags", "icmp_type", "icmp_code", "ipv6_flow_label",
    "fragment_id", "fragment_offset", "bi_flow_direction", "src_as", "dst_as", "next_hop", "bgp_next_hop",
    "next_hop_as", "src_net", "dst_net", "as_path", "has_mpls", "mpls_count", "mpls_1_ttl", "mpls_1_label",
    "mpls_2_ttl", "mpls_2_label", "mpls_3_ttl", "mpls_3_label", "mpls_last_ttl", "mpls_last_label",
    "has_encap", "src_addr_encap", "dst_addr_encap", "proto_encap", "etype_encap", "ip_tos_encap",
    "ip_ttl_encap", "ipv6_flow_label_encap", "fragment_id_encap", "fragment_offset_encap", "has_ppp",
    "ppp_address_control", "src_country", "dst_country",
};
#define NKEYS (sizeof KEYS / sizeof KEYS[0])

static json_t *parse_line(const char *line)
{
    json_error_t e;
    json_t *j = json_loads(line, 0, &e);
    if (!j)
        FT_FAIL("not JSON (%s at %d): %s", e.text, e.position, line);
    return j;
}

static ft_flow sample_flow(void)
{
    ft_flow f;
    memset(&f, 0, sizeof f);
    f.type = FT_FLOW_NETFLOW_V9;
    f.time_received_ns = 1700000000123456789ull;
    f.sequence_num = 4000000000u;
    f.sampling_rate = 1000;
    ft_addr_parse("192.0.2.1", &f.sampler_address);
    ft_addr_parse("2001:db8::1", &f.src_addr);
    ft_addr_parse("2001:db8:0:1:1:1:1:1", &f.dst_addr);
    f.bytes = 1500;
    f.packets = 3;
    f.etype = 0x86dd;
    f.proto = 6;
    f.src_port = 443;
    f.dst_port = 51000;
    f.src_mac = 0x0242ac110002ull;
    f.dst_mac = 0xaabbccddeeffull;
    f.has_mpls = true;
    f.mpls_count = 2;
    f.mpls_1_label = 18;
    f.as_path[0] = 64500;
    f.as_path[1] = 4200000000u;
    f.as_path_len = 2;
    memcpy(f.src_country, "FR", 3);
    return f;
}

static void t_keys_in_order(void)
{
    ft_flow f = sample_flow();
    char buf[FT_FLOW_JSON_MAX];
    size_t n = ft_flow_json(&f, buf, sizeof buf);
    ASSERT_TRUE(n < sizeof buf);
    ASSERT_EQ(buf[n - 1], '\n');
    ASSERT_EQ(strchr(buf, '\n'), buf + n - 1); /* exactly one line */
    json_t *j = parse_line(buf);
    ASSERT_EQ(json_object_size(j), NKEYS); /* no extra key */
    /* Each key present, and after the previous one in the text. */
    const char *prev = buf;
    for (size_t i = 0; i < NKEYS; i++) {
        char pat[64];
        snprintf(pat, sizeof pat, "\"%s\":", KEYS[i]);
        const char *at = strstr(buf, pat);
        if (!at)
            FT_FAIL("key %s missing", KEYS[i]);
        if (at < prev)
            FT_FAIL("key %s out of order", KEYS[i]);
        prev = at;
    }
    json_decref(j);
}

static void t_values(void)
{
    ft_flow f = sample_flow();
    char buf[FT_FLOW_JSON_MAX];
    ft_flow_json(&f, buf, sizeof buf);
    json_t *j = parse_line(buf);
    ASSERT_STR(json_string_value(json_object_get(j, "type")), "NETFLOW_V9");
    ASSERT_EQ(json_integer_value(json_object_get(j, "time_received_ns")), 1700000000123456789ull);
    ASSERT_EQ(json_integer_value(json_object_get(j, "sequence_num")), 4000000000u);
    ASSERT_STR(json_string_value(json_object_get(j, "sampler_address")), "192.0.2.1");
    ASSERT_STR(json_string_value(json_object_get(j, "src_addr")), "2001:db8::1");
    ASSERT_STR(json_string_value(json_object_get(j, "dst_addr")), "2001:db8:0:1:1:1:1:1");
    ASSERT_STR(json_string_value(json_object_get(j, "next_hop")), ""); /* absent */
    ASSERT_STR(json_string_value(json_object_get(j, "src_mac")), "02:42:ac:11:00:02");
    ASSERT_STR(json_string_value(json_object_get(j, "dst_mac")), "aa:bb:cc:dd:ee:ff");
    ASSERT_EQ(json_integer_value(json_object_get(j, "etype")), 0x86dd);
    ASSERT_EQ(json_integer_value(json_object_get(j, "dst_port")), 51000);
    ASSERT_TRUE(json_is_true(json_object_get(j, "has_mpls")));
    ASSERT_TRUE(json_is_false(json_object_get(j, "has_encap")));
    ASSERT_EQ(json_integer_value(json_object_get(j, "mpls_1_label")), 18);
    json_t *path = json_object_get(j, "as_path");
    ASSERT_TRUE(json_is_array(path));
    ASSERT_EQ(json_array_size(path), 2);
    ASSERT_EQ(json_integer_value(json_array_get(path, 0)), 64500);
    ASSERT_EQ(json_integer_value(json_array_get(path, 1)), 4200000000u);
    ASSERT_STR(json_string_value(json_object_get(j, "src_country")), "FR");
    ASSERT_STR(json_string_value(json_object_get(j, "dst_country")), "");
    /* Every value has the contract's JSON type. */
    for (size_t i = 0; i < NKEYS; i++) {
        json_t *v = json_object_get(j, KEYS[i]);
        const char *k = KEYS[i];
        bool text = !strcmp(k, "type") || (strstr(k, "_addr") && strcmp(k, "ppp_address_control")) ||
                    strstr(k, "_mac") || strstr(k, "_country") || !strcmp(k, "next_hop") ||
                    !strcmp(k, "bgp_next_hop");
        bool boolean = !strncmp(k, "has_", 4);
        if (text) {
            if (!json_is_string(v))
                FT_FAIL("%s is not a string", k);
        }
        else if (boolean)
            ASSERT_TRUE(json_is_boolean(v));
        else if (!strcmp(k, "as_path"))
            ASSERT_TRUE(json_is_array(v));
        else if (!json_is_integer(v))
            FT_FAIL("%s is not an integer", k);
    }
    json_decref(j);
}

static void t_zero_record(void)
{
    ft_flow f;
    memset(&f, 0, sizeof f);
    char buf[FT_FLOW_JSON_MAX];
    ft_flow_json(&f, buf, sizeof buf);
    json_t *j = parse_line(buf);
    ASSERT_STR(json_string_value(json_object_get(j, "type")), "FLOWUNKNOWN");
    ASSERT_STR(json_string_value(json_object_get(j, "src_addr")), "");
    ASSERT_STR(json_string_value(json_object_get(j, "src_mac")), "00:00:00:00:00:00");
    ASSERT_EQ(json_array_size(json_object_get(j, "as_path")), 0);
    json_decref(j);
}

/* Every field at its widest: the line still fits FT_FLOW_JSON_MAX, 64-bit
 * values are exact (2^64-1 is beyond a signed or double JSON number), and
 * junk in a country code is escaped, not copied. */
static void t_widest_record(void)
{
    ft_flow f;
    memset(&f, 0xff, sizeof f);
    f.type = FT_FLOW_SFLOW_5;
    f.has_mpls = f.has_encap = f.has_ppp = true;
    static const uint8_t all1[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    f.src_addr = f.dst_addr = f.next_hop = f.bgp_next_hop = f.sampler_address = f.src_addr_encap =
        f.dst_addr_encap = ft_addr_v6(all1);
    f.as_path_len = 1000; /* more than the array holds: clamped */
    f.src_country[0] = '\x01';
    f.src_country[1] = '"';
    f.dst_country[0] = (char)0xc3;
    f.dst_country[1] = '\\';
    char buf[FT_FLOW_JSON_MAX];
    size_t n = ft_flow_json(&f, buf, sizeof buf);
    if (n >= sizeof buf)
        FT_FAIL("widest line is %zu bytes, FT_FLOW_JSON_MAX %d", n, FT_FLOW_JSON_MAX);
    /* jansson integers are int64: a uint64 beyond prints as INT64_MAX. */
    ASSERT_TRUE(strstr(buf, "\"bytes\":9223372036854775807,") != NULL);
    ASSERT_TRUE(strstr(buf, "\"time_received_ns\":9223372036854775807,") != NULL);
    /* Only letters make a country code; anything else prints as unknown. */
    ASSERT_TRUE(strstr(buf, "\"src_country\":\"\"") != NULL);
    ASSERT_TRUE(strstr(buf, "\"dst_country\":\"\"") != NULL);
    json_error_t e;
    json_t *j = json_loads(buf, 0, &e);
    if (!j)
        FT_FAIL("not JSON (%s): %s", e.text, buf);
    ASSERT_EQ(json_array_size(json_object_get(j, "as_path")), FT_AS_PATH_MAX);
    ASSERT_STR(json_string_value(json_object_get(j, "dst_addr")), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    json_decref(j);
}

static void t_short_buffer(void)
{
    ft_flow f = sample_flow();
    char full[FT_FLOW_JSON_MAX], small[100];
    size_t n = ft_flow_json(&f, full, sizeof full);
    memset(small, 'x', sizeof small);
    size_t m = ft_flow_json(&f, small, sizeof small);
    ASSERT_EQ(m, n); /* the length it needed */
    ASSERT_EQ(small[sizeof small - 1], 0);
    ASSERT_EQ(memcmp(small, full, sizeof small - 1), 0);
}

/* ---- sinks: several writer threads, one output ----------------------------- */

#define THREADS 4
#define PER_THREAD 5000

struct writer {
    ft_json_out *out;
    uint32_t id;
};

static void *writer_main(void *arg)
{
    struct writer *w = arg;
    ft_json_sink *s = ft_json_sink_new(w->out);
    ft_flow_sink k = ft_json_sink_flow_sink(s);
    ft_flow f = sample_flow();
    for (uint32_t i = 0; i < PER_THREAD; i++) {
        f.in_if = w->id;
        f.sequence_num = i;
        k.emit(k.ctx, &f);
        if (i % 37 == 0)
            ft_json_sink_flush(s); /* end of a "receive batch" */
    }
    ft_json_sink_free(s); /* flushes the rest */
    return NULL;
}

static void t_threads_do_not_interleave(void)
{
    FILE *fp = tmpfile();
    ft_json_out *out = ft_json_out_new(fp);
    pthread_t th[THREADS];
    struct writer w[THREADS];
    for (uint32_t t = 0; t < THREADS; t++) {
        w[t] = (struct writer){out, t};
        pthread_create(&th[t], NULL, writer_main, &w[t]);
    }
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    ASSERT_EQ(ft_json_out_lines(out), THREADS * PER_THREAD);
    ASSERT_EQ(ft_json_out_dropped(out), 0);
    rewind(fp);
    uint32_t next[THREADS] = {0};
    char line[FT_FLOW_JSON_MAX];
    size_t lines = 0;
    while (fgets(line, sizeof line, fp)) {
        json_t *j = parse_line(line);
        uint32_t id = (uint32_t)json_integer_value(json_object_get(j, "in_if"));
        uint32_t seq = (uint32_t)json_integer_value(json_object_get(j, "sequence_num"));
        ASSERT_TRUE(id < THREADS);
        ASSERT_EQ(seq, next[id]); /* each worker's lines whole and in its order */
        next[id]++;
        json_decref(j);
        lines++;
    }
    ASSERT_EQ(lines, THREADS * PER_THREAD);
    ft_json_out_free(out);
    fclose(fp);
}

static void t_write_error_counted(void)
{
    FILE *fp = fopen("/dev/full", "w");
    if (!fp)
        FT_SKIP("no /dev/full");
    ft_json_out *out = ft_json_out_new(fp);
    ft_json_sink *s = ft_json_sink_new(out);
    ft_flow_sink k = ft_json_sink_flow_sink(s);
    ft_flow f = sample_flow();
    for (int i = 0; i < 3; i++)
        k.emit(k.ctx, &f);
    ft_json_sink_flush(s);
    ASSERT_EQ(ft_json_out_dropped(out), 3);
    ASSERT_EQ(ft_json_out_lines(out), 0);
    ft_json_sink_free(s);
    ft_json_out_free(out);
    fclose(fp);
}

/* ---- --stats ----------------------------------------------------------------- */

static void t_stats_line(void)
{
    ft_exporter_stats s;
    memset(&s, 0, sizeof s);
    ft_addr_parse("192.0.2.1", &s.addr);
    s.protocols = FT_PROTO_NETFLOW_V9 | FT_PROTO_IPFIX;
    s.last_seen_ns = 1700000000000000000ull;
    s.templates = 3;
    s.ctr[FT_CTR_packets] = 10;
    s.ctr[FT_CTR_records] = 250;
    s.errors[FT_ERR_TRUNCATED] = 2;
    char buf[8192];
    size_t n = ft_exporter_stats_json(&s, buf, sizeof buf);
    ASSERT_TRUE(n < sizeof buf);
    ASSERT_EQ(buf[0], '{');
    json_t *j = parse_line(buf);
    ASSERT_STR(json_string_value(json_object_get(j, "kind")), "exporter_stats");
    ASSERT_STR(json_string_value(json_object_get(j, "exporter")), "192.0.2.1");
    json_t *p = json_object_get(j, "protocols");
    ASSERT_EQ(json_array_size(p), 2);
    ASSERT_STR(json_string_value(json_array_get(p, 0)), "netflow_v9");
    ASSERT_STR(json_string_value(json_array_get(p, 1)), "ipfix");
    ASSERT_EQ(json_integer_value(json_object_get(j, "last_seen_ns")), 1700000000000000000ull);
    ASSERT_EQ(json_integer_value(json_object_get(j, "templates")), 3);
    json_t *c = json_object_get(j, "counters"), *e = json_object_get(j, "errors");
    ASSERT_EQ(json_object_size(c), FT_CTR_COUNT);
    ASSERT_EQ(json_object_size(e), FT_ERR_COUNT - 1); /* every kind but "ok" */
    ASSERT_EQ(json_integer_value(json_object_get(c, "packets")), 10);
    ASSERT_EQ(json_integer_value(json_object_get(c, "records")), 250);
    ASSERT_EQ(json_integer_value(json_object_get(e, "truncated")), 2);
    ASSERT_TRUE(json_object_get(e, "not_udp") != NULL);
    ASSERT_TRUE(json_object_get(c, "pending_records") != NULL);
    json_decref(j);
}

static void t_stats_merge(void)
{
    ft_stats_set set = {0};
    ft_exporter_stats a, b, c;
    memset(&a, 0, sizeof a);
    ft_addr_parse("192.0.2.1", &a.addr);
    a.protocols = FT_PROTO_NETFLOW_V5;
    a.last_seen_ns = 100;
    a.ctr[FT_CTR_packets] = 5;
    b = a;
    b.protocols = FT_PROTO_IPFIX;
    b.last_seen_ns = 200;
    b.ctr[FT_CTR_packets] = 7;
    b.errors[FT_ERR_NO_TEMPLATE] = 1;
    c = a;
    ft_addr_parse("::ffff:192.0.2.1", &c.addr); /* family 6: another exporter */
    ft_stats_set_collect(&set, &a);
    ft_stats_set_collect(&set, &c);
    ft_stats_set_collect(&set, &b);
    ft_stats_set_merge(&set);
    ASSERT_EQ(set.n, 2);
    ASSERT_EQ(set.v[0].addr.family, 4);
    ASSERT_EQ(set.v[0].ctr[FT_CTR_packets], 12);
    ASSERT_EQ(set.v[0].protocols, FT_PROTO_NETFLOW_V5 | FT_PROTO_IPFIX);
    ASSERT_EQ(set.v[0].last_seen_ns, 200);
    ASSERT_EQ(set.v[0].errors[FT_ERR_NO_TEMPLATE], 1);
    ASSERT_EQ(set.v[1].ctr[FT_CTR_packets], 5);

    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ft_stats_set_print(&set, f);
    fclose(f);
    int lines = 0;
    for (char *q = text; (q = strchr(q, '\n')); q++)
        lines++;
    ASSERT_EQ(lines, 2);
    free(text);
    ft_stats_set_free(&set);
}

int main(void)
{
    FT_RUN(t_keys_in_order);
    FT_RUN(t_values);
    FT_RUN(t_zero_record);
    FT_RUN(t_widest_record);
    FT_RUN(t_short_buffer);
    FT_RUN(t_threads_do_not_interleave);
    FT_RUN(t_write_error_counted);
    FT_RUN(t_stats_line);
    FT_RUN(t_stats_merge);
    return FT_DONE();
}
