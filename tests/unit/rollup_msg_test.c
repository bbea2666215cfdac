/*
 * rollup_msg_test.c - rollup rows as Kafka messages (kafka/rollup_msg.h).
 *
 * Oracles:
 *   - a byte vector written here from the protobuf wire-format rules
 *     (protobuf.dev/programming-guides/encoding: tag = number << 3 | wire
 *     type, base-128 varints least significant group first, wire type 2 =
 *     length + bytes, proto3 zero values omitted) and the field numbers of
 *     proto/rollup.proto, each field's bytes worked out beside it;
 *   - Google's protoc (Debian protobuf-compiler): `protoc --encode=flowtally.Rollup`
 *     of the text-format message written here from the documented mapping
 *     (rollup_msg.h) must equal our bytes, for rows of every dimension, with
 *     IPv4 and IPv6 exporters, corrections, partial flushes, 'other' rows and
 *     values at their maxima (skipped when protoc is missing);
 *   - jansson parsing our JSON back, field by field, against values set here.
 */
#include "kafka/rollup_msg.h"

#include <jansson.h>
#include <unistd.h>

#include "core/addr.h"
#include "test.h"

static void assert_bytes(const uint8_t *got, size_t n, const uint8_t *want, size_t wn)
{
    if (n != wn || memcmp(got, want, n) != 0) {
        fprintf(stderr, "  got  %zu bytes:", n);
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, " %02x", got[i]);
        fprintf(stderr, "\n  want %zu bytes:", wn);
        for (size_t i = 0; i < wn; i++)
            fprintf(stderr, " %02x", want[i]);
        fprintf(stderr, "\n");
        FT_FAIL("bytes differ");
    }
}

/* A row of dimension d built from a record, as the window stage builds it. */
static ft_rollup_row row_of(ft_dim d, const ft_flow *f, uint64_t window_s, bool by_exporter, uint64_t bytes,
                            uint64_t packets, uint64_t flows)
{
    ft_rollup_row r;
    memset(&r, 0, sizeof r);
    r.dim = d;
    ft_rkey_of(&r.key, d, f, window_s, by_exporter);
    r.bytes = bytes;
    r.packets = packets;
    r.flows = flows;
    return r;
}

static ft_rollup_batch batch_of(uint64_t start_s, uint64_t len_s, bool corr, bool partial, bool by_exporter,
                                const ft_rollup_row *rows, size_t n)
{
    ft_rollup_batch b;
    memset(&b, 0, sizeof b);
    b.window_start_ns = start_s * 1000000000ull;
    b.window_end_ns = (start_s + len_s) * 1000000000ull;
    b.is_correction = corr;
    b.is_partial = partial;
    b.by_exporter = by_exporter;
    b.rows = rows;
    b.n_rows = n;
    return b;
}

static void t_hand_vector(void)
{
    ft_flow f;
    memset(&f, 0, sizeof f);
    f.proto = 17;
    ft_rollup_row r = row_of(FT_DIM_PROTO, &f, 300, false, 1500, 3, 2);
    ft_rollup_batch b = batch_of(300, 300, false, false, false, &r, 1);
    static const uint8_t want[] = {
        0x08, 0x80, 0xf0, 0x92, 0xcb, 0xdd, 0x08, /* 1 window_start_ns varint: 300e9 = 0x45d964b800 */
        0x10, 0x80, 0xe0, 0xa5, 0x96, 0xbb, 0x11, /* 2 window_end_ns: 600e9 = 0x8bb2c97000 */
        0x1a, 0x05, 'p', 'r', 'o', 't', 'o',      /* 3 dimension, wire type 2, length 5 */
        0x22, 0x02, '1', '7',                     /* 4 key_text "17"; 5 exporter "" omitted */
        0x30, 0xdc, 0x0b,                         /* 6 bytes 1500 = 0x5dc: 0x5c|0x80, 0x0b */
        0x38, 0x03,                               /* 7 packets 3 */
        0x40, 0x02,                               /* 8 flows 2; 9-11 false omitted; 12, 13 zero */
        0x70, 0x11,                               /* 14 proto 17: tag 14 << 3 = 0x70 */
    };
    uint8_t buf[FT_ROLLUP_MSG_MAX];
    size_t n = ft_rollup_encode(FT_ROLLUP_PROTOBUF, &b, &r, buf, sizeof buf);
    assert_bytes(buf, n, want, sizeof want);
    /* Too small a buffer: nothing, never a cut message. */
    ASSERT_EQ(ft_rollup_encode(FT_ROLLUP_PROTOBUF, &b, &r, buf, sizeof want - 1), 0);
    ASSERT_EQ(ft_rollup_encode(FT_ROLLUP_PROTOBUF, &b, &r, buf, sizeof want), sizeof want);
}

