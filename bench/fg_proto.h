/*
 * fg_proto.h - flowgen's export encoders: the flow keys, and one datagram at
 * a time of NetFlow v5, NetFlow v9 (RFC 3954), IPFIX (RFC 7011) or sFlow v5
 * (sFlow.org "sFlow Version 5", July 2004) for one simulated exporter.
 *
 * A stream is one exporter speaking one protocol: it owns the sequence
 * numbers, the template refresh state, a PRNG and the totals of what it
 * encoded. Streams share nothing, so threads each own some of them and the
 * content of a stream does not depend on how streams are spread over
 * threads. Everything here is plain computation into caller buffers: no
 * allocation, no I/O, no global mutable state.
 *
 * Keys: key number c in [0, keys) expands (fg_key_of) to one flow key
 * (source/destination IPv4 address, ports, protocol, source/destination AS,
 * interfaces...). Distinct c give distinct (src, dst) pairs, so the number of
 * distinct keys a run sends is exactly the number of distinct c it used, in
 * every protocol alike. The same c with the same seed gives the same key in
 * every protocol.
 */
#ifndef FG_PROTO_H
#define FG_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest UDP payload an encoder may be asked for (IPv4, RFC 768). */
#define FG_MAX_DGRAM 65507
/* Smallest datagram cap: one record of the widest protocol with its templates. */
#define FG_MIN_DGRAM 576
/* The longest sFlow sampled header we write (bytes). */
#define FG_MAX_HEADER_BYTES 256

typedef enum fg_proto { FG_NETFLOW_V5, FG_NETFLOW_V9, FG_IPFIX, FG_SFLOW_5, FG_NPROTO } fg_proto;

/* "netflow_v5", "netflow_v9", "ipfix", "sflow_5" (flowtally's protocol names). */
const char *fg_proto_name(fg_proto p);
/* Parses "v5", "v9", "ipfix" or "sflow" (also the fg_proto_name spellings).
 * 0 on success, -1 when unknown. */
int fg_proto_parse(const char *s, fg_proto *out);
/* The UDP port the protocol is usually sent to: 2055 (NetFlow), 4739
 * (IPFIX, RFC 7011 §10.3.4), 6343 (sFlow). */
uint16_t fg_proto_default_port(fg_proto p);

/* What was encoded (and, once sent, what was sent). "records" are flow
 * records: NetFlow/IPFIX data records of flows and sFlow flow samples;
 * options data records, template records and sFlow counter samples are
 * counted apart. bytes/packets are the records' own counters (sFlow: the
 * sampled frame's frame_length and 1 packet per sample); *_scaled multiply
 * each record's counters by its sampling rate. */
typedef struct fg_totals {
    uint64_t datagrams;
    uint64_t octets;           /* UDP payload bytes */
    uint64_t records;
    uint64_t options_records;  /* v9/IPFIX options data records */
    uint64_t template_records; /* v9/IPFIX template + options template records */
    uint64_t counter_samples;  /* sFlow counters samples */
    uint64_t bytes, packets;
    uint64_t bytes_scaled, packets_scaled;
} fg_totals;

void fg_totals_add(fg_totals *to, const fg_totals *t);

/* Run-wide settings, read-only while streams run. */
typedef struct fg_params {
    uint64_t keys;              /* distinct keys, 1..2^32 */
    uint64_t seed;
    size_t max_dgram;           /* UDP payload cap, FG_MIN_DGRAM..FG_MAX_DGRAM */
    uint32_t max_records;       /* flow records per datagram cap, 0 = as many as fit */
    uint32_t template_packets;  /* v9/IPFIX: templates again after this many datagrams, 0 = never by count */
    uint64_t template_ns;       /* ... or after this much export time, 0 = never by time */
    uint32_t counter_every;     /* sFlow: a counters sample in every Nth datagram, 0 = none */
    uint32_t header_bytes;      /* sFlow: sampled header bytes kept, 64..FG_MAX_HEADER_BYTES */
    const struct fg_key *key_table; /* keys expanded in advance (fg_key_table), or NULL */
    bool public_addrs;          /* src from 11.0.0.0/8, dst from 30.0.0.0/15 (fg_key_public) */
} fg_params;

