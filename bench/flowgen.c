/*
 * flowgen - flow export traffic generator for flowtally's benchmark.
 *
 * Sends NetFlow v5, NetFlow v9 (RFC 3954), IPFIX (RFC 7011) and sFlow v5
 * export datagrams from one or more simulated exporters to HOST:PORT with
 * sendmmsg(2), at a target rate in flow records per second or as fast as
 * it can, for a duration or a number of records; or writes the same
 * datagrams to a pcap file (Ethernet/IPv4/UDP framing, timestamps spaced at
 * the target rate) instead. The records' flow keys come from a fixed set of
 * --keys distinct (src, dst, ports, protocol, AS) combinations, so the
 * cardinality a receiver's rollups see is known. What goes on the wire is
 * decided by fg_proto.c; this file is the command line, pacing, sockets,
 * threads, the pcap writer and the totals.
 *
 * At exit (end of the run, SIGINT or SIGTERM) flowgen prints one JSON line on
 * stdout with the exact totals of what the kernel accepted (or what was
 * written to the pcap): datagrams, payload octets, flow records, options
 * records, template records, sFlow counter samples, the records' bytes and
 * packets and both multiplied by each record's sampling rate; overall and
 * per protocol. A receiver's counters can be checked against it to the
 * record.
 *
 * Threads: exporters are dealt to --threads threads; each thread owns its
 * exporters' streams (one per exporter and protocol) and sockets, sends
 * batches of one stream's datagrams per sendmmsg call and paces itself to
 * its share of the rate. Nothing is shared between threads while they run
 * but the stop flag.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fg_proto.h"

_Static_assert(ATOMIC_BOOL_LOCK_FREE == 2, "the stop flag is set from a signal handler");

/* Set by SIGINT/SIGTERM; the only state shared with the handler. */
static atomic_bool g_stop;

static void on_signal(int sig)
{
    (void)sig;
    atomic_store(&g_stop, true);
}

#define MAX_RATES 64
#define MAX_EXPORTERS 65536
#define MAX_THREADS 64
#define MAX_BATCH 1024
#define PCAP_SPORT 50000

typedef struct opts {
    const char *target;      /* HOST[:PORT] */
    fg_proto protos[FG_NPROTO];
    size_t n_protos;
    uint64_t rate;           /* records/s, 0 = flat out */
    uint64_t duration_ns;    /* 0 = none */
    uint64_t count;          /* records, 0 = none */
    uint32_t exporters;
    uint32_t threads;
    uint32_t batch;
    const char *source;      /* first exporter address */
    uint32_t rates[MAX_RATES];
    size_t n_rates;
    uint64_t sndbuf;
    uint64_t start_ns;       /* pcap: first timestamp, 0 = now */
    const char *pcap_out;
    fg_params p;
} opts;

/* One stream as the sender drives it. */
typedef struct feed {
    fg_stream *s;
    int fd;                /* UDP socket connected to the target; -1 in pcap mode */
    uint64_t left;         /* records still to send; UINT64_MAX = unlimited */
} feed;

/* One thread's share of the run. */
typedef struct worker {
    const opts *o;
    feed *feeds;
    size_t n;
    double rate;           /* records/s, 0 = flat out */
    uint64_t encoded;      /* records encoded (sent or being sent) */
    uint64_t send_errors;  /* sendmmsg calls that failed and were retried */
    int fatal;             /* errno of a send error that ended the thread */
    pthread_t tid;
} worker;

/* ---- time ------------------------------------------------------------------ */

