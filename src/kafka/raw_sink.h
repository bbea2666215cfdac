/*
 * raw_sink.h - fan-out A: every flow record to the raw Kafka topic as a
 * FlowMessage (flow_pb.h): one Kafka message per record, or with
 * --kafka-batch N up to N length-delimited FlowMessages per Kafka message.
 *
 * One ft_kafka_raw per receive worker, used only on that worker's thread:
 * it owns the worker's encoder, its staging area and its counters (single
 * writer, relaxed reads). Records are encoded straight into the staging
 * area, back to back; the staged Kafka messages go to the shared producer
 * (producer.h, which copies them) in one ft_kafka_produce_many call when
 * STAGE_MSGS are ready and at every ft_kafka_raw_flush, which the pipeline
 * calls at the end of each receive batch (one recvmmsg call live, 256
 * packets with --pcap) and when the worker stops. So a record is never held
 * across a wait for traffic: at most for the decoding of the datagrams that
 * came with it. The record path allocates nothing of ours and takes no lock
 * of ours.
 *
 * Batches (--kafka-batch N > 1): the records of one Kafka message are each
 * prefixed with their length as a base-128 varint (the delimited framing
 * of flow_pb.h, whatever --framing says: config refuses --framing plain
 * with a batch). A message is closed when it holds N records, before it
 * would pass FT_KAFKA_BATCH_BYTES_MAX bytes, when the next record has
 * another --kafka-key (so a keyed message's key is the key of every record
 * in it), and at every flush as above. Counters and delivery reports count
 * records; produced_messages / delivered_messages count Kafka messages.
 *
 * Partition key (--kafka-key FIELD[,FIELD...], --print names): the named
 * fields' values concatenated, each in a fixed binary form in network byte
 * order: type 1 byte, booleans 1 byte, uint32 4 bytes, uint64 8 bytes,
 * addresses 16 bytes (IPv4 as ::ffff:a.b.c.d, absent as zeros), MACs 6
 * bytes, countries 2 bytes, as_path 4 bytes per AS. librdkafka's default
 * partitioner (consistent_random) hashes it, so records with equal key
 * fields land in the same partition. No key: librdkafka spreads the
 * messages over the partitions.
 */
#ifndef FT_KAFKA_RAW_SINK_H
#define FT_KAFKA_RAW_SINK_H

#include <stddef.h>

#include "flow/flow.h"
#include "flow/flow_pb.h"
#include "kafka/producer.h"

/* Most fields a key may name, and the longest key (16 fields of at most
 * 4 x FT_AS_PATH_MAX bytes). */
#define FT_KAFKA_KEY_MAX_FIELDS 16
#define FT_KAFKA_KEY_MAX (FT_KAFKA_KEY_MAX_FIELDS * 4 * FT_AS_PATH_MAX)

#include "flow/flow_json.h"

/* A compiled --kafka-key list. */
typedef struct ft_kafka_key {
    const ft_flow_field *f[FT_KAFKA_KEY_MAX_FIELDS];
    size_t n;
} ft_kafka_key;

/*
 * Compiles a --kafka-key list ("src_addr,dst_addr"): 1..FT_KAFKA_KEY_MAX_FIELDS
 * --print field names separated by commas, no empty item. Returns 0, or -1
 * with a message naming the bad item in err.
 */
int ft_kafka_key_parse(const char *list, ft_kafka_key *k, char *err, size_t err_len);

/* Writes f's key bytes (layout above) to out; returns their length
 * (<= FT_KAFKA_KEY_MAX). */
size_t ft_kafka_key_build(const ft_kafka_key *k, const ft_flow *f, uint8_t *out);

typedef struct ft_kafka_raw_opts {
    ft_kafka *producer;     /* not owned; must outlive the sink */
    ft_pb_format format;
    ft_pb_framing framing;
    const char *key_fields; /* --kafka-key list, NULL or "" = no key; parsed before */
    uint32_t batch;         /* --kafka-batch: records per Kafka message at most, 1..FT_KAFKA_BATCH_MAX
                               (0 = 1); > 1 means delimited framing, whatever `framing` says */
} ft_kafka_raw_opts;

/* --kafka-batch bounds: records per Kafka message, and the bytes one
 * batched message may reach (well below Kafka's default message.max.bytes,
 * 1000012, and librdkafka's, 1000000). */
#define FT_KAFKA_BATCH_MAX 10000
#define FT_KAFKA_BATCH_BYTES_MAX (256 * 1024)

typedef struct ft_kafka_raw ft_kafka_raw;

/* NULL on ENOMEM or a bad key list (logged; ft_kafka_key_parse first). */
ft_kafka_raw *ft_kafka_raw_new(const ft_kafka_raw_opts *o);
/* NULL is a no-op. */
void ft_kafka_raw_free(ft_kafka_raw *r);

/* The decoder-facing sink: emit() encodes and keys one record into the
 * staging area. Call from the owning thread only. */
ft_flow_sink ft_kafka_raw_flow_sink(ft_kafka_raw *r);

/* Hands every staged record to the producer, counting each as produced,
 * dropped (local queue full) or refused (by code). The owning thread, at
 * the end of each receive batch and before the producer closes. NULL is a
 * no-op. */
void ft_kafka_raw_flush(ft_kafka_raw *r);

/* Adds this worker's counters (produced records and messages, bytes, drops, waits, refusals)
 * into s; from any thread (relaxed reads). */
void ft_kafka_raw_stats_add(const ft_kafka_raw *r, ft_kafka_stats *s);

#endif
