/*
 * rollup_sink.h - the Kafka rollup sink: every row of every flushed window
 * (closed, partial at shutdown, or a late correction) as one Kafka message
 * on --kafka-rollup-topic, encoded by rollup_msg.h (protobuf flowtally.Rollup
 * or JSON) and keyed "DIMENSION KEY_TEXT[ EXPORTER]".
 *
 * It is an ft_rollup_sink (window/rollup.h), handed to the window stage next
 * to SQLite, so it runs on the window stage's flushing thread (live: the
 * window clock thread; --pcap: the replay thread), one batch at a time, and
 * produces through the one shared producer (producer.h) with a topic handle
 * per topic and delivery tallies of its own: its counters never mix with
 * the raw records'.
 *
 * Topics: the name may hold "{dimension}", replaced by the row's dimension
 * ("flow-rollups-{dimension}" -> "flow-rollups-dst_port"): one topic, or one
 * per dimension.
 *
 * A full local queue: the batch waits for room, FT_KAFKA_ROLLUP_WAIT_MS in
 * all (rows are few and worth a wait, even at shutdown, whatever
 * --kafka-block says). Live, the receive workers do not wait with it (the
 * clock thread holds a worker's mutex only to detach closed tables, never
 * while flushing); with --pcap the replay does. What still finds no room is
 * dropped and counted, and later batches do not wait until a row gets in
 * again, so a dead broker costs one wait, not one per window.
 */
#ifndef FT_KAFKA_ROLLUP_SINK_H
#define FT_KAFKA_ROLLUP_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "kafka/producer.h"
#include "kafka/rollup_msg.h"
#include "window/rollup.h"

#define FT_KAFKA_ROLLUP_TOPIC_DEFAULT "flow-rollups"
#define FT_KAFKA_ROLLUP_WAIT_MS 10000
/* Kafka's limit on topic names (Topic.MAX_NAME_LENGTH). */
#define FT_KAFKA_TOPIC_MAX 249

typedef struct ft_kafka_rollup_opts {
    ft_kafka *producer;          /* not owned; must outlive the sink */
    const char *topic;           /* topic name, may hold {dimension}; checked by ft_kafka_rollup_topic_check */
    ft_rollup_encoding encoding;
    uint32_t wait_ms;            /* a batch's total wait for room in a full queue; 0 = FT_KAFKA_ROLLUP_WAIT_MS */
} ft_kafka_rollup_opts;

typedef struct ft_kafka_rollup ft_kafka_rollup;

/*
 * Checks a --kafka-rollup-topic value: once every "{dimension}" is replaced
 * by each dimension name, 1..249 characters of [A-Za-z0-9._-] (Kafka's
 * legal topic names), not "." or "..". Returns 0, or -1 with the reason in
 * err.
 */
int ft_kafka_rollup_topic_check(const char *topic, char *err, size_t err_len);

/* topic with every "{dimension}" replaced by d's name, into
 * out[0..FT_KAFKA_TOPIC_MAX + 1); returns its length (cut at the bound). */
size_t ft_kafka_rollup_topic_name(const char *topic, ft_dim d, char *out);

/* Creates the sink and its topic handles. NULL with a message in err
 * (a bad topic name, ENOMEM). */
ft_kafka_rollup *ft_kafka_rollup_new(const ft_kafka_rollup_opts *o, char *err, size_t err_len);

/* The window stage's view of it; ctx is r, which must outlive the stage. */
ft_rollup_sink ft_kafka_rollup_sink(ft_kafka_rollup *r);

/* Adds its counters into s: produced (rows queued), produced_bytes,
 * dropped_queue_full, queue_full_waits (rows that waited), produce_failed,
 * and its delivery reports (delivered, delivery_failed, flush_left). Any
 * thread (relaxed reads; exact once the producer is closed). */
void ft_kafka_rollup_stats_add(const ft_kafka_rollup *r, ft_kafka_stats *s);

/* Frees the sink and its topic handles: after the window stage's last
 * flush, before ft_kafka_free. NULL is a no-op. */
void ft_kafka_rollup_free(ft_kafka_rollup *r);

#endif
