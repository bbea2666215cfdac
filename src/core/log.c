#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

ft_log_level ft_log_threshold = FT_LOG_INFO;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

int ft_log_level_parse(const char *s, ft_log_level *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (ft_log_level)i;
            return 0;
        }
    }
    return -1;
}

static void vlog(ft_log_level level, const char *component, uint64_t suppressed, const char *fmt,
                 va_list ap)
{
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    char ts[32];
    struct timespec now;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    if (suppressed)
        fprintf(stderr, "%s.%03ldZ %s [%s] %s (%llu similar suppressed)\n", ts, now.tv_nsec / 1000000,
                level_names[level], component, msg, (unsigned long long)suppressed);
    else
        fprintf(stderr, "%s.%03ldZ %s [%s] %s\n", ts, now.tv_nsec / 1000000, level_names[level],
                component, msg);
}

void ft_log(ft_log_level level, const char *component, const char *fmt, ...)
{
    if (level > ft_log_threshold)
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog(level, component, 0, fmt, ap);
    va_end(ap);
}

void ft_log_limiter_init(ft_log_limiter *l, unsigned interval_s)
{
    memset(l, 0, sizeof *l);
    l->interval_ns = (uint64_t)(interval_s ? interval_s : 10) * 1000000000ULL;
}

void ft_log_limited(ft_log_limiter *l, uint64_t key, ft_log_level level, const char *component,
                    const char *fmt, ...)
{
    if (level > ft_log_threshold)
        return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    uint64_t t = (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec;
    struct ft_log_slot *s = &l->slots[(key ^ (key >> 17)) % 64];
    if (s->last_ns && s->key == key && t - s->last_ns < l->interval_ns) {
        s->suppressed++;
        return;
    }
    uint64_t suppressed = s->key == key ? s->suppressed : 0;
    s->key = key;
    s->last_ns = t;
    s->suppressed = 0;
    va_list ap;
    va_start(ap, fmt);
    vlog(level, component, suppressed, fmt, ap);
    va_end(ap);
}
