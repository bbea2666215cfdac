#include "core/counters.h"
#include "core/histo.h"

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

/* histo.h bucket bounds, ns. */
const uint64_t ft_histo_decode_le_ns[] = {1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
                                          1000000, 10000000};
const size_t ft_histo_decode_n = sizeof ft_histo_decode_le_ns / sizeof ft_histo_decode_le_ns[0];
const uint64_t ft_histo_flush_le_ns[] = {1000000, 5000000, 10000000, 50000000, 100000000, 500000000,
                                         1000000000, 5000000000, 30000000000};
const size_t ft_histo_flush_n = sizeof ft_histo_flush_le_ns / sizeof ft_histo_flush_le_ns[0];
