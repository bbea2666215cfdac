/*
 * config.h - flowtally's configuration, from one option table.
 *
 * Every option is one row of a table {name, type, default, offsetof, bounds,
 * help} (config.c: ft_opts). The same table drives:
 *   - the command line (getopt_long: "--name VALUE" or "--name=VALUE");
 *   - errors for unknown options and bad values, naming the option;
 *   - the --help text (units and defaults from the row);
 *   - `--config FILE` of "name = value" lines (ft_config_load_file): each
 *     line goes through the very setter a command-line option does, so the
 *     file and the CLI cannot disagree on names or validation.
 * Repeatable options (--listen, --sampling-rate, --allow-exporter,
 * --kafka-opt) append; every other option keeps its last value.
 *
 * Precedence: built-in defaults, then the --config file, then the command
 * line. A repeatable option given on the command line REPLACES the file's
 * values of that option (its command-line occurrences then append to each
 * other); one not given on the command line keeps the file's values.
 * --pcap on the command line also drops the file's --listen values (a
 * capture is replayed with the daemon's file; the two exclude each other).
 *
 * Ownership: ft_config owns its arrays and strings; ft_config_free releases
 * them. The config is built once on the main thread and read-only after.
 */
#ifndef FT_CONFIG_H
#define FT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/addr.h"
#include "core/log.h"
#include "decode/decoder.h"

/* What a listener expects to receive. Any listener decodes any protocol
 * (sniffed from the payload); the scheme names the listener and sets the
 * default port. */
typedef enum ft_listen_proto { FT_LISTEN_NETFLOW = 0, FT_LISTEN_SFLOW } ft_listen_proto;

#define FT_PORT_NETFLOW 2055 /* customary NetFlow/IPFIX port (IANA 4739 is IPFIX's) */
#define FT_PORT_SFLOW 6343   /* IANA sflow */

/* One --listen URL: scheme://ADDR:PORT, ADDR an IPv4 literal or a bracketed
 * IPv6 literal; PORT 0..65535 (0 = ephemeral), the scheme's default when
 * omitted. */
typedef struct ft_listen_url {
    ft_listen_proto proto;
    ft_addr addr;    /* family 4 or 6 */
    uint16_t port;   /* host order; 0 = let the kernel choose */
} ft_listen_url;

/* Longest text of a listen URL ("sflow://[ffff:...]:65535"). */
#define FT_LISTEN_URL_STRLEN (16 + FT_ADDR_STRLEN + 8)

/* A repeatable string option's values, in order; strings owned. */
typedef struct ft_strlist {
    char **v;
    size_t n;
} ft_strlist;

