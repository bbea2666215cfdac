/*
 * producer.h - one librdkafka producer shared by every receive worker.
 *
 * Workload: one Kafka message per flow record (tens to hundreds of bytes),
 * or per --kafka-batch records, up to a million records per second from
 * several workers. rd_kafka_produce_batch is thread-safe, so workers call
 * ft_kafka_produce_many directly with their staged messages: flowtally
 * takes no lock of its own per record (librdkafka's partition queues have
 * their own). The payloads are copied by librdkafka (RD_KAFKA_MSG_F_COPY),
 * so the worker's staging area is reused at once.
 *
 * Threads: a poll thread owned by the producer serves librdkafka's
 * callbacks: delivery reports (counted: delivered, or failed by error code)
 * and errors (logged at a limited rate). librdkafka's own log lines go to
 * ft_log at a limited rate per facility. Nothing logged ever contains a
 * property value given with -X (SASL passwords, keys...): only names.
 *
 * A full local queue (queue.buffering.max.messages/kbytes) is reported to
 * the caller, which counts the record as dropped; with opts.block the call
 * waits for room instead (1 ms steps), until the watched stop flag is set.
 *
 * Shutdown: ft_kafka_close stops the poll thread and flushes, bounded by
 * opts.flush_timeout_ms; what is still queued then is purged, and its
 * delivery reports (_PURGE_QUEUE / _PURGE_INFLIGHT) are counted as failed,
 * so produced = delivered + failed once closed.
 *
 * Classes of messages: raw flow records go to the producer's own topic
 * (opts.topic) and their delivery reports are counted in the producer; other
 * stages (Kafka rollups) produce to topic handles of their own
 * (ft_kafka_topic_new) with tallies of their own (ft_kafka_dr, passed as the
 * message's opaque), so each class reports its own produced, delivered,
 * failed and flush_left through the same producer and local queue.
 *
 * Ownership: ft_kafka owns rd_kafka_t, the raw topic handle, the poll
 * thread and every class's tallies; opts strings are copied into
 * librdkafka's configuration. Extra topic handles belong to the stage that
 * made them and are freed before the producer.
 */
#ifndef FT_KAFKA_PRODUCER_H
#define FT_KAFKA_PRODUCER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/counters.h"

typedef struct ft_kafka_opts {
    const char *brokers;         /* bootstrap.servers: "host:port[,host:port...]" */
    const char *topic;           /* topic name */
    const char *compression;     /* compression.codec: none|gzip|snappy|lz4|zstd */
    char *const *props;          /* "name=value" librdkafka properties, applied after the
                                    above (so they win); values never logged */
    size_t n_props;
    bool block;                  /* wait on a full local queue instead of dropping */
    uint32_t flush_timeout_ms;   /* bound of the flush in ft_kafka_close */
} ft_kafka_opts;

typedef struct ft_kafka ft_kafka;

/*
 * Creates the producer and starts its poll thread. Does not connect yet
 * (librdkafka connects in the background). Returns NULL with a message in
 * err on a bad property (naming it, never echoing its value) or when
 * librdkafka cannot be set up.
 */
ft_kafka *ft_kafka_new(const ft_kafka_opts *o, char *err, size_t err_len);

/* A blocking produce (opts.block) gives up when *stop becomes true. Call
 * before any produce; stop must outlive k. */
void ft_kafka_watch_stop(ft_kafka *k, const atomic_bool *stop);

/* ft_kafka_produce_to results. */
typedef enum ft_kafka_result {
    FT_KAFKA_QUEUED = 0,  /* accepted: a delivery report will count it */
    FT_KAFKA_QUEUE_FULL,  /* local queue full (and the wait, if any, ran out) */
    FT_KAFKA_FAILED,      /* refused for another reason: *err says which */
} ft_kafka_result;

/* One raw Kafka message for ft_kafka_produce_many: payload[0..len) and
 * key[0..keylen) (key NULL = none), both only read during the call (librdkafka
 * copies them); `records` = the flow records it carries (1, or up to
 * --kafka-batch), which its delivery report counts. `err` is set by the
 * call: 0 = queued, else librdkafka's code (rd_kafka_resp_err_t;
 * _QUEUE_FULL when the local queue had no room); `waited` when a full
 * queue made it wait (--kafka-block). */