static uint64_t clock_ns(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_until(uint64_t mono_ns)
{
    struct timespec ts = {(time_t)(mono_ns / 1000000000ull), (long)(mono_ns % 1000000000ull)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR && !atomic_load(&g_stop))
        ;
}

/* ---- command line --------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: flowgen --target HOST[:PORT] [options]\n"
            "       flowgen --pcap-out FILE (--count N | --duration S) [options]\n"
            "\n"
            "Generates NetFlow v5, NetFlow v9, IPFIX and sFlow v5 export datagrams from simulated\n"
            "exporters, sends them over UDP (sendmmsg) or writes them to a pcap, and prints the exact\n"
            "totals sent as one JSON line on stdout.\n"
            "\n"
            "  --target HOST[:PORT]    where to send (IPv4 address or name); without PORT each protocol\n"
            "                          goes to its usual port: 2055 NetFlow, 4739 IPFIX, 6343 sFlow\n"
            "                          (pcap default 198.51.100.10)\n"
            "  --proto LIST            v5, v9, ipfix, sflow, comma-separated (default v9); every exporter\n"
            "                          speaks each protocol listed, datagrams taken in turn\n"
            "  --rate N                flow records per second over all exporters; 0 = flat out (default 0);\n"
            "                          k, M, G suffixes multiply by 1e3, 1e6, 1e9\n"
            "  --duration SECONDS      stop after this long; with --rate, after rate x duration records\n"
            "                          (or 10%% + 100 ms late if the rate cannot be reached)\n"
            "  --count N               stop after exactly N flow records (with --duration: whichever first)\n"
            "  --keys N                distinct flow keys (src, dst, ports, protocol, AS) cycled through,\n"
            "                          1..4294967296 (default 1000)\n"
            "  --seed N                seed for keys and record values (default 1)\n"
            "  --public-addrs          record addresses from 11.0.0.0/8 and 30.0.0.0/15 instead of 10/8 and\n"
            "                          198.18/15, so a collector's GeoIP lookups happen (special-use\n"
            "                          addresses are never looked up); same keys otherwise\n"
            "  --exporters N           simulated exporters (default 1), each its own source address when it\n"
            "                          can be bound (--source), else one shared source; v9 source ID, IPFIX\n"
            "                          domain and sFlow sub-agent = exporter index, sFlow agent = its address\n"
            "  --source ADDR           first exporter's IPv4 address, the next ones count up from it\n"
            "                          (default 127.0.0.1 for a loopback target, 192.0.2.1 in a pcap;\n"
            "                          otherwise the kernel's choice, one source)\n"
            "  --sampling-rate N[,N..] sampling rate of the exporters, the list dealt round-robin\n"
            "                          (default 1000; NetFlow v5 carries at most 16383)\n"
            "  --threads N             sending threads, exporters dealt among them (default 1)\n"
            "  --batch N               datagrams per sendmmsg call (default 64)\n"
            "  --max-size BYTES        UDP payload size cap (default 1400; %d..%d)\n"
            "  --records-per-datagram N  at most N flow records per datagram (default: as many as fit)\n"
            "  --template-packets N    v9/IPFIX templates and sampling options again every N datagrams per\n"
            "                          exporter (default 20; 0 = not by count)\n"
            "  --template-seconds S    ... or every S seconds of export time (default 1800; 0 = not by time)\n"
            "  --counter-every N       sFlow: one counters sample in every Nth datagram (default 10; 0 = none)\n"
            "  --header-bytes N        sFlow: sampled header bytes kept, %d..%d (default 128)\n"
            "  --sndbuf BYTES          socket send buffer (SO_SNDBUF)\n"
            "  --pcap-out FILE         write a pcap (nanosecond timestamps) instead of sending; timestamps\n"
            "                          advance at --rate (1 us per datagram when flat out)\n"
            "  --start-time SECONDS    pcap: export time of the first datagram, Unix seconds (default now)\n"
            "  --help                  this text\n"
            "\n"
            "Totals (stdout, one JSON object): datagrams, octets (UDP payload bytes), records (flow records:\n"
            "v5/v9/IPFIX data records of flows, sFlow flow samples), options_records, template_records\n"
            "(templates + options templates), counter_samples (sFlow), bytes and packets (the records' own\n"
            "counters; sFlow: frame_length and 1 per sample), bytes_scaled and packets_scaled (each record's\n"
            "counters times its sampling rate), the same per protocol under \"protocols\", keys_sent (distinct\n"
            "keys actually sent), sources (the source addresses used), elapsed_s, records_per_s,\n"
            "datagrams_per_s, send_errors (failed sendmmsg calls, retried). Only what the kernel accepted\n"
            "is counted. Exit status: 0, 1 when a send failed for good, 2 on a usage error.\n",
            FG_MIN_DGRAM, 65507, 64, FG_MAX_HEADER_BYTES);
}

/* Unsigned integer with an optional k/M/G (x1e3/1e6/1e9) suffix. */
static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!*s || *s == '-' || *s == '+' || *s == ' ')
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s)
        return -1;
    uint64_t mul = 1;
    if (*end == 'k' || *end == 'K')
        mul = 1000, end++;
    else if (*end == 'M')
        mul = 1000000, end++;
    else if (*end == 'G')
        mul = 1000000000, end++;
    if (*end || (v && mul > UINT64_MAX / v))
        return -1;
    *out = (uint64_t)v * mul;
    return 0;
}

/* Non-negative seconds with a fraction, to ns. */
static int parse_seconds(const char *s, uint64_t *ns)
{
    char *end;
    errno = 0;
    if (!*s || *s == '-' || *s == '+' || *s == ' ')
        return -1;
    double v = strtod(s, &end);
    if (errno || end == s || *end || v < 0 || v > 1e10)
        return -1;
    *ns = (uint64_t)(v * 1e9 + 0.5);
    return 0;
}

static int parse_u32_range(const char *s, uint64_t lo, uint64_t hi, uint32_t *out)
{
    uint64_t v;
    if (parse_u64(s, &v) != 0 || v < lo || v > hi)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

static int parse_protos(const char *s, opts *o)
{
    char buf[128];
    if (strlen(s) >= sizeof buf)
        return -1;
    strcpy(buf, s);
    o->n_protos = 0;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        fg_proto p;
        if (fg_proto_parse(t, &p) != 0)
            return -1;
        for (size_t i = 0; i < o->n_protos; i++)
            if (o->protos[i] == p)
                return -1;
        o->protos[o->n_protos++] = p;
    }
    return o->n_protos ? 0 : -1;
}

static int parse_rates(const char *s, opts *o)
{
    char buf[1024];
    if (strlen(s) >= sizeof buf)
        return -1;
    strcpy(buf, s);
    o->n_rates = 0;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (o->n_rates == MAX_RATES || parse_u32_range(t, 1, UINT32_MAX, &o->rates[o->n_rates]) != 0)
            return -1;
        o->n_rates++;
    }
    return o->n_rates ? 0 : -1;
}

