/*
 * kafka_key_test.c - --kafka-key lists and partition key bytes
 * (kafka/raw_sink.h).
 *
 * Oracle: the key layout documented in raw_sink.h (fixed widths, network
 * byte order, IPv4 as ::ffff:a.b.c.d per RFC 4291 §2.5.5.2), with the
 * expected bytes written out by hand below.
 */
#include "kafka/raw_sink.h"

#include "test.h"

static void assert_bytes(const uint8_t *got, size_t n, const uint8_t *want, size_t wn)
{
    ASSERT_EQ(n, wn);
    for (size_t i = 0; i < n; i++)
        if (got[i] != want[i])
            FT_FAIL("byte %zu: 0x%02x, want 0x%02x", i, got[i], want[i]);
}

static void t_key_parse(void)
{
    ft_kafka_key k;
    char err[256];
    ASSERT_EQ(ft_kafka_key_parse("src_addr,dst_addr", &k, err, sizeof err), 0);
    ASSERT_EQ(k.n, 2);
    ASSERT_EQ(ft_kafka_key_parse("sampler_address", &k, err, sizeof err), 0);
    ASSERT_EQ(k.n, 1);
    ASSERT_EQ(ft_kafka_key_parse("src_addr,", &k, err, sizeof err), -1);
    ASSERT_TRUE(strstr(err, "empty") != NULL);
    ASSERT_EQ(ft_kafka_key_parse("", &k, err, sizeof err), -1);
    ASSERT_EQ(ft_kafka_key_parse("SrcAddr", &k, err, sizeof err), -1);
    ASSERT_TRUE(strstr(err, "'SrcAddr' is not a flow record field") != NULL);
    ASSERT_EQ(ft_kafka_key_parse("a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q", &k, err, sizeof err), -1);
    ASSERT_EQ(ft_kafka_key_parse("proto,proto,proto,proto,proto,proto,proto,proto,proto,proto,proto,proto,"
                                 "proto,proto,proto,proto,proto",
                                 &k, err, sizeof err),
              -1);
    ASSERT_TRUE(strstr(err, "at most 16") != NULL);
}

static void t_key_bytes(void)
{
    ft_kafka_key k;
    char err[256];
    ASSERT_EQ(ft_kafka_key_parse("sampler_address,dst_port,type,src_mac,has_mpls,bytes,as_path,dst_addr", &k, err,
                                 sizeof err),
              0);
    ft_flow f;
    memset(&f, 0, sizeof f); /* dst_addr absent: 16 zero bytes */
    ft_addr_parse("198.51.100.7", &f.sampler_address);
    f.dst_port = 108;
    f.type = FT_FLOW_IPFIX;
    f.src_mac = 0x0200000000a1ull;
    f.has_mpls = true;
    f.bytes = 105;
    f.as_path[0] = 64500;
    f.as_path[1] = 64501;
    f.as_path_len = 2;
    uint8_t out[FT_KAFKA_KEY_MAX];
    size_t n = ft_kafka_key_build(&k, &f, out);
    static const uint8_t want[] = {
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 51, 100, 7, /* sampler ::ffff:198.51.100.7 */
        0, 0, 0, 108,                                               /* dst_port, 4 bytes big-endian */
        4,                                                          /* type IPFIX */
        0x02, 0, 0, 0, 0, 0xa1,                                     /* src_mac, 6 bytes */
        1,                                                          /* has_mpls */
        0, 0, 0, 0, 0, 0, 0, 105,                                   /* bytes, 8 bytes */
        0, 0, 0xfb, 0xf4, 0, 0, 0xfb, 0xf5,                         /* as_path 64500, 64501 */
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,             /* dst_addr absent */
    };
    assert_bytes(out, n, want, sizeof want);
}

int main(void)
{
    FT_RUN(t_key_parse);
    FT_RUN(t_key_bytes);
    return FT_DONE();
}
