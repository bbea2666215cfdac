/*
 * prom.h - writing the Prometheus text exposition format, version 0.0.4
 * (prometheus.io "Exposition formats": "# HELP name text", "# TYPE name
 * counter|gauge|histogram", then "name{label="value",...} value" lines, every
 * sample of a family together after its HELP and TYPE).
 *
 * The writer appends to a growable buffer owned by ft_prom. Label values are
 * escaped here (backslash, double quote, line feed: the format's three
 * escapes), help texts too (backslash and line feed); names are the
 * caller's constants and must match [a-zA-Z_:][a-zA-Z0-9_:]*. Out of memory
 * is sticky: the text stops growing and ft_prom_text returns NULL.
 */
#ifndef FT_HTTP_PROM_H
#define FT_HTTP_PROM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/histo.h"

typedef struct ft_prom {
    char *buf;
    size_t len, cap;
    bool oom;
} ft_prom;

/* "# HELP name help" and "# TYPE name type" (type: "counter", "gauge",
 * "histogram"). Call once per family, before its samples. */
void ft_prom_family(ft_prom *p, const char *name, const char *type, const char *help);

/* Labels for one sample, built in a caller's buffer: ft_prom_labels(buf,
 * len, 2, "exporter", "192.0.2.1", "kind", "truncated") writes
 * exporter="192.0.2.1",kind="truncated" (values escaped). n pairs of
 * const char *. Returns buf ("" for n = 0; cut when len is too small). */
char *ft_prom_labels(char *buf, size_t len, int n, ...);

/* One sample line: name{labels} value ("name value" when labels is NULL
 * or ""). */
void ft_prom_u64(ft_prom *p, const char *name, const char *labels, uint64_t v);
void ft_prom_f64(ft_prom *p, const char *name, const char *labels, double v);

/* A whole histogram family in seconds from a snapshot in ns: name_bucket
 * with cumulative counts per le (and le="+Inf"), name_sum, name_count. */
void ft_prom_histogram(ft_prom *p, const char *name, const char *help, const char *labels, const ft_histo_snap *h);

/* The text so far (NUL-terminated), or NULL after an allocation failure. */
const char *ft_prom_text(const ft_prom *p);
void ft_prom_free(ft_prom *p);

#endif