enum {
    OPT_TARGET = 256, OPT_PROTO, OPT_RATE, OPT_DURATION, OPT_COUNT, OPT_KEYS, OPT_SEED, OPT_EXPORTERS,
    OPT_SOURCE, OPT_SAMPLING, OPT_THREADS, OPT_BATCH, OPT_MAX_SIZE, OPT_RPD, OPT_TMPL_PKTS, OPT_TMPL_SECS,
    OPT_COUNTER_EVERY, OPT_HEADER_BYTES, OPT_SNDBUF, OPT_PCAP_OUT, OPT_START_TIME, OPT_PUBLIC, OPT_HELP
};

static int parse_args(int argc, char **argv, opts *o)
{
    static const struct option lo[] = {
        {"target", required_argument, NULL, OPT_TARGET},
        {"proto", required_argument, NULL, OPT_PROTO},
        {"rate", required_argument, NULL, OPT_RATE},
        {"duration", required_argument, NULL, OPT_DURATION},
        {"count", required_argument, NULL, OPT_COUNT},
        {"keys", required_argument, NULL, OPT_KEYS},
        {"seed", required_argument, NULL, OPT_SEED},
        {"public-addrs", no_argument, NULL, OPT_PUBLIC},
        {"exporters", required_argument, NULL, OPT_EXPORTERS},
        {"source", required_argument, NULL, OPT_SOURCE},
        {"sampling-rate", required_argument, NULL, OPT_SAMPLING},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"batch", required_argument, NULL, OPT_BATCH},
        {"max-size", required_argument, NULL, OPT_MAX_SIZE},
        {"records-per-datagram", required_argument, NULL, OPT_RPD},
        {"template-packets", required_argument, NULL, OPT_TMPL_PKTS},
        {"template-seconds", required_argument, NULL, OPT_TMPL_SECS},
        {"counter-every", required_argument, NULL, OPT_COUNTER_EVERY},
        {"header-bytes", required_argument, NULL, OPT_HEADER_BYTES},
        {"sndbuf", required_argument, NULL, OPT_SNDBUF},
        {"pcap-out", required_argument, NULL, OPT_PCAP_OUT},
        {"start-time", required_argument, NULL, OPT_START_TIME},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    o->protos[0] = FG_NETFLOW_V9;
    o->n_protos = 1;
    o->exporters = 1;
    o->threads = 1;
    o->batch = 64;
    o->rates[0] = 1000;
    o->n_rates = 1;
    o->p.keys = 1000;
    o->p.seed = 1;
    o->p.max_dgram = 1400;
    o->p.template_packets = 20;
    o->p.template_ns = 1800ull * 1000000000ull;
    o->p.counter_every = 10;
    o->p.header_bytes = 128;
    int c;
    uint64_t v;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        const char *a = optarg;
        int bad = 0;
        switch (c) {
        case OPT_TARGET:
            o->target = a;
            break;
        case OPT_PROTO:
            bad = parse_protos(a, o);
            break;
        case OPT_RATE:
            bad = parse_u64(a, &o->rate);
            break;
        case OPT_DURATION:
            bad = parse_seconds(a, &o->duration_ns) || o->duration_ns == 0;
            break;
        case OPT_COUNT:
            bad = parse_u64(a, &o->count) || o->count == 0;
            break;
        case OPT_KEYS:
            bad = parse_u64(a, &o->p.keys) || o->p.keys == 0 || o->p.keys > (1ull << 32);
            break;
        case OPT_SEED:
            bad = parse_u64(a, &o->p.seed);
            break;
        case OPT_PUBLIC:
            o->p.public_addrs = true;
            break;
        case OPT_EXPORTERS:
            bad = parse_u32_range(a, 1, MAX_EXPORTERS, &o->exporters);
            break;
        case OPT_SOURCE:
            o->source = a;
            break;
        case OPT_SAMPLING:
            bad = parse_rates(a, o);
            break;
        case OPT_THREADS:
            bad = parse_u32_range(a, 1, MAX_THREADS, &o->threads);
            break;
        case OPT_BATCH:
            bad = parse_u32_range(a, 1, MAX_BATCH, &o->batch);
            break;
        case OPT_MAX_SIZE:
            bad = parse_u64(a, &v) || v < FG_MIN_DGRAM || v > FG_MAX_DGRAM;
            o->p.max_dgram = (size_t)v;
            break;
        case OPT_RPD:
            bad = parse_u32_range(a, 1, UINT32_MAX, &o->p.max_records);
            break;
        case OPT_TMPL_PKTS:
            bad = parse_u32_range(a, 0, UINT32_MAX, &o->p.template_packets);
            break;
        case OPT_TMPL_SECS:
            bad = parse_seconds(a, &o->p.template_ns);
            break;
        case OPT_COUNTER_EVERY:
            bad = parse_u32_range(a, 0, UINT32_MAX, &o->p.counter_every);
            break;
        case OPT_HEADER_BYTES:
            bad = parse_u32_range(a, 64, FG_MAX_HEADER_BYTES, &o->p.header_bytes);
            break;
        case OPT_SNDBUF:
            bad = parse_u64(a, &o->sndbuf) || o->sndbuf > INT32_MAX;
            break;
        case OPT_PCAP_OUT:
            o->pcap_out = a;
            break;
        case OPT_START_TIME:
            bad = parse_seconds(a, &o->start_ns);
            break;
        case OPT_HELP:
            usage(stdout);
            exit(0);
        default:
            return -1;
        }
        if (bad) {
            fprintf(stderr, "flowgen: bad value for --%s: '%s' (see --help)\n", lo[c - OPT_TARGET].name, a);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "flowgen: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    if (!o->target && !o->pcap_out) {
        fprintf(stderr, "flowgen: --target HOST[:PORT] or --pcap-out FILE is required\n");
        return -1;
    }
    if (o->pcap_out && !o->count && !o->duration_ns) {
        fprintf(stderr, "flowgen: --pcap-out needs --count or --duration\n");
        return -1;
    }
    for (size_t i = 0; i < o->n_protos; i++) {
        for (size_t r = 0; r < o->n_rates && o->protos[i] == FG_NETFLOW_V5; r++) {
            if (o->rates[r] > 16383) {
                fprintf(stderr, "flowgen: NetFlow v5 carries sampling rates up to 16383, not %" PRIu32 "\n",
                        o->rates[r]);
                return -1;
            }
        }
    }
    if (o->threads > o->exporters)
        o->threads = o->exporters;
    if (o->pcap_out)
        o->threads = 1;
    return 0;
}

