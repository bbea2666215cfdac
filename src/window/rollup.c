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

void ft_rkey_of(ft_rkey *k, ft_dim d, const ft_flow *f, uint64_t window_s, bool by_exporter)
{
    memset(k, 0, sizeof *k);
    k->window_s = window_s;
    if (by_exporter || d == FT_DIM_IN_IF || d == FT_DIM_OUT_IF) {
        memcpy(k->exporter, f->sampler_address.b, 16);
        k->exporter_family = f->sampler_address.family;
    }
    switch (d) {
    case FT_DIM_SRC_AS:
        k->a = f->src_as;
        break;
    case FT_DIM_DST_AS:
        k->a = f->dst_as;
        break;
    case FT_DIM_AS_PAIR:
        k->a = f->src_as;
        k->b = f->dst_as;
        break;
    case FT_DIM_SRC_PORT:
        k->a = f->proto;
        k->b = f->src_port;
        break;
    case FT_DIM_DST_PORT:
        k->a = f->proto;
        k->b = f->dst_port;
        break;
    case FT_DIM_PROTO:
        k->a = f->proto;
        break;
    case FT_DIM_SRC_COUNTRY:
        k->a = cc_of(f->src_country);
        break;
    case FT_DIM_DST_COUNTRY:
        k->a = cc_of(f->dst_country);
        break;
    case FT_DIM_IN_IF:
        k->a = f->in_if;
        break;
    case FT_DIM_OUT_IF:
        k->a = f->out_if;
        break;
    case FT_DIM_COUNT:
        break;
    }
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