/* Every option of the command line. Units in the trailing comments. */
typedef struct ft_config {
    char *config_file;      /* --config FILE, owned; NULL = none */
    ft_listen_url *listen;  /* --listen, in order; owned */
    size_t n_listen;
    uint32_t workers;       /* --workers: receive threads (sockets) per listener, 1..64 */
    uint32_t rcvbuf;        /* --rcvbuf: socket receive buffer, bytes; 0 = kernel default */
    char *pcap;             /* --pcap FILE, owned; NULL = live mode */
    bool print;             /* --print: flow records as JSON lines on stdout */
    bool stats;             /* --stats: exporter counters as JSON lines on stderr at exit */
    /* Kafka raw output and protobuf records (kafka/producer.h, flow/flow_pb.h) */
    const char *print_format;     /* --print-format: "json" | "pb"; points into the option table */
    const char *format;           /* --format: "goflow" | "goflow2" */
    const char *framing;          /* --framing: "plain" | "delimited"; NULL = the format's own */
    char *kafka_brokers;          /* --kafka-brokers, owned; NULL or "" = Kafka off */
    char *kafka_topic;            /* --kafka-topic, owned */
    char *kafka_key;              /* --kafka-key FIELD[,FIELD...], owned; NULL = no key */
    const char *kafka_compression; /* --kafka-compression: none|gzip|snappy|lz4|zstd */
    ft_strlist kafka_props;       /* -X/--kafka-opt NAME=VALUE, in order */
    bool kafka_block;             /* --kafka-block: wait on a full local queue */
    uint32_t kafka_flush_timeout_ms; /* --kafka-flush-timeout, milliseconds */
    uint32_t kafka_batch;         /* --kafka-batch: records per Kafka message, 1..FT_KAFKA_BATCH_MAX;
                                     > 1 = delimited framing (--framing plain refused) */
    char *kafka_rollup_topic;     /* --kafka-rollup-topic, owned; may hold {dimension}; "off" = none */
    const char *kafka_rollup_encoding; /* --kafka-rollup-encoding: "protobuf" | "json" */
    ft_cidr *allow_exporter;      /* --allow-exporter CIDR, in order; owned; none = every source allowed */
    size_t n_allow_exporter;
    ft_sampling_override *sampling; /* --sampling-rate CIDR=N, in order; owned */
    size_t n_sampling;
    uint32_t template_timeout_s;  /* --template-timeout, seconds */
    uint32_t max_exporters;       /* --max-exporters, per worker */
    uint32_t max_templates;       /* --max-templates, per exporter */
    uint32_t pending_max_sets;    /* --pending-max-sets, per exporter */
    uint32_t pending_max_bytes;   /* --pending-max-bytes, per exporter, bytes */
    uint32_t pending_max_age_s;   /* --pending-max-age, seconds */
    /* enrichment, windows and SQLite rollups (src/enrich, src/window, src/store) */
    char *geoip_country;          /* --geoip-country FILE (.mmdb), owned; NULL = no countries */
    char *geoip_asn;              /* --geoip-asn FILE (.mmdb), owned; NULL = router ASNs only */
    char *geoip_country_key;      /* --geoip-country-key a.b path, owned; NULL = detect the layout */
    char *geoip_asn_key;          /* --geoip-asn-key a.b path, owned; NULL = detect the layout */
    uint32_t asn_source;          /* --asn-source: ft_asn_source (enrich/geo.h) */
    uint32_t window_s;            /* --window, seconds */
    uint32_t lateness_s;          /* --lateness, seconds */
    uint32_t event_time;          /* --event-time: 0 flow-end, 1 received */
    bool rollup_by_exporter;      /* --rollup-by-exporter */
    uint32_t max_keys;            /* --max-keys, per window, dimension and table */
    char *db;                     /* --db FILE, owned; NULL = FT_DB_DEFAULT; "off" = no windows, no SQLite */
    uint32_t retention_s;         /* --retention, seconds; 0 = keep every window */
    uint32_t db_retry_rows;       /* --db-retry-rows: bound of the SQLite retry backlog, rows */
    uint32_t state_save_s;        /* --state-save, seconds; 0 = at shutdown only */
    /* HTTP API, /metrics and the web page (src/http) */
    char *http;                   /* --http HOST:PORT or "off", owned; parsed into http_addr/http_port */
    bool http_off;                /* --http off */
    ft_addr http_addr;            /* address to bind, family 4 or 6 */
    uint16_t http_port;           /* host order; 0 = any free port */
    uint32_t http_threads;        /* --http-threads: libmicrohttpd's thread pool */
    uint32_t http_max_connections; /* --http-max-connections: open connections at most */
    uint32_t http_max_per_ip;     /* --http-max-connections-per-ip: from one client address; 0 = no own limit */
    uint32_t http_timeout_s;      /* --http-timeout: idle connections close after this, seconds */
    char *http_token_file;        /* --http-token-file FILE, owned; NULL = no authentication */
    char *http_cert;              /* --http-cert FILE (PEM), owned; NULL = plain HTTP (with http_key: HTTPS) */
    char *http_key;               /* --http-key FILE (PEM), owned; given with http_cert only */
    bool serve;                   /* --serve: with --pcap, keep serving HTTP after the capture */
    char *user;                   /* --user NAME, owned; NULL = keep the starting user */
    ft_log_level log_level;       /* --log-level */
    bool help;                    /* --help was given: print ft_config_usage, exit 0 */
    bool version;                 /* --version was given: print "flowtally 0.1.0", exit 0 */
} ft_config;

/* --event-time values (FT_OPT_CHOICE order). */
#define FT_EVENT_TIME_FLOW_END 0
#define FT_EVENT_TIME_RECEIVED 1

/* True when --db asks for no database ("off"). */
bool ft_config_db_off(const ft_config *c);
/* The database file: --db, FT_DB_DEFAULT without it, NULL when off. */
#define FT_DB_DEFAULT "flowtally.db"
const char *ft_config_db_path(const ft_config *c);
/* The Kafka rollup topic (template): --kafka-rollup-topic when
 * --kafka-brokers names brokers, NULL when Kafka is off or the topic is
 * "off" or "". */
const char *ft_config_kafka_rollup_topic(const ft_config *c);

#define FT_VERSION_STRING "flowtally 0.1.0"

/* ft_config_parse_args results. */
#define FT_CONFIG_OK 0    /* run with c */
#define FT_CONFIG_USAGE 2 /* bad command line: err holds the message; exit 2 */

/* Fills c with every default (no listeners yet: see ft_config_finish). */
void ft_config_init(ft_config *c);

/* Releases what c owns and leaves it zeroed (ft_config_init to use it
 * again). NULL is a no-op. */
void ft_config_free(ft_config *c);

/*
 * Sets option `name` (the long name without "--", e.g. "workers") from its
 * text value (NULL for flags; flags also accept "true"/"false"/"yes"/"no"/
 * "1"/"0" so a config file can say "print = true"). Repeatable options
 * append. Returns 0, or -1 with a message naming the option in err
 * (err_len bytes, NUL-terminated; may be truncated).
 */
int ft_config_set(ft_config *c, const char *name, const char *value, char *err, size_t err_len);

/*
 * Parses argv[1..argc) (getopt_long; resets getopt's state, so it can be
 * called more than once, e.g. by tests, or again on SIGHUP to re-read the
 * --config file). With --config FILE the command line is read twice: once
 * to find the file (and report command-line errors first), then, over the
 * file's values (ft_config_load_file), again, so the command line wins (see
 * the precedence above). Then ft_config_finish(). Returns
 * FT_CONFIG_OK, or FT_CONFIG_USAGE with a one-line message in err (unknown
 * option, missing or bad value, stray argument, conflicting options). argv
 * is not modified (getopt's permutation works on a copy). c must come from
 * ft_config_init.
 */
