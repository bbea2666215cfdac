/*
 * params.c - strict parsers of the HTTP API's parameters (params.h).
 */
#include "http/params.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static bool digit(char c)
{
    return c >= '0' && c <= '9';
}

/* n digits at s (exactly), into *v. */
static bool fixed(const char *s, int n, unsigned *v)
{
    unsigned x = 0;
    for (int i = 0; i < n; i++) {
        if (!digit(s[i]))
            return false;
        x = x * 10 + (unsigned)(s[i] - '0');
    }
    *v = x;
    return true;
}

/* Digits only, no sign, value <= max. */
static int parse_digits(const char *s, uint64_t max, uint64_t *out, const char **end)
{
    uint64_t v = 0;
    const char *p = s;
    if (!digit(*p))
        return -1;
    for (; digit(*p); p++) {
        if (v > (max - (uint64_t)(*p - '0')) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    *out = v;
    *end = p;
    return 0;
}

static bool leap(unsigned y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(unsigned y, unsigned m)
{
    static const unsigned d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : d[m - 1];
}

/* Days from 1970-01-01 to y-m-d (y >= 1970): whole years, then months. */
static uint64_t days_since_epoch(unsigned y, unsigned m, unsigned d)
{
    uint64_t days = 0;
    /* Leap days before year y since 1970: count multiples of 4, 100, 400
     * in [1970, y). */
    uint64_t yy = y - 1;
    uint64_t leaps = (yy / 4 - yy / 100 + yy / 400) - (1969 / 4 - 1969 / 100 + 1969 / 400);
    days = (uint64_t)(y - 1970) * 365 + leaps;
    for (unsigned i = 1; i < m; i++)
        days += days_in_month(y, i);
    return days + d - 1;
}

static int rfc3339(const char *s, uint64_t *out)
{
    unsigned y, mo, d, h, mi, se;
    if (!fixed(s, 4, &y) || s[4] != '-' || !fixed(s + 5, 2, &mo) || s[7] != '-' || !fixed(s + 8, 2, &d) ||
        (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !fixed(s + 11, 2, &h) || s[13] != ':' ||
        !fixed(s + 14, 2, &mi) || s[16] != ':' || !fixed(s + 17, 2, &se))
        return -1;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || se > 60)
        return -1;
    const char *p = s + 19;
    if (*p == '.') {
        p++;
        if (!digit(*p))
            return -1;
        while (digit(*p))
            p++;
    }
    int64_t off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        unsigned oh, om;
        if (!fixed(p + 1, 2, &oh) || p[3] != ':' || !fixed(p + 4, 2, &om) || oh > 23 || om > 59)
            return -1;
        off = (int64_t)(oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return -1;
    }
    if (*p)
        return -1;
    int64_t t = (int64_t)(days_since_epoch(y, mo, d) * 86400 + h * 3600 + mi * 60 + se) - off;
    if (t < 0 || (uint64_t)t > FT_TIME_MAX_S)
        return -1;
    *out = (uint64_t)t;
    return 0;
}

static int unit_of(char c, uint64_t *mul)
{
    switch (c) {
    case 's':
        *mul = 1;
        return 0;
    case 'm':
        *mul = 60;
        return 0;
    case 'h':
        *mul = 3600;
        return 0;
    case 'd':
        *mul = 86400;
        return 0;
    case 'w':
        *mul = 7 * 86400;
        return 0;
    }
    return -1;
}

int ft_param_duration(const char *s, uint64_t *out, char *err, size_t err_len)
{
    uint64_t v, mul = 1;
    const char *end;
    if (parse_digits(s, FT_TIME_MAX_S, &v, &end) != 0 || (*end && (unit_of(*end, &mul) != 0 || end[1])) ||
        v == 0 || v > FT_TIME_MAX_S / mul) {
        snprintf(err, err_len, "'%s' is not a duration (e.g. 300, 300s, 5m, 1h, 1d)", s);
        return -1;
    }
    *out = v * mul;
    return 0;
}

int ft_param_time(const char *s, uint64_t now_s, uint64_t *out, char *err, size_t err_len)
{
    const char *rel = NULL;
    if (strcmp(s, "now") == 0) {
        *out = now_s;
        return 0;
    }
    if (s[0] == '-')
        rel = s + 1;
    else if (strncmp(s, "now-", 4) == 0)
        rel = s + 4;
    if (rel) {
        uint64_t d;
        char why[8];
        if (ft_param_duration(rel, &d, why, sizeof why) != 0) {
            snprintf(err, err_len, "'%s' is not a relative time (e.g. now, -1h, -30m, now-7d)", s);
            return -1;
        }
        *out = d < now_s ? now_s - d : 0;
        return 0;
    }
    uint64_t v;
    const char *end;
    if (parse_digits(s, FT_TIME_MAX_S, &v, &end) == 0 && !*end) {
        *out = v;
        return 0;
    }
    if (rfc3339(s, out) == 0)
        return 0;
    snprintf(err, err_len, "'%s' is not a time: RFC 3339 (2026-12-03T08:00:00Z), Unix seconds or relative "
             "(now, -1h)", s);
    return -1;
}

int ft_param_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out, char *err, size_t err_len)
{
    uint64_t v;
    const char *end;
    if (parse_digits(s, UINT64_MAX, &v, &end) != 0 || *end || v < min || v > max) {
        snprintf(err, err_len, "'%s' is not an integer from %llu to %llu", s, (unsigned long long)min,
                 (unsigned long long)max);
        return -1;
    }
    *out = v;
    return 0;
}

char *ft_rfc3339(uint64_t t, char *buf, size_t len)
{
    time_t tt = (time_t)(t > FT_TIME_MAX_S ? FT_TIME_MAX_S : t);
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}
