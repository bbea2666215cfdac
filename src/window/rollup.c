/*
 * rollup.c - dimension names, rollup keys and their text (rollup.h).
 */
#include "window/rollup.h"

#include <stdio.h>
#include <string.h>

static const char *const dim_names[FT_DIM_COUNT] = {
#define FT_DIM_NAME(NAME, name, help) #name,
    FT_DIM_MAP(FT_DIM_NAME)
#undef FT_DIM_NAME
};

static const char *const dim_helps[FT_DIM_COUNT] = {
#define FT_DIM_HELP(NAME, name, help) help,
    FT_DIM_MAP(FT_DIM_HELP)
#undef FT_DIM_HELP
};

const char *ft_dim_name(ft_dim d)
{
    return (unsigned)d < FT_DIM_COUNT ? dim_names[d] : "?";
}

const char *ft_dim_help(ft_dim d)
{
    return (unsigned)d < FT_DIM_COUNT ? dim_helps[d] : "";
}

int ft_dim_parse(const char *name)
{
    for (int i = 0; i < FT_DIM_COUNT; i++)
        if (strcmp(name, dim_names[i]) == 0)
            return i;
    return -1;
}

static uint32_t cc_of(const char c[3])
{
    /* flow.h: "" unknown; only two letters are a country. */
    bool ok = ((c[0] >= 'A' && c[0] <= 'Z') || (c[0] >= 'a' && c[0] <= 'z')) &&
              ((c[1] >= 'A' && c[1] <= 'Z') || (c[1] >= 'a' && c[1] <= 'z'));
    return ok ? (uint32_t)(uint8_t)(c[0] & ~0x20) << 8 | (uint8_t)(c[1] & ~0x20) : 0;
}

_Static_assert(FT_DIM_COUNT == 10, "ft_rkey_fields fills every dimension: add the new one there");

void ft_rkey_fields(const ft_flow *f, uint32_t a[FT_DIM_COUNT], uint32_t b[FT_DIM_COUNT])
{
    a[FT_DIM_SRC_AS] = f->src_as;
    b[FT_DIM_SRC_AS] = 0;
    a[FT_DIM_DST_AS] = f->dst_as;
    b[FT_DIM_DST_AS] = 0;
    a[FT_DIM_AS_PAIR] = f->src_as;
    b[FT_DIM_AS_PAIR] = f->dst_as;
    a[FT_DIM_SRC_PORT] = f->proto;
    b[FT_DIM_SRC_PORT] = f->src_port;
    a[FT_DIM_DST_PORT] = f->proto;
    b[FT_DIM_DST_PORT] = f->dst_port;
    a[FT_DIM_PROTO] = f->proto;
    b[FT_DIM_PROTO] = 0;
    a[FT_DIM_SRC_COUNTRY] = cc_of(f->src_country);
    b[FT_DIM_SRC_COUNTRY] = 0;
    a[FT_DIM_DST_COUNTRY] = cc_of(f->dst_country);
    b[FT_DIM_DST_COUNTRY] = 0;
    a[FT_DIM_IN_IF] = f->in_if;
    b[FT_DIM_IN_IF] = 0;
    a[FT_DIM_OUT_IF] = f->out_if;
    b[FT_DIM_OUT_IF] = 0;
}

void ft_rkey_of(ft_rkey *k, ft_dim d, const ft_flow *f, uint64_t window_s, bool by_exporter)
{
    memset(k, 0, sizeof *k);
    if ((unsigned)d >= FT_DIM_COUNT)
        return;
    k->window_s = window_s;
    if (ft_dim_has_exporter(d, by_exporter)) {
        memcpy(k->exporter, f->sampler_address.b, 16);
        k->exporter_family = f->sampler_address.family;
    }
    uint32_t a[FT_DIM_COUNT], b[FT_DIM_COUNT];
    ft_rkey_fields(f, a, b);
    k->a = a[d];
    k->b = b[d];
}

static const char *exporter_addr(const ft_rkey *k, char *buf)
{
    ft_addr a;
    memcpy(a.b, k->exporter, 16);
    a.family = k->exporter_family;
    return ft_addr_format(&a, buf);
}

char *ft_rkey_text(ft_dim d, const ft_rkey *k, char *buf)
{
    char ex[FT_ADDR_STRLEN];
    if (k->other) {
        snprintf(buf, FT_RKEY_TEXT_MAX, "other");
        return buf;
    }
    switch (d) {
    case FT_DIM_SRC_AS:
    case FT_DIM_DST_AS:
        snprintf(buf, FT_RKEY_TEXT_MAX, "AS%u", (unsigned)k->a);
        break;
    case FT_DIM_AS_PAIR:
        snprintf(buf, FT_RKEY_TEXT_MAX, "AS%u-AS%u", (unsigned)k->a, (unsigned)k->b);
        break;
    case FT_DIM_SRC_PORT:
    case FT_DIM_DST_PORT:
        snprintf(buf, FT_RKEY_TEXT_MAX, "%u/%u", (unsigned)k->a, (unsigned)k->b);
        break;
    case FT_DIM_PROTO:
        snprintf(buf, FT_RKEY_TEXT_MAX, "%u", (unsigned)k->a);
        break;
    case FT_DIM_SRC_COUNTRY:
    case FT_DIM_DST_COUNTRY:
        if (k->a)
            snprintf(buf, FT_RKEY_TEXT_MAX, "%c%c", (char)(k->a >> 8), (char)(k->a & 0xff));
        else
            snprintf(buf, FT_RKEY_TEXT_MAX, "unknown");
        break;
    case FT_DIM_IN_IF:
    case FT_DIM_OUT_IF:
        snprintf(buf, FT_RKEY_TEXT_MAX, k->exporter_family == 6 ? "[%s]:%u" : "%s:%u", exporter_addr(k, ex),
                 (unsigned)k->a);
        break;
    default:
        snprintf(buf, FT_RKEY_TEXT_MAX, "?");
        break;
    }
    return buf;
}

char *ft_rkey_exporter_text(const ft_rkey *k, bool by_exporter, char *buf)
{
    if (!by_exporter || !k->exporter_family) {
        buf[0] = 0;
        return buf;
    }
    char ex[FT_ADDR_STRLEN];
    snprintf(buf, FT_RKEY_TEXT_MAX, "%s", exporter_addr(k, ex));
    return buf;
}
