/*
 * config.c - the option table and everything generated from it (config.h).
 *
 * Adding an option = adding a field to ft_config and a row to ft_opts; the
 * CLI, --help and the future config file pick it up. Defaults are text
 * parsed by the very setter that parses user values, so a default can never
 * be out of its own bounds (config_test checks every default parses).
 */
#include "core/config.h"

#include "kafka/raw_sink.h"
#include "kafka/rollup_sink.h"
#include "enrich/geo.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define OFF(field) offsetof(ft_config, field)
#define CHOICES(...) ((const char *const[]){__VA_ARGS__, NULL})

/* The decoder defaults (decoder.h ft_decoder_opts) are repeated here as text
 * for --help; config_test checks they equal ft_decoder_opts_default(). */
static const ft_opt ft_opts[] = {
    {"config", FT_OPT_PATH, NULL, OFF(config_file), 0, 0, "FILE",
     "read options from FILE first: one 'name = value' per line (name = the long option, flags as "
     "name = true|false, repeatable options repeated, # comments); command-line options override it (a "
     "repeatable one given on the command line replaces the file's values); SIGHUP re-reads it"},
    {"listen", FT_OPT_LISTEN, NULL, OFF(listen), 0, 0, "URL",
     "receive on URL: netflow://ADDR:PORT or sflow://ADDR:PORT, IPv6 as [ADDR], port 0 = any free "
     "port; any listener decodes any protocol (repeatable; default netflow://0.0.0.0:2055 and "
     "sflow://0.0.0.0:6343)"},
    {"workers", FT_OPT_U32, "1", OFF(workers), 1, 64, "N",
     "receive threads per listener, each with its own SO_REUSEPORT socket and decoder; an exporter's "
     "datagrams always reach the same one"},
    {"rcvbuf", FT_OPT_BYTES, "8m", OFF(rcvbuf), 0, INT_MAX, "BYTES",
     "socket receive buffer (SO_RCVBUF, k/m/g suffixes = x1024); 0 = the kernel default (~208 KiB, too small for an exporter's bursts)"},
    {"pcap", FT_OPT_PATH, NULL, OFF(pcap), 0, 0, "FILE",
     "decode the UDP datagrams of a pcap/pcapng capture as if received (source IP = exporter, "
     "capture time = time received), then exit; opens no listener"},
    {"print", FT_OPT_FLAG, NULL, OFF(print), 0, 0, NULL, "write each flow record as one JSON line on stdout"},
    {"stats", FT_OPT_FLAG, NULL, OFF(stats), 0, 0, NULL,
     "at exit, write each exporter's counters as one JSON line on stderr"},
    /* Kafka raw output and protobuf records (issue 4) */
    {"print-format", FT_OPT_CHOICE, "json", OFF(print_format), 0, 0, "json|pb",
     "what --print writes: JSON lines, or length-delimited FlowMessage protobuf (--format) for piping",
     CHOICES("json", "pb")},
    {"format", FT_OPT_CHOICE, "goflow", OFF(format), 0, 0, "goflow|goflow2",
     "FlowMessage layout of Kafka records and --print-format pb: goflow (flowprotob, proto/flow.proto) or "
     "goflow2 v2 (flowpb, proto/flow_goflow2.proto)", CHOICES("goflow", "goflow2")},
    {"framing", FT_OPT_CHOICE, NULL, OFF(framing), 0, 0, "plain|delimited",
     "Kafka record framing: plain message, or varint length first; default: goflow plain, goflow2 delimited",
     CHOICES("plain", "delimited")},
    {"kafka-brokers", FT_OPT_STRING, NULL, OFF(kafka_brokers), 0, 0, "LIST",
     "Kafka bootstrap servers HOST:PORT[,HOST:PORT...]; none or empty = no Kafka output"},
    {"kafka-topic", FT_OPT_PATH, "flows", OFF(kafka_topic), 0, 0, "TOPIC", "Kafka topic of the flow records"},
    {"kafka-key", FT_OPT_PATH, NULL, OFF(kafka_key), 0, 0, "FIELD[,FIELD]",
     "partition key from these record fields (--print names, e.g. sampler_address or src_addr,dst_addr); "
     "default none: librdkafka spreads records over the partitions"},
    {"kafka-compression", FT_OPT_CHOICE, "lz4", OFF(kafka_compression), 0, 0, "CODEC",
     "none, gzip, snappy, lz4 or zstd", CHOICES("none", "gzip", "snappy", "lz4", "zstd")},
    {"kafka-opt", FT_OPT_KV_LIST, NULL, OFF(kafka_props), 0, 0, "PROP=VALUE",
     "any librdkafka property (SASL, TLS, linger.ms, queue.buffering.max.messages...); applied last; "
     "values are never logged (repeatable)", NULL, 'X'},
    {"kafka-block", FT_OPT_FLAG, NULL, OFF(kafka_block), 0, 0, NULL,
     "when the local Kafka queue is full, make the receiving worker wait instead of dropping (and counting) "
     "the record"},
    {"kafka-batch", FT_OPT_U32, "1", OFF(kafka_batch), 1, FT_KAFKA_BATCH_MAX, "N",
     "pack up to N length-delimited FlowMessages into one Kafka message (consumers split them by their "
     "varint length); 1 = one record per message. N > 1 implies --framing delimited"},
    {"kafka-flush-timeout", FT_OPT_U32, "10000", OFF(kafka_flush_timeout_ms), 0, 3600000, "MS",
     "at exit, wait this long for queued records to be delivered; what is left is reported as not delivered"},
    {"kafka-rollup-topic", FT_OPT_PATH, FT_KAFKA_ROLLUP_TOPIC_DEFAULT, OFF(kafka_rollup_topic), 0, 0, "TOPIC",
     "Kafka topic of the rollup rows (with --kafka-brokers); {dimension} in the name gives one topic per "
     "dimension (flow-rollups-{dimension} -> flow-rollups-dst_port); 'off' = no rollups to Kafka"},
    {"kafka-rollup-encoding", FT_OPT_CHOICE, "protobuf", OFF(kafka_rollup_encoding), 0, 0, "protobuf|json",
     "rollup messages as protobuf flowtally.Rollup (proto/rollup.proto) or as JSON objects with its field names",
     CHOICES("protobuf", "json")},
    {"allow-exporter", FT_OPT_CIDR_LIST, NULL, OFF(allow_exporter), 0, 0, "CIDR",
     "accept datagrams only from sources in CIDR (a.b.c.d/len, x::y/len or one address); others are dropped "
     "before decoding and counted per listener as not_allowed (repeatable; default: every source; applies to "
     "--pcap too)"},
    {"sampling-rate", FT_OPT_SAMPLING, NULL, OFF(sampling), 0, 0, "CIDR=N",
     "use sampling rate N (1..2147483648) for exporters in CIDR, whatever they send (repeatable; the first matching prefix wins)"},
    {"template-timeout", FT_OPT_U32, "1800", OFF(template_timeout_s), 1, INT32_MAX, "SECONDS",
     "forget templates not refreshed for this long"},
    {"max-exporters", FT_OPT_U32, "4096", OFF(max_exporters), 1, 1u << 24, "N",
     "exporters tracked per worker; datagrams from more are dropped and counted"},
    {"max-templates", FT_OPT_U32, "2048", OFF(max_templates), 1, 1u << 24, "N",
     "templates kept per exporter; more are dropped and counted"},
    {"pending-max-sets", FT_OPT_U32, "64", OFF(pending_max_sets), 0, 1u << 20, "N",
     "data sets held per exporter until their template arrives; 0 = hold none"},
    {"pending-max-bytes", FT_OPT_BYTES, "262144", OFF(pending_max_bytes), 0, 1u << 30, "BYTES",
     "bytes of data sets held per exporter until their template arrives"},
    {"pending-max-age", FT_OPT_U32, "60", OFF(pending_max_age_s), 1, 86400, "SECONDS",
     "drop (and count) a held data set whose template has not come within this time"},
    /* enrichment, windows and SQLite rollups */
    {"geoip-country", FT_OPT_PATH, NULL, OFF(geoip_country), 0, 0, "FILE",
     "MaxMind DB (.mmdb) giving src_country/dst_country: GeoLite2/GeoIP2/DB-IP (country.iso_code) or "
     "ip-location-db (country_code) layout, detected; see geo/README.md"},
    {"geoip-asn", FT_OPT_PATH, NULL, OFF(geoip_asn), 0, 0, "FILE",
     "MaxMind DB (.mmdb) giving AS numbers (autonomous_system_number); may be the --geoip-country file"},
    {"geoip-country-key", FT_OPT_PATH, NULL, OFF(geoip_country_key), 0, 0, "PATH",
     "lookup path of the country code in --geoip-country records, e.g. country.iso_code; default: detected"},
    {"geoip-asn-key", FT_OPT_PATH, NULL, OFF(geoip_asn_key), 0, 0, "PATH",
     "lookup path of the AS number in --geoip-asn records, e.g. autonomous_system_number; default: detected"},
    {"asn-source", FT_OPT_ENUM, "prefer-flow", OFF(asn_source), 0, 0, "flow|geoip|prefer-flow|prefer-geoip",
     "src_as/dst_as from the exporter, from --geoip-asn, or either preferred with the other as fallback "
     "when it says 0 or nothing"},
    {"window", FT_OPT_DURATION, "5m", OFF(window_s), 1, 86400, "DURATION",
     "tumbling event-time rollup windows, aligned to multiples of this since the epoch (s, m, h suffixes)"},
    {"lateness", FT_OPT_DURATION, "2m", OFF(lateness_s), 0, 3600, "DURATION",
     "a window closes and is flushed once the clock (wall clock; capture time with --pcap) passes its "
     "end plus this; later records become counted late corrections"},
    {"event-time", FT_OPT_ENUM, "flow-end", OFF(event_time), 0, 0, "flow-end|received",
     "a record's window: its flow end time (clamped to 1 h before .. 1 min after arrival) or its arrival time"},
    {"rollup-by-exporter", FT_OPT_FLAG, NULL, OFF(rollup_by_exporter), 0, 0, NULL,
     "keep a separate rollup row per exporter"},
    {"max-keys", FT_OPT_U32, "40000", OFF(max_keys), 16, 1u << 24, "N",
     "keys kept per window and dimension (per worker and merged); the smallest fold into an 'other' row, "
     "totals stay exact; ~100 bytes per key"},
    {"db", FT_OPT_PATH, NULL, OFF(db), 0, 0, "FILE",
     "SQLite database the closed windows are added to (view 'rollups'; sql/queries.sql); 'off' = no "
     "windows, no database (default " FT_DB_DEFAULT ")"},
    {"retention", FT_OPT_DURATION, "30d", OFF(retention_s), 0, 100u * 365 * 86400, "DURATION",
     "delete windows older than this from --db (d, h, m, s suffixes); 0 = keep all"},
    {"db-retry-rows", FT_OPT_U32, "2000000", OFF(db_retry_rows), 1, 100000000, "N",
     "rows of failed flushes (database locked, disk full) kept in memory and retried, oldest first; "
     "beyond this the oldest batches are dropped, counted and logged; ~80 bytes per row"},
    {"state-save", FT_OPT_DURATION, "1m", OFF(state_save_s), 0, 86400, "DURATION",
     "save the templates and sampling rates learnt from exporters to --db this often (and at exit), so a "
     "restart decodes at once; 0 = at exit only"},
    /* HTTP API, /metrics and the web page */
    {"http", FT_OPT_PATH, "127.0.0.1:8080", OFF(http), 0, 0, "HOST:PORT",
     "serve the HTTP API (/api/v1/...), /metrics and the web page on this address ([ADDR] for IPv6, port "
     "0 = any free port); 'off' = no HTTP server. Live mode, or --pcap with --serve"},
    {"http-threads", FT_OPT_U32, "2", OFF(http_threads), 1, 64, "N",
     "HTTP worker threads; a slow query holds one, never a receive worker"},
    {"http-max-connections", FT_OPT_U32, "64", OFF(http_max_connections), 1, 10000, "N",
     "open HTTP connections at most; one more is closed as soon as it is accepted (counted in /metrics)"},
    {"http-max-connections-per-ip", FT_OPT_U32, "16", OFF(http_max_per_ip), 0, 10000, "N",
     "open HTTP connections from one client address at most (more are closed at once, counted); 0 = only "
     "--http-max-connections"},
    {"http-timeout", FT_OPT_DURATION, "10s", OFF(http_timeout_s), 1, 3600, "DURATION",
     "close an HTTP connection idle (no request, no byte) for this long"},
    {"http-token-file", FT_OPT_PATH, NULL, OFF(http_token_file), 0, 0, "FILE",
     "require 'Authorization: Bearer TOKEN' on every HTTP endpoint but /healthz; TOKEN is the file's first "
     "line (read once at start; never logged; keep the file mode 0600)"},
    {"http-cert", FT_OPT_PATH, NULL, OFF(http_cert), 0, 0, "FILE",
     "serve HTTPS (TLS) instead of HTTP with this PEM certificate (chain: the server's first); needs --http-key; "
     "read once at start"},
    {"http-key", FT_OPT_PATH, NULL, OFF(http_key), 0, 0, "FILE",
     "the PEM private key of --http-cert (unencrypted; keep the file mode 0600)"},
    {"serve", FT_OPT_FLAG, NULL, OFF(serve), 0, 0, NULL,
     "with --pcap: after the capture, keep serving HTTP (--http) until SIGINT/SIGTERM"},
    {"user", FT_OPT_PATH, NULL, OFF(user), 0, 0, "NAME",
     "after binding the sockets and opening the database and files, switch to this user and its primary "
     "group (setgroups, setgid, setuid; needs root); the --db file's directory must stay writable by it"},
    {"log-level", FT_OPT_LOG_LEVEL, "info", OFF(log_level), 0, 0, "LEVEL",
     "error, warn, info or debug; logs go to stderr"},
    {"help", FT_OPT_ACTION, NULL, OFF(help), 0, 0, NULL, "show this help and exit"},
    {"version", FT_OPT_ACTION, NULL, OFF(version), 0, 0, NULL, "print the version and exit"},
};