typedef struct ft_kafka_msg {
    const void *payload;
    size_t len;
    const void *key;
    size_t keylen;
    uint32_t records;
    int err;
    bool waited;
} ft_kafka_msg;

/* librdkafka's RD_KAFKA_RESP_ERR__QUEUE_FULL, for callers that read
 * ft_kafka_msg.err without librdkafka's header (checked in producer.c). */
#define FT_KAFKA_ERR_QUEUE_FULL (-184)

/* Most records one raw Kafka message may carry (the delivery report keeps
 * the count in the message's opaque pointer). */
#define FT_KAFKA_MSG_RECORDS_MAX 1000000u

/*
 * Queues msgs[0..n) to opts.topic in order, through rd_kafka_produce_batch
 * (one call per up to 64 messages: librdkafka reads its clocks and takes
 * the topic lock once per call instead of once per message). From any
 * thread. With opts.block, messages refused for a full local queue are
 * retried (1 ms steps) until queued or the watched stop flag is set (their
 * `waited` is set). Returns how many were queued; each message's err says
 * what became of it. Delivery reports count msgs[i].records records each.
 */
size_t ft_kafka_produce_many(ft_kafka *k, ft_kafka_msg *msgs, size_t n);

/*
 * Stops the poll thread, flushes within the flush timeout, purges what is
 * left (logging how many) and counts their reports. No produce may run
 * during or after it. Idempotent.
 */
void ft_kafka_close(ft_kafka *k);

/* Error-code tallies: up to FT_KAFKA_CODES distinct codes, the rest summed
 * in `other`. */
#define FT_KAFKA_CODES 16
typedef struct ft_kafka_codes {
    int code[FT_KAFKA_CODES]; /* rd_kafka_resp_err_t; 0 = unused slot */
    uint64_t n[FT_KAFKA_CODES];
    uint64_t other;
} ft_kafka_codes;

/* Adds n occurrences of code (non-zero) to c. */
void ft_kafka_codes_add(ft_kafka_codes *c, int code, uint64_t n);
/* Sum of every tally of c. */
uint64_t ft_kafka_codes_total(const ft_kafka_codes *c);

/* The same tallies kept live: one writer at a time, readable from any
 * thread at any time (relaxed atomics, no lock). */
typedef struct ft_kafka_codes_live {
    _Atomic int code[FT_KAFKA_CODES];
    ft_ctr n[FT_KAFKA_CODES];
    ft_ctr other;
} ft_kafka_codes_live;

void ft_kafka_codes_live_add(ft_kafka_codes_live *c, int code);
/* Adds n occurrences of code. */
void ft_kafka_codes_live_add_n(ft_kafka_codes_live *c, int code, uint64_t n);
/* Adds c's tallies into out. */
void ft_kafka_codes_live_read(const ft_kafka_codes_live *c, ft_kafka_codes *out);

/* Delivery-report tallies of one class of messages (ft_kafka_produce_to):
 * written by the producer's callback thread, read from any thread (relaxed
 * atomics). */
typedef struct ft_kafka_dr {
    ft_ctr delivered;           /* acknowledged by the broker (records, for raw batches) */
    ft_ctr delivered_messages;  /* Kafka messages acknowledged */
    ft_kafka_codes_live failed; /* reports with an error, by code */
    ft_ctr purged;              /* of those, purged at the flush timeout of ft_kafka_close */
} ft_kafka_dr;

/* New zeroed tallies for a class, owned by k (freed by ft_kafka_free, so
 * they outlive every delivery report). From the set-up thread, before the
 * class produces. NULL on ENOMEM. */
ft_kafka_dr *ft_kafka_dr_new(ft_kafka *k);

/* A topic handle of the producer (rd_kafka_topic_t) for another class of
 * messages. */
typedef struct ft_kafka_topic ft_kafka_topic;

/* A handle on topic name (created by the brokers on first use when they
 * allow it). NULL with a message in err when librdkafka refuses the name.
 * Free it with ft_kafka_topic_free before ft_kafka_free. */