/* ---- addresses and sockets -------------------------------------------------- */

/* HOST[:PORT] -> IPv4 address (host order) and port (0 when absent). */
static int resolve_target(const char *spec, uint32_t *addr, uint16_t *port)
{
    char host[256];
    const char *colon = strrchr(spec, ':');
    size_t hl = colon ? (size_t)(colon - spec) : strlen(spec);
    if (hl == 0 || hl >= sizeof host)
        return -1;
    memcpy(host, spec, hl);
    host[hl] = 0;
    *port = 0;
    if (colon) {
        uint64_t p;
        if (parse_u64(colon + 1, &p) != 0 || p == 0 || p > 65535)
            return -1;
        *port = (uint16_t)p;
    }
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_DGRAM;
    if (getaddrinfo(host, NULL, &hints, &res) != 0 || !res)
        return -1;
    *addr = ntohl(((struct sockaddr_in *)res->ai_addr)->sin_addr.s_addr);
    freeaddrinfo(res);
    return 0;
}

static struct sockaddr_in sin_of(uint32_t addr, uint16_t port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(addr);
    a.sin_port = htons(port);
    return a;
}

static const char *ip_str(uint32_t addr, char *buf)
{
    struct in_addr a = {htonl(addr)};
    return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

/* A UDP socket bound to src (when bind_src) and connected to dst; -1 with
 * errno on failure. */
static int open_socket(bool bind_src, uint32_t src, uint32_t dst, uint16_t port, uint64_t sndbuf)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (sndbuf) {
        int v = (int)sndbuf;
        if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof v) != 0)
            setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof v);
    }
    struct sockaddr_in a = sin_of(src, 0), d = sin_of(dst, port);
    if ((bind_src && bind(fd, (struct sockaddr *)&a, sizeof a) != 0) ||
        connect(fd, (struct sockaddr *)&d, sizeof d) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static void raise_fd_limit(size_t need)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < need + 64) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* ---- sending ------------------------------------------------------------------ */

/* Sends m[0..n) on fd, retrying transient errors (ECONNREFUSED from an
 * earlier ICMP port unreachable, ENOBUFS, EAGAIN, EINTR). Returns how many
 * went out; fewer than n on a lasting error (wk->fatal) or a stop. */
static size_t send_all(worker *wk, int fd, struct mmsghdr *m, size_t n)
{
    size_t done = 0;
    while (done < n) {
        int r = sendmmsg(fd, m + done, (unsigned)(n - done), 0);
        if (r > 0) {
            done += (size_t)r;
            continue;
        }
        int e = r < 0 ? errno : EIO;
        if (e == ECONNREFUSED || e == ENOBUFS || e == EAGAIN || e == EINTR) {
            wk->send_errors++;
            if (atomic_load(&g_stop))
                break;
            if (e == ENOBUFS || e == EAGAIN)
                sleep_until(clock_ns(CLOCK_MONOTONIC) + 20000);
            continue;
        }
        wk->fatal = e;
        break;
    }
    return done;
}

static uint64_t due_ns(uint64_t t0, uint64_t records, double rate)
{
    return t0 + (uint64_t)((double)records * 1e9 / rate);
}