/* ---- protoc --encode ---------------------------------------------------- */

typedef struct golden {
    ft_rollup_batch b;
    ft_rollup_row r;
    const char *text; /* the text-format Rollup, written from rollup_msg.h */
} golden;

static ft_flow flow_v6(void)
{
    ft_flow f;
    memset(&f, 0, sizeof f);
    ft_addr_parse("2001:db8::53", &f.sampler_address);
    f.src_as = 4200000000u;
    f.dst_as = 64512;
    f.proto = 6;
    f.src_port = 65535;
    f.dst_port = 443;
    f.in_if = 4294967295u;
    f.out_if = 0;
    memcpy(f.src_country, "nl", 3);
    memcpy(f.dst_country, "", 1);
    return f;
}

static ft_flow flow_v4(void)
{
    ft_flow f;
    memset(&f, 0, sizeof f);
    ft_addr_parse("192.0.2.1", &f.sampler_address);
    f.src_as = 0;
    f.dst_as = 3356;
    f.proto = 0;
    f.src_port = 0;
    f.dst_port = 53;
    f.in_if = 3;
    f.out_if = 7;
    memcpy(f.src_country, "BR", 3);
    memcpy(f.dst_country, "US", 3);
    return f;
}

/* Runs protoc --encode on text; returns the byte count read into out, or
 * -1 when protoc is not installed. */
static long protoc_encode(const char *text, uint8_t *out, size_t cap)
{
    const char *dir = getenv("FT_PROTO_DIR");
    char path[] = "/tmp/ft-rollup-msg-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        FT_FAIL("mkstemp");
    size_t len = strlen(text);
    if (write(fd, text, len) != (ssize_t)len)
        FT_FAIL("write %s", path);
    close(fd);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "protoc --encode=flowtally.Rollup -I '%s' rollup.proto < '%s'",
             dir ? dir : "../proto", path);
    FILE *p = popen(cmd, "r");
    if (!p) {
        unlink(path);
        FT_FAIL("popen protoc");
    }
    size_t n = fread(out, 1, cap, p);
    int st = pclose(p);
    unlink(path);
    if (st != 0)
        FT_FAIL("`%s` failed (status %d) on:\n%s", cmd, st, text);
    return (long)n;
}

