/*
 * config_test.c - the option table, command-line parsing and validation
 * (core/config.h).
 *
 * Oracles: the command-line contract of the project notes (option names,
 * defaults, netflow://[::1]:2055 URL form, exit 2 on usage errors), the
 * decoder's own defaults (ft_decoder_opts_default), and arithmetic done
 * here (4m = 4 x 2^20 bytes, 2^31 = 2147483648).
 */
#include "core/config.h"
#include "enrich/geo.h"
#include "kafka/rollup_sink.h"
#include "store/sqlite_store.h"

#include "test.h"

#include <stdlib.h>
#include <unistd.h>

/* Parses a NULL-terminated list of arguments (argv[0] added). */
static int run(ft_config *c, char *err, size_t n, const char *const *args)
{
    char *argv[64];
    int argc = 0;
    argv[argc++] = (char *)"flowtally";
    for (; *args; args++)
        argv[argc++] = (char *)*args;
    argv[argc] = NULL;
    ft_config_init(c);
    err[0] = 0;
    return ft_config_parse_args(c, argc, argv, err, n);
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

static void t_defaults(void)
{
    ft_config c;
    char err[256];
    ASSERT_EQ(run(&c, err, sizeof err, ARGS("--print")), FT_CONFIG_OK);
    ASSERT_EQ(c.print, 1);
    ASSERT_EQ(c.stats, 0);
    ASSERT_EQ(c.workers, 1);
    ASSERT_EQ(c.rcvbuf, 8u << 20);
    ASSERT_EQ(c.log_level, FT_LOG_INFO);
    ASSERT_TRUE(c.pcap == NULL);
    /* Without --listen/--pcap: netflow://0.0.0.0:2055 and sflow://0.0.0.0:6343. */
    ASSERT_EQ(c.n_listen, 2);
    char s[FT_LISTEN_URL_STRLEN];
    ASSERT_STR(ft_listen_url_format(&c.listen[0], c.listen[0].port, s), "netflow://0.0.0.0:2055");
    ASSERT_STR(ft_listen_url_format(&c.listen[1], c.listen[1].port, s), "sflow://0.0.0.0:6343");
    ft_config_free(&c);
}

/* The --help defaults of the decoder options are the decoder's own. */
static void t_decoder_defaults_agree(void)
{
    ft_config c;
    ft_config_init(&c);
    ft_decoder_opts mine, theirs;
    ft_config_decoder_opts(&c, &mine);
    ft_decoder_opts_default(&theirs);
    ASSERT_EQ(mine.template_timeout_s, theirs.template_timeout_s);
    ASSERT_EQ(mine.max_exporters, theirs.max_exporters);
    ASSERT_EQ(mine.max_templates_per_exporter, theirs.max_templates_per_exporter);
    ASSERT_EQ(mine.pending_max_sets, theirs.pending_max_sets);
    ASSERT_EQ(mine.pending_max_bytes, theirs.pending_max_bytes);
    ASSERT_EQ(mine.pending_max_age_s, theirs.pending_max_age_s);
    ASSERT_EQ(mine.n_overrides, 0);
    ft_config_free(&c);
}

static void t_every_option(void)
{
    ft_config c;
    char err[256];
    int rc = run(&c, err, sizeof err,
                 ARGS("--listen", "netflow://127.0.0.1:0", "--listen=sflow://[::1]:16343", "--listen",
                      "netflow://[2001:db8::5]", "--workers", "4", "--rcvbuf", "4m", "--print", "--stats",
                      "--sampling-rate", "192.0.2.0/24=1000", "--sampling-rate=2001:db8::/32=2147483648",
                      "--template-timeout", "600", "--max-exporters", "10", "--max-templates", "20",
                      "--pending-max-sets", "0", "--pending-max-bytes", "1k", "--pending-max-age", "5",
                      "--log-level", "debug"));
    if (rc != FT_CONFIG_OK)
        FT_FAIL("rejected: %s", err);
    ASSERT_EQ(c.n_listen, 3);
    char s[FT_LISTEN_URL_STRLEN];
    ASSERT_EQ(c.listen[0].proto, FT_LISTEN_NETFLOW);
    ASSERT_EQ(c.listen[0].port, 0);
    ASSERT_STR(ft_listen_url_format(&c.listen[0], 0, s), "netflow://127.0.0.1:0");
    ASSERT_EQ(c.listen[1].proto, FT_LISTEN_SFLOW);
    ASSERT_EQ(c.listen[1].addr.family, 6);
    ASSERT_STR(ft_listen_url_format(&c.listen[1], c.listen[1].port, s), "sflow://[::1]:16343");
    ASSERT_EQ(c.listen[2].port, 2055); /* the scheme's default port */
    ASSERT_EQ(c.workers, 4);
    ASSERT_EQ(c.rcvbuf, 4u << 20);
    ASSERT_EQ(c.print, 1);
    ASSERT_EQ(c.stats, 1);
    ASSERT_EQ(c.n_sampling, 2);
    ASSERT_EQ(c.sampling[0].rate, 1000);
    ASSERT_EQ(c.sampling[0].prefix.bits, 24);
    ASSERT_EQ(c.sampling[1].rate, 2147483648ull);
    ASSERT_EQ(c.sampling[1].prefix.addr.family, 6);
    ASSERT_EQ(c.template_timeout_s, 600);
    ASSERT_EQ(c.max_exporters, 10);
    ASSERT_EQ(c.max_templates, 20);
    ASSERT_EQ(c.pending_max_sets, 0);
    ASSERT_EQ(c.pending_max_bytes, 1024);
    ASSERT_EQ(c.pending_max_age_s, 5);
    ASSERT_EQ(c.log_level, FT_LOG_DEBUG);

    ft_decoder_opts o;
    ft_config_decoder_opts(&c, &o);
    ASSERT_EQ(o.template_timeout_s, 600);
    ASSERT_EQ(o.max_exporters, 10);
    ASSERT_EQ(o.max_templates_per_exporter, 20);
    ASSERT_EQ(o.pending_max_sets, 0);
    ASSERT_EQ(o.pending_max_bytes, 1024);
    ASSERT_EQ(o.pending_max_age_s, 5);
    ASSERT_EQ(o.n_overrides, 2);
    ASSERT_TRUE(o.overrides == c.sampling);
    ft_config_free(&c);
}

static void t_pcap_mode(void)
{
    ft_config c;
    char err[256];
    ASSERT_EQ(run(&c, err, sizeof err, ARGS("--pcap", "x.pcap", "--print")), FT_CONFIG_OK);
    ASSERT_STR(c.pcap, "x.pcap");
    ASSERT_EQ(c.n_listen, 0); /* no default listeners in --pcap mode */
    ft_config_free(&c);
    ASSERT_TRUE(c.pcap == NULL);
}

static void t_help_version(void)
{
    ft_config c;
    char err[256];
    ASSERT_EQ(run(&c, err, sizeof err, ARGS("--help")), FT_CONFIG_OK);
    ASSERT_EQ(c.help, 1);
    ft_config_free(&c);
    ASSERT_EQ(run(&c, err, sizeof err, ARGS("--version")), FT_CONFIG_OK);
    ASSERT_EQ(c.version, 1);
    ft_config_free(&c);
    ASSERT_STR(FT_VERSION_STRING, "flowtally 0.1.0");

    /* --help lists every option of the table. */
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ft_config_usage(f);
    fclose(f);
    for (size_t i = 0; ft_config_option(i); i++) {
        char want[64];
        snprintf(want, sizeof want, "--%s", ft_config_option(i)->name);
        if (!strstr(text, want))
            FT_FAIL("--help does not mention %s", want);
    }
    ASSERT_TRUE(strstr(text, "(default 1800)") != NULL);
    free(text);
}

/* argv survives parsing, and parsing twice gives the same result (getopt's
 * global state is reset). */
static void t_argv_untouched_and_reparse(void)
{
    char *argv[] = {(char *)"flowtally", (char *)"--print", (char *)"--workers", (char *)"3", NULL};
    char *copy[5];
    memcpy(copy, argv, sizeof argv);
    for (int round = 0; round < 2; round++) {
        ft_config c;
        char err[256];
        ft_config_init(&c);
        ASSERT_EQ(ft_config_parse_args(&c, 4, argv, err, sizeof err), FT_CONFIG_OK);
        ASSERT_EQ(c.workers, 3);
        ASSERT_EQ(memcmp(copy, argv, sizeof argv), 0);
        ft_config_free(&c);
    }
}

/* Each bad command line: exit code 2 and a message naming the problem. */
static void t_bad_command_lines(void)
{
    static const struct {
        const char *args[6];
        const char *want; /* substring of the message */
    } cases[] = {
        {{"--bogus"}, "unknown option '--bogus'"},
        {{"--work", "2"}, "unknown option '--work' (did you mean '--workers'?)"},
        {{"-x"}, "unknown option '-x'"},
        {{"stray"}, "unexpected argument 'stray'"},
        {{"--print", "--", "x"}, "unexpected argument 'x'"},
        {{"--workers"}, "option '--workers' needs a value"},
        {{"--print=yes"}, "option '--print' takes no value"},
        {{"--workers", "0"}, "--workers: 0 is out of range 1..64"},
        {{"--workers", "65"}, "--workers: 65 is out of range 1..64"},
        {{"--workers", "-1"}, "--workers: '-1' is not a number"},
        {{"--workers", "2x"}, "--workers: '2x' is not a number"},
        {{"--workers", ""}, "--workers: '' is not a number"},
        {{"--workers", " 2"}, "--workers: ' 2' is not a number"},
        {{"--workers", "99999999999999999999999"}, "--workers: '99999999999999999999999' is not a number"},
        {{"--rcvbuf", "3x"}, "--rcvbuf: '3x' is not a size"},
        {{"--rcvbuf", "4g"}, "--rcvbuf: 4g is out of range 0..2147483647"},
        {{"--template-timeout", "0"}, "--template-timeout: 0 is out of range"},
        {{"--log-level", "verbose"}, "--log-level: 'verbose' is not one of error, warn, info, debug"},
        {{"--pcap", ""}, "--pcap: empty value"},
        {{"--listen", "http://127.0.0.1:1"}, "--listen 'http://127.0.0.1:1': expected netflow://"},
        {{"--listen", "netflow://127.0.0.1:70000"}, "bad port"},
        {{"--listen", "netflow://127.0.0.1:"}, "bad port"},
        {{"--listen", "netflow://127.0.0.1:20/"}, "bad port"},
        {{"--listen", "netflow://127.0.0.1:-1"}, "bad port"},
        {{"--listen", "netflow://::1:2055"}, "in brackets"},
        {{"--listen", "netflow://[127.0.0.1]:2055"}, "is not an IPv6 address"},
        {{"--listen", "netflow://[::1:2055"}, "bad bracketed IPv6 address"},
        {{"--listen", "netflow://collector:2055"}, "'collector' is not an IPv4 address"},
        {{"--listen", "netflow://:2055"}, "missing or bad address"},
        {{"--listen", "netflow://300.1.1.1:2055"}, "is not an IPv4 address"},
        {{"--sampling-rate", "10.0.0.0/8=0"}, "the rate must be an integer from 1 to 2147483648"},
        {{"--sampling-rate", "10.0.0.0/8=2147483649"}, "the rate must be an integer from 1 to 2147483648"},
        {{"--sampling-rate", "10.0.0.0/8=1e3"}, "the rate must be an integer"},
        {{"--sampling-rate", "10.0.0.0/8="}, "the rate must be an integer"},
        {{"--sampling-rate", "10.0.0.0/33=10"}, "'10.0.0.0/33' is not an address prefix"},
        {{"--sampling-rate", "10.0.0.0/8"}, "expected CIDR=N"},
        {{"--sampling-rate", "=100"}, "expected CIDR=N"},
        {{"--pcap", "a.pcap", "--listen", "netflow://127.0.0.1:0"}, "--pcap and --listen cannot be combined"},
        {{"--listen", "netflow://127.0.0.1:2055", "--listen", "sflow://127.0.0.1:2055"},
         "--listen sflow://127.0.0.1:2055 is given twice"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ft_config c;
        char err[256];
        const char *args[7] = {0};
        memcpy(args, cases[i].args, sizeof cases[i].args);
        int rc = run(&c, err, sizeof err, args);
        if (rc != FT_CONFIG_USAGE)
            FT_FAIL("case %zu (%s %s): rc %d, want usage error", i, args[0], args[1] ? args[1] : "", rc);
        if (!strstr(err, cases[i].want))
            FT_FAIL("case %zu (%s %s): message \"%s\" lacks \"%s\"", i, args[0], args[1] ? args[1] : "", err,
                    cases[i].want);
        ft_config_free(&c);
    }
}

/* Port 0 twice is fine (two distinct ephemeral ports), and one port on two
 * addresses is fine. */
static void t_listen_not_duplicates(void)
{
    ft_config c;
    char err[256];
    ASSERT_EQ(run(&c, err, sizeof err,
                  ARGS("--listen", "netflow://127.0.0.1:0", "--listen", "netflow://127.0.0.1:0", "--listen",
                       "netflow://127.0.0.2:9000", "--listen", "netflow://127.0.0.1:9000")),
              FT_CONFIG_OK);
    ASSERT_EQ(c.n_listen, 4);
    ft_config_free(&c);
}

/* The key = value path a config file will take. */
static void t_set_by_name(void)
{
    ft_config c;
    char err[256];
    ft_config_init(&c);
    ASSERT_EQ(ft_config_set(&c, "print", "true", err, sizeof err), 0);
    ASSERT_EQ(c.print, 1);
    ASSERT_EQ(ft_config_set(&c, "print", "no", err, sizeof err), 0);
    ASSERT_EQ(c.print, 0);
    ASSERT_EQ(ft_config_set(&c, "print", "maybe", err, sizeof err), -1);
    ASSERT_TRUE(strstr(err, "--print") != NULL);
    ASSERT_EQ(ft_config_set(&c, "workers", "8", err, sizeof err), 0);
    ASSERT_EQ(c.workers, 8);
    ASSERT_EQ(ft_config_set(&c, "work", "8", err, sizeof err), -1);
    ASSERT_STR(err, "unknown option 'work'");
    ASSERT_EQ(ft_config_set(&c, "pcap", "a", err, sizeof err), 0);
    ASSERT_EQ(ft_config_set(&c, "pcap", "b", err, sizeof err), 0); /* last one wins, no leak */
    ASSERT_STR(c.pcap, "b");
    ft_config_free(&c);
}

/* Every row: a default parses with its own setter (ft_config_init aborts
 * otherwise), flags have no placeholder, valued options have one, and names
 * are unique. */
static void t_table_sane(void)
{
    for (size_t i = 0; ft_config_option(i); i++) {
        const ft_opt *o = ft_config_option(i);
        bool flag = o->type == FT_OPT_FLAG || o->type == FT_OPT_ACTION;
        ASSERT_EQ(flag, o->arg == NULL);
        ASSERT_TRUE(o->help && *o->help);
        for (size_t j = 0; j < i; j++)
            ASSERT_TRUE(strcmp(o->name, ft_config_option(j)->name) != 0);
        if (o->def) {
            ft_config c;
            char err[256];
            ft_config_init(&c);
            if (ft_config_set(&c, o->name, o->def, err, sizeof err) != 0)
                FT_FAIL("default of --%s does not parse: %s", o->name, err);
            ft_config_free(&c);
        }
    }
}

/* Kafka and protobuf output options (issue 4): defaults, every option
 * with a value, -X as the short form of --kafka-opt, and refusals that never
 * echo a property value (it may be a secret). */
static void t_kafka_options(void)
{
    ft_config c;
    char err[256];
    ASSERT_EQ(run(&c, err, sizeof err, ARGS("--print")), FT_CONFIG_OK);
    ASSERT_STR(c.print_format, "json");
    ASSERT_STR(c.format, "goflow");
    ASSERT_TRUE(c.framing == NULL); /* the format's own */
    ASSERT_TRUE(c.kafka_brokers == NULL); /* Kafka off */
    ASSERT_STR(c.kafka_topic, "flows");
    ASSERT_TRUE(c.kafka_key == NULL);
    ASSERT_STR(c.kafka_compression, "lz4");
    ASSERT_EQ(c.kafka_props.n, 0);
    ASSERT_EQ(c.kafka_block, 0);
    ASSERT_EQ(c.kafka_flush_timeout_ms, 10000);
    ASSERT_EQ(c.kafka_batch, 1);
    ft_config_free(&c);

    int rc = run(&c, err, sizeof err,
                 ARGS("--print-format", "pb", "--format", "goflow2", "--framing=plain", "--kafka-brokers",
                      "127.0.0.1:9092,[::1]:9093", "--kafka-topic", "netflow", "--kafka-key", "src_addr,dst_port",
                      "--kafka-compression", "zstd", "-X", "linger.ms=50", "--kafka-opt=sasl.password=s3cret",
                      "-Xacks=all", "--kafka-block", "--kafka-flush-timeout", "500", "--kafka-batch", "1"));
    if (rc != FT_CONFIG_OK)
        FT_FAIL("rejected: %s", err);
    ASSERT_STR(c.print_format, "pb");
    ASSERT_STR(c.format, "goflow2");
    ASSERT_STR(c.framing, "plain");
    ASSERT_STR(c.kafka_brokers, "127.0.0.1:9092,[::1]:9093");
    ASSERT_STR(c.kafka_topic, "netflow");
    ASSERT_STR(c.kafka_key, "src_addr,dst_port");
    ASSERT_STR(c.kafka_compression, "zstd");
    ASSERT_EQ(c.kafka_props.n, 3);
    ASSERT_STR(c.kafka_props.v[0], "linger.ms=50");
    ASSERT_STR(c.kafka_props.v[1], "sasl.password=s3cret");
    ASSERT_STR(c.kafka_props.v[2], "acks=all");
    ASSERT_EQ(c.kafka_block, 1);
    ASSERT_EQ(c.kafka_flush_timeout_ms, 500);
    ASSERT_EQ(c.kafka_batch, 1);
    ft_config_free(&c);
    ASSERT_EQ(c.kafka_props.n, 0);

    /* --kafka-batch N > 1: the records are delimited whatever the format;
     * --framing delimited (or none) goes with it, --framing plain cannot. */
    ASSERT_EQ(run(&c, err, sizeof err, ARGS("--kafka-batch", "64", "--framing", "delimited")), FT_CONFIG_OK);
    ASSERT_EQ(c.kafka_batch, 64);
    ft_config_free(&c);
    ASSERT_EQ(run(&c, err, sizeof err, ARGS("--kafka-batch=10000", "--format", "goflow")), FT_CONFIG_OK);
    ASSERT_EQ(c.kafka_batch, 10000);
    ASSERT_TRUE(c.framing == NULL);
    ft_config_free(&c);
    ASSERT_EQ(run(&c, err, sizeof err, ARGS("--kafka-batch", "2", "--framing", "plain")), FT_CONFIG_USAGE);
    ASSERT_TRUE(strstr(err, "--framing plain cannot carry them") != NULL);
    ft_config_free(&c);

    static const struct {
        const char *args[3];
        const char *want;
    } bad[] = {
        {{"--format", "goflow3"}, "--format: 'goflow3' is not one of goflow, goflow2"},
        {{"--framing", "length"}, "--framing: 'length' is not one of plain, delimited"},
        {{"--print-format", "text"}, "--print-format: 'text' is not one of json, pb"},
        {{"--kafka-compression", "brotli"}, "is not one of none, gzip, snappy, lz4, zstd"},
        {{"--kafka-key", "SrcAddr"}, "'SrcAddr' is not a flow record field"},
        {{"--kafka-key", "src_addr,,dst_addr"}, "empty or overlong field name"},
        {{"--kafka-topic", ""}, "--kafka-topic: empty value"},
        {{"--kafka-flush-timeout", "3600001"}, "out of range 0..3600000"},
        {{"--kafka-batch", "0"}, "out of range 1..10000"},
        {{"--kafka-batch", "10001"}, "out of range 1..10000"},
        {{"-X"}, "option '-X' needs a value (PROP=VALUE)"},
        {{"-X", "=x"}, "--kafka-opt: expected NAME=VALUE"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *args[4] = {0};
        memcpy(args, bad[i].args, sizeof bad[i].args);
        if (run(&c, err, sizeof err, args) != FT_CONFIG_USAGE)
            FT_FAIL("case %zu (%s): accepted", i, args[0]);
        if (!strstr(err, bad[i].want))
            FT_FAIL("case %zu (%s): message \"%s\" lacks \"%s\"", i, args[0], err, bad[i].want);
        ft_config_free(&c);
    }
    /* A value without '=' may be a pasted secret: the message must not echo it. */
    ASSERT_EQ(run(&c, err, sizeof err, ARGS("-X", "hunter2secret")), FT_CONFIG_USAGE);
    ASSERT_TRUE(strstr(err, "hunter2") == NULL);
    ft_config_free(&c);

    /* --help shows the short alias. */
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ft_config_usage(f);
    fclose(f);
    ASSERT_TRUE(strstr(text, "-X, --kafka-opt PROP=VALUE") != NULL);
    free(text);
}

/* Enrichment, window and SQLite options: durations with suffixes, choices
 * by name, and what depends on what. */
static void t_rollup_options(void)
{
    ft_config c;
    char err[256];
    ASSERT_EQ(run(&c, err, sizeof err, ARGS("--print")), FT_CONFIG_OK);
    ASSERT_EQ(c.window_s, 300);   /* 5m */
    ASSERT_EQ(c.lateness_s, 120); /* 2m */
    ASSERT_EQ(c.retention_s, 30u * 86400);
    ASSERT_EQ(c.asn_source, FT_ASN_PREFER_FLOW);
    ASSERT_EQ(c.event_time, FT_EVENT_TIME_FLOW_END);
    ASSERT_EQ(c.max_keys, 40000);
    ASSERT_EQ(c.state_save_s, 60);
    ASSERT_EQ(c.db_retry_rows, FT_STORE_RETRY_ROWS);
    ASSERT_STR(ft_config_db_path(&c), "flowtally.db");
    ASSERT_TRUE(!ft_config_db_off(&c));
    ASSERT_TRUE(c.geoip_country == NULL && c.geoip_asn == NULL);
    ft_config_free(&c);

    ASSERT_EQ(run(&c, err, sizeof err,
                  ARGS("--geoip-country", "c.mmdb", "--geoip-asn", "a.mmdb", "--asn-source", "geoip",
                       "--geoip-country-key", "country_code", "--geoip-asn-key", "asn", "--window", "1h",
                       "--lateness", "90s", "--event-time", "received", "--rollup-by-exporter", "--max-keys", "16",
                       "--db", "off", "--retention", "0")),
              FT_CONFIG_OK);
    ASSERT_STR(c.geoip_country, "c.mmdb");
    ASSERT_STR(c.geoip_asn, "a.mmdb");
    ASSERT_STR(c.geoip_country_key, "country_code");
    ASSERT_STR(c.geoip_asn_key, "asn");
    ASSERT_EQ(c.asn_source, FT_ASN_GEOIP);
    ASSERT_EQ(c.window_s, 3600);
    ASSERT_EQ(c.lateness_s, 90);
    ASSERT_EQ(c.event_time, FT_EVENT_TIME_RECEIVED);
    ASSERT_EQ(c.rollup_by_exporter, 1);
    ASSERT_EQ(c.max_keys, 16);
    ASSERT_TRUE(ft_config_db_off(&c));
    ASSERT_TRUE(ft_config_db_path(&c) == NULL);
    ASSERT_EQ(c.retention_s, 0);
    ft_config_free(&c);
    ASSERT_EQ(run(&c, err, sizeof err, ARGS("--asn-source", "prefer-geoip", "--geoip-asn", "x", "--window", "300")),
              FT_CONFIG_OK);
    ASSERT_EQ(c.asn_source, FT_ASN_PREFER_GEOIP);
    ASSERT_EQ(c.window_s, 300);
    ft_config_free(&c);
    ASSERT_EQ(run(&c, err, sizeof err, ARGS("--asn-source", "flow", "--window", "1d", "--retention", "1d")),
              FT_CONFIG_OK);
    ASSERT_EQ(c.asn_source, FT_ASN_FLOW);
    ASSERT_EQ(c.window_s, 86400);
    ASSERT_EQ(c.retention_s, 86400);
    ft_config_free(&c);

    static const struct {
        const char *args[4];
        const char *want;
    } bad[] = {
        {{"--window", "0"}, "--window: 0 is out of range 1..86400 seconds"},
        {{"--window", "2d"}, "--window: 2d is out of range 1..86400 seconds"},
        {{"--window", "5x"}, "--window: '5x' is not a duration"},
        {{"--window", "5mm"}, "--window: '5mm' is not a duration"},
        {{"--window", "m"}, "--window: 'm' is not a duration"},
        {{"--window", "99999999999d"}, "is not a duration"},
        {{"--lateness", "2h"}, "--lateness: 2h is out of range 0..3600 seconds"},
        {{"--asn-source", "router"}, "--asn-source: 'router' is not one of flow|geoip|prefer-flow|prefer-geoip"},
        {{"--asn-source", "prefer"}, "is not one of"},
        {{"--event-time", "start"}, "--event-time: 'start' is not one of flow-end|received"},
        {{"--asn-source", "geoip"}, "--asn-source geoip needs --geoip-asn FILE"},
        {{"--asn-source", "prefer-geoip"}, "--asn-source prefer-geoip needs --geoip-asn FILE"},
        {{"--geoip-country-key", "x"}, "--geoip-country-key needs --geoip-country FILE"},
        {{"--geoip-asn-key", "x"}, "--geoip-asn-key needs --geoip-asn FILE"},
        {{"--max-keys", "15"}, "--max-keys: 15 is out of range"},
        {{"--db", ""}, "--db: empty value"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *args[5] = {0};
        memcpy(args, bad[i].args, sizeof bad[i].args);
        if (run(&c, err, sizeof err, args) != FT_CONFIG_USAGE || !strstr(err, bad[i].want))
            FT_FAIL("%s %s: \"%s\", want \"%s\"", args[0], args[1], err, bad[i].want);
        ft_config_free(&c);
    }
}

/* Kafka rollups: the topic (template) and its check against Kafka's legal
 * topic names (1..249 of [A-Za-z0-9._-], Kafka's Topic.validate), the
 * encoding, and "off". */
static void t_kafka_rollup_options(void)
{
    ft_config c;
    char err[512];
    ASSERT_EQ(run(&c, err, sizeof err, ARGS("--print")), FT_CONFIG_OK);
    ASSERT_STR(c.kafka_rollup_topic, "flow-rollups");
    ASSERT_STR(c.kafka_rollup_encoding, "protobuf");
    ASSERT_TRUE(ft_config_kafka_rollup_topic(&c) == NULL); /* no --kafka-brokers */
    ft_config_free(&c);
    ASSERT_EQ(run(&c, err, sizeof err, ARGS("--kafka-brokers", "k:9092")), FT_CONFIG_OK);
    ASSERT_STR(ft_config_kafka_rollup_topic(&c), "flow-rollups");
    ft_config_free(&c);
    ASSERT_EQ(run(&c, err, sizeof err, ARGS("--kafka-brokers", "k:9092", "--kafka-rollup-topic", "off")),
              FT_CONFIG_OK);
    ASSERT_TRUE(ft_config_kafka_rollup_topic(&c) == NULL);
    ft_config_free(&c);
    ASSERT_EQ(run(&c, err, sizeof err, ARGS("--kafka-brokers", "k:9092", "--kafka-rollup-topic",
                                            "r.{dimension}-{dimension}", "--kafka-rollup-encoding", "json")),
              FT_CONFIG_OK);
    ASSERT_STR(ft_config_kafka_rollup_topic(&c), "r.{dimension}-{dimension}");
    ASSERT_STR(c.kafka_rollup_encoding, "json");
    char name[FT_KAFKA_TOPIC_MAX + 1];
    ASSERT_EQ(ft_kafka_rollup_topic_name(c.kafka_rollup_topic, FT_DIM_DST_PORT, name), 19);
    ASSERT_STR(name, "r.dst_port-dst_port");
    ft_kafka_rollup_topic_name("flow-rollups", FT_DIM_IN_IF, name);
    ASSERT_STR(name, "flow-rollups");
    ft_kafka_rollup_topic_name("{dimension}", FT_DIM_SRC_COUNTRY, name);
    ASSERT_STR(name, "src_country");
    ft_config_free(&c);

    /* 238 characters + the longest dimension name (11: src_country,
     * dst_country) = 249: accepted; one more is refused. */
    char tmpl[300];
    memset(tmpl, 'x', 238);
    strcpy(tmpl + 238, "{dimension}");
    ASSERT_EQ(ft_kafka_rollup_topic_check(tmpl, err, sizeof err), 0);
    memset(tmpl, 'x', 239);
    strcpy(tmpl + 239, "{dimension}");
    ASSERT_EQ(ft_kafka_rollup_topic_check(tmpl, err, sizeof err), -1);
    ASSERT_TRUE(strstr(err, "1 to 249 characters") != NULL);

    static const struct {
        const char *args[3];
        const char *want;
    } bad[] = {
        {{"--kafka-rollup-topic", "rollups/{dimension}"}, "'/' cannot be in a topic name"},
        {{"--kafka-rollup-topic", "r-{dim}"}, "'{' cannot be in a topic name"},
        {{"--kafka-rollup-topic", "flow rollups"}, "' ' cannot be in a topic name"},
        {{"--kafka-rollup-topic", ".."}, "'.' and '..' are not topic names"},
        {{"--kafka-rollup-topic", ""}, "--kafka-rollup-topic: empty value"},
        {{"--kafka-rollup-encoding", "avro"}, "'avro' is not one of protobuf, json"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *args[6] = {"--kafka-brokers", "k:9092"};
        memcpy(args + 2, bad[i].args, sizeof bad[i].args);
        if (run(&c, err, sizeof err, args) != FT_CONFIG_USAGE)
            FT_FAIL("case %zu (%s): accepted", i, bad[i].args[1]);
        if (!strstr(err, bad[i].want))
            FT_FAIL("case %zu (%s): message \"%s\" lacks \"%s\"", i, bad[i].args[1], err, bad[i].want);
        ft_config_free(&c);
    }
}

/* Writes text to a fresh file under $TMPDIR; returns its path (static). */
static const char *write_conf(const char *text)
{
    static char path[256];
    const char *dir = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/ft_config_test_%d.conf", dir && *dir ? dir : "/tmp", (int)getpid());
    FILE *f = fopen(path, "w");
    if (!f)
        FT_FAIL("cannot write %s", path);
    fputs(text, f);
    fclose(f);
    return path;
}

/* --config FILE: every value type from a file, comments, bare flags, '#'
 * kept inside a value; the command line wins over the file, and a
 * repeatable option on the command line replaces the file's list (the
 * contract of config.h). */
static void t_config_file(void)
{
    const char *path = write_conf("# flowtally.conf\n"
                                  "\n"
                                  "   # indented comment\n"
                                  "print\n"
                                  "stats = false\n"
                                  "workers=3\n"
                                  "  rcvbuf  =  4m  \r\n"
                                  "listen = netflow://127.0.0.1:9995\n"
                                  "listen = sflow://[::1]:6343\n"
                                  "allow-exporter = 192.0.2.0/24\n"
                                  "allow-exporter = 2001:db8::/32\n"
                                  "sampling-rate = 10.0.0.0/8=100\n"
                                  "kafka-opt = sasl.password=a#b c\n"
                                  "window = 1m\n"
                                  "log-level = debug\n"
                                  "db = off\n");
    ft_config c;
    char err[256];
    ASSERT_EQ(run(&c, err, sizeof err, ARGS("--config", path)), FT_CONFIG_OK);
    ASSERT_STR(c.config_file, path);
    ASSERT_EQ(c.print, 1);
    ASSERT_EQ(c.stats, 0);
    ASSERT_EQ(c.workers, 3);
    ASSERT_EQ(c.rcvbuf, 4u << 20);
    ASSERT_EQ(c.n_listen, 2);
    char s[FT_LISTEN_URL_STRLEN];
    ASSERT_STR(ft_listen_url_format(&c.listen[0], c.listen[0].port, s), "netflow://127.0.0.1:9995");
    ASSERT_STR(ft_listen_url_format(&c.listen[1], c.listen[1].port, s), "sflow://[::1]:6343");
    ASSERT_EQ(c.n_allow_exporter, 2);
    ASSERT_EQ(c.allow_exporter[1].bits, 32);
    ASSERT_EQ(c.n_sampling, 1);
    ASSERT_EQ(c.sampling[0].rate, 100);
    ASSERT_EQ(c.kafka_props.n, 1);
    ASSERT_STR(c.kafka_props.v[0], "sasl.password=a#b c");
    ASSERT_EQ(c.window_s, 60);
    ASSERT_EQ(c.log_level, FT_LOG_DEBUG);
    ASSERT_TRUE(ft_config_db_off(&c));
    ft_config_free(&c);

    /* The command line over the file: scalars win, a repeatable option given
     * there replaces the file's list, one not given keeps it. */
    ASSERT_EQ(run(&c, err, sizeof err,
                  ARGS("--workers", "2", "--config", path, "--allow-exporter", "198.51.100.7", "--allow-exporter",
                       "203.0.113.0/24", "--stats")),
              FT_CONFIG_OK);
    ASSERT_EQ(c.workers, 2);
    ASSERT_EQ(c.stats, 1);
    ASSERT_EQ(c.print, 1);
    ASSERT_EQ(c.n_allow_exporter, 2);
    ASSERT_EQ(c.allow_exporter[0].bits, 32);
    ASSERT_EQ(c.allow_exporter[0].addr.b[15], 7);
    ASSERT_EQ(c.allow_exporter[1].bits, 24);
    ASSERT_EQ(c.n_listen, 2);   /* from the file */
    ASSERT_EQ(c.n_sampling, 1); /* from the file */
    ft_config_free(&c);

    /* --pcap on the command line: the file's listeners give way. */
    ASSERT_EQ(run(&c, err, sizeof err, ARGS("--config", path, "--pcap", "x.pcap")), FT_CONFIG_OK);
    ASSERT_EQ(c.n_listen, 0);
    ASSERT_STR(c.pcap, "x.pcap");
    ASSERT_EQ(c.workers, 3);
    ft_config_free(&c);
    remove(path);
}

/* A bad line stops the parse with FILE:LINE and the reason; so does a
 * missing file. */
static void t_config_file_errors(void)
{
    static const struct {
        const char *text;
        const char *want; /* after "PATH:" */
    } bad[] = {
        {"print\nworkers = many\n", ":2: --workers: 'many' is not a number"},
        {"# c\n\nnosuch = 1\n", ":3: unknown option 'nosuch'"},
        {"--workers = 2\n", ":1: write 'workers' without the dashes"},
        {"workers\n", ":1: 'workers' needs a value ('workers = N')"},
        {"= 3\n", ":1: expected 'name = value'"},
        {"print = maybe\n", ":1: --print: 'maybe' is not a boolean"},
        {"config = other.conf\n", ":1: 'config' cannot be set in a configuration file"},
        {"help\n", ":1: 'help' cannot be set in a configuration file"},
        {"sampling-rate = 10.0.0.0/8\n", ":1: --sampling-rate '10.0.0.0/8': expected CIDR=N"},
        {"kafka-opt = secretvalue\n", ":1: --kafka-opt: expected NAME=VALUE"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *path = write_conf(bad[i].text);
        ft_config c;
        char err[512], want[512];
        if (run(&c, err, sizeof err, ARGS("--config", path)) != FT_CONFIG_USAGE)
            FT_FAIL("case %zu: accepted", i);
        snprintf(want, sizeof want, "%s%s", path, bad[i].want);
        if (strncmp(err, want, strlen(want)) != 0)
            FT_FAIL("case %zu: message \"%s\", want \"%s\"", i, err, want);
        if (strstr(err, "secretvalue"))
            FT_FAIL("case %zu: the value is echoed", i);
        ft_config_free(&c);
        remove(path);
    }
    ft_config c;
    char err[512];
    ASSERT_EQ(run(&c, err, sizeof err, ARGS("--config", "/nonexistent/ft.conf")), FT_CONFIG_USAGE);
    ASSERT_STR(err, "--config /nonexistent/ft.conf: No such file or directory");
    ft_config_free(&c);
    /* Command-line errors are reported before the file is read. */
    ASSERT_EQ(run(&c, err, sizeof err, ARGS("--config", "/nonexistent/ft.conf", "--workers", "0")), FT_CONFIG_USAGE);
    ASSERT_TRUE(strstr(err, "--workers: 0 is out of range") != NULL);
    ft_config_free(&c);
}

struct diff_names {
    char text[256];
};

static void add_name(void *arg, const ft_opt *o)
{
    struct diff_names *d = arg;
    snprintf(d->text + strlen(d->text), sizeof d->text - strlen(d->text), "%s%s", d->text[0] ? " " : "", o->name);
}

/* ft_config_diff names exactly the options whose values differ, whatever
 * their type (list order matters, equal lists are equal). */
static void t_config_diff(void)
{
    ft_config a, b;
    char err[256];
    struct diff_names d = {""};
    ASSERT_EQ(run(&a, err, sizeof err,
                  ARGS("--allow-exporter", "192.0.2.0/24", "--sampling-rate", "10.0.0.0/8=100", "-X", "a=b",
                       "--geoip-country", "x.mmdb", "--config", "/dev/null")),
              FT_CONFIG_OK);
    ASSERT_EQ(run(&b, err, sizeof err,
                  ARGS("--allow-exporter", "192.0.2.0/24", "--sampling-rate", "10.0.0.0/8=100", "-X", "a=b",
                       "--geoip-country", "x.mmdb")),
              FT_CONFIG_OK);
    ft_config_diff(&a, &b, add_name, &d);
    ASSERT_STR(d.text, "");
    ft_config_free(&b);
    ASSERT_EQ(run(&b, err, sizeof err,
                  ARGS("--allow-exporter", "192.0.2.0/25", "--sampling-rate", "10.0.0.0/8=200", "-X", "a=b",
                       "--geoip-country", "y.mmdb", "--workers", "2", "--print", "--log-level", "debug")),
              FT_CONFIG_OK);
    ft_config_diff(&a, &b, add_name, &d);
    ASSERT_STR(d.text, "workers print allow-exporter sampling-rate geoip-country log-level");
    ft_config_free(&a);
    ft_config_free(&b);
}

int main(void)
{
    FT_RUN(t_defaults);
    FT_RUN(t_decoder_defaults_agree);
    FT_RUN(t_every_option);
    FT_RUN(t_pcap_mode);
    FT_RUN(t_help_version);
    FT_RUN(t_argv_untouched_and_reparse);
    FT_RUN(t_bad_command_lines);
    FT_RUN(t_listen_not_duplicates);
    FT_RUN(t_set_by_name);
    FT_RUN(t_table_sane);
    FT_RUN(t_kafka_options);
    FT_RUN(t_rollup_options);
    FT_RUN(t_kafka_rollup_options);
    FT_RUN(t_config_file);
    FT_RUN(t_config_file_errors);
    FT_RUN(t_config_diff);
    return FT_DONE();
}