int ft_config_parse_args(ft_config *c, int argc, char *const *argv, char *err, size_t err_len);

/*
 * Reads a configuration file into c: one option per line, "name = value"
 * (name = the long option without "--"; blanks around both are ignored;
 * the value runs to the end of the line, '#' included, so a password or a
 * URL may hold one). Lines that are empty or whose first non-blank
 * character is '#' are comments. A flag may be given bare ("print") or as
 * "print = true|false" (also yes/no/on/off/1/0). A repeatable option is
 * repeated on several lines. "config", "help" and "version" cannot appear
 * in a file. Values are not quoted or unescaped.
 * Returns 0, or -1 with "FILE:LINE: message" in err (a file that cannot be
 * read: "FILE: errno text"). Values already in c stay unless a line sets
 * them. Does not call ft_config_finish.
 */
int ft_config_load_file(ft_config *c, const char *path, char *err, size_t err_len);

struct ft_opt;

/* Calls cb(arg, option) for every option of the table whose value differs
 * between a and b (both initialised, typically both finished). The
 * actions (--help, --version) and --config itself are never reported. */
void ft_config_diff(const ft_config *a, const ft_config *b, void (*cb)(void *arg, const struct ft_opt *o), void *arg);

/* Checks the options together and applies the defaults that depend on
 * others: without --listen and --pcap, listens on netflow://0.0.0.0:2055 and
 * sflow://0.0.0.0:6343. --pcap with --listen is an error. Returns 0 or -1
 * with a message in err. */
int ft_config_finish(ft_config *c, char *err, size_t err_len);

/* Writes the --help text, generated from the option table, to out. */
void ft_config_usage(FILE *out);

/* The decoder options of c. The overrides point into c (c must outlive
 * every decoder built from them). */
void ft_config_decoder_opts(const ft_config *c, ft_decoder_opts *o);

/* Parses --http's HOST:PORT: an IPv4 literal or a bracketed IPv6 literal,
 * then ':' and a port 0..65535 (0 = any free port). Returns 0 or -1 with a
 * message. */
int ft_http_addr_parse(const char *s, ft_addr *addr, uint16_t *port, char *err, size_t err_len);

/* Parses a listen URL (see ft_listen_url). Returns 0 or -1 with a message. */
int ft_listen_url_parse(const char *s, ft_listen_url *out, char *err, size_t err_len);

/* Writes "netflow://192.0.2.1:2055" / "sflow://[::1]:6343" into buf
 * (FT_LISTEN_URL_STRLEN bytes) with the given port; returns buf. */
char *ft_listen_url_format(const ft_listen_url *u, uint16_t port, char *buf);

/* "netflow" or "sflow". */
const char *ft_listen_proto_name(ft_listen_proto p);

/* One row of the option table. The CLI, a config file, --help and any
 * generated documentation all read these rows. */
typedef enum ft_opt_type {
    FT_OPT_FLAG,      /* bool; no value on the CLI */
    FT_OPT_ACTION,    /* bool that ends the run (--help, --version) */
    FT_OPT_U32,       /* decimal integer within [min, max] */
    FT_OPT_BYTES,     /* like U32, with an optional k/m/g suffix (x1024) */
    FT_OPT_PATH,      /* a string (owned copy) */
    FT_OPT_LOG_LEVEL, /* error|warn|info|debug */
    FT_OPT_LISTEN,    /* repeatable: appends an ft_listen_url */
    FT_OPT_SAMPLING,  /* repeatable: appends an ft_sampling_override from CIDR=N */
    FT_OPT_CHOICE,    /* one of `choices`; stores a pointer to the table's string */
    FT_OPT_STRING,    /* a string, empty allowed (owned copy) */
    FT_OPT_KV_LIST,   /* repeatable: appends NAME=VALUE to an ft_strlist */
    FT_OPT_DURATION,  /* uint32 seconds within [min, max]: N, Ns, Nm, Nh or Nd */
    FT_OPT_ENUM,      /* uint32 index of the value among arg's '|'-separated words */
    FT_OPT_CIDR_LIST, /* repeatable: appends an ft_cidr (ft_cidr_parse) */
} ft_opt_type;

typedef struct ft_opt {
    const char *name;  /* long option name and config-file key */
    ft_opt_type type;
    const char *def;   /* default, as text parsed like a value; NULL = none/empty */
    size_t offset;     /* offsetof(ft_config, field) */
    uint64_t min, max; /* bounds of U32/BYTES */
    const char *arg;   /* value placeholder in --help ("N", "URL"); NULL for flags */
    const char *help;  /* one line, units included */
    const char *const *choices; /* FT_OPT_CHOICE: the accepted values, NULL-terminated */
    char short_name;   /* a one-letter alias ("-X VALUE"), 0 = none */
} ft_opt;

/* Row i of the option table, or NULL past the end. */
const ft_opt *ft_config_option(size_t i);

#endif