static void t_protoc_golden(void)
{
    if (system("protoc --version > /dev/null 2>&1") != 0)
        FT_SKIP("protoc not installed (apt-get install protobuf-compiler)");
    if (!getenv("FT_PROTO_DIR"))
        FT_SKIP("FT_PROTO_DIR unset (run through ctest)");
    ft_flow v6 = flow_v6(), v4 = flow_v4();
    golden g[16];
    size_t n = 0;
    /* 2023-11-14T22:15:00Z, a 5 min window: a closed one. */
    const uint64_t ws = 1700000100;
#define G(ROW, CORR, PART, BYEX, TEXT)                                                                     \
    do {                                                                                                 \
        g[n].r = ROW;                                                                                    \
        g[n].b = batch_of(ws, 300, CORR, PART, BYEX, &g[n].r, 1);                                         \
        g[n].text = TEXT;                                                                                \
        n++;                                                                                             \
    } while (0)
#define WIN "window_start_ns: 1700000100000000000\nwindow_end_ns: 1700000400000000000\n"
    G(row_of(FT_DIM_SRC_AS, &v6, ws, false, 1ull << 50, 1ull << 40, 1), false, false, false,
      WIN "dimension: \"src_as\"\nkey_text: \"AS4200000000\"\nbytes: 1125899906842624\n"
          "packets: 1099511627776\nflows: 1\nsrc_as: 4200000000\n");
    G(row_of(FT_DIM_DST_AS, &v4, ws, false, 10, 1, 1), true, false, false,
      WIN "dimension: \"dst_as\"\nkey_text: \"AS3356\"\nbytes: 10\npackets: 1\nflows: 1\n"
          "is_correction: true\ndst_as: 3356\n");
    G(row_of(FT_DIM_AS_PAIR, &v6, ws, false, 1, 1, 1), false, true, false,
      WIN "dimension: \"as_pair\"\nkey_text: \"AS4200000000-AS64512\"\nbytes: 1\npackets: 1\nflows: 1\n"
          "is_partial: true\nsrc_as: 4200000000\ndst_as: 64512\n");
    G(row_of(FT_DIM_SRC_PORT, &v6, ws, false, 40, 1, 1), false, false, false,
      WIN "dimension: \"src_port\"\nkey_text: \"6/65535\"\nbytes: 40\npackets: 1\nflows: 1\n"
          "proto: 6\nport: 65535\n");
    /* proto 0 and src_as 0 are values, and proto3 leaves them off the wire. */
    G(row_of(FT_DIM_DST_PORT, &v4, ws, false, 512, 2, 2), false, false, false,
      WIN "dimension: \"dst_port\"\nkey_text: \"0/53\"\nbytes: 512\npackets: 2\nflows: 2\nport: 53\n");
    G(row_of(FT_DIM_PROTO, &v6, ws, false, 9, 9, 9), false, false, false,
      WIN "dimension: \"proto\"\nkey_text: \"6\"\nbytes: 9\npackets: 9\nflows: 9\nproto: 6\n");
    G(row_of(FT_DIM_SRC_COUNTRY, &v6, ws, false, 5, 5, 5), false, false, false,
      WIN "dimension: \"src_country\"\nkey_text: \"NL\"\nbytes: 5\npackets: 5\nflows: 5\ncountry: \"NL\"\n");
    G(row_of(FT_DIM_DST_COUNTRY, &v6, ws, false, 5, 5, 5), false, false, false,
      WIN "dimension: \"dst_country\"\nkey_text: \"unknown\"\nbytes: 5\npackets: 5\nflows: 5\n");
    /* in_if: the exporter is part of the key, not the exporter column. */
    G(row_of(FT_DIM_IN_IF, &v6, ws, false, 7, 7, 7), false, false, false,
      WIN "dimension: \"in_if\"\nkey_text: \"[2001:db8::53]:4294967295\"\nbytes: 7\npackets: 7\nflows: 7\n"
          "exporter_address: \"\\x20\\x01\\x0d\\xb8\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\x53\"\n"
          "if_index: 4294967295\n");
    G(row_of(FT_DIM_OUT_IF, &v4, ws, false, 7, 7, 7), false, false, false,
      WIN "dimension: \"out_if\"\nkey_text: \"192.0.2.1:7\"\nbytes: 7\npackets: 7\nflows: 7\n"
          "exporter_address: \"\\xc0\\x00\\x02\\x01\"\nif_index: 7\n");
    /* --rollup-by-exporter: every key carries the exporter, text and bytes. */
    G(row_of(FT_DIM_DST_PORT, &v4, ws, true, 3, 2, 1), true, false, true,
      WIN "dimension: \"dst_port\"\nkey_text: \"0/53\"\nexporter: \"192.0.2.1\"\nbytes: 3\npackets: 2\n"
          "flows: 1\nis_correction: true\nport: 53\nexporter_address: \"\\xc0\\x00\\x02\\x01\"\n");
    /* The 'other' row: no typed key; with --rollup-by-exporter its exporter. */
    ft_rollup_row other = row_of(FT_DIM_SRC_AS, &v6, ws, false, 100, 10, 4);
    memset(&other.key, 0, sizeof other.key);
    other.key.window_s = ws;
    other.key.other = 1;
    G(other, false, true, false,
      WIN "dimension: \"src_as\"\nkey_text: \"other\"\nbytes: 100\npackets: 10\nflows: 4\nis_partial: true\n"
          "is_other: true\n");
    ft_rollup_row other_ex = other;
    memcpy(other_ex.key.exporter, v6.sampler_address.b, 16);
    other_ex.key.exporter_family = 6;
    other_ex.dim = FT_DIM_IN_IF;
    G(other_ex, false, false, true,
      WIN "dimension: \"in_if\"\nkey_text: \"other\"\nexporter: \"2001:db8::53\"\nbytes: 100\npackets: 10\n"
          "flows: 4\nis_other: true\n"
          "exporter_address: \"\\x20\\x01\\x0d\\xb8\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\x53\"\n");
#undef G
#undef WIN
    for (size_t i = 0; i < n; i++) {
        uint8_t ours[FT_ROLLUP_MSG_MAX], theirs[FT_ROLLUP_MSG_MAX];
        size_t on = ft_rollup_encode(FT_ROLLUP_PROTOBUF, &g[i].b, &g[i].r, ours, sizeof ours);
        long tn = protoc_encode(g[i].text, theirs, sizeof theirs);
        fprintf(stderr, "  %s %s: %zu bytes\n", ft_dim_name(g[i].r.dim), g[i].r.key.other ? "other" : "", on);
        assert_bytes(ours, on, theirs, (size_t)tn);
    }
}

