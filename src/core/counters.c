#include "core/counters.h"

static const char *const ft_ctr_names[FT_CTR_COUNT] = {
#define FT_CTR_NAME(name, help) #name,
    FT_CTR_MAP(FT_CTR_NAME)
#undef FT_CTR_NAME
};

static const char *const ft_ctr_helps[FT_CTR_COUNT] = {
#define FT_CTR_HELP(name, help) help,
    FT_CTR_MAP(FT_CTR_HELP)
#undef FT_CTR_HELP
};

const char *ft_ctr_name(ft_ctr_id id)
{
    return (unsigned)id < FT_CTR_COUNT ? ft_ctr_names[id] : "unknown";
}

const char *ft_ctr_help(ft_ctr_id id)
{
    return (unsigned)id < FT_CTR_COUNT ? ft_ctr_helps[id] : "";
}

void ft_exporter_stats_add(ft_exporter_stats *a, const ft_exporter_stats *b)
{
    a->protocols |= b->protocols;
    if (b->last_seen_ns > a->last_seen_ns)
        a->last_seen_ns = b->last_seen_ns;
    a->templates += b->templates;
    a->pending += b->pending;
    if (!a->sampling_rate)
        a->sampling_rate = b->sampling_rate;
    for (int i = 0; i < FT_CTR_COUNT; i++)
        a->ctr[i] += b->ctr[i];
    for (int i = 0; i < FT_ERR_COUNT; i++)
        a->errors[i] += b->errors[i];
}