static void *worker_main(void *arg)
{
    worker *wk = arg;
    const opts *o = wk->o;
    size_t B = o->batch, cap = o->p.max_dgram;
    uint8_t *bufs = malloc(B * cap);
    struct mmsghdr *mm = calloc(B, sizeof *mm);
    struct iovec *iov = calloc(B, sizeof *iov);
    fg_totals *tt = calloc(B, sizeof *tt);
    if (!bufs || !mm || !iov || !tt) {
        wk->fatal = ENOMEM;
        goto out;
    }
    uint64_t t0 = clock_ns(CLOCK_MONOTONIC);
    /* Flat out, the duration ends the run. At a rate, rate x duration
     * records do (the last one is due just before the duration ends, and a
     * late wake-up must not lose it); the deadline then only stops a
     * generator that cannot keep up, 10% + 100 ms late. */
    uint64_t deadline = 0;
    if (o->duration_ns)
        deadline = t0 + o->duration_ns + (wk->rate > 0 ? o->duration_ns / 10 + 100000000 : 0);
    size_t si = 0, live = 0;
    for (size_t i = 0; i < wk->n; i++)
        live += wk->feeds[i].left > 0;
    while (!atomic_load(&g_stop) && live) {
        uint64_t now = clock_ns(CLOCK_MONOTONIC);
        if (deadline && now >= deadline)
            break;
        if (wk->rate > 0) {
            uint64_t due = due_ns(t0, wk->encoded, wk->rate);
            if (due > now) {
                /* Wake at least every 100 ms to see a stop. */
                sleep_until(due < now + 100000000 ? due : now + 100000000);
                continue;
            }
        }
        feed *f = &wk->feeds[si];
        si = (si + 1) % wk->n;
        if (!f->left)
            continue;
        fg_stream *s = f->s;
        uint64_t wall = clock_ns(CLOCK_REALTIME);
        size_t k = 0;
        while (k < B && f->left) {
            if (k > 0 && wk->rate > 0 && due_ns(t0, wk->encoded, wk->rate) > now)
                break;
            uint8_t *b = bufs + k * cap;
            size_t len = fg_stream_next(s, &o->p, wall, f->left, b, &tt[k]);
            iov[k].iov_base = b;
            iov[k].iov_len = len;
            memset(&mm[k], 0, sizeof mm[k]);
            mm[k].msg_hdr.msg_iov = &iov[k];
            mm[k].msg_hdr.msg_iovlen = 1;
            wk->encoded += tt[k].records;
            f->left -= tt[k].records;
            k++;
        }
        if (!f->left)
            live--;
        size_t sent = send_all(wk, f->fd, mm, k);
        for (size_t i = 0; i < sent; i++)
            fg_totals_add(&s->tot, &tt[i]);
        if (sent < k)
            break;
    }
out:
    free(bufs);
    free(mm);
    free(iov);
    free(tt);
    return NULL;
}

/* ---- pcap output ------------------------------------------------------------- */

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t sum)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    if (n & 1)
        sum += (uint32_t)p[n - 1] << 8;
    return sum;
}

static uint16_t fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static void be16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void be32(uint8_t *p, uint32_t v)
{
    be16(p, v >> 16);
    be16(p + 2, v);
}

/* Classic pcap, nanosecond timestamps (magic a1b23c4d), LINKTYPE_ETHERNET. */
static int pcap_open(FILE *f)
{
    struct {
        uint32_t magic;
        uint16_t major, minor;
        int32_t thiszone;
        uint32_t sigfigs, snaplen, network;
    } h = {0xa1b23c4du, 2, 4, 0, 0, 65535, 1};
    return fwrite(&h, sizeof h, 1, f) == 1 ? 0 : -1;
}

/* One Ethernet/IPv4/UDP frame carrying payload from src:sport to dst:dport. */
static int pcap_write(FILE *f, uint64_t ts_ns, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
                      uint16_t ip_id, const uint8_t *payload, size_t len)
{
    uint8_t h[42];
    /* Ethernet: dst 02:00:00:00:ff:fe, src 02:00:<exporter address>. */
    static const uint8_t dmac[6] = {0x02, 0x00, 0x00, 0x00, 0xff, 0xfe};
    memcpy(h, dmac, 6);
    h[6] = 0x02;
    h[7] = 0x00;
    be32(h + 8, src);
    be16(h + 12, 0x0800);
    uint8_t *ip = h + 14, *udp = h + 34;
    ip[0] = 0x45;
    ip[1] = 0;
    be16(ip + 2, (uint32_t)(28 + len));
    be16(ip + 4, ip_id);
    be16(ip + 6, 0);
    ip[8] = 64;
    ip[9] = 17;
    be16(ip + 10, 0);
    be32(ip + 12, src);
    be32(ip + 16, dst);
    be16(ip + 10, fold(sum16(ip, 20, 0)));
    be16(udp, sport);
    be16(udp + 2, dport);
    be16(udp + 4, (uint32_t)(8 + len));
    be16(udp + 6, 0);
    /* RFC 768: pseudo header (addresses, protocol, UDP length) + UDP. */
    uint32_t sum = sum16(ip + 12, 8, 0) + 17 + (uint32_t)(8 + len);
    sum = sum16(udp, 8, sum);
    sum = sum16(payload, len, sum);
    uint16_t c = fold(sum);
    be16(udp + 6, c ? c : 0xffff);
    uint32_t rec[4] = {(uint32_t)(ts_ns / 1000000000ull), (uint32_t)(ts_ns % 1000000000ull),
                       (uint32_t)(42 + len), (uint32_t)(42 + len)};
    if (fwrite(rec, sizeof rec, 1, f) != 1 || fwrite(h, sizeof h, 1, f) != 1 || fwrite(payload, len, 1, f) != 1)
        return -1;
    return 0;
}

/* The whole run into a pcap, on this thread: streams in turn, one datagram
 * each, timestamps at the rate (1 us apart when flat out). */