/* ---- JSON --------------------------------------------------------------- */

static json_t *json_of(const ft_rollup_batch *b, const ft_rollup_row *r)
{
    uint8_t buf[FT_ROLLUP_MSG_MAX];
    size_t n = ft_rollup_encode(FT_ROLLUP_JSON, b, r, buf, sizeof buf);
    ASSERT_TRUE(n > 0);
    json_error_t e;
    json_t *o = json_loadb((const char *)buf, n, 0, &e);
    if (!o)
        FT_FAIL("not JSON: %s: %.*s", e.text, (int)n, buf);
    return o;
}

#define J_INT(o, k) json_integer_value(json_object_get(o, k))
#define J_STR(o, k) (json_string_value(json_object_get(o, k)) ? json_string_value(json_object_get(o, k)) : "(none)")

static void t_json(void)
{
    ft_flow v6 = flow_v6(), v4 = flow_v4();
    ft_rollup_row r = row_of(FT_DIM_DST_PORT, &v4, 1700000100, true, 1ull << 50, 12, 3);
    ft_rollup_batch b = batch_of(1700000100, 300, true, false, true, &r, 1);
    json_t *o = json_of(&b, &r);
    ASSERT_EQ(J_INT(o, "window_start_ns"), 1700000100000000000ull);
    ASSERT_EQ(J_INT(o, "window_end_ns"), 1700000400000000000ull);
    ASSERT_STR(J_STR(o, "dimension"), "dst_port");
    ASSERT_STR(J_STR(o, "key_text"), "0/53");
    ASSERT_STR(J_STR(o, "exporter"), "192.0.2.1");
    ASSERT_EQ(J_INT(o, "bytes"), 1ull << 50);
    ASSERT_EQ(J_INT(o, "packets"), 12);
    ASSERT_EQ(J_INT(o, "flows"), 3);
    ASSERT_TRUE(json_is_true(json_object_get(o, "is_correction")));
    ASSERT_TRUE(json_is_false(json_object_get(o, "is_partial")));
    ASSERT_TRUE(json_is_false(json_object_get(o, "is_other")));
    /* The dimension's key fields are present even when 0 (proto 0). */
    ASSERT_TRUE(json_is_integer(json_object_get(o, "proto")));
    ASSERT_EQ(J_INT(o, "proto"), 0);
    ASSERT_EQ(J_INT(o, "port"), 53);
    ASSERT_STR(J_STR(o, "exporter_address"), "192.0.2.1");
    ASSERT_TRUE(!json_object_get(o, "src_as") && !json_object_get(o, "country") && !json_object_get(o, "if_index"));
    ASSERT_EQ(json_object_size(o), 14); /* 11 always, proto, port, exporter_address */
    json_decref(o);

    r = row_of(FT_DIM_IN_IF, &v6, 1700000100, false, 1, 1, 1);
    b = batch_of(1700000100, 300, false, true, false, &r, 1);
    o = json_of(&b, &r);
    ASSERT_STR(J_STR(o, "key_text"), "[2001:db8::53]:4294967295");
    ASSERT_STR(J_STR(o, "exporter"), "");
    ASSERT_STR(J_STR(o, "exporter_address"), "2001:db8::53");
    ASSERT_EQ(J_INT(o, "if_index"), 4294967295u);
    ASSERT_TRUE(json_is_true(json_object_get(o, "is_partial")));
    ASSERT_EQ(json_object_size(o), 13);
    json_decref(o);

    r = row_of(FT_DIM_DST_COUNTRY, &v6, 1700000100, false, 1, 1, 1);
    o = json_of(&b, &r);
    ASSERT_STR(J_STR(o, "key_text"), "unknown");
    ASSERT_STR(J_STR(o, "country"), "");
    json_decref(o);
    r = row_of(FT_DIM_AS_PAIR, &v6, 1700000100, false, 1, 1, 1);
    o = json_of(&b, &r);
    ASSERT_EQ(J_INT(o, "src_as"), 4200000000u);
    ASSERT_EQ(J_INT(o, "dst_as"), 64512);
    ASSERT_EQ(json_object_size(o), 13);
    json_decref(o);

    /* Too small a buffer: 0, not a cut object. */
    uint8_t small[40];
    ASSERT_EQ(ft_rollup_encode(FT_ROLLUP_JSON, &b, &r, small, sizeof small), 0);
}

