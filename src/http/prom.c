/*
 * prom.c - the Prometheus text format writer (prom.h).
 */
#include "http/prom.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put(ft_prom *p, const char *s, size_t n)
{
    if (p->oom)
        return;
    if (p->len + n + 1 > p->cap) {
        size_t cap = p->cap ? p->cap : 4096;
        while (p->len + n + 1 > cap)
            cap *= 2;
        char *b = realloc(p->buf, cap);
        if (!b) {
            p->oom = true;
            return;
        }
        p->buf = b;
        p->cap = cap;
    }
    memcpy(p->buf + p->len, s, n);
    p->len += n;
    p->buf[p->len] = 0;
}

static void puts_(ft_prom *p, const char *s)
{
    put(p, s, strlen(s));
}

void ft_prom_family(ft_prom *p, const char *name, const char *type, const char *help)
{
    puts_(p, "# HELP ");
    puts_(p, name);
    put(p, " ", 1);
    for (const char *c = help; *c; c++) {
        if (*c == '\\')
            put(p, "\\\\", 2);
        else if (*c == '\n')
            put(p, "\\n", 2);
        else
            put(p, c, 1);
    }
    puts_(p, "\n# TYPE ");
    puts_(p, name);
    put(p, " ", 1);
    puts_(p, type);
    put(p, "\n", 1);
}

char *ft_prom_labels(char *buf, size_t len, int n, ...)
{
    va_list ap;
    size_t o = 0;
    va_start(ap, n);
    if (len)
        buf[0] = 0;
    for (int i = 0; i < n; i++) {
        const char *k = va_arg(ap, const char *), *v = va_arg(ap, const char *);
        int w = snprintf(buf + o, o < len ? len - o : 0, "%s%s=\"", i ? "," : "", k);
        o += w > 0 ? (size_t)w : 0;
        for (const char *c = v; *c && o + 3 < len; c++) {
            if (*c == '\\' || *c == '"') {
                buf[o++] = '\\';
                buf[o++] = *c;
            } else if (*c == '\n') {
                buf[o++] = '\\';
                buf[o++] = 'n';
            } else {
                buf[o++] = *c;
            }
        }
        if (o + 1 < len) {
            buf[o++] = '"';
            buf[o] = 0;
        }
    }
    va_end(ap);
    if (len && o >= len)
        buf[len - 1] = 0;
    return buf;
}

static void head(ft_prom *p, const char *name, const char *labels)
{
    puts_(p, name);
    if (labels && *labels) {
        put(p, "{", 1);
        puts_(p, labels);
        put(p, "}", 1);
    }
    put(p, " ", 1);
}

void ft_prom_u64(ft_prom *p, const char *name, const char *labels, uint64_t v)
{
    char num[32];
    head(p, name, labels);
    snprintf(num, sizeof num, "%" PRIu64 "\n", v);
    puts_(p, num);
}

void ft_prom_f64(ft_prom *p, const char *name, const char *labels, double v)
{
    char num[48];
    head(p, name, labels);
    snprintf(num, sizeof num, "%.9g\n", v);
    puts_(p, num);
}

void ft_prom_histogram(ft_prom *p, const char *name, const char *help, const char *labels, const ft_histo_snap *h)
{
    char n[160], lab[512];
    ft_prom_family(p, name, "histogram", help);
    snprintf(n, sizeof n, "%s_bucket", name);
    uint64_t cum = 0;
    for (size_t i = 0; i <= h->n; i++) {
        char le[32];
        cum += h->count[i];
        if (i < h->n)
            snprintf(le, sizeof le, "%.9g", (double)h->le_ns[i] / 1e9);
        else
            snprintf(le, sizeof le, "+Inf");
        snprintf(lab, sizeof lab, "%s%sle=\"%s\"", labels ? labels : "", labels && *labels ? "," : "", le);
        ft_prom_u64(p, n, lab, cum);
    }
    snprintf(n, sizeof n, "%s_sum", name);
    ft_prom_f64(p, n, labels, (double)h->sum_ns / 1e9);
    snprintf(n, sizeof n, "%s_count", name);
    ft_prom_u64(p, n, labels, cum);
}

const char *ft_prom_text(const ft_prom *p)
{
    return p->oom ? NULL : p->buf ? p->buf : "";
}

void ft_prom_free(ft_prom *p)
{
    free(p->buf);
    memset(p, 0, sizeof *p);
}
