/*
 * flow_pb.h - flow records as protobuf FlowMessage bytes (Kafka, --print-format pb).
 *
 * Two layouts, both defined in proto/ and compiled to C by protoc-c at build
 * time (proto/README.md gives the origin of every field number):
 *   FT_PB_GOFLOW   proto/flow.proto, flowprotob.FlowMessage: cloudflare/goflow's
 *                  numbers (times in seconds in 2, 38, 5) plus the additions
 *                  70, 71, 100-102, 110-112 (ns), 1000/1001 and ip_flags 1100;
 *   FT_PB_GOFLOW2  proto/flow_goflow2.proto, flowpb.FlowMessage: goflow2 v2's
 *                  numbers (times only in ns, 110-112; 38 = ip_flags; MPLS as
 *                  repeated 80/81/82).
 * Encoding is proto3 as the protobuf wire format specifies it
 * (protobuf.dev/programming-guides/encoding): fields in number order, zero
 * scalars, false booleans and empty bytes/strings omitted, repeated scalars
 * packed. Addresses are 4 (IPv4) or 16 (IPv6) bytes in network byte order,
 * omitted when absent; MACs the low 48 bits of a uint64 (flow.h).
 *
 * Framing: plain = the message bytes alone (one Kafka message per record,
 * as goflow writes); delimited = a base-128 varint of the message length
 * first (as goflow2 v2 writes, and as protobuf's writeDelimitedTo /
 * parseDelimitedFrom read a stream).
 *
 * MPLS in the goflow2 layout: ft_flow keeps the first three labels and the
 * last one of the stack, so a stack of more than four labels comes out as
 * its first three and its last; mpls_ttl has one entry per mpls_label (0
 * where the exporter gives no TTL, as NetFlow and IPFIX never do).
 *
 * Cost: the encoder is owned by one worker and reused for every record;
 * its output buffer (FT_FLOW_PB_MAX) lives in it, so encoding allocates
 * nothing. The record path writes the fields with straight-line code
 * (~0.15 us per record); ft_flow_pb_encode_reference packs the protoc-c
 * generated message with protobuf_c_message_pack (~3x slower: it visits
 * every field of the descriptor) and is the oracle the tests hold the fast
 * path to, byte for byte.
 */
#ifndef FT_FLOW_PB_H
#define FT_FLOW_PB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow/flow.h"

typedef enum ft_pb_format { FT_PB_GOFLOW = 0, FT_PB_GOFLOW2 = 1 } ft_pb_format;

typedef enum ft_pb_framing {
    FT_PB_FRAMING_DEFAULT = 0, /* the format's own: goflow plain, goflow2 delimited */
    FT_PB_FRAMING_PLAIN = 1,
    FT_PB_FRAMING_DELIMITED = 2,
} ft_pb_framing;

/* An upper bound of one encoded record, length prefix included, for any
 * ft_flow whatever its values (flow_pb_test packs a record with every field
 * at its maximum and checks it stays below). */
#define FT_FLOW_PB_MAX 2048

/* "goflow" / "goflow2"; "plain" / "delimited". */
const char *ft_pb_format_name(ft_pb_format f);
const char *ft_pb_framing_name(ft_pb_framing f);

/* Whether records of format f with framing fr carry a length prefix. */
bool ft_pb_delimited(ft_pb_format f, ft_pb_framing fr);

typedef struct ft_flow_pb ft_flow_pb;

/* An encoder for one thread. NULL on ENOMEM. */
ft_flow_pb *ft_flow_pb_new(ft_pb_format format, ft_pb_framing framing);
/* NULL is a no-op. */
void ft_flow_pb_free(ft_flow_pb *e);

/*
 * Encodes f. Returns the bytes (length prefix first when delimited) and
 * sets *len (0..FT_FLOW_PB_MAX; 0 for a record of zeros, which proto3
 * encodes as an empty message). The bytes live in e and stay valid until
 * the next call on e. Never fails.
 */
const uint8_t *ft_flow_pb_encode(ft_flow_pb *e, const ft_flow *f, size_t *len);

/*
 * The same bytes as ft_flow_pb_encode, written at out[0..) (length prefix
 * first when delimited) instead of e's buffer: out must have room for
 * FT_FLOW_PB_MAX bytes. Returns their length. For callers that pack many
 * records into one buffer (the Kafka sink's batches) without a copy.
 */
size_t ft_flow_pb_encode_into(ft_flow_pb *e, const ft_flow *f, uint8_t *out);

/* The same bytes through protobuf-c (the generated FlowMessage struct, filled
 * from f, then protobuf_c_message_pack): the reference for tests. Same
 * contract as ft_flow_pb_encode. */
const uint8_t *ft_flow_pb_encode_reference(ft_flow_pb *e, const ft_flow *f, size_t *len);

/*
 * The same as a formatter with the --print JSON convention (flow_json.h
 * ft_record_fmt): copies the bytes into buf[0..cap) and returns their
 * length; a return >= cap means they did not fit and nothing was written.
 * ctx is an ft_flow_pb.
 */
size_t ft_flow_pb_format(void *ctx, const ft_flow *f, char *buf, size_t cap);

#endif