static int run_pcap(const opts *o, feed *feeds, size_t n, uint32_t dst, const uint16_t *ports)
{
    FILE *f = fopen(o->pcap_out, "wb");
    if (!f) {
        fprintf(stderr, "flowgen: cannot create %s: %s\n", o->pcap_out, strerror(errno));
        return -1;
    }
    char *fbuf = malloc(1 << 20); /* stdio buffer: large writes, few syscalls */
    if (fbuf)
        setvbuf(f, fbuf, _IOFBF, 1 << 20);
    uint8_t *buf = malloc(o->p.max_dgram);
    uint16_t *ip_id = calloc(n, sizeof *ip_id);
    int rc = -1;
    if (!buf || !ip_id || pcap_open(f) != 0)
        goto out;
    uint64_t records = 0, dgrams = 0;
    size_t live = 0;
    for (size_t i = 0; i < n; i++)
        live += feeds[i].left > 0;
    for (size_t si = 0; !atomic_load(&g_stop) && live; si = (si + 1) % n) {
        if (!feeds[si].left)
            continue;
        uint64_t off = o->rate ? (uint64_t)((double)records * 1e9 / (double)o->rate) : dgrams * 1000;
        if (o->duration_ns && off >= o->duration_ns)
            break;
        fg_stream *s = feeds[si].s;
        fg_totals t;
        size_t len = fg_stream_next(s, &o->p, o->start_ns + off, feeds[si].left, buf, &t);
        feeds[si].left -= t.records;
        if (!feeds[si].left)
            live--;
        if (pcap_write(f, o->start_ns + off, s->addr, (uint16_t)(PCAP_SPORT + s->proto), dst, ports[s->proto],
                       ip_id[si]++, buf, len) != 0)
            goto out;
        fg_totals_add(&s->tot, &t);
        records += t.records;
        dgrams++;
    }
    rc = 0;
out:
    if (fclose(f) != 0 || rc != 0) {
        fprintf(stderr, "flowgen: writing %s failed: %s\n", o->pcap_out, strerror(errno));
        rc = -1;
    }
    free(fbuf); /* after fclose, which flushes it */
    free(buf);
    free(ip_id);
    return rc;
}

/* ---- totals ------------------------------------------------------------------- */

typedef struct arc {
    uint64_t a, b; /* [a, b) */
} arc;

static int arc_cmp(const void *x, const void *y)
{
    const arc *p = x, *q = y;
    return p->a < q->a ? -1 : p->a > q->a;
}

/* Distinct key numbers used: each stream walked keys
 * [key_start, key_start + records) modulo keys; the union's size. */
static uint64_t keys_sent(const fg_stream *s, size_t n, uint64_t keys)
{
    arc *v = calloc(2 * n + 1, sizeof *v);
    if (!v)
        return 0;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t len = s[i].tot.records < keys ? s[i].tot.records : keys;
        if (!len)
            continue;
        uint64_t a = s[i].key_start, b = a + len;
        if (b <= keys) {
            v[m++] = (arc){a, b};
        } else {
            v[m++] = (arc){a, keys};
            v[m++] = (arc){0, b - keys};
        }
    }
    qsort(v, m, sizeof *v, arc_cmp);
    uint64_t total = 0, end = 0;
    for (size_t i = 0; i < m; i++) {
        uint64_t a = v[i].a > end ? v[i].a : end;
        if (v[i].b > a)
            total += v[i].b - a;
        if (v[i].b > end)
            end = v[i].b;
    }
    free(v);
    return total;
}

static void print_totals_fields(const fg_totals *t)
{
    printf("\"datagrams\":%" PRIu64 ",\"octets\":%" PRIu64 ",\"records\":%" PRIu64 ",\"options_records\":%" PRIu64
           ",\"template_records\":%" PRIu64 ",\"counter_samples\":%" PRIu64 ",\"bytes\":%" PRIu64
           ",\"packets\":%" PRIu64 ",\"bytes_scaled\":%" PRIu64 ",\"packets_scaled\":%" PRIu64,
           t->datagrams, t->octets, t->records, t->options_records, t->template_records, t->counter_samples,
           t->bytes, t->packets, t->bytes_scaled, t->packets_scaled);
}

static void print_json(const opts *o, const fg_stream *streams, size_t n_streams, const char *target,
                       char (*sources)[INET_ADDRSTRLEN], size_t n_sources, double elapsed, uint64_t send_errors)
{
    fg_totals all, per[FG_NPROTO];
    memset(&all, 0, sizeof all);
    memset(per, 0, sizeof per);
    for (size_t i = 0; i < n_streams; i++) {
        fg_totals_add(&all, &streams[i].tot);
        fg_totals_add(&per[streams[i].proto], &streams[i].tot);
    }
    printf("{\"kind\":\"flowgen_totals\",\"mode\":\"%s\",", o->pcap_out ? "pcap" : "udp");
    if (o->pcap_out) {
        printf("\"pcap\":\"");
        for (const char *c = o->pcap_out; *c; c++) {
            if (*c == '"' || *c == '\\')
                putchar('\\');
            if ((unsigned char)*c >= 0x20)
                putchar(*c);
        }
        printf("\",");
    }
    printf("\"target\":\"%s\",\"seed\":%" PRIu64 ",\"keys\":%" PRIu64 ",\"keys_sent\":%" PRIu64
           ",\"exporters\":%" PRIu32 ",\"threads\":%" PRIu32 ",\"rate\":%" PRIu64 ",\"sources\":[",
           target, o->p.seed, o->p.keys, keys_sent(streams, n_streams, o->p.keys), o->exporters, o->threads,
           o->rate);
    for (size_t i = 0; i < n_sources; i++)
        printf("%s\"%s\"", i ? "," : "", sources[i]);
    printf("],\"sampling_rates\":[");
    for (size_t i = 0; i < o->n_rates; i++)
        printf("%s%" PRIu32, i ? "," : "", o->rates[i]);
    printf("],\"elapsed_s\":%.6f,\"records_per_s\":%.0f,\"datagrams_per_s\":%.0f,\"send_errors\":%" PRIu64 ",",
           elapsed, elapsed > 0 ? (double)all.records / elapsed : 0.0,
           elapsed > 0 ? (double)all.datagrams / elapsed : 0.0, send_errors);
    print_totals_fields(&all);
    printf(",\"protocols\":{");
    for (size_t i = 0; i < o->n_protos; i++) {
        printf("%s\"%s\":{", i ? "," : "", fg_proto_name(o->protos[i]));
        print_totals_fields(&per[o->protos[i]]);
        printf("}");
    }
    printf("}}\n");
    fflush(stdout);
}

