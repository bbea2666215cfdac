/*
 * params.h - the HTTP API's query parameters: times, durations and
 * bounded integers, parsed strictly (the whole text or an error naming what
 * was expected). No allocation; no global state.
 */
#ifndef FT_HTTP_PARAMS_H
#define FT_HTTP_PARAMS_H

#include <stddef.h>
#include <stdint.h>

/* The latest time accepted: 9999-12-31T23:59:59Z, s since the epoch. */
#define FT_TIME_MAX_S 253402300799ull

/*
 * A point in time, s since the Unix epoch (UTC), from:
 *   - RFC 3339 date-time (RFC 3339 §5.6): "2026-12-03T08:00:00Z",
 *     "2026-12-03T09:00:00.5+01:00" (fractions are dropped; 't', 'z' and a
 *     space for 'T' accepted as §5.6 allows; a leap second :60 counts as
 *     the next second);
 *   - Unix seconds: "1764748800";
 *   - relative to now_s: "now", "-1h", "now-30m", "-7d", "-90s", "-2w"
 *     (s, m, h, d, w; no unit = s).
 * Years 1970..9999. Returns 0 with *out set, or -1 with a message in err.
 */
int ft_param_time(const char *s, uint64_t now_s, uint64_t *out, char *err, size_t err_len);

/* A duration in s: "300", "300s", "5m", "2h", "1d", "1w"; >= 1.
 * Returns 0 or -1 with a message. */
int ft_param_duration(const char *s, uint64_t *out, char *err, size_t err_len);

/* A decimal integer in [min, max], digits only. 0 or -1 with a message. */
int ft_param_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out, char *err, size_t err_len);

/* s since the epoch as RFC 3339 UTC, "2026-12-03T08:00:00Z", into buf
 * (at least 32 bytes); returns buf. */
char *ft_rfc3339(uint64_t t, char *buf, size_t len);

#endif
