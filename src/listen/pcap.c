/*
 * pcap.c - capture replay through libpcap (pcap.h).
 */
#include "listen/pcap.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "decode/pkt_header.h"

/* Records handed on (flush of the out) every this many packets, so --print
 * output flows while a large capture is read; counters are published for
 * readers on other threads (HTTP) then too, at most once a wall-clock second. */
#define FLUSH_EVERY 256
#define PUBLISH_EVERY_NS 1000000000ull
/* stdio buffer of the capture file (see ft_pcap_replay). */
#define READ_BUFFER (1u << 16)

static uint64_t mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static int link_of(int dlt, ft_link *out)
{
    switch (dlt) {
    case DLT_EN10MB:
        *out = FT_LINK_ETHERNET;
        return 0;
    case DLT_LINUX_SLL:
        *out = FT_LINK_LINUX_SLL;
        return 0;
#ifdef DLT_LINUX_SLL2
    case DLT_LINUX_SLL2:
        *out = FT_LINK_LINUX_SLL2;
        return 0;
#endif
    case DLT_RAW:
        *out = FT_LINK_IP;
        return 0;
#ifdef DLT_IPV4
    case DLT_IPV4:
        *out = FT_LINK_IPV4;
        return 0;
#endif
#ifdef DLT_IPV6
    case DLT_IPV6:
        *out = FT_LINK_IPV6;
        return 0;
#endif
    case DLT_NULL:
        *out = FT_LINK_NULL;
        return 0;
#ifdef DLT_LOOP
    case DLT_LOOP:
        *out = FT_LINK_LOOP;
        return 0;
#endif
    }
    return -1;
}

