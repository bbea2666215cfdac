/*
 * pcap.h - --pcap FILE: replay a capture's UDP datagrams into a decoder.
 *
 * Each captured IPv4/IPv6 UDP packet becomes the ft_datagram a live socket
 * would have produced: exporter = IP source, exporter_port = UDP source
 * port, time_received_ns = capture timestamp (read at nanosecond precision,
 * pcap or pcapng), payload = the UDP payload bounded by the UDP length, the
 * IP length and the captured length. Headers are walked by pkt_header.h.
 * Link types: DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW, DLT_IPV4,
 * DLT_IPV6, DLT_NULL, DLT_LOOP.
 *
 * Other traffic in the capture is skipped without a log line, but counted
 * (ft_pcap_stats); IP fragments are counted, skipped (not reassembled) and
 * logged at a limited rate, since an exporter whose datagrams fragment is a
 * configuration problem worth seeing. Templates expire on capture time:
 * ft_decoder_expire runs at most once per capture second, with the capture
 * clock; ft_decoder_finish runs at the end. Counters are published
 * (ft_decoder_publish) about once a second and at the end.
 */
#ifndef FT_PCAP_H
#define FT_PCAP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode/decoder.h"
#include "listen/listen.h"

/* Where every packet of the file went. */
typedef struct ft_pcap_stats {
    uint64_t packets;   /* records read from the file */
    uint64_t datagrams; /* UDP datagrams handed to the decoder */
    uint64_t bytes;     /* their payload bytes */
    uint64_t clipped;   /* of those, datagrams the capture kept only part of (snap length) */
    uint64_t not_ip;    /* not IPv4/IPv6 (ARP, LLDP, non-IP MPLS payload...) */
    uint64_t not_udp;   /* IP but not UDP (TCP, ICMP...) */
    uint64_t fragments; /* IP fragments, first or later (not reassembled) */
    uint64_t truncated; /* cut by the snap length before the end of the UDP header */
    uint64_t malformed; /* headers contradicting themselves (bad IHL, UDP length < 8...) */
    uint64_t not_allowed; /* UDP datagrams from a source outside --allow-exporter: not decoded
                             (not in datagrams) */
} ft_pcap_stats;

/*
 * Reads the capture at path ("-" = stdin) into d, handing records to out.
 * Stops early when *stop becomes true (SIGINT). Fills *st and logs a
 * summary line at info level. Returns 0, or -1 with a message in err when
 * the file cannot be opened, its link type is not supported, or reading it
 * fails midway (a truncated file: the packets before the failure are
 * decoded and counted). d, out, allow and stop are not owned. allow (NULL
 * or n == 0 = every source) is checked on the exporter address (the
 * innermost IP source) before the payload is decoded.
 */
int ft_pcap_replay(const char *path, ft_decoder *d, const ft_worker_out *out, const ft_allow_list *allow,
                   const atomic_bool *stop, ft_pcap_stats *st, char *err, size_t err_len);

#endif