/* One flow key (all host byte order; IPv4 addresses as 32-bit numbers). */
typedef struct fg_key {
    uint32_t src, dst;        /* 10.0.0.0/8 -> 198.18.0.0/15 (RFC 2544 benchmarking range) */
    uint16_t sport, dport;
    uint8_t proto;            /* 6 TCP or 17 UDP */
    uint8_t tos;              /* IPv4 TOS byte (DSCP << 2) */
    uint8_t src_mask, dst_mask;
    uint32_t in_if, out_if;   /* SNMP ifIndex 1..48 */
    uint32_t next_hop;        /* 172.16.0.<out_if> */
    uint32_t src_as, dst_as;  /* 16-bit ASNs (NetFlow v5 carries 16 bits) */
    uint32_t as_path[3];      /* BGP AS path towards dst, last = dst_as */
    uint32_t as_path_len;     /* 1..3 */
    uint32_t vlan;            /* 802.1Q VLAN of the input port */
} fg_key;

/* Moves k's addresses to 11.0.0.0/8 and 30.0.0.0/15 (routable, not
 * special-use: a collector looks them up in GeoIP), keeping the low bits
 * so that distinct keys stay distinct. */
void fg_key_public(fg_key *k);

/* Expands key number c (< 2^32) under seed into *k. */
void fg_key_of(uint64_t c, uint64_t seed, fg_key *k);

/* Up to this many keys are expanded in advance (56 bytes each): a table
 * lookup costs a fraction of fg_key_of, which is the generator's largest
 * user-space cost per record. */
#define FG_KEY_TABLE_MAX (1u << 20)

/* All keys of p expanded (keys <= FG_KEY_TABLE_MAX), for p->key_table.
 * Caller frees. NULL when there are more keys or on ENOMEM. */
fg_key *fg_key_table(uint64_t keys, uint64_t seed);

/* One exporter speaking one protocol. Initialise with fg_stream_init; the
 * fields are the encoder's state and the totals of what was encoded. */
typedef struct fg_stream {
    fg_proto proto;
    uint32_t exporter;        /* exporter index (0-based) */
    uint32_t addr;            /* exporter IPv4 address (sFlow agent address), host order */
    uint32_t domain;          /* v9 source ID / IPFIX observation domain / sFlow sub-agent ID */
    uint32_t rate;            /* sampling rate: 1 in rate packets */
    uint64_t boot_ms;         /* exporter boot, ms since the Unix epoch (sysUptime origin) */
    uint64_t rng[4];          /* xoshiro256** state */
    uint64_t key_start;       /* first key number of this stream */
    uint64_t key_cur;         /* the next key number: key_start + records so far, mod keys */
    uint32_t seq;             /* v5 flows, v9 packets, IPFIX data records, sFlow datagrams sent before */
    uint32_t sample_seq[49];  /* sFlow: flow samples per data source (input ifIndex) */
    uint32_t sample_pool;     /* sFlow: packets that could have been sampled */
    uint32_t counter_seq;     /* sFlow: counters samples */
    uint32_t counter_if;      /* sFlow: ifIndex of the next counters sample */
    uint64_t dgrams;          /* datagrams encoded */
    uint64_t tmpl_dgram;      /* datagram index of the last template refresh */
    uint64_t tmpl_ns;         /* export time of the last template refresh */
    int tmpl_sent;            /* templates sent at least once */
    fg_totals tot;            /* what was sent: the caller adds each datagram's totals once it is out */
} fg_stream;

/*
 * Sets up stream number index of n_streams: exporter exporter_index at
 * address addr (host order) with sampling rate rate (1..16383 for v5,
 * 1..2^32-1 otherwise), its boot time derived from start_ns (ns since the
 * Unix epoch, the run's first export time). Streams start their key walk at
 * index * keys / n_streams, so short runs cover disjoint key ranges.
 */
void fg_stream_init(fg_stream *s, const fg_params *p, fg_proto proto, uint32_t index, uint32_t n_streams,
                    uint32_t exporter_index, uint32_t addr, uint32_t rate, uint64_t start_ns);

/*
 * Encodes the stream's next datagram into buf (at least p->max_dgram bytes)
 * with export time now_ns (ns since the Unix epoch) and 1..max_records flow
 * records (fewer when fewer fit). Advances the stream's state and writes
 * this datagram's totals to *t (s->tot is left to the caller, who adds *t
 * once the datagram is out). Returns the datagram length (> 0).
 */
size_t fg_stream_next(fg_stream *s, const fg_params *p, uint64_t now_ns, uint64_t max_records, uint8_t *buf,
                      fg_totals *t);

/*
 * Checks the encoders against their template tables (the record each
 * template describes has that template's length). Returns 0, or -1 with a
 * message in err.
 */
int fg_self_check(char *err, size_t err_len);

#endif
