/*
 * geo_test.c - GeoIP/ASN enrichment (enrich/geo.h) against MaxMind DB files
 * written here by MaxMind's own writer (Debian libmaxmind-db-writer-perl,
 * driven by tests/e2e/mkmmdb.pl), in every layout flowtally reads.
 *
 * Oracles: the records the writer put in each database (a network -> value
 * table in this file), the IANA special-purpose address registries (RFC 1918,
 * RFC 5737, RFC 6598, RFC 2544, RFC 3849, RFC 9637, RFC 4193, RFC 4291),
 * and libmaxminddb's own mmdblookup for the lookups (t_mmdblookup_agrees).
 * Skips (77) when perl's MaxMind::DB::Writer is missing.
 */
#include "enrich/geo.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"

static char dir[256];
static char mmdb_country[300], mmdb_iploc[300], mmdb_asn[300], mmdb_ipinfo[300], mmdb_combined[300],
    mmdb_v4asn[300];

/* The networks every database holds: public ranges plus documentation and
 * private ranges (which flowtally must ignore although they are present). */
#define NETS_CC "1.2.3.0/24=NL 5.6.0.0/16=DE 2a00::/16=FR 192.0.2.0/24=US 10.0.0.0/8=US 2001:db8::/32=US"
#define NETS_ASN "1.2.3.0/24=64500 5.6.0.0/16=64501 2a00::/16=4200000001 192.0.2.0/24=64999 10.0.0.0/8=64999"
#define NETS_COMB "1.2.3.0/24=NL:64500 5.6.0.0/16=DE:0 2a00::/16=FR:4200000001 192.0.2.0/24=US:64999"

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return system(cmd);
}

static const char *script(void)
{
    static char path[512];
    const char *data = getenv("FT_TEST_DATA");
    snprintf(path, sizeof path, "%s/../e2e/mkmmdb.pl", data ? data : "tests/data");
    return path;
}

