/*
 * keys_bench.c - the rollup engine at a million distinct keys (bench/run's
 * "keys" rows): memory per distinct key per dimension, and the time to
 * merge and flush a window holding them into a real SQLite file.
 *
 *   build/bench/keys_bench DB_PATH [KEYS]      (KEYS default 1000000)
 *
 * Records are built so that three dimensions (src_as, dst_as, as_pair) each
 * get KEYS distinct keys and the seven others a handful. Memory is the
 * process's resident set growth while the records are added (the tables'
 * slots, their growth slack and malloc's overhead: what an operator sees),
 * divided by the distinct keys held; ft_agg's own accounting of one full
 * table is printed next to it. One JSON line on stdout. Not a test: the
 * numbers depend on the machine.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "store/sqlite_store.h"
#include "window/agg_table.h"
#include "window/window.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Resident set, bytes (/proc/self/statm: pages). */
static uint64_t rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, res = 0;
    if (f) {
        if (fscanf(f, "%lu %lu", &size, &res) != 2)
            res = 0;
        fclose(f);
    }
    return (uint64_t)res * (uint64_t)sysconf(_SC_PAGESIZE);
}

typedef struct counted {
    ft_rollup_sink inner;
    uint64_t rows;
} counted;

static int count_flush(void *ctx, const ft_rollup_batch *b)
{
    counted *c = ctx;
    c->rows += b->n_rows;
    return c->inner.flush(c->inner.ctx, b);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: keys_bench DB_PATH [KEYS]\n");
        return 2;
    }
    uint32_t keys = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 10) : 1000000u;
    if (keys < 1000)
        keys = 1000;
    ft_log_threshold = FT_LOG_WARN;
    char err[256];
    ft_store_opts so = {argv[1], 0};
    ft_store *st = ft_store_open(&so, err, sizeof err);
    if (!st) {
        fprintf(stderr, "keys_bench: %s\n", err);
        return 1;
    }
    counted sink = {ft_store_sink(st), 0};
    ft_rollup_sink s = {"sqlite", count_flush, &sink};
    ft_window_opts o = {300, 120, false, false, keys + 16, 1, false};
    ft_windows *w = ft_windows_new(&o, &s, 1);
    if (!w) {
        fprintf(stderr, "keys_bench: no memory\n");
        return 1;
    }
    const uint64_t t0 = 1700000100ull * 1000000000ull;
    ft_windows_advance(w, t0);
    ft_window_worker *ww = ft_windows_worker(w, 0);

    ft_flow f;
    memset(&f, 0, sizeof f);
    f.time_received_ns = f.time_flow_end_ns = t0 + 1000000000ull;
    f.bytes = 1500;
    f.packets = 1;
    f.sampling_rate = 1;
    f.proto = 6;
    ft_addr_parse("192.0.2.1", &f.sampler_address);

    uint64_t rss0 = rss_bytes();
    double c0 = cpu_s();
    for (uint32_t i = 0; i < keys; i++) {
        f.src_as = i + 1;
        f.dst_as = keys - i;
        f.src_port = (uint16_t)(i & 7);
        f.dst_port = 443;
        f.in_if = i & 3;
        f.out_if = 4 + (i & 3);
        ft_window_add(ww, &f);
        if ((i & 63) == 63)
            ft_window_batch_end(ww);
    }
    ft_window_batch_end(ww);
    double add_cpu = cpu_s() - c0;
    uint64_t rss1 = rss_bytes();
    uint64_t held = 3ull * keys; /* src_as, dst_as, as_pair; the others are a few dozen */

    double a = now_s(), c1 = cpu_s();
    ft_windows_finish(w, 0);
    double flush_wall = now_s() - a, flush_cpu = cpu_s() - c1;
    ft_windows_free(w);
    ft_store_close(st);

    printf("{\"kind\":\"keys_bench\",\"keys\":%" PRIu32 ",\"keys_held\":%" PRIu64 ",\"rss_growth_bytes\":%" PRIu64
           ",\"bytes_per_key\":%.1f,\"table_bytes_per_key\":%.1f,\"add_ns_per_record\":%.0f"
           ",\"rows_flushed\":%" PRIu64 ",\"flush_wall_s\":%.3f,\"flush_cpu_s\":%.3f}\n",
           keys, held, rss1 - rss0, (double)(rss1 - rss0) / (double)held,
           (double)ft_agg_full_bytes(keys) / (double)keys, add_cpu / keys * 1e9, sink.rows, flush_wall,
           flush_cpu);
    return 0;
}
