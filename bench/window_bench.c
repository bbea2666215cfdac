/*
 * window_bench.c - cost of ft_window_add per record (ten table adds) with
 * few keys (hot tables) and with a key flood (folding), and the merge +
 * flush of a full window with no sink.
 *
 *   cc -O2 -Isrc bench/window_bench.c build/libflowtally_core.a -lmaxminddb -lsqlite3 \
 *      -ljansson -lpcap -lpthread -lm -o build/window_bench && build/window_bench
 *
 * Not a test: the numbers depend on the machine.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "window/window.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int count_rows(void *ctx, const ft_rollup_batch *b)
{
    *(size_t *)ctx += b->n_rows;
    return 0;
}

static void run(const char *what, uint32_t keys, uint32_t max_keys)
{
    size_t rows = 0;
    ft_rollup_sink sink = {"count", count_rows, &rows};
    ft_window_opts o = {300, 120, false, false, max_keys, 1, false};
    ft_windows *w = ft_windows_new(&o, &sink, 1);
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
    enum { N = 2000000 };
    uint32_t x = 1;
    double a = now_s();
    for (int i = 0; i < N; i++) {
        x = x * 1103515245u + 12345;
        uint32_t k = x % keys;
        f.src_port = k & 0xffff;
        f.dst_port = (k * 7) & 0xffff;
        f.src_as = f.dst_as = k;
        f.in_if = f.out_if = k;
        ft_window_add(ww, &f);
        if ((i & 63) == 63)
            ft_window_batch_end(ww);
    }
    ft_window_batch_end(ww);
    double add = (now_s() - a) / N;
    a = now_s();
    ft_windows_finish(w, 0);
    double flush = now_s() - a;
    printf("%-28s %8u keys, max-keys %6u: %4.0f ns per record; flush of %zu rows %.1f ms\n", what, keys, max_keys,
           add * 1e9, rows, flush * 1e3);
    ft_windows_free(w);
}

int main(void)
{
    ft_log_threshold = FT_LOG_WARN;
    run("few keys", 100, 40000);
    run("many keys, all kept", 30000, 40000);
    run("key flood, folding", 1000000, 40000);
    run("key flood, small tables", 1000000, 500);
    return 0;
}