#define N_OPTS (sizeof ft_opts / sizeof ft_opts[0])

const ft_opt *ft_config_option(size_t i)
{
    return i < N_OPTS ? &ft_opts[i] : NULL;
}

static void set_err(char *err, size_t err_len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t err_len, const char *fmt, ...)
{
    if (!err || !err_len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
}

const char *ft_listen_proto_name(ft_listen_proto p)
{
    return p == FT_LISTEN_SFLOW ? "sflow" : "netflow";
}

/* Decimal digits only (no sign, space or base prefix), value <= max. */
static int parse_u64(const char *s, uint64_t max, uint64_t *out, const char **end)
{
    uint64_t v = 0;
    const char *q = s;
    if (*q < '0' || *q > '9')
        return -1;
    for (; *q >= '0' && *q <= '9'; q++) {
        if (v > (UINT64_MAX - (uint64_t)(*q - '0')) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*q - '0');
    }
    if (v > max)
        return -1;
    *out = v;
    *end = q;
    return 0;
}

int ft_listen_url_parse(const char *s, ft_listen_url *out, char *err, size_t err_len)
{
    ft_listen_url u;
    memset(&u, 0, sizeof u);
    const char *rest;
    if (strncmp(s, "netflow://", 10) == 0) {
        u.proto = FT_LISTEN_NETFLOW;
        rest = s + 10;
    } else if (strncmp(s, "sflow://", 8) == 0) {
        u.proto = FT_LISTEN_SFLOW;
        rest = s + 8;
    } else {
        set_err(err, err_len, "'%s': expected netflow://ADDR:PORT or sflow://ADDR:PORT", s);
        return -1;
    }
    char host[FT_ADDR_STRLEN];
    const char *after;
    if (*rest == '[') {
        const char *close = strchr(rest, ']');
        size_t n = close ? (size_t)(close - rest - 1) : 0;
        if (!close || n == 0 || n >= sizeof host) {
            set_err(err, err_len, "'%s': bad bracketed IPv6 address", s);
            return -1;
        }
        memcpy(host, rest + 1, n);
        host[n] = 0;
        if (ft_addr_parse(host, &u.addr) != 0 || u.addr.family != 6) {
            set_err(err, err_len, "'%s': '%s' is not an IPv6 address", s, host);
            return -1;
        }
        after = close + 1;
    } else {
        const char *colon = strchr(rest, ':');
        if (colon && strchr(colon + 1, ':')) {
            set_err(err, err_len, "'%s': write IPv6 addresses in brackets, e.g. netflow://[::1]:2055", s);
            return -1;
        }
        size_t n = strcspn(rest, ":/");
        if (n == 0 || n >= sizeof host) {
            set_err(err, err_len, "'%s': missing or bad address", s);
            return -1;
        }
        memcpy(host, rest, n);
        host[n] = 0;
        after = rest + n;
        if (ft_addr_parse(host, &u.addr) != 0 || u.addr.family != 4) {
            set_err(err, err_len, "'%s': '%s' is not an IPv4 address (host names are not resolved)", s, host);
            return -1;
        }
    }
    if (*after == 0) {
        u.port = u.proto == FT_LISTEN_SFLOW ? FT_PORT_SFLOW : FT_PORT_NETFLOW;
    } else {
        uint64_t port;
        const char *end;
        if (*after != ':' || parse_u64(after + 1, 65535, &port, &end) != 0 || *end) {
            set_err(err, err_len, "'%s': bad port (expected :0..65535 after the address)", s);
            return -1;
        }
        u.port = (uint16_t)port;
    }
    *out = u;
    return 0;
}

int ft_http_addr_parse(const char *s, ft_addr *addr, uint16_t *port, char *err, size_t err_len)
{
    char host[FT_ADDR_STRLEN];
    const char *after;
    ft_addr a;
    if (*s == '[') {
        const char *close = strchr(s, ']');
        size_t n = close ? (size_t)(close - s - 1) : 0;
        if (!close || n == 0 || n >= sizeof host) {
            set_err(err, err_len, "'%s': bad bracketed IPv6 address", s);
            return -1;
        }
        memcpy(host, s + 1, n);
        host[n] = 0;
        if (ft_addr_parse(host, &a) != 0 || a.family != 6) {
            set_err(err, err_len, "'%s': '%s' is not an IPv6 address", s, host);
            return -1;
        }
        after = close + 1;
    } else {
        size_t n = strcspn(s, ":");
        if (n == 0 || n >= sizeof host || strchr(s + n + (s[n] != 0), ':')) {
            set_err(err, err_len, "'%s': expected ADDR:PORT, [IPv6]:PORT or off", s);
            return -1;
        }
        memcpy(host, s, n);
        host[n] = 0;
        if (ft_addr_parse(host, &a) != 0 || a.family != 4) {
            set_err(err, err_len, "'%s': '%s' is not an IPv4 address (host names are not resolved)", s, host);
            return -1;
        }
        after = s + n;
    }
    uint64_t p;
    const char *end;
    if (*after != ':' || parse_u64(after + 1, 65535, &p, &end) != 0 || *end) {
        set_err(err, err_len, "'%s': bad port (expected :0..65535 after the address)", s);
        return -1;
    }
    *addr = a;
    *port = (uint16_t)p;
    return 0;
}

char *ft_listen_url_format(const ft_listen_url *u, uint16_t port, char *buf)
{
    char a[FT_ADDR_STRLEN];
    ft_addr_format(&u->addr, a);
    snprintf(buf, FT_LISTEN_URL_STRLEN, u->addr.family == 6 ? "%s://[%s]:%u" : "%s://%s:%u",
             ft_listen_proto_name(u->proto), a, (unsigned)port);
    return buf;
}

/* CIDR=N, N in 1..2^31 (RFC 3954 §8 SAMPLING_INTERVAL is 4 bytes; 2^31 keeps
 * it positive in every consumer). */
static int parse_sampling(const char *s, ft_sampling_override *out, char *err, size_t err_len)
{
    const char *eq = strrchr(s, '=');
    char prefix[FT_ADDR_STRLEN + 8];
    size_t n = eq ? (size_t)(eq - s) : 0;
    if (!eq || n == 0 || n >= sizeof prefix) {
        set_err(err, err_len, "'%s': expected CIDR=N, e.g. 192.0.2.0/24=1000", s);
        return -1;
    }
    memcpy(prefix, s, n);
    prefix[n] = 0;
    ft_sampling_override o;
    if (ft_cidr_parse(prefix, &o.prefix) != 0) {
        set_err(err, err_len, "'%s': '%s' is not an address prefix (ADDR/LEN)", s, prefix);
        return -1;
    }
    uint64_t rate;
    const char *end;
    if (parse_u64(eq + 1, UINT64_MAX, &rate, &end) != 0 || *end || rate < 1 || rate > (1ull << 31)) {
        set_err(err, err_len, "'%s': the rate must be an integer from 1 to 2147483648", s);
        return -1;
    }
    o.rate = rate;
    *out = o;
    return 0;
}

static int parse_bool(const char *v, bool *out)
{
    static const char *const yes[] = {"1", "true", "yes", "on"}, *const no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(v, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcmp(v, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

/* Grows an array by one element. Start-up only and tiny: abort on ENOMEM,
 * like every configuration allocation. */
static void *append(void *arr, size_t *n, size_t size)
{
    void *p = realloc(arr, (*n + 1) * size);
    if (!p)
        abort();
    (*n)++;
    return p;
}

static int set_row(ft_config *c, const ft_opt *o, const char *v, char *err, size_t err_len)
{
    char *base = (char *)c + o->offset;
    switch (o->type) {
    case FT_OPT_FLAG:
    case FT_OPT_ACTION: {
        bool b = true;
        if (v && parse_bool(v, &b) != 0) {
            set_err(err, err_len, "--%s: '%s' is not a boolean (true/false)", o->name, v);
            return -1;
        }
        *(bool *)base = b;
        return 0;
    }
    case FT_OPT_U32:
    case FT_OPT_BYTES: {
        uint64_t x;
        const char *end;
        if (!v || parse_u64(v, UINT64_MAX, &x, &end) != 0) {
            set_err(err, err_len, "--%s: '%s' is not a number", o->name, v ? v : "");
            return -1;
        }
        if (o->type == FT_OPT_BYTES && *end) {
            unsigned shift = *end == 'k' || *end == 'K' ? 10 : *end == 'm' || *end == 'M' ? 20
                             : *end == 'g' || *end == 'G'                                 ? 30
                                                                                          : 0;
            if (!shift || end[1] || x > (UINT64_MAX >> shift)) {
                set_err(err, err_len, "--%s: '%s' is not a size (bytes, or with k/m/g)", o->name, v);
                return -1;
            }
            x <<= shift;
            end++;
        }
        if (*end) {
            set_err(err, err_len, "--%s: '%s' is not a number", o->name, v);
            return -1;
        }
        if (x < o->min || x > o->max) {
            set_err(err, err_len, "--%s: %s is out of range %llu..%llu", o->name, v,
                    (unsigned long long)o->min, (unsigned long long)o->max);
            return -1;
        }
        *(uint32_t *)base = (uint32_t)x;
        return 0;
    }
    case FT_OPT_DURATION: {
        uint64_t x;
        const char *end;
        static const struct {
            char suffix;
            uint32_t mul;
        } units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};
        if (!v || parse_u64(v, UINT32_MAX, &x, &end) != 0) {
            set_err(err, err_len, "--%s: '%s' is not a duration (e.g. 300, 90s, 5m, 2h, 30d)", o->name, v ? v : "");
            return -1;
        }
        uint32_t mul = *end ? 0 : 1;
        for (size_t i = 0; i < sizeof units / sizeof units[0] && *end; i++)
            if (*end == units[i].suffix && !end[1])
                mul = units[i].mul;
        if (!mul || x > UINT32_MAX / mul) {
            set_err(err, err_len, "--%s: '%s' is not a duration (e.g. 300, 90s, 5m, 2h, 30d)", o->name, v);
            return -1;
        }
        x *= mul;
        if (x < o->min || x > o->max) {
            set_err(err, err_len, "--%s: %s is out of range %llu..%llu seconds", o->name, v,
                    (unsigned long long)o->min, (unsigned long long)o->max);
            return -1;
        }
        *(uint32_t *)base = (uint32_t)x;
        return 0;
    }
    case FT_OPT_ENUM: {
        /* The choices are the '|'-separated words of the --help placeholder. */
        uint32_t idx = 0;
        for (const char *w = o->arg; v && *w; idx++) {
            size_t n = strcspn(w, "|");
            if (strlen(v) == n && strncmp(v, w, n) == 0) {
                *(uint32_t *)base = idx;
                return 0;
            }
            w += n + (w[n] == '|');
        }
        set_err(err, err_len, "--%s: '%s' is not one of %s", o->name, v ? v : "", o->arg);
        return -1;
    }
    case FT_OPT_PATH: {
        if (!v || !*v) {
            set_err(err, err_len, "--%s: empty value", o->name);
            return -1;
        }
        char *dup = strdup(v);
        if (!dup)
            abort();
        free(*(char **)base);
        *(char **)base = dup;
        return 0;
    }
    case FT_OPT_LOG_LEVEL:
        if (!v || ft_log_level_parse(v, (ft_log_level *)base) != 0) {
            set_err(err, err_len, "--%s: '%s' is not one of error, warn, info, debug", o->name, v ? v : "");
            return -1;
        }
        return 0;
    case FT_OPT_LISTEN: {
        ft_listen_url u;
        char why[256];
        if (!v || ft_listen_url_parse(v, &u, why, sizeof why) != 0) {
            set_err(err, err_len, "--%s %s", o->name, v ? why : "needs a URL");
            return -1;
        }
        c->listen = append(c->listen, &c->n_listen, sizeof *c->listen);
        c->listen[c->n_listen - 1] = u;
        return 0;
    }
    case FT_OPT_SAMPLING: {
        ft_sampling_override s;
        char why[256];
        if (!v || parse_sampling(v, &s, why, sizeof why) != 0) {
            set_err(err, err_len, "--%s %s", o->name, v ? why : "needs CIDR=N");
            return -1;
        }
        c->sampling = append(c->sampling, &c->n_sampling, sizeof *c->sampling);
        c->sampling[c->n_sampling - 1] = s;
        return 0;
    }
    case FT_OPT_CIDR_LIST: {
        ft_cidr cidr;
        if (!v || ft_cidr_parse(v, &cidr) != 0) {
            set_err(err, err_len, "--%s: '%s' is not a prefix (a.b.c.d/len, x::y/len or an address)", o->name,
                    v ? v : "");
            return -1;
        }
        c->allow_exporter = append(c->allow_exporter, &c->n_allow_exporter, sizeof *c->allow_exporter);
        c->allow_exporter[c->n_allow_exporter - 1] = cidr;
        return 0;
    }
    case FT_OPT_CHOICE:
        for (size_t i = 0; v && o->choices[i]; i++) {
            if (strcmp(v, o->choices[i]) == 0) {
                *(const char **)base = o->choices[i];
                return 0;
            }
        }
    {
        char list[128] = "";
        for (size_t i = 0; o->choices[i]; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", o->choices[i]);
        set_err(err, err_len, "--%s: '%s' is not one of %s", o->name, v ? v : "", list);
        return -1;
    }
    case FT_OPT_STRING: {
        char *dup = strdup(v ? v : "");
        if (!dup)
            abort();
        free(*(char **)base);
        *(char **)base = dup;
        return 0;
    }
    case FT_OPT_KV_LIST: {
        if (!v || !strchr(v, '=') || *v == '=') {
            set_err(err, err_len, "--%s: expected NAME=VALUE", o->name); /* the value may be a secret: not echoed */
            return -1;
        }
        ft_strlist *l = (ft_strlist *)base;
        char *dup = strdup(v);
        if (!dup)
            abort();
        l->v = append(l->v, &l->n, sizeof *l->v);
        l->v[l->n - 1] = dup;
        return 0;
    }
    }
    set_err(err, err_len, "--%s: unsupported option type", o->name);
    return -1;
}

static const ft_opt *find_opt(const char *name)
{
    for (size_t i = 0; i < N_OPTS; i++)
        if (strcmp(ft_opts[i].name, name) == 0)
            return &ft_opts[i];
    return NULL;
}

int ft_config_set(ft_config *c, const char *name, const char *value, char *err, size_t err_len)
{
    const ft_opt *o = find_opt(name);
    if (!o) {
        set_err(err, err_len, "unknown option '%s'", name);
        return -1;
    }
    return set_row(c, o, value, err, err_len);
}

void ft_config_init(ft_config *c)
{
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < N_OPTS; i++) {
        if (!ft_opts[i].def)
            continue;
        /* A default that does not parse is a bug in the table: fail loudly. */
        char err[256];
        if (set_row(c, &ft_opts[i], ft_opts[i].def, err, sizeof err) != 0) {
            fprintf(stderr, "flowtally: bad built-in default: %s\n", err);
            abort();
        }
    }
}

void ft_config_free(ft_config *c)
{
    if (!c)
        return;
    free(c->config_file);
    free(c->listen);
    free(c->sampling);
    free(c->allow_exporter);
    free(c->http_token_file);
    free(c->http_cert);
    free(c->http_key);
    free(c->user);
    free(c->pcap);
    free(c->kafka_brokers);
    free(c->kafka_topic);
    free(c->kafka_key);
    for (size_t i = 0; i < c->kafka_props.n; i++)
        free(c->kafka_props.v[i]);
    free(c->kafka_props.v);
    free(c->kafka_rollup_topic);
    free(c->geoip_country);
    free(c->geoip_asn);
    free(c->geoip_country_key);
    free(c->geoip_asn_key);
    free(c->db);
    free(c->http);
    /* Zeroed, not re-initialised: a default may be an allocated string
     * (--kafka-topic), which would outlive the free. */
    memset(c, 0, sizeof *c);
}

int ft_config_finish(ft_config *c, char *err, size_t err_len)
{
    if (c->pcap && c->n_listen) {
        set_err(err, err_len, "--pcap and --listen cannot be combined (--pcap opens no listener)");
        return -1;
    }
    if (!c->pcap && c->n_listen == 0) {
        char why[256];
        if (ft_config_set(c, "listen", "netflow://0.0.0.0:2055", why, sizeof why) != 0 ||
            ft_config_set(c, "listen", "sflow://0.0.0.0:6343", why, sizeof why) != 0) {
            set_err(err, err_len, "%s", why);
            return -1;
        }
    }
    c->http_off = c->http && strcmp(c->http, "off") == 0;
    if (c->http && !c->http_off) {
        char why[256];
        if (ft_http_addr_parse(c->http, &c->http_addr, &c->http_port, why, sizeof why) != 0) {
            set_err(err, err_len, "--http %s", why);
            return -1;
        }
    }
    if (!c->http_cert != !c->http_key) {
        set_err(err, err_len, "--%s needs --%s FILE (HTTPS takes both, in PEM)", c->http_cert ? "http-cert" : "http-key",
                c->http_cert ? "http-key" : "http-cert");
        return -1;
    }
    if (c->serve && !c->pcap) {
        set_err(err, err_len, "--serve applies to --pcap only (live mode serves HTTP while it runs)");
        return -1;
    }
    if (c->serve && c->http_off) {
        set_err(err, err_len, "--serve needs the HTTP server: drop --http off");
        return -1;
    }
    if (c->kafka_batch > 1 && c->framing && strcmp(c->framing, "plain") == 0) {
        set_err(err, err_len, "--kafka-batch %u packs several FlowMessages into one Kafka message, each after its "
                "varint length: --framing plain cannot carry them (drop --framing, or use delimited)",
                (unsigned)c->kafka_batch);
        return -1;
    }
    ft_kafka_key key;
    if (c->kafka_key && ft_kafka_key_parse(c->kafka_key, &key, err, err_len) != 0)
        return -1;
    if (ft_config_kafka_rollup_topic(c) && ft_kafka_rollup_topic_check(c->kafka_rollup_topic, err, err_len) != 0)
        return -1;
    if ((c->asn_source == FT_ASN_GEOIP || c->asn_source == FT_ASN_PREFER_GEOIP) && !c->geoip_asn) {
        set_err(err, err_len, "--asn-source %s needs --geoip-asn FILE", c->asn_source == FT_ASN_GEOIP ? "geoip"
                                                                                                  : "prefer-geoip");
        return -1;
    }
    if ((c->geoip_country_key && !c->geoip_country) || (c->geoip_asn_key && !c->geoip_asn)) {
        set_err(err, err_len, "--%s needs --%s FILE", c->geoip_country_key && !c->geoip_country
                ? "geoip-country-key" : "geoip-asn-key", c->geoip_country_key && !c->geoip_country
                ? "geoip-country" : "geoip-asn");
        return -1;
    }
    /* The same address and port twice would silently share one port through
     * SO_REUSEPORT and split its traffic: refuse it. */
    for (size_t i = 0; i < c->n_listen; i++) {
        for (size_t j = 0; j < i; j++) {
            const ft_listen_url *a = &c->listen[i], *b = &c->listen[j];
            if (a->port && a->port == b->port && ft_addr_eq(&a->addr, &b->addr)) {
                char s[FT_LISTEN_URL_STRLEN];
                set_err(err, err_len, "--listen %s is given twice", ft_listen_url_format(a, a->port, s));
                return -1;
            }
        }
    }
    return 0;
}

/* A repeatable option: its values form a list that a later source may
 * replace as a whole. */
static bool repeatable(const ft_opt *o)
{
    return o->type == FT_OPT_LISTEN || o->type == FT_OPT_SAMPLING || o->type == FT_OPT_CIDR_LIST ||
           o->type == FT_OPT_KV_LIST;
}

/* Empties a repeatable option's list. */
static void clear_row(ft_config *c, const ft_opt *o)
{
    switch (o->type) {
    case FT_OPT_LISTEN:
        free(c->listen);
        c->listen = NULL;
        c->n_listen = 0;
        return;
    case FT_OPT_SAMPLING:
        free(c->sampling);
        c->sampling = NULL;
        c->n_sampling = 0;
        return;
    case FT_OPT_CIDR_LIST:
        free(c->allow_exporter);
        c->allow_exporter = NULL;
        c->n_allow_exporter = 0;
        return;
    case FT_OPT_KV_LIST: {
        ft_strlist *l = (ft_strlist *)((char *)c + o->offset);
        for (size_t i = 0; i < l->n; i++)
            free(l->v[i]);
        free(l->v);
        l->v = NULL;
        l->n = 0;
        return;
    }
    default:
        return;
    }
}

/* A command-line value. seen (N_OPTS entries) is given when a --config file
 * was read first: the first command-line occurrence of a repeatable option
 * drops the file's values of it (the command line replaces, config.h). */
static int set_cli(ft_config *c, const ft_opt *o, const char *v, bool *seen, char *err, size_t err_len)
{
    if (seen && repeatable(o) && !seen[o - ft_opts])
        clear_row(c, o);
    if (seen)
        seen[o - ft_opts] = true;
    return set_row(c, o, v, err, err_len);
}

/* One getopt_long pass over argv[1..argc): 0, or -1 with a message. */
static int parse_cli(ft_config *c, int argc, char *const *argv, bool *seen, char *err, size_t err_len)
{
    struct option longopts[N_OPTS + 1];
    for (size_t i = 0; i < N_OPTS; i++) {
        bool flag = ft_opts[i].type == FT_OPT_FLAG || ft_opts[i].type == FT_OPT_ACTION;
        longopts[i] = (struct option){ft_opts[i].name, flag ? no_argument : required_argument, NULL, 1000 + (int)i};
    }
    longopts[N_OPTS] = (struct option){NULL, 0, NULL, 0};

    /* Short aliases ("-X VALUE") after the built-in -h and -V. */
    char shorts[8 + 2 * N_OPTS] = "+:hV";
    for (size_t i = 0, n = strlen(shorts); i < N_OPTS; i++) {
        if (ft_opts[i].short_name) {
            shorts[n++] = ft_opts[i].short_name;
            if (ft_opts[i].type != FT_OPT_FLAG && ft_opts[i].type != FT_OPT_ACTION)
                shorts[n++] = ':';
            shorts[n] = 0;
        }
    }

    /* getopt permutes and keeps pointers into argv: work on a copy of the
     * pointer array so the caller's stays as it was. */
    char **av = calloc((size_t)argc + 1, sizeof *av);
    if (!av)
        abort();
    for (int i = 0; i < argc; i++)
        av[i] = argv[i];

    int rc = -1;
    /* "+": stop at the first non-option (no permutation), so the option just
     * returned is av[before] and can be checked for an exact name; ":": report
     * a missing value as ':' rather than printing. */
    opterr = 0;
    optind = 0; /* GNU: full re-initialisation, so parsing can run again */
    for (;;) {
        int before = optind ? optind : 1;
        int k = getopt_long(argc, av, shorts, longopts, NULL);
        if (k == -1)
            break;
        if (k == 'h' || k == 'V') {
            if (k == 'h')
                c->help = true;
            else
                c->version = true;
            continue;
        }
        if (k == '?') {
            if (optopt >= 1000)
                set_err(err, err_len, "option '--%s' takes no value", ft_opts[optopt - 1000].name);
            else if (optopt)
                set_err(err, err_len, "unknown option '-%c'", optopt);
            else
                set_err(err, err_len, "unknown option '%s'", av[optind - 1]);
            goto out;
        }
        const ft_opt *alias = NULL;
        for (size_t i = 0; k > 0 && k < 1000 && i < N_OPTS; i++)
            if (ft_opts[i].short_name == (k == ':' ? optopt : k))
                alias = &ft_opts[i];
        if (k == ':' && alias) {
            set_err(err, err_len, "option '-%c' needs a value (%s)", optopt, alias->arg);
            goto out;
        }
        if (alias) {
            if (set_cli(c, alias, optarg, seen, err, err_len) != 0)
                goto out;
            continue;
        }
        if (k == ':') {
            if (optopt >= 1000)
                set_err(err, err_len, "option '--%s' needs a value (%s)", ft_opts[optopt - 1000].name,
                        ft_opts[optopt - 1000].arg);
            else
                set_err(err, err_len, "option '-%c' needs a value", optopt);
            goto out;
        }
        const ft_opt *o = &ft_opts[k - 1000];
        /* getopt_long accepts any unambiguous prefix (--work); a prefix that is
         * unique today becomes ambiguous when an option is added, so scripts
         * would break on upgrade: insist on the full name. */
        const char *text = av[before];
        size_t nl = strlen(o->name);
        if (strncmp(text, "--", 2) != 0 || strncmp(text + 2, o->name, nl) != 0 ||
            (text[2 + nl] != 0 && text[2 + nl] != '=')) {
            set_err(err, err_len, "unknown option '%.*s' (did you mean '--%s'?)",
                    (int)strcspn(text, "="), text, o->name);
            goto out;
        }
        if (set_cli(c, o, optarg, seen, err, err_len) != 0)
            goto out;
    }
    if (optind < argc) {
        set_err(err, err_len, "unexpected argument '%s' (options start with --)", av[optind]);
        goto out;
    }
    rc = 0;
out:
    free(av);
    return rc;
}

int ft_config_parse_args(ft_config *c, int argc, char *const *argv, char *err, size_t err_len)
{
    if (parse_cli(c, argc, argv, NULL, err, err_len) != 0)
        return FT_CONFIG_USAGE;
    if (c->help || c->version)
        return FT_CONFIG_OK; /* nothing else matters */
    if (c->config_file) {
        /* Start again from the defaults: the file, then the command line
         * over it. */
        char *path = strdup(c->config_file);
        if (!path)
            abort();
        ft_config_free(c);
        ft_config_init(c);
        bool seen[N_OPTS];
        memset(seen, 0, sizeof seen);
        int rc = ft_config_load_file(c, path, err, err_len) != 0 || parse_cli(c, argc, argv, seen, err, err_len) != 0
                     ? -1 : 0;
        free(path);
        if (rc != 0)
            return FT_CONFIG_USAGE;
        /* --pcap on the command line replays a capture with the daemon's
         * file: the file's listeners (which --pcap excludes) give way. */
        const ft_opt *pcap = find_opt("pcap"), *listen = find_opt("listen");
        if (seen[pcap - ft_opts] && !seen[listen - ft_opts])
            clear_row(c, listen);
    }
    if (ft_config_finish(c, err, err_len) != 0)
        return FT_CONFIG_USAGE;
    return FT_CONFIG_OK;
}

/* Blanks at both ends of [s, s + n): the trimmed start, its length in *n. */
static char *trim(char *s, size_t *n)
{
    while (*n && (*s == ' ' || *s == '\t')) {
        s++;
        (*n)--;
    }
    while (*n && (s[*n - 1] == ' ' || s[*n - 1] == '\t' || s[*n - 1] == '\r' || s[*n - 1] == '\n'))
        (*n)--;
    s[*n] = 0;
    return s;
}

int ft_config_load_file(ft_config *c, const char *path, char *err, size_t err_len)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        set_err(err, err_len, "--config %s: %s", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    int rc = -1;
    unsigned lineno = 0;
    ssize_t got;
    errno = 0;
    while ((got = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if (memchr(line, 0, (size_t)got)) {
            set_err(err, err_len, "%s:%u: a NUL byte (not a text file?)", path, lineno);
            goto out;
        }
        size_t n = (size_t)got;
        char *text = trim(line, &n);
        if (n == 0 || *text == '#')
            continue;
        char *eq = strchr(text, '=');
        size_t kn = eq ? (size_t)(eq - text) : n;
        char *key = trim(text, &kn);
        char *value = NULL;
        if (eq) {
            size_t vn = strlen(eq + 1);
            value = trim(eq + 1, &vn);
        }
        const ft_opt *o = *key ? find_opt(key) : NULL;
        if (!o) {
            if (!*key)
                set_err(err, err_len, "%s:%u: expected 'name = value'", path, lineno);
            else if (strncmp(key, "--", 2) == 0 && find_opt(key + 2))
                set_err(err, err_len, "%s:%u: write '%s' without the dashes", path, lineno, key + 2);
            else
                set_err(err, err_len, "%s:%u: unknown option '%s'", path, lineno, key);
            goto out;
        }
        if (o->type == FT_OPT_ACTION || o->offset == OFF(config_file)) {
            set_err(err, err_len, "%s:%u: '%s' cannot be set in a configuration file", path, lineno, key);
            goto out;
        }
        if (!eq && o->type != FT_OPT_FLAG) {
            set_err(err, err_len, "%s:%u: '%s' needs a value ('%s = %s')", path, lineno, key, key, o->arg);
            goto out;
        }
        char why[512];
        if (set_row(c, o, value, why, sizeof why) != 0) {
            set_err(err, err_len, "%s:%u: %s", path, lineno, why);
            goto out;
        }
    }
    if (ferror(f)) {
        set_err(err, err_len, "--config %s: read error: %s", path, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    free(line);
    fclose(f);
    return rc;
}

static bool str_eq(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static bool cidr_eq(const ft_cidr *a, const ft_cidr *b)
{
    return a->bits == b->bits && ft_addr_eq(&a->addr, &b->addr);
}

/* True when option o has the same value in a and b. */
static bool row_eq(const ft_config *a, const ft_config *b, const ft_opt *o)
{
    const char *pa = (const char *)a + o->offset, *pb = (const char *)b + o->offset;
    switch (o->type) {
    case FT_OPT_FLAG:
    case FT_OPT_ACTION:
        return *(const bool *)pa == *(const bool *)pb;
    case FT_OPT_U32:
    case FT_OPT_BYTES:
    case FT_OPT_DURATION:
    case FT_OPT_ENUM:
        return *(const uint32_t *)pa == *(const uint32_t *)pb;
    case FT_OPT_LOG_LEVEL:
        return a->log_level == b->log_level;
    case FT_OPT_PATH:
    case FT_OPT_STRING:
    case FT_OPT_CHOICE:
        return str_eq(*(const char *const *)pa, *(const char *const *)pb);
    case FT_OPT_LISTEN:
        if (a->n_listen != b->n_listen)
            return false;
        for (size_t i = 0; i < a->n_listen; i++)
            if (a->listen[i].proto != b->listen[i].proto || a->listen[i].port != b->listen[i].port ||
                !ft_addr_eq(&a->listen[i].addr, &b->listen[i].addr))
                return false;
        return true;
    case FT_OPT_SAMPLING:
        if (a->n_sampling != b->n_sampling)
            return false;
        for (size_t i = 0; i < a->n_sampling; i++)
            if (a->sampling[i].rate != b->sampling[i].rate || !cidr_eq(&a->sampling[i].prefix, &b->sampling[i].prefix))
                return false;
        return true;
    case FT_OPT_CIDR_LIST:
        if (a->n_allow_exporter != b->n_allow_exporter)
            return false;
        for (size_t i = 0; i < a->n_allow_exporter; i++)
            if (!cidr_eq(&a->allow_exporter[i], &b->allow_exporter[i]))
                return false;
        return true;
    case FT_OPT_KV_LIST: {
        const ft_strlist *la = (const ft_strlist *)pa, *lb = (const ft_strlist *)pb;
        if (la->n != lb->n)
            return false;
        for (size_t i = 0; i < la->n; i++)
            if (strcmp(la->v[i], lb->v[i]) != 0)
                return false;
        return true;
    }
    }
    return false;
}

void ft_config_diff(const ft_config *a, const ft_config *b, void (*cb)(void *arg, const struct ft_opt *o), void *arg)
{
    for (size_t i = 0; i < N_OPTS; i++) {
        const ft_opt *o = &ft_opts[i];
        if (o->type == FT_OPT_ACTION || o->offset == OFF(config_file))
            continue;
        if (!row_eq(a, b, o))
            cb(arg, o);
    }
}

void ft_config_usage(FILE *out)
{
    fprintf(out, "Usage: flowtally [OPTION]...\n"
                 "Collect NetFlow v5, NetFlow v9, IPFIX and sFlow v5 flow records over UDP (or\n"
                 "from a capture file), print them as JSON lines or protobuf, produce them to\n"
                 "Kafka as goflow/goflow2 FlowMessage records, and add them up in 5-minute\n"
                 "windows by AS, port, country and interface into SQLite.\n\nOptions:\n");
    for (size_t i = 0; i < N_OPTS; i++) {
        const ft_opt *o = &ft_opts[i];
        char head[64], text[512];
        if (o->short_name)
            snprintf(head, sizeof head, "-%c, --%s%s%s", o->short_name, o->name, o->arg ? " " : "",
                     o->arg ? o->arg : "");
        else
            snprintf(head, sizeof head, "--%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        if (o->def && o->type != FT_OPT_FLAG && o->type != FT_OPT_ACTION)
            snprintf(text, sizeof text, "%s (default %s)", o->help, o->def);
        else
            snprintf(text, sizeof text, "%s", o->help);
        /* Two columns, the help wrapped at 79 characters. */
        enum { COL = 30, WIDTH = 79 };
        int col = fprintf(out, "  %-*s", COL - 3, head);
        if (col > COL - 1) {
            fputc('\n', out);
            col = fprintf(out, "%*s", COL - 1, "");
        }
        for (const char *w = text; *w;) {
            size_t n = strcspn(w, " ");
            if (col + 1 + (int)n > WIDTH && col > COL - 1) {
                fputc('\n', out);
                col = fprintf(out, "%*s", COL - 1, "");
            }
            col += fprintf(out, " %.*s", (int)n, w);
            w += n;
            while (*w == ' ')
                w++;
        }
        fputc('\n', out);
    }
    fprintf(out, "\nWithout --listen and --pcap, flowtally listens on netflow://0.0.0.0:2055 and\n"
                 "sflow://0.0.0.0:6343. It runs until SIGINT or SIGTERM (or the end of --pcap).\n"
                 "Exit status: 0 success, 1 runtime failure (e.g. cannot bind), 2 usage error.\n");
}

bool ft_config_db_off(const ft_config *c)
{
    return c->db && strcmp(c->db, "off") == 0;
}

const char *ft_config_db_path(const ft_config *c)
{
    return ft_config_db_off(c) ? NULL : c->db ? c->db : FT_DB_DEFAULT;
}

const char *ft_config_kafka_rollup_topic(const ft_config *c)
{
    if (!c->kafka_brokers || !*c->kafka_brokers || !c->kafka_rollup_topic || !*c->kafka_rollup_topic ||
        strcmp(c->kafka_rollup_topic, "off") == 0)
        return NULL;
    return c->kafka_rollup_topic;
}

void ft_config_decoder_opts(const ft_config *c, ft_decoder_opts *o)
{
    ft_decoder_opts_default(o);
    o->template_timeout_s = c->template_timeout_s;
    o->max_exporters = c->max_exporters;
    o->max_templates_per_exporter = c->max_templates;
    o->pending_max_sets = c->pending_max_sets;
    o->pending_max_bytes = c->pending_max_bytes;
    o->pending_max_age_s = c->pending_max_age_s;
    o->overrides = c->sampling;
    o->n_overrides = c->n_sampling;
}