int ft_pcap_replay(const char *path, ft_decoder *d, const ft_worker_out *out, const ft_allow_list *allow,
                   const atomic_bool *stop, ft_pcap_stats *st, char *err, size_t err_len)
{
    char ebuf[PCAP_ERRBUF_SIZE];
    memset(st, 0, sizeof *st);
    ebuf[0] = 0;
    /* libpcap reads the file with stdio, one fread per packet header and
     * body, through a buffer of st_blksize (4 KiB): a read() system call
     * every two or three export datagrams, which showed in the decode
     * profile. READ_BUFFER makes that one per 64 KiB; a 1 MiB buffer was
     * slower than 4 KiB (it no longer stays in the CPU cache between the
     * kernel's copy into it and libpcap's copy out of it). "-" is standard
     * input, as pcap_open_offline reads it. */
    bool is_stdin = strcmp(path, "-") == 0;
    FILE *fp = is_stdin ? stdin : fopen(path, "rb");
    if (!fp) {
        snprintf(err, err_len, "cannot open capture %s: %s", path, strerror(errno));
        return -1;
    }
    /* Not for stdin: it outlives the buffer freed below. */
    char *iobuf = is_stdin ? NULL : malloc(READ_BUFFER);
    if (iobuf)
        setvbuf(fp, iobuf, _IOFBF, READ_BUFFER); /* before any read; without it the default buffer serves */
    /* Nanosecond timestamps whatever the file holds (libpcap scales µs). */
    pcap_t *pc = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, ebuf);
    if (!pc) {
        snprintf(err, err_len, "cannot open capture %s: %s", path, ebuf);
        if (!is_stdin)
            fclose(fp); /* not taken over by libpcap when it fails */
        free(iobuf);
        return -1;
    }
    int rc = -1;
    ft_link link;
    int dlt = pcap_datalink(pc);
    if (link_of(dlt, &link) != 0) {
        const char *name = pcap_datalink_val_to_name(dlt);
        snprintf(err, err_len, "capture %s: link type %s (%d) not supported (Ethernet, Linux SLL/SLL2, raw IP, "
                 "BSD loopback are)", path, name ? name : "?", dlt);
        goto out;
    }
    ft_log(FT_LOG_DEBUG, "pcap", "%s: link type %s", path, ft_link_name(link));

    ft_log_limiter lim;
    ft_log_limiter_init(&lim, 10);
    uint64_t last_sec = 0, next_publish = mono_ns() + PUBLISH_EVERY_NS;
    struct pcap_pkthdr *h;
    const u_char *data;
    int r;
    while ((r = pcap_next_ex(pc, &h, &data)) == 1) {
        if (atomic_load_explicit(stop, memory_order_relaxed))
            break;
        st->packets++;
        uint64_t t = (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec; /* ns (NANO) */
        uint64_t sec = (uint64_t)h->ts.tv_sec;
        if (sec > last_sec) {
            ft_decoder_expire(d, t);
            last_sec = sec;
        }
        size_t caplen = h->caplen < h->len ? h->caplen : h->len;
        ft_flow f;
        ft_pkt_info pi;
        ft_flow_zero(&f);
        ft_pkt_parse(data, caplen, link, &f, &pi);

        if (pi.ip_version == 0) {
            if (pi.malformed)
                st->malformed++;
            else if (pi.truncated)
                st->truncated++;
            else
                st->not_ip++;
        } else if (pi.fragment && pi.l4_proto == 17) {
            char a[FT_ADDR_STRLEN];
            st->fragments++;
            ft_log_limited(&lim, ft_addr_hash(&f.src_addr), FT_LOG_WARN, "pcap",
                           "%s: packet %llu: IP fragment of a UDP datagram from %s skipped (not reassembled)",
                           path, (unsigned long long)st->packets, ft_addr_format(&f.src_addr, a));
        } else if (pi.fragment) {
            st->fragments++;
        } else if (pi.l4_proto != 17) {
            st->not_udp++;
        } else if (!(pi.layers & FT_PKT_L4)) {
            if (pi.malformed)
                st->malformed++;
            else
                st->truncated++;
        } else {
            ft_datagram dg;
            /* The innermost packet's source: the exporter, also when the
             * export datagrams travel in a tunnel (GRE, IP in IP). */
            dg.exporter = pi.src_addr;
            dg.exporter_port = (uint16_t)f.src_port;
            dg.time_received_ns = t;
            dg.data = data + pi.payload_off;
            dg.len = pi.payload_len;
            if (!ft_allow_ok(allow, &dg.exporter)) {
                char a[FT_ADDR_STRLEN];
                st->not_allowed++;
                ft_log_limited(&lim, ft_addr_hash(&dg.exporter) ^ 4, FT_LOG_WARN, "pcap",
                               "%s: packet %llu: datagram from %s dropped: not in --allow-exporter", path,
                               (unsigned long long)st->packets, ft_addr_format(&dg.exporter, a));
                goto next;
            }
            if (pi.payload_len < pi.payload_declared)
                st->clipped++;
            st->datagrams++;
            st->bytes += dg.len;
            ft_decoder_decode(d, &dg, &out->sink);
        }
    next:
        if (st->packets % FLUSH_EVERY == 0) {
            ft_worker_out_flush(out);
            uint64_t now = mono_ns();
            if (now >= next_publish) {
                ft_decoder_publish(d);
                next_publish = now + PUBLISH_EVERY_NS;
            }
        }
    }
    ft_decoder_finish(d);
    ft_worker_out_flush(out);
    ft_decoder_publish(d);
    if (r == PCAP_ERROR) {
        snprintf(err, err_len, "capture %s: read error after %llu packets: %s", path,
                 (unsigned long long)st->packets, pcap_geterr(pc));
    } else {
        rc = 0;
    }
    ft_log(FT_LOG_INFO, "pcap",
           "%s: %llu packets read, %llu UDP datagrams decoded (%llu bytes, %llu clipped by the snap length); "
           "skipped: %llu not IP, %llu not UDP, %llu IP fragments, %llu truncated, %llu malformed, %llu from "
           "sources not allowed%s",
           path, (unsigned long long)st->packets, (unsigned long long)st->datagrams,
           (unsigned long long)st->bytes, (unsigned long long)st->clipped, (unsigned long long)st->not_ip,
           (unsigned long long)st->not_udp, (unsigned long long)st->fragments,
           (unsigned long long)st->truncated, (unsigned long long)st->malformed,
           (unsigned long long)st->not_allowed, atomic_load(stop) ? " (interrupted)" : "");
out:
    pcap_close(pc); /* closes fp (not stdin) */
    free(iobuf);
    return rc;
}