ft_kafka_topic *ft_kafka_topic_new(ft_kafka *k, const char *name, char *err, size_t err_len);
/* NULL is a no-op. Messages still queued keep the topic alive in librdkafka. */
void ft_kafka_topic_free(ft_kafka_topic *t);

/*
 * Queues one message to topic t (copied; key NULL = none), with its delivery
 * report counted in *dr instead of the producer. *err is librdkafka's code
 * on FT_KAFKA_FAILED. On a full local queue it
 * waits (1 ms steps) until CLOCK_MONOTONIC reaches wait_until_ns (0 = no
 * wait), whatever opts.block and the stop flag say: for stages off the
 * record path, whose messages are worth a bounded wait even at shutdown.
 */
ft_kafka_result ft_kafka_produce_to(ft_kafka *k, ft_kafka_topic *t, ft_kafka_dr *dr, const void *payload,
                                    size_t len, const void *key, size_t keylen, uint64_t wait_until_ns, int *err,
                                    bool *waited);

/* librdkafka's name of an error code ("_QUEUE_FULL", "MSG_SIZE_TOO_LARGE"). */
const char *ft_kafka_err_name(int err);

/* Counters of the Kafka stage, summed over the producer and its workers. */
typedef struct ft_kafka_stats {
    uint64_t produced;        /* records accepted into the local queue */
    uint64_t produced_messages; /* Kafka messages holding them (= produced unless --kafka-batch) */
    uint64_t produced_bytes;  /* their payload bytes (length prefix included) */
    uint64_t dropped_queue_full; /* records dropped: local queue full */
    uint64_t queue_full_waits;   /* records that waited for room (--kafka-block) */
    ft_kafka_codes produce_failed; /* records refused by rd_kafka_produce, by code */
    uint64_t delivered;       /* records whose message the broker acknowledged */
    uint64_t delivered_messages; /* those messages */
    ft_kafka_codes delivery_failed; /* delivery reports with an error, by code */
    uint64_t flush_left;      /* records still queued when the flush timeout ran out (purged) */
    ft_kafka_codes client_errors; /* librdkafka's error callbacks (brokers down or unreachable,
                                     timeouts, fatal errors), by code; producer-wide: filled by
                                     ft_kafka_stats_add only */
} ft_kafka_stats;

/* Adds the producer's delivery counters of raw records, and its client
 * errors, into s (relaxed reads; exact once closed). */
void ft_kafka_stats_add(const ft_kafka *k, ft_kafka_stats *s);
/* Adds the delivery counters of one class (delivered, delivery_failed,
 * flush_left = purged) into s. */
void ft_kafka_dr_stats_add(const ft_kafka_dr *dr, ft_kafka_stats *s);

/* A second class of messages in the --stats line. */
typedef struct ft_kafka_stats_class {
    const char *name;   /* the member's name: "rollups" */
    const char *topic;  /* its topic (template) */
    const char *format; /* its encoding */
    const ft_kafka_stats *s;
} ft_kafka_stats_class;

/* Formats s as the --stats line {"kind":"kafka_stats",...} plus '\n' into
 * buf[0..cap), with extra (NULL = none) as a member of its own holding
 * topic, format and the same counters; returns the length (>= cap when
 * cut, like snprintf). Error codes appear under librdkafka's names
 * (rd_kafka_err2name). */
size_t ft_kafka_stats_json(const ft_kafka_stats *s, const char *topic, const char *format,
                           const ft_kafka_stats_class *extra, char *buf, size_t cap);

/* Messages in librdkafka's local queue now (waiting to be sent or for
 * their delivery report): rd_kafka_outq_len. Any thread. 0 for NULL. */
long ft_kafka_queue_len(ft_kafka *k);

/* Readiness: asks a broker for the topic's metadata, waiting at most
 * timeout_ms. 0 when one answered, else -1 with librdkafka's error name in
 * *why ("_TRANSPORT", "_TIMED_OUT"...). Any thread; blocks the caller. */
int ft_kafka_check(ft_kafka *k, int timeout_ms, const char **why);

/* Closes if needed, then frees. NULL is a no-op. */
void ft_kafka_free(ft_kafka *k);

#endif
