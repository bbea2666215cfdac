/*
 * log.h - leveled, rate-limited logging to stderr.
 *
 * The level is checked before anything is formatted. Every line names its
 * component (and the exporter where there is one). ft_log_limited() keeps at
 * most one line per key per interval and reports how many it suppressed, so
 * a flood of malformed datagrams cannot flood the log.
 * Thread-safe: each line is written with one fprintf under stdio's lock.
 */
#ifndef FT_LOG_H
#define FT_LOG_H

#include <stdint.h>

typedef enum ft_log_level { FT_LOG_ERROR = 0, FT_LOG_WARN, FT_LOG_INFO, FT_LOG_DEBUG } ft_log_level;

/* Current threshold (set once at start-up from configuration; default INFO). */
extern ft_log_level ft_log_threshold;

/* Parses "error", "warn", "info", "debug". Returns 0, or -1. */
int ft_log_level_parse(const char *s, ft_log_level *out);

/* Writes "LEVEL [component] message\n" to stderr when level <= threshold. */
void ft_log(ft_log_level level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * A per-key rate limiter, owned by the caller (one per worker or per module:
 * no shared state between threads). Keys are caller-chosen 64-bit hashes
 * (e.g. exporter hash ^ error kind). At most `slots` keys are tracked; a
 * colliding key shares its slot's budget, which can only suppress more.
 */
typedef struct ft_log_limiter {
    uint64_t interval_ns; /* one line per key per interval */
    struct ft_log_slot {
        uint64_t key;
        uint64_t last_ns;
        uint64_t suppressed;
    } slots[64];
} ft_log_limiter;

/* An interval of interval_s seconds (10 when 0). */
void ft_log_limiter_init(ft_log_limiter *l, unsigned interval_s);

/* Like ft_log, but drops the line when the key already logged within the
 * interval (counting it), and appends "(N similar suppressed)" to the next one. */
void ft_log_limited(ft_log_limiter *l, uint64_t key, ft_log_level level, const char *component,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