static int build_dbs(void)
{
    if (sh("perl -MMaxMind::DB::Writer::Tree -e 1 2>/dev/null") != 0)
        return -1;
    snprintf(dir, sizeof dir, "/tmp/ft_geo_test.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(mmdb_country, sizeof mmdb_country, "%s/country.mmdb", dir);
    snprintf(mmdb_iploc, sizeof mmdb_iploc, "%s/iploc.mmdb", dir);
    snprintf(mmdb_asn, sizeof mmdb_asn, "%s/asn.mmdb", dir);
    snprintf(mmdb_ipinfo, sizeof mmdb_ipinfo, "%s/ipinfo.mmdb", dir);
    snprintf(mmdb_combined, sizeof mmdb_combined, "%s/combined.mmdb", dir);
    snprintf(mmdb_v4asn, sizeof mmdb_v4asn, "%s/v4asn.mmdb", dir);
    const char *s = script();
    if (sh("perl %s %s maxmind-country 6 %s", s, mmdb_country, NETS_CC) ||
        sh("perl %s %s iplocation 6 %s", s, mmdb_iploc, NETS_CC) || sh("perl %s %s asn 6 %s", s, mmdb_asn, NETS_ASN) ||
        sh("perl %s %s ipinfo-asn 6 %s", s, mmdb_ipinfo, NETS_ASN) ||
        sh("perl %s %s combined 6 %s", s, mmdb_combined, NETS_COMB) ||
        sh("perl %s %s asn 4 1.2.3.0/24=64500", s, mmdb_v4asn))
        return -2;
    return 0;
}

static ft_addr A(const char *s)
{
    ft_addr a;
    if (ft_addr_parse(s, &a) != 0) {
        fprintf(stderr, "bad address %s\n", s);
        abort();
    }
    return a;
}

static ft_flow flow(const char *src, const char *dst, uint32_t src_as, uint32_t dst_as)
{
    ft_flow f;
    memset(&f, 0, sizeof f);
    f.src_addr = A(src);
    f.dst_addr = A(dst);
    f.src_as = src_as;
    f.dst_as = dst_as;
    return f;
}

static ft_geo *open_geo(const char *country, const char *asn, ft_asn_source src, const char *ckey, const char *akey)
{
    ft_geo_opts o = {country, asn, ckey, akey, src};
    char err[512];
    ft_geo *g = ft_geo_open(&o, err, sizeof err);
    if (!g)
        FT_FAIL("ft_geo_open: %s", err);
    return g;
}

/* IANA special-purpose registries, boundaries on both sides. */
static void t_special(void)
{
    static const struct {
        const char *a;
        bool special;
    } cases[] = {
        {"9.255.255.255", false}, {"10.0.0.0", true},        {"10.255.255.255", true}, {"11.0.0.0", false},
        {"100.63.255.255", false}, {"100.64.0.0", true},     {"100.127.255.255", true}, {"100.128.0.0", false},
        {"126.255.255.255", false}, {"127.0.0.1", true},     {"169.253.255.255", false}, {"169.254.1.1", true},
        {"172.15.255.255", false}, {"172.16.0.0", true},     {"172.31.255.255", true}, {"172.32.0.0", false},
        {"192.0.0.8", true},       {"192.0.1.0", false},     {"192.0.2.0", true},      {"192.0.2.255", true},
        {"192.0.3.0", false},      {"192.167.255.255", false}, {"192.168.1.1", true},  {"192.169.0.0", false},
        {"198.17.255.255", false}, {"198.18.0.0", true},     {"198.19.255.255", true}, {"198.20.0.0", false},
        {"198.51.99.255", false},  {"198.51.100.7", true},   {"198.51.101.0", false},  {"203.0.112.255", false},
        {"203.0.113.9", true},     {"203.0.114.0", false},   {"223.255.255.255", false}, {"224.0.0.1", true},
        {"239.255.255.255", true}, {"240.0.0.1", true},      {"255.255.255.255", true}, {"0.1.2.3", true},
        {"1.2.3.4", false},        {"8.8.8.8", false},       {"::", true},             {"::1", true},
        {"::2", false},            {"::ffff:10.1.1.1", true}, {"::ffff:1.2.3.4", false}, {"64:ff9b::1.2.3.4", false},
        {"64:ff9b:1::1", true},    {"100::1", true},         {"100:0:0:1::", false},   {"2001:2::1", true},
        {"2001:3::1", false},      {"2001:db8::1", true},    {"2001:db8:ffff::1", true}, {"2001:db9::", false},
        {"2001:db7:ffff::", false}, {"3fff::1", true},       {"3fff:fff:ffff::", true}, {"3fff:1000::", false},
        {"fbff::1", false},        {"fc00::1", true},        {"fdff:ffff::1", true},   {"fe00::1", false},
        {"fe80::1", true},         {"febf::1", true},        {"fec0::1", false},       {"ff02::1", true},
        {"2a00::1", false},        {"2606:4700::1111", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ft_addr a = A(cases[i].a);
        if (ft_addr_is_special(&a) != cases[i].special)
            FT_FAIL("%s: special %d, want %d", cases[i].a, !cases[i].special, cases[i].special);
    }
    ft_addr none;
    memset(&none, 0, sizeof none);
    ASSERT_TRUE(!ft_addr_is_special(&none));
}

/* Both country layouts give the same answers for the same networks. */
static void check_countries(const char *file)
{
    ft_geo *g = open_geo(file, NULL, FT_ASN_PREFER_FLOW, NULL, NULL);
    ft_enricher *e = ft_enricher_new(g);
    ASSERT_TRUE(e != NULL);
    static const struct {
        const char *src, *dst, *src_cc, *dst_cc;
    } cases[] = {
        {"1.2.3.4", "5.6.7.8", "NL", "DE"},
        {"::ffff:1.2.3.200", "2a00:1450::1", "NL", "FR"}, /* mapped IPv4 looked up as IPv4 */
        {"192.0.2.1", "10.1.2.3", "", ""},                 /* in the database, but documentation/private */
        {"2001:db8::1", "9.9.9.9", "", ""},                /* documentation; not in the database */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ft_flow f = flow(cases[i].src, cases[i].dst, 1, 2);
        ft_enrich(e, &f);
        ASSERT_STR(f.src_country, cases[i].src_cc);
        ASSERT_STR(f.dst_country, cases[i].dst_cc);
        ASSERT_EQ(f.src_as, 1); /* no AS database: untouched */
        ASSERT_EQ(f.dst_as, 2);
    }
    uint64_t c[FT_GEO_CTR_COUNT] = {0};
    ft_enricher_counters(e, c);
    ASSERT_EQ(c[FT_GEO_CTR_addresses], 8);
    ASSERT_EQ(c[FT_GEO_CTR_special], 3);
    ASSERT_EQ(c[FT_GEO_CTR_country_not_found], 1); /* 9.9.9.9 */
    ASSERT_EQ(c[FT_GEO_CTR_lookups], 5);
    ASSERT_EQ(c[FT_GEO_CTR_lookup_errors], 0);
    /* The same public address again comes from the cache. */
    ft_flow f = flow("1.2.3.4", "1.2.3.4", 0, 0);
    ft_enrich(e, &f);
    ASSERT_STR(f.dst_country, "NL");
    memset(c, 0, sizeof c);
    ft_enricher_counters(e, c);
    ASSERT_EQ(c[FT_GEO_CTR_cache_hits], 2);
    ASSERT_EQ(c[FT_GEO_CTR_lookups], 5);
    char desc[512];
    ft_geo_describe(g, desc, sizeof desc);
    fprintf(stderr, "  %s\n", desc);
    ft_enricher_free(e);
    ft_geo_close(g);
}

static void t_maxmind_country(void)
{
    check_countries(mmdb_country);
    ft_geo *g = open_geo(mmdb_country, NULL, FT_ASN_PREFER_FLOW, NULL, NULL);
    char desc[512];
    ft_geo_describe(g, desc, sizeof desc);
    ASSERT_TRUE(strstr(desc, "country.iso_code (MaxMind") != NULL);
    ASSERT_TRUE(strstr(desc, "GeoLite2-Country") != NULL);
    ft_geo_close(g);
}

static void t_iplocation_country(void)
{
    check_countries(mmdb_iploc);
    ft_geo *g = open_geo(mmdb_iploc, NULL, FT_ASN_PREFER_FLOW, NULL, NULL);
    char desc[512];
    ft_geo_describe(g, desc, sizeof desc);
    ASSERT_TRUE(strstr(desc, "country_code (ip-location-db") != NULL);
    ft_geo_close(g);
}

/* --asn-source: each policy on the four combinations of "the router says"
 * and "the database says". */
static void t_asn_policies(void)
{
    static const struct {
        ft_asn_source src;
        uint32_t want[4]; /* (router 0, db 64500), (router 65001, db 64500), (router 0, db none), (router 65001, db none) */
    } cases[] = {
        {FT_ASN_FLOW, {0, 65001, 0, 65001}},
        {FT_ASN_GEOIP, {64500, 64500, 0, 0}},
        {FT_ASN_PREFER_FLOW, {64500, 65001, 0, 65001}},
        {FT_ASN_PREFER_GEOIP, {64500, 64500, 0, 65001}},
    };
    const char *files[] = {mmdb_asn, mmdb_ipinfo, mmdb_combined};
    for (size_t fi = 0; fi < 3; fi++) {
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            ft_geo *g = open_geo(NULL, files[fi], cases[i].src, NULL, NULL);
            ft_enricher *e = ft_enricher_new(g);
            /* 1.2.3.4 is AS64500; 9.9.9.9 is not in the database. */
            ft_flow f1 = flow("1.2.3.4", "1.2.3.5", 0, 65001);
            ft_flow f2 = flow("9.9.9.9", "9.9.9.10", 0, 65001);
            ft_enrich(e, &f1);
            ft_enrich(e, &f2);
            if (f1.src_as != cases[i].want[0] || f1.dst_as != cases[i].want[1] || f2.src_as != cases[i].want[2] ||
                f2.dst_as != cases[i].want[3])
                FT_FAIL("%s policy %d: %u %u %u %u, want %u %u %u %u", files[fi], (int)cases[i].src, f1.src_as,
                        f1.dst_as, f2.src_as, f2.dst_as, cases[i].want[0], cases[i].want[1], cases[i].want[2],
                        cases[i].want[3]);
            ASSERT_STR(f1.src_country, ""); /* no country database */
            ft_enricher_free(e);
            ft_geo_close(g);
        }
    }
    /* 32-bit AS numbers (RFC 6793) and special addresses (no AS from the database). */
    ft_geo *g = open_geo(NULL, mmdb_asn, FT_ASN_GEOIP, NULL, NULL);
    ft_enricher *e = ft_enricher_new(g);
    ft_flow f = flow("2a00::5", "192.0.2.7", 7, 8);
    ft_enrich(e, &f);
    ASSERT_EQ(f.src_as, 4200000001u);
    ASSERT_EQ(f.dst_as, 0);
    ft_enricher_free(e);
    ft_geo_close(g);
}

/* One file for both: opened once, both values from one record. */
static void t_same_file(void)
{
    ft_geo *g = open_geo(mmdb_combined, mmdb_combined, FT_ASN_PREFER_FLOW, NULL, NULL);
    ft_enricher *e = ft_enricher_new(g);
    ft_flow f = flow("1.2.3.4", "5.6.7.8", 0, 0);
    ft_enrich(e, &f);
    ASSERT_STR(f.src_country, "NL");
    ASSERT_STR(f.dst_country, "DE");
    ASSERT_EQ(f.src_as, 64500);
    ASSERT_EQ(f.dst_as, 0); /* the record says AS 0 (RFC 7607: none) */
    uint64_t c[FT_GEO_CTR_COUNT] = {0};
    ft_enricher_counters(e, c);
    ASSERT_EQ(c[FT_GEO_CTR_asn_not_found], 1);
    ASSERT_EQ(c[FT_GEO_CTR_lookups], 2);
    ft_enricher_free(e);
    ft_geo_close(g);
}

/* An explicit lookup path replaces the detection. */
static void t_explicit_key(void)
{
    ft_geo *g = open_geo(mmdb_combined, NULL, FT_ASN_PREFER_FLOW, "continent.code", NULL);
    ft_enricher *e = ft_enricher_new(g);
    ft_flow f = flow("1.2.3.4", "8.8.8.8", 0, 0);
    ft_enrich(e, &f);
    ASSERT_STR(f.src_country, "EU");
    ASSERT_STR(f.dst_country, "");
    ft_enricher_free(e);
    ft_geo_close(g);
    g = open_geo(NULL, mmdb_combined, FT_ASN_GEOIP, NULL, "autonomous_system_number");
    e = ft_enricher_new(g);
    f = flow("1.2.3.4", "8.8.8.8", 0, 0);
    ft_enrich(e, &f);
    ASSERT_EQ(f.src_as, 64500);
    ft_enricher_free(e);
    ft_geo_close(g);
    /* A path to a country code is no AS number: refused at open. */
    ft_geo_opts o = {NULL, mmdb_country, NULL, "country.iso_code", FT_ASN_GEOIP};
    char err[512];
    ASSERT_TRUE(ft_geo_open(&o, err, sizeof err) == NULL);
    ASSERT_TRUE(strstr(err, "no record holds an AS number at 'country.iso_code'") != NULL);
}

/* An IPv4-only database asked about IPv6: no AS, no error. */
static void t_ipv4_database(void)
{
    ft_geo *g = open_geo(NULL, mmdb_v4asn, FT_ASN_GEOIP, NULL, NULL);
    ft_enricher *e = ft_enricher_new(g);
    ft_flow f = flow("1.2.3.4", "2a00::1", 0, 0);
    ft_enrich(e, &f);
    ASSERT_EQ(f.src_as, 64500);
    ASSERT_EQ(f.dst_as, 0);
    uint64_t c[FT_GEO_CTR_COUNT] = {0};
    ft_enricher_counters(e, c);
    ASSERT_EQ(c[FT_GEO_CTR_lookup_errors], 0);
    ASSERT_EQ(c[FT_GEO_CTR_asn_not_found], 1);
    ft_enricher_free(e);
    ft_geo_close(g);
}

static void expect_error(const char *country, const char *asn, const char *ckey, const char *want1,
                         const char *want2)
{
    ft_geo_opts o = {country, asn, ckey, NULL, FT_ASN_PREFER_FLOW};
    char err[512] = "";
    ft_geo *g = ft_geo_open(&o, err, sizeof err);
    if (g) {
        ft_geo_close(g);
        FT_FAIL("%s / %s opened, want an error with '%s'", country ? country : "-", asn ? asn : "-", want1);
    }
    if (!strstr(err, want1) || !strstr(err, want2))
        FT_FAIL("error \"%s\" lacks \"%s\" or \"%s\"", err, want1, want2);
    fprintf(stderr, "  ok: %s\n", err);
}

/* Bad files: an error at start naming the option, the file and what was
 * expected. */
static void t_bad_files(void)
{
    char missing[320], truncated[320], text[320];
    snprintf(missing, sizeof missing, "%s/nope.mmdb", dir);
    snprintf(truncated, sizeof truncated, "%s/truncated.mmdb", dir);
    snprintf(text, sizeof text, "%s/text.mmdb", dir);
    struct stat st;
    ASSERT_EQ(stat(mmdb_country, &st), 0);
    ASSERT_EQ(sh("head -c %lld %s > %s", (long long)st.st_size / 2, mmdb_country, truncated), 0);
    ASSERT_EQ(sh("echo 'not a database' > %s", text), 0);

    expect_error(missing, NULL, NULL, "--geoip-country", "nope.mmdb: cannot open: No such file or directory");
    expect_error(NULL, missing, NULL, "--geoip-asn", "expected a MaxMind DB .mmdb file with an AS number");
    expect_error(truncated, NULL, NULL, "truncated.mmdb: not a MaxMind DB file, or truncated", "country code");
    expect_error(text, NULL, NULL, "text.mmdb: not a MaxMind DB file, or truncated", "expected a MaxMind DB");
    expect_error(dir, NULL, NULL, "not a regular file", "country");
    /* Wrong type: an ASN database given for countries, and the reverse. */
    expect_error(mmdb_asn, NULL, NULL, "asn.mmdb (database type 'GeoLite2-ASN'): none of its records holds a country code",
                 "--geoip-country-key");
    expect_error(NULL, mmdb_iploc, NULL, "iploc.mmdb (database type 'iplocation-country')", "none of its records holds an AS number");
    expect_error(mmdb_country, NULL, "country.nope", "no record holds a two-letter country code at 'country.nope'",
                 "country.mmdb");
    expect_error(mmdb_country, NULL, "a..b", "not a lookup path", "a..b");
}

/* libmaxminddb's own command-line reader agrees with every lookup made by
 * ft_enrich on the MaxMind-layout database. */
static void t_mmdblookup_agrees(void)
{
    if (sh("command -v mmdblookup >/dev/null") != 0)
        FT_SKIP("mmdblookup missing (apt-get install mmdb-bin)");
    const char *addrs[] = {"1.2.3.4", "5.6.200.1", "2a00:1:2::3", "9.9.9.9"};
    ft_geo *g = open_geo(mmdb_country, NULL, FT_ASN_PREFER_FLOW, NULL, NULL);
    ft_enricher *e = ft_enricher_new(g);
    for (size_t i = 0; i < sizeof addrs / sizeof addrs[0]; i++) {
        char cmd[1024], out[64] = "";
        snprintf(cmd, sizeof cmd,
                 "mmdblookup --file %s --ip %s country iso_code 2>/dev/null | sed -n 's/.*\"\\(..\\)\".*/\\1/p'",
                 mmdb_country, addrs[i]);
        FILE *p = popen(cmd, "r");
        ASSERT_TRUE(p != NULL);
        if (!fgets(out, sizeof out, p))
            out[0] = 0;
        pclose(p);
        out[strcspn(out, "\n")] = 0;
        ft_flow f = flow(addrs[i], "8.8.8.8", 0, 0);
        ft_enrich(e, &f);
        if (strcmp(f.src_country, out) != 0)
            FT_FAIL("%s: flowtally '%s', mmdblookup '%s'", addrs[i], f.src_country, out);
    }
    ft_enricher_free(e);
    ft_geo_close(g);
}

/* No file at all: a no-op enricher. */
static void t_no_databases(void)
{
    ft_geo_opts o = {NULL, NULL, NULL, NULL, FT_ASN_PREFER_FLOW};
    char err[64];
    ft_geo *g = ft_geo_open(&o, err, sizeof err);
    ASSERT_TRUE(g != NULL);
    ASSERT_TRUE(!ft_geo_active(g));
    ft_geo_close(g);
}

int main(void)
{
    FT_RUN(t_special);
    FT_RUN(t_no_databases);
    int b = build_dbs();
    if (b == -1) {
        fprintf(stderr, "SKIP: perl MaxMind::DB::Writer missing (apt-get install libmaxmind-db-writer-perl)\n");
        return ft_t_failed ? 1 : 77;
    }
    if (b != 0) {
        fprintf(stderr, "FAIL: could not build the test databases with %s\n", script());
        return 1;
    }
    FT_RUN(t_maxmind_country);
    FT_RUN(t_iplocation_country);
    FT_RUN(t_asn_policies);
    FT_RUN(t_same_file);
    FT_RUN(t_explicit_key);
    FT_RUN(t_ipv4_database);
    FT_RUN(t_bad_files);
    FT_RUN(t_mmdblookup_agrees);
    if (!ft_t_failed)
        sh("rm -rf %s", dir);
    return FT_DONE();
}