/* ---- main ---------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    opts o;
    char err[256];
    if (parse_args(argc, argv, &o) != 0)
        return 2;
    if (fg_self_check(err, sizeof err) != 0) {
        fprintf(stderr, "flowgen: internal error: %s\n", err);
        return 1;
    }
    uint32_t dst = 0xc6336400u + 10; /* 198.51.100.10 */
    uint16_t port = 0;
    if (o.target && resolve_target(o.target, &dst, &port) != 0) {
        fprintf(stderr, "flowgen: cannot resolve --target '%s' (IPv4 HOST[:PORT])\n", o.target);
        return 2;
    }
    uint16_t ports[FG_NPROTO];
    for (int p = 0; p < FG_NPROTO; p++)
        ports[p] = port ? port : fg_proto_default_port((fg_proto)p);
    char dst_s[INET_ADDRSTRLEN], target[INET_ADDRSTRLEN + 8];
    ip_str(dst, dst_s);
    if (port || o.n_protos == 1)
        snprintf(target, sizeof target, "%s:%u", dst_s, (unsigned)ports[o.protos[0]]);
    else
        snprintf(target, sizeof target, "%s", dst_s);

    /* Exporter addresses. */
    bool bind_src = false;
    uint32_t base = 0;
    if (o.source) {
        struct in_addr a;
        if (inet_pton(AF_INET, o.source, &a) != 1) {
            fprintf(stderr, "flowgen: --source '%s' is not an IPv4 address\n", o.source);
            return 2;
        }
        base = ntohl(a.s_addr);
        bind_src = true;
    } else if (o.pcap_out) {
        base = 0xc0000201u; /* 192.0.2.1 */
    } else if ((dst >> 24) == 127) {
        base = 0x7f000001u; /* 127.0.0.1 */
        bind_src = true;
    } else {
        base = 0xc0000201u; /* sFlow agent addresses only */
    }
    if ((uint64_t)base + o.exporters > UINT32_MAX) {
        fprintf(stderr, "flowgen: --source + --exporters runs past 255.255.255.255\n");
        return 2;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    int rc = 1;
    size_t n_streams = (size_t)o.exporters * o.n_protos;
    fg_stream *streams = calloc(n_streams, sizeof *streams);
    int *fds = malloc(n_streams * sizeof *fds);
    worker *wk = calloc(o.threads, sizeof *wk);
    feed *feeds = calloc(n_streams, sizeof *feeds);
    uint64_t *share = calloc(n_streams, sizeof *share); /* records per stream */
    char(*sources)[INET_ADDRSTRLEN] = calloc(o.exporters, sizeof *sources);
    size_t n_sources = 0;
    fg_key *key_table = fg_key_table(o.p.keys, o.p.seed); /* NULL: computed per record */
    o.p.key_table = key_table;
    if (!streams || !fds || !wk || !feeds || !share || !sources) {
        fprintf(stderr, "flowgen: out of memory\n");
        goto out;
    }
    for (size_t i = 0; i < n_streams; i++)
        fds[i] = -1;

    uint64_t start_wall = clock_ns(CLOCK_REALTIME);
    if (!o.pcap_out || !o.start_ns)
        o.start_ns = start_wall;
    for (uint32_t e = 0; e < o.exporters; e++) {
        for (size_t p = 0; p < o.n_protos; p++) {
            size_t i = (size_t)e * o.n_protos + p;
            fg_stream_init(&streams[i], &o.p, o.protos[p], (uint32_t)i, (uint32_t)n_streams, e, base + e,
                           o.rates[e % o.n_rates], o.start_ns);
        }
    }
    /* Records: --count, or rate x duration, whichever is smaller, shared
     * evenly by the streams (so how batches interleave does not decide
     * which exporter sends what). */
    uint64_t budget = o.count ? o.count : UINT64_MAX;
    if (o.rate && o.duration_ns) {
        double rd = (double)o.rate * (double)o.duration_ns / 1e9;
        uint64_t r = rd >= 1.8e19 ? UINT64_MAX : (uint64_t)rd;
        if (r < budget)
            budget = r ? r : 1;
    }
    for (size_t i = 0, upto = 0; i < n_streams; i++) {
        uint64_t next = budget == UINT64_MAX ? 0 : (uint64_t)((long double)budget * (i + 1) / n_streams);
        share[i] = budget == UINT64_MAX ? UINT64_MAX : next - upto;
        upto = next;
    }

    double elapsed = 0;
    uint64_t send_errors = 0;
    if (o.pcap_out) {
        for (uint32_t e = 0; e < o.exporters; e++)
            ip_str(base + e, sources[n_sources++]);
        for (size_t i = 0; i < n_streams; i++)
            feeds[i] = (feed){&streams[i], -1, share[i]};
        uint64_t t0 = clock_ns(CLOCK_MONOTONIC);
        if (run_pcap(&o, feeds, n_streams, dst, ports) != 0)
            goto out;
        elapsed = (double)(clock_ns(CLOCK_MONOTONIC) - t0) / 1e9;
        print_json(&o, streams, n_streams, target, sources, n_sources, elapsed, 0);
        rc = 0;
        goto out;
    }

    /* Sockets: each exporter's own address when every one binds, else
     * the kernel's choice for all. */
    raise_fd_limit(n_streams);
    for (int attempt = 0; attempt < 2; attempt++) {
        int failed = 0, fail_errno = 0;
        for (size_t i = 0; i < n_streams && !failed; i++) {
            fds[i] = open_socket(bind_src, streams[i].addr, dst, ports[streams[i].proto], o.sndbuf);
            if (fds[i] < 0) {
                failed = 1;
                fail_errno = errno;
            }
        }
        if (!failed)
            break;
        char a[INET_ADDRSTRLEN];
        for (size_t i = 0; i < n_streams; i++) {
            if (fds[i] >= 0)
                close(fds[i]);
            fds[i] = -1;
        }
        if (!bind_src || attempt == 1) {
            fprintf(stderr, "flowgen: cannot open a UDP socket to %s: %s\n", target, strerror(fail_errno));
            goto out;
        }
        fprintf(stderr, "flowgen: cannot bind the exporter addresses from %s (%s): one source for all\n",
                ip_str(base, a), strerror(fail_errno));
        bind_src = false;
    }
    for (size_t i = 0; i < n_streams; i++) {
        struct sockaddr_in a;
        socklen_t al = sizeof a;
        char s[INET_ADDRSTRLEN];
        if (getsockname(fds[i], (struct sockaddr *)&a, &al) != 0)
            continue;
        ip_str(ntohl(a.sin_addr.s_addr), s);
        bool seen = false;
        for (size_t k = 0; k < n_sources && !seen; k++)
            seen = strcmp(sources[k], s) == 0;
        if (!seen && n_sources < o.exporters)
            strcpy(sources[n_sources++], s);
    }

    /* Exporters dealt to threads round-robin; a thread's share of the rate
     * is its share of the exporters. */
    size_t used = 0;
    for (uint32_t t = 0; t < o.threads; t++) {
        worker *w = &wk[t];
        w->o = &o;
        w->feeds = feeds + used;
        uint32_t mine = 0;
        for (uint32_t e = t; e < o.exporters; e += o.threads) {
            for (size_t p = 0; p < o.n_protos; p++) {
                size_t i = (size_t)e * o.n_protos + p;
                w->feeds[w->n++] = (feed){&streams[i], fds[i], share[i]};
            }
            mine++;
        }
        used += w->n;
        w->rate = (double)o.rate * mine / o.exporters;
    }
    uint64_t t0 = clock_ns(CLOCK_MONOTONIC);
    uint32_t started = 0;
    for (; started < o.threads; started++) {
        if (pthread_create(&wk[started].tid, NULL, worker_main, &wk[started]) != 0) {
            fprintf(stderr, "flowgen: cannot start thread %u\n", started);
            atomic_store(&g_stop, true);
            break;
        }
    }
    int fatal = 0;
    for (uint32_t t = 0; t < started; t++) {
        pthread_join(wk[t].tid, NULL);
        send_errors += wk[t].send_errors;
        if (wk[t].fatal && !fatal)
            fatal = wk[t].fatal;
    }
    elapsed = (double)(clock_ns(CLOCK_MONOTONIC) - t0) / 1e9;
    if (fatal)
        fprintf(stderr, "flowgen: sending to %s failed: %s\n", target, strerror(fatal));
    print_json(&o, streams, n_streams, target, sources, n_sources, elapsed, send_errors);
    if (o.rate && !atomic_load(&g_stop)) {
        fg_totals all;
        memset(&all, 0, sizeof all);
        for (size_t i = 0; i < n_streams; i++)
            fg_totals_add(&all, &streams[i].tot);
        if (elapsed > 0 && (double)all.records / elapsed < 0.99 * (double)o.rate)
            fprintf(stderr, "flowgen: reached %.0f records/s of the %" PRIu64 " asked\n",
                    (double)all.records / elapsed, o.rate);
    }
    rc = fatal || started < o.threads ? 1 : 0;
out:
    if (fds) {
        for (size_t i = 0; i < n_streams; i++)
            if (fds[i] >= 0)
                close(fds[i]);
    }
    free(key_table);
    free(streams);
    free(fds);
    free(wk);
    free(feeds);
    free(share);
    free(sources);
    return rc;
}
