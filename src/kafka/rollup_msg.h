/*
 * rollup_msg.h - one rollup row (window/rollup.h) as a Kafka message: the
 * protobuf `flowtally.Rollup` of proto/rollup.proto, or the same fields as
 * one JSON object, and its Kafka key.
 *
 * Protobuf: proto3 wire format (protobuf.dev/programming-guides/encoding),
 * packed by protobuf-c from the code protoc-c generates from
 * proto/rollup.proto at build time: fields in number order, 0 / false / ""
 * omitted. Rollups are a few messages per window and key, far from the
 * record path, so the generated packer (not hand-written code as in
 * flow_pb.c) is fast enough.
 *
 * JSON (--kafka-rollup-encoding json): one compact object with the proto's
 * field names, always window_start_ns, window_end_ns, dimension, key_text,
 * exporter, bytes, packets, flows, is_correction, is_partial, is_other;
 * then the dimension's typed key fields even when 0 (none for the 'other'
 * row), and exporter_address as address text ("192.0.2.1", "2001:db8::1")
 * when the key has an exporter. Numbers are JSON integers (all below 2^63).
 *
 * Which typed fields a dimension fills (ft_rkey a/b, rollup.h):
 *   src_as: src_as = a; dst_as: dst_as = a; as_pair: src_as = a, dst_as = b;
 *   src_port/dst_port: proto = a, port = b; proto: proto = a;
 *   src_country/dst_country: country = the two letters of a ("" unknown);
 *   in_if/out_if: if_index = a (and exporter_address).
 * exporter_address (4 or 16 bytes, network byte order) whenever the key has
 * an exporter: in_if/out_if, and every key with --rollup-by-exporter.
 *
 * Kafka key: "DIMENSION KEY_TEXT", plus " EXPORTER" when the exporter column
 * is filled (--rollup-by-exporter): the identity a consumer sums by (with
 * the window), and what librdkafka's partitioner hashes, so one key's
 * messages stay in one partition, in order.
 *
 * Nothing here allocates (JSON: jansson, on the caller's thread) or keeps
 * state: every function is safe from any thread.
 */
#ifndef FT_KAFKA_ROLLUP_MSG_H
#define FT_KAFKA_ROLLUP_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "window/rollup.h"

typedef enum ft_rollup_encoding {
    FT_ROLLUP_PROTOBUF = 0, /* flowtally.Rollup, proto/rollup.proto */
    FT_ROLLUP_JSON = 1,     /* one JSON object per message */
} ft_rollup_encoding;

/* Upper bound of one encoded row in either encoding (the longest key and
 * exporter texts, every number at its maximum: rollup_msg_test checks it),
 * and of its Kafka key (FT_RKEY_TEXT_MAX twice plus a dimension name). */
#define FT_ROLLUP_MSG_MAX 1024
#define FT_ROLLUP_KEY_MAX (2 * FT_RKEY_TEXT_MAX + 32)

/* "protobuf" / "json". */
const char *ft_rollup_encoding_name(ft_rollup_encoding e);

/*
 * Encodes row r of batch b (its window, flags and by_exporter come from b)
 * into buf[0..cap). Returns the length, or 0 when it does not fit (never
 * with cap >= FT_ROLLUP_MSG_MAX) or, for JSON, when jansson is out of
 * memory. A protobuf row is never empty: dimension is always set.
 */
size_t ft_rollup_encode(ft_rollup_encoding e, const ft_rollup_batch *b, const ft_rollup_row *r, uint8_t *buf,
                        size_t cap);

/* The Kafka key of row r ("dst_port 6/443", "in_if 192.0.2.1:3",
 * "src_as AS64500 192.0.2.1" with --rollup-by-exporter) into
 * buf[0..FT_ROLLUP_KEY_MAX), NUL-terminated; returns its length (no NUL). */
size_t ft_rollup_msg_key(const ft_rollup_batch *b, const ft_rollup_row *r, char *buf);

#endif