/* ---- keys and bounds ------------------------------------------------------ */

static void t_keys(void)
{
    ft_flow v6 = flow_v6(), v4 = flow_v4();
    char k[FT_ROLLUP_KEY_MAX];
    ft_rollup_row r = row_of(FT_DIM_DST_PORT, &v6, 0, false, 1, 1, 1);
    ft_rollup_batch b = batch_of(0, 300, false, false, false, &r, 1);
    ASSERT_EQ(ft_rollup_msg_key(&b, &r, k), strlen("dst_port 6/443"));
    ASSERT_STR(k, "dst_port 6/443");
    r = row_of(FT_DIM_IN_IF, &v6, 0, false, 1, 1, 1);
    ft_rollup_msg_key(&b, &r, k);
    ASSERT_STR(k, "in_if [2001:db8::53]:4294967295");
    r = row_of(FT_DIM_SRC_AS, &v4, 0, true, 1, 1, 1);
    b.by_exporter = true;
    ft_rollup_msg_key(&b, &r, k);
    ASSERT_STR(k, "src_as AS0 192.0.2.1");
}

/* The longest texts and largest numbers stay under FT_ROLLUP_MSG_MAX. */
static void t_bounds(void)
{
    ft_flow f;
    memset(&f, 0, sizeof f);
    ft_addr_parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", &f.sampler_address);
    f.src_as = f.dst_as = f.in_if = UINT32_MAX;
    f.proto = 255;
    f.src_port = 65535;
    size_t longest[2] = {0, 0};
    for (int d = 0; d < FT_DIM_COUNT; d++) {
        ft_rollup_row r = row_of((ft_dim)d, &f, UINT64_MAX / 1000000000ull, true, INT64_MAX, INT64_MAX, INT64_MAX);
        ft_rollup_batch b = batch_of(UINT64_MAX / 2000000000ull, 1, true, true, true, &r, 1);
        b.window_start_ns = b.window_end_ns = UINT64_MAX;
        for (int e = 0; e < 2; e++) {
            uint8_t buf[4 * FT_ROLLUP_MSG_MAX];
            size_t n = ft_rollup_encode((ft_rollup_encoding)e, &b, &r, buf, sizeof buf);
            ASSERT_TRUE(n > 0 && n < FT_ROLLUP_MSG_MAX);
            if (n > longest[e])
                longest[e] = n;
        }
        char k[FT_ROLLUP_KEY_MAX];
        ASSERT_TRUE(ft_rollup_msg_key(&b, &r, k) < FT_ROLLUP_KEY_MAX - 1);
    }
    fprintf(stderr, "  longest: protobuf %zu, JSON %zu bytes (bound %d)\n", longest[0], longest[1],
            FT_ROLLUP_MSG_MAX);
}

int main(void)
{
    FT_RUN(t_hand_vector);
    FT_RUN(t_protoc_golden);
    FT_RUN(t_json);
    FT_RUN(t_keys);
    FT_RUN(t_bounds);
    return FT_DONE();
}
