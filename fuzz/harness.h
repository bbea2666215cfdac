/*
 * harness.h - the bodies of the libFuzzer targets in fuzz/, shared with the
 * unit test that replays tests/data/fuzz-regress/ (tests/unit/
 * fuzz_regress_test.c), so a saved crash input goes through exactly the
 * code that found it, in every build.
 *
 * Each target takes one fuzz input (bytes, any length, not owned, never
 * written) and drives the public decoder API (decode/decoder.h) or the
 * packet-header parser (decode/pkt_header.h) with it. What an input means
 * per target is in fuzz/README.md and beside each function in harness.c.
 *
 * Besides what ASan/UBSan catch, the harness checks the contracts the rest
 * of flowtally relies on and abort()s when one breaks (libFuzzer reports an
 * abort as a crash): every emitted record is sane (known type, sampling
 * rate >= 1, address families 0/4/6, AS path and MPLS counts consistent),
 * a decoder returns a valid ft_err, pkt_header offsets stay inside the span,
 * per-exporter gauges stay within their configured caps, the exporters'
 * packets and records counters match the datagrams fed and records emitted.
 *
 * Logging: the decoders log faults at WARN (rate-limited). The harness sets
 * the threshold to ERROR unless FT_FUZZ_LOG=1 is in the environment, so
 * libFuzzer's output stays readable; the fault counters are kept either way.
 */
#ifndef FT_FUZZ_HARNESS_H
#define FT_FUZZ_HARNESS_H

#include <stddef.h>
#include <stdint.h>

typedef enum ft_fuzz_target {
    FT_FUZZ_NFV5 = 0,   /* NetFlow v5 datagram (first 2 bytes forced to 0x0005) */
    FT_FUZZ_NFV9,       /* NetFlow v9 packet (first 2 bytes forced to 0x0009) */
    FT_FUZZ_IPFIX,      /* IPFIX message (first 2 bytes forced to 0x000a) */
    FT_FUZZ_SFLOW,      /* sFlow v5 datagram (first 4 bytes forced to 0x00000005) */
    FT_FUZZ_PKT_HEADER, /* byte 0 selects the link type, the rest is the span */
    FT_FUZZ_STATEFUL,   /* length-prefixed datagrams from one exporter, expiry between */
    FT_FUZZ_COUNT
} ft_fuzz_target;

/* "nfv5", "nfv9", "ipfix", "sflow", "pkt_header", "stateful": the target's
 * executable is fuzz_<name>, its seed and regression folders <name>/.
 * NULL for an out-of-range value. */
const char *ft_fuzz_name(ft_fuzz_target t);

/* The target whose name is s, or FT_FUZZ_COUNT. */
ft_fuzz_target ft_fuzz_by_name(const char *s);

/* Runs one input through target t. Returns 0 (libFuzzer's "keep going");
 * aborts on a broken contract. Quiets logging on first use (see above). */
int ft_fuzz_run(ft_fuzz_target t, const uint8_t *data, size_t size);

/* ---- the stateful target's input format (also used by the seed writers) ----
 * input := chunk*
 * chunk := ctl(1) len(2, big-endian) body(len bytes; clipped to what is left)
 *   ctl & 0x80  call ft_decoder_expire(now) before the body is decoded
 *   ctl & 0x40  the clock steps backwards (a capture's times are not monotonic)
 *   ctl & 0x20  the datagram comes from the second exporter
 *   ctl & 0x1f  clock step in seconds (0..31), applied before the expiry
 *   len == 0    no datagram: only the clock step and the expiry
 * The decoder runs with small caps and timeouts (FT_FUZZ_STATEFUL_* below)
 * so that expiry and every cap are reachable within a few chunks, and with
 * a sampling-rate override for the second exporter. */
#define FT_FUZZ_CTL_EXPIRE 0x80u
#define FT_FUZZ_CTL_BACK 0x40u
#define FT_FUZZ_CTL_OTHER 0x20u
#define FT_FUZZ_CTL_STEP 0x1fu

#define FT_FUZZ_STATEFUL_TEMPLATE_TIMEOUT_S 60
#define FT_FUZZ_STATEFUL_PENDING_MAX_AGE_S 10
/* More than the exporter table's first 64 buckets (it grows), few enough
 * that sFlow datagrams naming other agents reach the cap. */
#define FT_FUZZ_STATEFUL_MAX_EXPORTERS 80
#define FT_FUZZ_STATEFUL_MAX_TEMPLATES 32
/* Three 1000-field templates spend it. */
#define FT_FUZZ_STATEFUL_MAX_TEMPLATE_BYTES (16u << 10)
#define FT_FUZZ_STATEFUL_PENDING_MAX_SETS 8
#define FT_FUZZ_STATEFUL_PENDING_MAX_BYTES 16384
/* --sampling-rate for the second exporter's prefix: the override paths. */
#define FT_FUZZ_STATEFUL_OVERRIDE "2001:db8::/32"
#define FT_FUZZ_STATEFUL_OVERRIDE_RATE 100

/* The clock every target starts at: 2023-11-14 22:13:21 UTC, one second
 * after the test vectors' export time (tests/unit/vec.h VEC_T_RECV_NS). */
#define FT_FUZZ_T0_NS (1700000001ull * 1000000000ull)

#endif
