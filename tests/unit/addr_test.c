/*
 * addr_test.c - ft_addr and ft_cidr (core/addr.h).
 *
 * Oracles: the address text forms of RFC 5952 §4 (IPv6 canonical text) and
 * dotted quads; the IPv4-mapped layout of RFC 4291 §2.5.5.2
 * (::ffff:a.b.c.d, bytes 10-11 = 0xff); prefix matching as RFC 4632 §3.1
 * defines it (the first `len` bits equal).
 */
#include "core/addr.h"

#include "test.h"

static void t_v4_layout(void)
{
    const uint8_t b[4] = {192, 0, 2, 1};
    ft_addr a = ft_addr_v4(b);
    static const uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
    ASSERT_EQ(a.family, 4);
    ASSERT_EQ(memcmp(a.b, mapped, 16), 0);
    ft_addr c = ft_addr_v4u(0xc0000201u);
    ASSERT_TRUE(ft_addr_eq(&a, &c));
    char buf[FT_ADDR_STRLEN];
    ASSERT_STR(ft_addr_format(&a, buf), "192.0.2.1");
}

static void t_v6_format(void)
{
    static const uint8_t b[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    ft_addr a = ft_addr_v6(b);
    char buf[FT_ADDR_STRLEN];
    ASSERT_EQ(a.family, 6);
    ASSERT_STR(ft_addr_format(&a, buf), "2001:db8::1");
    /* RFC 5952 §4.2.2: a single 16-bit 0 field is not shortened with "::". */
    static const uint8_t b2[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1};
    a = ft_addr_v6(b2);
    ASSERT_STR(ft_addr_format(&a, buf), "2001:db8:0:1:1:1:1:1");
    ft_addr none = {{0}, 0};
    ASSERT_STR(ft_addr_format(&none, buf), "");
}

static void t_mapped_stays_v6(void)
{
    /* The same 16 bytes received as IPv6 keep family 6: not equal to the
     * IPv4 address, and they hash differently. */
    ft_addr v4, v6;
    ASSERT_EQ(ft_addr_parse("192.0.2.1", &v4), 0);
    ASSERT_EQ(ft_addr_parse("::ffff:192.0.2.1", &v6), 0);
    ASSERT_EQ(v4.family, 4);
    ASSERT_EQ(v6.family, 6);
    ASSERT_EQ(memcmp(v4.b, v6.b, 16), 0);
    ASSERT_TRUE(!ft_addr_eq(&v4, &v6));
    ASSERT_TRUE(ft_addr_hash(&v4) != ft_addr_hash(&v6));
    char buf[FT_ADDR_STRLEN];
    ASSERT_STR(ft_addr_format(&v6, buf), "::ffff:192.0.2.1");
}

static void t_parse_bad(void)
{
    static const char *const bad[] = {"", "256.0.0.1", "1.2.3", "1.2.3.4.5", "192.0.2.1 ", " 192.0.2.1",
                                      "2001:db8::1::2", "2001:db8:::1", "g::1", "example.org",
                                      "192.0.2.1/24", "[::1]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ft_addr a = {{0}, 0};
        if (ft_addr_parse(bad[i], &a) == 0)
            FT_FAIL("accepted bad address \"%s\"", bad[i]);
    }
}

static void t_hash_spreads(void)
{
    /* Distinct exporters must not share a hash: 1024 consecutive IPv4
     * addresses give 1024 distinct 64-bit hashes. */
    uint64_t h[1024];
    for (uint32_t i = 0; i < 1024; i++) {
        ft_addr a = ft_addr_v4u(0x0a000000u + i);
        h[i] = ft_addr_hash(&a);
        for (uint32_t j = 0; j < i; j++)
            if (h[j] == h[i])
                FT_FAIL("hash collision between 10.0.%u.%u and 10.0.%u.%u", j >> 8, j & 255, i >> 8, i & 255);
    }
}

static void t_cidr_parse(void)
{
    ft_cidr c;
    ASSERT_EQ(ft_cidr_parse("10.0.0.0/8", &c), 0);
    ASSERT_EQ(c.bits, 8);
    ASSERT_EQ(c.addr.family, 4);
    ASSERT_EQ(ft_cidr_parse("2001:db8::/32", &c), 0);
    ASSERT_EQ(c.bits, 32);
    ASSERT_EQ(c.addr.family, 6);
    /* A bare address is a host prefix of its family's full length. */
    ASSERT_EQ(ft_cidr_parse("192.0.2.7", &c), 0);
    ASSERT_EQ(c.bits, 32);
    ASSERT_EQ(ft_cidr_parse("2001:db8::7", &c), 0);
    ASSERT_EQ(c.bits, 128);
    ASSERT_EQ(ft_cidr_parse("0.0.0.0/0", &c), 0);
    ASSERT_EQ(c.bits, 0);

    static const char *const bad[] = {"10.0.0.0/33", "2001:db8::/129", "10.0.0.0/", "10.0.0.0/8x",
                                      "10.0.0.0/-1", "10.0.0.0/+8", "/8", "10.0.0/8", "10.0.0.0/ 8", "",
                                      "aaaa:bbbb:cccc:dddd:eeee:ffff:1111:2222:3333/64"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ft_cidr k = {{{0}, 0}, 99};
        if (ft_cidr_parse(bad[i], &k) == 0)
            FT_FAIL("accepted bad prefix \"%s\"", bad[i]);
        ASSERT_EQ(k.bits, 99); /* nothing written on error */
    }
}

static int match(const char *prefix, const char *addr)
{
    ft_cidr c;
    ft_addr a;
    if (ft_cidr_parse(prefix, &c) != 0 || ft_addr_parse(addr, &a) != 0)
        FT_FAIL("bad test input %s %s", prefix, addr);
    return ft_cidr_match(&c, &a);
}

static void t_cidr_match(void)
{
    ASSERT_TRUE(match("10.0.0.0/8", "10.255.255.255"));
    ASSERT_TRUE(!match("10.0.0.0/8", "11.0.0.0"));
    /* /20 is not byte aligned: 192.0.16.0 - 192.0.31.255. */
    ASSERT_TRUE(match("192.0.16.0/20", "192.0.16.0"));
    ASSERT_TRUE(match("192.0.16.0/20", "192.0.31.255"));
    ASSERT_TRUE(!match("192.0.16.0/20", "192.0.32.0"));
    ASSERT_TRUE(!match("192.0.16.0/20", "192.0.15.255"));
    /* Host bits in the prefix are ignored by the match. */
    ASSERT_TRUE(match("10.1.2.3/8", "10.200.0.1"));
    /* /0 matches every address of its family only. */
    ASSERT_TRUE(match("0.0.0.0/0", "203.0.113.9"));
    ASSERT_TRUE(!match("0.0.0.0/0", "2001:db8::1"));
    ASSERT_TRUE(!match("::/0", "203.0.113.9"));
    ASSERT_TRUE(match("::/0", "2001:db8::1"));
    /* An IPv4 prefix does not match the IPv4-mapped IPv6 form (family 6). */
    ASSERT_TRUE(!match("192.0.2.0/24", "::ffff:192.0.2.1"));
    ASSERT_TRUE(match("2001:db8::/32", "2001:db8:ffff::1"));
    ASSERT_TRUE(!match("2001:db8::/32", "2001:db9::1"));
    ASSERT_TRUE(match("2001:db8::1", "2001:db8::1"));
    ASSERT_TRUE(!match("2001:db8::1", "2001:db8::2"));
    ASSERT_TRUE(match("2001:db8::/127", "2001:db8::1"));
    ASSERT_TRUE(!match("2001:db8::/127", "2001:db8::2"));
}

int main(void)
{
    FT_RUN(t_v4_layout);
    FT_RUN(t_v6_format);
    FT_RUN(t_mapped_stays_v6);
    FT_RUN(t_parse_bad);
    FT_RUN(t_hash_spreads);
    FT_RUN(t_cidr_parse);
    FT_RUN(t_cidr_match);
    return FT_DONE();
}
