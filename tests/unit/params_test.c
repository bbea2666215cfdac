/*
 * params_test.c - the HTTP API's time, duration and integer parameters
 * (http/params.h). Expected instants were computed independently with
 * Python's calendar.timegm (proleptic Gregorian, UTC), e.g.
 * calendar.timegm((2026, 12, 3, 8, 0, 0, 0, 0, 0)) = 1796284800; RFC 3339
 * §5.6 gives the grammar (time-offset, secfrac, 'T'/'t'/' ').
 */
#include "http/params.h"

#include "test.h"

#define NOW 1796284800ull /* 2026-12-03T08:00:00Z */

static uint64_t t_ok(const char *s)
{
    uint64_t v = 0;
    char err[256];
    if (ft_param_time(s, NOW, &v, err, sizeof err) != 0)
        FT_FAIL("'%s' refused: %s", s, err);
    return v;
}

static void t_rfc3339(void)
{
    ASSERT_EQ(t_ok("2026-12-03T08:00:00Z"), 1796284800ull);
    ASSERT_EQ(t_ok("2025-12-03T08:00:00Z"), 1764748800ull);
    ASSERT_EQ(t_ok("2000-02-29T23:59:59Z"), 951868799ull);    /* a leap day of a year divisible by 400 */
    ASSERT_EQ(t_ok("2024-03-01T00:00:00z"), 1709251200ull);    /* lower-case z */
    ASSERT_EQ(t_ok("2100-03-01t00:00:00Z"), 4107542400ull);    /* 2100 is not leap */
    ASSERT_EQ(t_ok("1970-01-01 00:00:00Z"), 0ull);
    ASSERT_EQ(t_ok("9999-12-31T23:59:59Z"), 253402300799ull);
    ASSERT_EQ(t_ok("2026-12-03T09:00:00.999+01:00"), 1796284800ull); /* offset and a dropped fraction */
    ASSERT_EQ(t_ok("2026-12-03T02:30:00-05:30"), 1796284800ull);
}

static void t_unix_and_relative(void)
{
    ASSERT_EQ(t_ok("1764748800"), 1764748800ull);
    ASSERT_EQ(t_ok("0"), 0ull);
    ASSERT_EQ(t_ok("now"), NOW);
    ASSERT_EQ(t_ok("-1h"), NOW - 3600);
    ASSERT_EQ(t_ok("now-30m"), NOW - 1800);
    ASSERT_EQ(t_ok("-7d"), NOW - 7 * 86400);
    ASSERT_EQ(t_ok("-2w"), NOW - 14 * 86400);
    ASSERT_EQ(t_ok("-90"), NOW - 90);
}

static void t_refused(void)
{
    static const char *bad[] = {
        "", "yesterday", "-", "-h", "-1y", "now+1h", "+1h", "-0h", "1e9", " 1764748800", "1764748800 ",
        "253402300800",               /* after 9999-12-31T23:59:59Z */
        "2026-02-29T00:00:00Z",       /* not a leap year */
        "2026-13-01T00:00:00Z", "2026-12-03T24:00:00Z", "2026-12-03T08:60:00Z", "2026-12-03T08:00:61Z",
        "2026-12-03T08:00:00",        /* no offset: RFC 3339 requires one */
        "2026-12-03T08:00:00+0100", "2026-12-03T08:00:00.Z", "2026-12-03", "1969-12-31T23:59:59Z",
        "1970-01-01T00:30:00+01:00",  /* before the epoch once the offset is applied */
        "2026-12-03T08:00:00Zjunk",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t v;
        char err[256] = "";
        if (ft_param_time(bad[i], NOW, &v, err, sizeof err) == 0)
            FT_FAIL("'%s' accepted as %llu", bad[i], (unsigned long long)v);
        ASSERT_TRUE(err[0] != 0);
    }
}

static void t_duration_uint(void)
{
    uint64_t v;
    char err[256];
    ASSERT_EQ(ft_param_duration("300", &v, err, sizeof err), 0);
    ASSERT_EQ(v, 300);
    ASSERT_EQ(ft_param_duration("5m", &v, err, sizeof err), 0);
    ASSERT_EQ(v, 300);
    ASSERT_EQ(ft_param_duration("1h", &v, err, sizeof err), 0);
    ASSERT_EQ(v, 3600);
    ASSERT_EQ(ft_param_duration("1w", &v, err, sizeof err), 0);
    ASSERT_EQ(v, 604800);
    ASSERT_EQ(ft_param_duration("0", &v, err, sizeof err), -1);
    ASSERT_EQ(ft_param_duration("5min", &v, err, sizeof err), -1);
    ASSERT_EQ(ft_param_duration("-5m", &v, err, sizeof err), -1);
    ASSERT_EQ(ft_param_uint("10", 1, 1000, &v, err, sizeof err), 0);
    ASSERT_EQ(v, 10);
    ASSERT_EQ(ft_param_uint("1000", 1, 1000, &v, err, sizeof err), 0);
    ASSERT_EQ(ft_param_uint("1001", 1, 1000, &v, err, sizeof err), -1);
    ASSERT_EQ(ft_param_uint("0", 1, 1000, &v, err, sizeof err), -1);
    ASSERT_EQ(ft_param_uint("+5", 1, 1000, &v, err, sizeof err), -1);
    ASSERT_EQ(ft_param_uint("99999999999999999999999", 1, 1000, &v, err, sizeof err), -1);
    char buf[40];
    ASSERT_STR(ft_rfc3339(1796284800ull, buf, sizeof buf), "2026-12-03T08:00:00Z");
}

int main(void)
{
    FT_RUN(t_rfc3339);
    FT_RUN(t_unix_and_relative);
    FT_RUN(t_refused);
    FT_RUN(t_duration_uint);
    return FT_DONE();
}
