/*
 * decoder_int.h - what the per-version decoders (netflow_v5.c,
 * netflow_v9.c, ipfix.c) share with decoder.c. Not a public interface.
 */
#ifndef FT_DECODER_INT_H
#define FT_DECODER_INT_H

#include <pthread.h>

#include "core/histo.h"
#include "core/log.h"
#include "core/rd.h"
#include "decode/decoder.h"
#include "decode/exporter.h"
#include "decode/template.h"

struct ft_decoder {
    ft_decoder_opts o;
    char name[32];
    ft_exporter **buckets; /* exporter table, chained */
    size_t n_buckets;      /* power of two */
    size_t n_exporters;
    uint32_t n_interfaces; /* sFlow interface slots in all exporters (opts.max_interfaces) */
    ft_exporter overflow;  /* counts what arrives once max_exporters is reached */
    ft_exporter *last;     /* one-entry lookup cache: most datagrams come in runs */
    ft_template_cache *tc;
    ft_log_limiter lim;
    /* Templates withdrawn by the datagram being decoded (RFC 7011 §8.1): a
     * data set for one of them later in the same message has no template,
     * it is not early, so it is not held. Reset per datagram. */
    struct ft_withdrawn {
        uint32_t domain;
        uint16_t tid; /* 0: every template of the domain (withdraw all) */
    } withdrawn[16];
    uint32_t n_withdrawn;
    ft_histo decode_time; /* ns per ft_decoder_decode call; written by the owner only */
    /* ft_decoder_publish: copies for readers on other threads, under pub_mu. */
    pthread_mutex_t pub_mu;
    ft_exporter_stats *pub_x;
    size_t pub_nx;
    ft_if_counters *pub_if;
    size_t pub_nif;
};

/* Counts fault e on exporter x and logs it at a limited rate, with the
 * exporter's address and a printf-style detail. Returns e. */
ft_err ft_fault(ft_decoder *d, ft_exporter *x, ft_err e, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Per-version entry points: the datagram is already attributed to x. */
ft_err ft_netflow_v5_decode(ft_decoder *d, ft_exporter *x, const ft_datagram *dg,
                            const ft_flow_sink *sink);
ft_err ft_netflow_v9_decode(ft_decoder *d, ft_exporter *x, const ft_datagram *dg,
                            const ft_flow_sink *sink);
ft_err ft_ipfix_decode(ft_decoder *d, ft_exporter *x, const ft_datagram *dg,
                       const ft_flow_sink *sink);
ft_err ft_sflow_v5_decode(ft_decoder *d, ft_exporter *x, const ft_datagram *dg,
                          const ft_flow_sink *sink);

/*
 * Shared by v9 and IPFIX: compile and install a template parsed from the
 * wire (field arrays as in ft_template_compile), honouring the per-exporter
 * cap and the cache budget, then decode any data sets that were waiting for
 * it. Returns FT_OK or the fault it counted.
 */
ft_err ft_install_template(ft_decoder *d, ft_exporter *x, const ft_msg_ctx *m, uint16_t tid,
                           bool options, uint16_t scope_count, uint16_t n_fields,
                           const uint16_t *ids, const uint16_t *lens, const uint32_t *pens,
                           const ft_flow_sink *sink);

/* Withdraws one template (RFC 7011 §8.1). */
void ft_withdraw_template(ft_decoder *d, ft_exporter *x, const ft_msg_ctx *m, uint16_t tid);
/* Withdraws all (options) templates of the message's domain (RFC 7011 §8.1). */
void ft_withdraw_all(ft_decoder *d, ft_exporter *x, const ft_msg_ctx *m, bool options);

/*
 * A data set (body after its 4-byte header) for template ID tid: decoded
 * now when the template is known, else held (bounded) for later. Returns
 * the number of data records decoded (options and flow), or -1 when the set
 * was held (its record count is unknown).
 */
long ft_data_set(ft_decoder *d, ft_exporter *x, const ft_msg_ctx *m, uint16_t tid,
                 const uint8_t *body, size_t len, const ft_flow_sink *sink);

/* True when every byte of p[0..n) is zero (trailing padding). */
bool ft_all_zero(const uint8_t *p, size_t n);

#endif
