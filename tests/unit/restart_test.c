/*
 * restart_test.c - an exporter that restarts: its sequence numbers start
 * again, its template IDs come back with other layouts, its options data
 * announce another sampling rate and (NetFlow v5/v9) its sysUptime starts
 * again from 0. Hand-written byte vectors for the cases real exporters in
 * tests/e2e/test_restarts.py do not produce on demand.
 *
 * Oracles:
 *  - RFC 3954 §5.1: the v9 Sequence Number counts export packets per Source
 *    ID; sysUptime is "time in milliseconds since this device was first
 *    booted"; FIRST/LAST_SWITCHED (§8, types 22/21) are sysUptime values, so
 *    absolute ms = unix_secs*1000 - (sysUptime - SWITCHED).
 *  - Cisco's v5 header: flow_sequence counts flows seen before the datagram;
 *    First/Last are sysUptime ms, absolute = unix time - (SysUptime - First).
 *  - RFC 7011 §3.1: the IPFIX Sequence Number counts Data Records (options
 *    data included) sent before the message "in the current stream"; a
 *    restarted Exporting Process starts a new stream. RFC 7011 §8 / RFC 3954
 *    §5.2: a template ID is bound to the layout last announced for it; §3.4.2
 *    options data carry systemInitTimeMilliseconds (160) and samplingInterval
 *    (34); RFC 7011 §6 / RFC 7012 flowStart/EndSysUpTime (22/21) are relative
 *    to systemInitTimeMilliseconds.
 * What must hold: every record decoded with the layout and clock of the
 * incarnation that sent it; a restart counted once in sequence_resets and
 * never as ~2^32 lost; loss after a restart counted exactly.
 */
#include "test.h"
#include "vec.h"

#define S VEC_EXPORT_S /* export time of the first run, s */
#define T(i) (VEC_T_RECV_NS + VEC_S2NS(i))

/* ---- NetFlow v9 ---------------------------------------------------------- */

/* Layout A of template 300 (the first run): IPV4_SRC_ADDR(8) 4, IN_BYTES(1) 4
 * -> 8-byte records. One template FlowSet + one record: 20 + 16 + 12 = 48. */
static void v9_a(vec *v, uint32_t seq, uint32_t uptime, uint32_t secs, int host, uint32_t bytes)
{
    memset(v, 0, sizeof *v);
    v_begin(v, 48);
    v9_header(v, 2, uptime, secs, seq, V9_SOURCE_ID); /* count 2: template + record */
    v_begin(v, 16);
    v_u16(v, 0);       /* template FlowSet */
    v_u16(v, 16);      /* Length: 4 + 4 + 2*4 */
    v_u16(v, 300);     /* Template ID */
    v_u16(v, 2);       /* Field Count */
    v9_field(v, 8, 4); /* IPV4_SRC_ADDR */
    v9_field(v, 1, 4); /* IN_BYTES */
    v_end(v);
    v_begin(v, 12);
    v_u16(v, 300);                /* FlowSet ID */
    v_u16(v, 12);                 /* Length: 4 + 8 */
    v_ip4(v, 198, 51, 100, host); /* IPV4_SRC_ADDR */
    v_u32(v, bytes);              /* IN_BYTES */
    v_end(v);
    v_end(v);
}

/* Layout B of the same template 300 (the restarted exporter): IN_BYTES 4,
 * L4_DST_PORT(11) 2, IPV4_SRC_ADDR 4, FIRST_SWITCHED(22) 4, LAST_SWITCHED(21)
 * 4 -> 18-byte records. With the template: 20 + 28 + 24 = 72 bytes; without
 * (data FlowSet only): 20 + 24 = 44. */
static void v9_b(vec *v, bool with_template, uint32_t seq, uint32_t uptime, uint32_t secs, int host,
                 uint32_t bytes, uint32_t first, uint32_t last)
{
    memset(v, 0, sizeof *v);
    v_begin(v, with_template ? 72 : 44);
    v9_header(v, with_template ? 2 : 1, uptime, secs, seq, V9_SOURCE_ID);
    if (with_template) {
        v_begin(v, 28);
        v_u16(v, 0);        /* template FlowSet */
        v_u16(v, 28);       /* Length: 4 + 4 + 5*4 */
        v_u16(v, 300);      /* Template ID: the same as before the restart */
        v_u16(v, 5);        /* Field Count */
        v9_field(v, 1, 4);  /* IN_BYTES */
        v9_field(v, 11, 2); /* L4_DST_PORT */
        v9_field(v, 8, 4);  /* IPV4_SRC_ADDR */
        v9_field(v, 22, 4); /* FIRST_SWITCHED */
        v9_field(v, 21, 4); /* LAST_SWITCHED */
        v_end(v);
    }
    v_begin(v, 24);
    v_u16(v, 300);                /* FlowSet ID */
    v_u16(v, 24);                 /* Length: 4 + 18 = 22, + 2 padding */
    v_u32(v, bytes);              /* IN_BYTES */
    v_u16(v, 443);                /* L4_DST_PORT */
    v_ip4(v, 198, 51, 100, host); /* IPV4_SRC_ADDR */
    v_u32(v, first);              /* FIRST_SWITCHED */
    v_u32(v, last);               /* LAST_SWITCHED */
    v_u16(v, 0);                  /* padding */
    v_end(v);
    v_end(v);
}

/* Three packets of the first run (sequence 1, 2, 3; sysUptime 600 s on),
 * then the exporter restarts 30 s later: sequence 0 and 1, sysUptime 0.5 s
 * and 1.5 s, template 300 redefined. Old sequence + 1 = 4 was expected; 0 is
 * behind it but fills no gap and sysUptime went back: one restart, nothing
 * lost, nothing reordered. Then sequence 4 arrives where 2 was expected:
 * packets 2 and 3 of the new run were dropped -> lost_packets 2 exactly. */
static void t_v9_restart_counters(void)
{
    fx *x = fx_new(NULL);
    vec *v = calloc(1, sizeof *v);
    ASSERT_TRUE(v != NULL);
    for (uint32_t i = 0; i < 3; i++) {
        v9_a(v, 1 + i, 600000 + 1000 * i, S + i, 1 + (int)i, 100 + i);
        ASSERT_EQ(fx_vec(x, v, T(i)), FT_OK);
    }
    /* restart: sysUptime 500 ms at S+30; FIRST 100, LAST 400 */
    v9_b(v, true, 0, 500, S + 30, 10, 5000, 100, 400);
    ASSERT_EQ(fx_vec(x, v, T(30)), FT_OK);
    /* sysUptime 1500 at S+31; FIRST 1000, LAST 1400; no template (it holds) */
    v9_b(v, false, 1, 1500, S + 31, 11, 6000, 1000, 1400);
    ASSERT_EQ(fx_vec(x, v, T(31)), FT_OK);
    ft_exporter_stats st = fx_stats(x);
    ASSERT_EQ(st.ctr[FT_CTR_records], 5);
    ASSERT_EQ(st.ctr[FT_CTR_sequence_resets], 1);
    ASSERT_EQ(st.ctr[FT_CTR_lost_packets], 0);
    ASSERT_EQ(st.ctr[FT_CTR_sequence_reordered], 0);
    ASSERT_EQ(vec_err_sum(&st), 0);
    ASSERT_EQ(st.templates, 1);

    /* first run, layout A: times = export time (no time field) */
    ASSERT_TRUE(vec_addr_is(&x->c.f[2].src_addr, "198.51.100.3"));
    ASSERT_EQ(x->c.f[2].bytes, 102);
    ASSERT_EQ(x->c.f[2].dst_port, 0);
    /* restarted run, layout B: (S+30)*1000 - (500 - 100) and - (500 - 400) ms */
    const ft_flow *f = &x->c.f[3];
    ASSERT_TRUE(vec_addr_is(&f->src_addr, "198.51.100.10"));
    ASSERT_EQ(f->bytes, 5000);
    ASSERT_EQ(f->dst_port, 443);
    ASSERT_EQ(f->sequence_num, 0);
    ASSERT_EQ(f->time_flow_start_ns, VEC_MS2NS((S + 30) * 1000ull - 400));
    ASSERT_EQ(f->time_flow_end_ns, VEC_MS2NS((S + 30) * 1000ull - 100));
    f = &x->c.f[4];
    ASSERT_TRUE(vec_addr_is(&f->src_addr, "198.51.100.11"));
    ASSERT_EQ(f->bytes, 6000);
    /* (S+31)*1000 - (1500 - 1000) and - (1500 - 1400) */
    ASSERT_EQ(f->time_flow_start_ns, VEC_MS2NS((S + 31) * 1000ull - 500));
    ASSERT_EQ(f->time_flow_end_ns, VEC_MS2NS((S + 31) * 1000ull - 100));

    /* sequence 4 where 2 is expected: 2 packets lost after the restart */
    v9_b(v, false, 4, 4500, S + 34, 12, 7000, 4000, 4400);
    ASSERT_EQ(fx_vec(x, v, T(34)), FT_OK);
    st = fx_stats(x);
    ASSERT_EQ(st.ctr[FT_CTR_lost_packets], 2);
    ASSERT_EQ(st.ctr[FT_CTR_sequence_resets], 1);
    ASSERT_EQ(st.ctr[FT_CTR_records], 6);
    free(v);
}

/* The restarted exporter's first packet carries data of the new layout but
 * its template comes only in the next packet (the template packet was lost
 * or reordered). Template 300 of the old run must not decode it (8-byte
 * layout A would read the 22-byte set as two bogus records): the restart
 * (sysUptime back to 0.5 s) drops the old run's templates, so the data is
 * held (RFC 3954 §5.2: no template, no decoding) and decoded with layout B
 * when it arrives. */
static void t_v9_restart_template_later(void)
{
    fx *x = fx_new(NULL);
    vec *v = calloc(1, sizeof *v);
    ASSERT_TRUE(v != NULL);
    v9_a(v, 1, 600000, S, 1, 100);
    fx_vec(x, v, T(0));
    v9_a(v, 2, 601000, S + 1, 2, 101);
    fx_vec(x, v, T(1));
    v9_b(v, false, 0, 500, S + 30, 20, 5000, 100, 400); /* data only */
    fx_vec(x, v, T(30));
    ft_exporter_stats st = fx_stats(x);
    ASSERT_EQ(st.ctr[FT_CTR_records], 2);
    ASSERT_EQ(st.ctr[FT_CTR_pending_held], 1);
    ASSERT_EQ(st.templates, 0);
    v9_b(v, true, 1, 1500, S + 31, 21, 6000, 1000, 1400);
    fx_vec(x, v, T(31));
    st = fx_stats(x);
    ASSERT_EQ(st.ctr[FT_CTR_records], 4);
    ASSERT_EQ(st.ctr[FT_CTR_sequence_resets], 1);
    ASSERT_EQ(st.ctr[FT_CTR_lost_packets], 0);
    ASSERT_EQ(st.ctr[FT_CTR_sequence_reordered], 0);
    ASSERT_EQ(st.pending, 0);
    /* the held record, read with layout B and its own packet's clock:
     * (S+30)*1000 - 400 / - 100 ms */
    const ft_flow *f = &x->c.f[2];
    ASSERT_TRUE(vec_addr_is(&f->src_addr, "198.51.100.20"));
    ASSERT_EQ(f->bytes, 5000);
    ASSERT_EQ(f->dst_port, 443);
    ASSERT_EQ(f->sequence_num, 0);
    ASSERT_EQ(f->time_flow_start_ns, VEC_MS2NS((S + 30) * 1000ull - 400));
    ASSERT_EQ(f->time_flow_end_ns, VEC_MS2NS((S + 30) * 1000ull - 100));
    ASSERT_TRUE(vec_addr_is(&x->c.f[3].src_addr, "198.51.100.21"));
    free(v);
}

/* Sequence 10, then 14 (11..13 lost: 3), then 12. With the same boot time
 * (export time - sysUptime) 12 is a late packet filling the gap: reordered,
 * lost back to 2. With sysUptime back near 0 it is the restarted exporter
 * whose new count happens to land in the gap: a restart, and the 3 lost
 * stay lost. */
static void t_v9_restart_into_gap(void)
{
    vec *v = calloc(1, sizeof *v);
    ASSERT_TRUE(v != NULL);
    for (int restarted = 0; restarted < 2; restarted++) {
        fx *x = fx_new(NULL);
        v9_a(v, 10, 610000, S + 10, 1, 100); /* boot time S*1000 - 600000 ms */
        fx_vec(x, v, T(10));
        v9_a(v, 14, 614000, S + 14, 2, 100); /* same boot time */
        fx_vec(x, v, T(14));
        ASSERT_EQ(fx_stats(x).ctr[FT_CTR_lost_packets], 3);
        if (restarted)
            v9_a(v, 12, 800, S + 15, 3, 100); /* boot time (S+15)*1000 - 800: 614.2 s later */
        else
            v9_a(v, 12, 612000, S + 12, 3, 100); /* boot time unchanged */
        fx_vec(x, v, T(15));
        ft_exporter_stats st = fx_stats(x);
        ASSERT_EQ(st.ctr[FT_CTR_records], 3);
        ASSERT_EQ(st.ctr[FT_CTR_lost_packets], restarted ? 3 : 2);
        ASSERT_EQ(st.ctr[FT_CTR_sequence_reordered], restarted ? 0 : 1);
        ASSERT_EQ(st.ctr[FT_CTR_sequence_resets], restarted ? 1 : 0);
    }
    free(v);
}

/* sysUptime is 32-bit ms and wraps after 49.7 days (RFC 3954 §5.1): it goes
 * from 2^32 - 1000 to 1000 in 2 s while the exporter keeps running. That is
 * no restart: sequence 10 then 12 is one packet lost, not a reset. */
static void t_v9_uptime_wrap_is_no_restart(void)
{
    fx *x = fx_new(NULL);
    vec *v = calloc(1, sizeof *v);
    ASSERT_TRUE(v != NULL);
    v9_a(v, 10, 4294966296u, S, 1, 100); /* 2^32 - 1000 */
    fx_vec(x, v, T(0));
    v9_a(v, 12, 1000, S + 2, 2, 100); /* 2000 ms later, wrapped */
    fx_vec(x, v, T(2));
    ft_exporter_stats st = fx_stats(x);
    ASSERT_EQ(st.ctr[FT_CTR_lost_packets], 1);
    ASSERT_EQ(st.ctr[FT_CTR_sequence_resets], 0);
    ASSERT_EQ(st.templates, 1); /* kept: no restart */
    free(v);
}

/* An exporter whose sysUptime stays 0 (softflowd reading a capture without
 * -a sends that): its boot time (export time - sysUptime) moves on with
 * the clock, but sysUptime never goes back, so it never restarted.
 * Sequence 10 at S, 12 at S+5: one packet lost, no reset, templates kept. */
static void t_v9_uptime_standing_still_is_no_restart(void)
{
    fx *x = fx_new(NULL);
    vec *v = calloc(1, sizeof *v);
    ASSERT_TRUE(v != NULL);
    v9_a(v, 10, 0, S, 1, 100);
    fx_vec(x, v, T(0));
    /* a data FlowSet 300 only: read a restart into it and it would wait
     * for a template (pending_held) */
    v9_b(v, false, 12, 0, S + 5, 2, 200, 0, 0);
    fx_vec(x, v, T(5));
    ft_exporter_stats st = fx_stats(x);
    ASSERT_EQ(st.ctr[FT_CTR_lost_packets], 1);
    ASSERT_EQ(st.ctr[FT_CTR_sequence_resets], 0);
    ASSERT_EQ(st.templates, 1);
    ASSERT_EQ(st.ctr[FT_CTR_pending_held], 0);
    free(v);
}

/* Options template 256 (RFC 3954 §6.1) announces the sampling rate: scope
 * System, SAMPLING_INTERVAL(34) 100 in the first run. The restarted
 * exporter redefines 256 with another layout (SAMPLING_ALGORITHM(35) first,
 * SAMPLING_INTERVAL in 2 bytes) and rate 10: records of each run carry their
 * own run's rate. */
static void t_v9_restart_sampling(void)
{
    fx *x = fx_new(NULL);
    vec *v = calloc(1, sizeof *v);
    ASSERT_TRUE(v != NULL);
    v_begin(v, 20 + 24 + 16 + 16 + 12); /* 88 */
    v9_header(v, 4, 600000, S, 1, V9_SOURCE_ID); /* count 4: opt tpl, opt data, tpl, data */
    v_begin(v, 24);
    v_u16(v, 1);        /* options template FlowSet */
    v_u16(v, 24);       /* Length: 4 + 6 + 4 + 8 = 22, + 2 padding */
    v_u16(v, 256);      /* Template ID */
    v_u16(v, 4);        /* Option Scope Length: one scope field */
    v_u16(v, 8);        /* Option Length: two option fields */
    v9_field(v, 1, 4);  /* scope System */
    v9_field(v, 34, 4); /* SAMPLING_INTERVAL */
    v9_field(v, 35, 1); /* SAMPLING_ALGORITHM */
    v_u16(v, 0);        /* padding */
    v_end(v);
    v_begin(v, 16);
    v_u16(v, 256);          /* FlowSet ID */
    v_u16(v, 16);           /* Length: 4 + 9 = 13, + 3 padding */
    v_ip4(v, 192, 0, 2, 1); /* scope System */
    v_u32(v, 100);          /* SAMPLING_INTERVAL 100 */
    v_u8(v, 1);             /* deterministic */
    v_fill(v, 0, 3);        /* padding */
    v_end(v);
    v_begin(v, 16);
    v_u16(v, 0), v_u16(v, 16), v_u16(v, 300), v_u16(v, 2); /* template 300, 2 fields */
    v9_field(v, 8, 4), v9_field(v, 1, 4);                   /* layout A */
    v_end(v);
    v_begin(v, 12);
    v_u16(v, 300), v_u16(v, 12); /* data FlowSet 300, length 12 */
    v_ip4(v, 198, 51, 100, 1), v_u32(v, 100);
    v_end(v);
    v_end(v);
    ASSERT_EQ(fx_vec(x, v, T(0)), FT_OK);
    ASSERT_EQ(x->c.f[0].sampling_rate, 100);

    /* restarted: sysUptime 500 ms, sequence 0 */
    memset(v, 0, sizeof *v);
    v_begin(v, 20 + 24 + 12 + 28 + 24); /* 108 */
    v9_header(v, 4, 500, S + 30, 0, V9_SOURCE_ID);
    v_begin(v, 24);
    v_u16(v, 1);        /* options template FlowSet */
    v_u16(v, 24);       /* Length: 4 + 6 + 4 + 8 = 22, + 2 padding */
    v_u16(v, 256);      /* the same Template ID, another layout */
    v_u16(v, 4);        /* Option Scope Length */
    v_u16(v, 8);        /* Option Length */
    v9_field(v, 1, 4);  /* scope System */
    v9_field(v, 35, 1); /* SAMPLING_ALGORITHM */
    v9_field(v, 34, 2); /* SAMPLING_INTERVAL in 2 bytes */
    v_u16(v, 0);        /* padding */
    v_end(v);
    v_begin(v, 12);
    v_u16(v, 256);          /* FlowSet ID */
    v_u16(v, 12);           /* Length: 4 + 7 = 11, + 1 padding */
    v_ip4(v, 192, 0, 2, 1); /* scope System */
    v_u8(v, 1);             /* deterministic */
    v_u16(v, 10);           /* SAMPLING_INTERVAL 10 */
    v_u8(v, 0);             /* padding */
    v_end(v);
    v_begin(v, 28);
    v_u16(v, 0), v_u16(v, 28), v_u16(v, 300), v_u16(v, 5); /* template 300, 5 fields */
    v9_field(v, 1, 4), v9_field(v, 11, 2), v9_field(v, 8, 4), v9_field(v, 22, 4), v9_field(v, 21, 4);
    v_end(v);
    v_begin(v, 24);
    v_u16(v, 300), v_u16(v, 24); /* data FlowSet 300: 4 + 18 + 2 padding */
    v_u32(v, 777), v_u16(v, 53), v_ip4(v, 198, 51, 100, 2), v_u32(v, 200), v_u32(v, 300);
    v_u16(v, 0);
    v_end(v);
    v_end(v);
    ASSERT_EQ(fx_vec(x, v, T(30)), FT_OK);
    ft_exporter_stats st = fx_stats(x);
    ASSERT_EQ(st.ctr[FT_CTR_records], 2);
    ASSERT_EQ(st.ctr[FT_CTR_options_records], 2);
    ASSERT_EQ(st.ctr[FT_CTR_sequence_resets], 1);
    ASSERT_EQ(st.ctr[FT_CTR_lost_packets], 0);
    ASSERT_EQ(vec_err_sum(&st), 0);
    const ft_flow *f = &x->c.f[1];
    ASSERT_EQ(f->sampling_rate, 10);
    ASSERT_EQ(f->bytes, 777);
    ASSERT_EQ(f->dst_port, 53);
    ASSERT_TRUE(vec_addr_is(&f->src_addr, "198.51.100.2"));
    /* (S+30)*1000 - (500 - 200) and - (500 - 300) */
    ASSERT_EQ(f->time_flow_start_ns, VEC_MS2NS((S + 30) * 1000ull - 300));
    ASSERT_EQ(f->time_flow_end_ns, VEC_MS2NS((S + 30) * 1000ull - 200));
    free(v);
}

/* ---- NetFlow v5 ---------------------------------------------------------- */

/* One 48-byte record, 198.51.100.<host> -> 203.0.113.<host> TCP 1024 -> 80,
 * 1 packet of `bytes`, First/Last as given (sysUptime ms). */
static void v5_rec(vec *v, int host, uint32_t bytes, uint32_t first, uint32_t last)
{
    v_begin(v, 48);
    v_ip4(v, 198, 51, 100, host); /* srcaddr */
    v_ip4(v, 203, 0, 113, host);  /* dstaddr */
    v_ip4(v, 0, 0, 0, 0);         /* nexthop */
    v_u16(v, 1), v_u16(v, 2);     /* input, output */
    v_u32(v, 1);                  /* dPkts */
    v_u32(v, bytes);              /* dOctets */
    v_u32(v, first);              /* First */
    v_u32(v, last);               /* Last */
    v_u16(v, 1024), v_u16(v, 80); /* srcport, dstport */
    v_u8(v, 0), v_u8(v, 0x02);    /* pad1, tcp_flags SYN */
    v_u8(v, 6), v_u8(v, 0);       /* prot TCP, tos */
    v_u16(v, 0), v_u16(v, 0);     /* src_as, dst_as */
    v_u8(v, 0), v_u8(v, 0);       /* src_mask, dst_mask */
    v_u16(v, 0);                  /* pad2 */
    v_end(v);
}

/* A v5 datagram of n records (hosts host.., First = uptime - 300, Last =
 * uptime - 50), unix_nsecs 0, flow_sequence seq. */
static void v5_dgram(vec *v, uint16_t n, uint32_t seq, uint32_t uptime, uint32_t secs, int host)
{
    memset(v, 0, sizeof *v);
    v_begin(v, 24 + 48 * (size_t)n);
    v5_header(v, n, uptime, secs, 0, seq, 0);
    for (int i = 0; i < n; i++)
        v5_rec(v, host + i, 1000 + (uint32_t)(host + i), uptime - 300, uptime - 50);
    v_end(v);
}

/* flow_sequence counts flows: 0 (+2), 2 (+1) -> 3 expected. The exporter
 * restarts (SysUptime 400 ms, 60 s later): 0 (+1), 1 (+2): a restart, not 3
 * and 2 flows "reordered" nor 2^32 - 3 lost. Then 6 where 3 is expected:
 * flows 3, 4, 5 lost -> lost_records 3 exactly. */
static void t_v5_restart(void)
{
    fx *x = fx_new(NULL);
    vec *v = calloc(1, sizeof *v);
    ASSERT_TRUE(v != NULL);
    v5_dgram(v, 2, 0, 600000, S, 1);
    fx_vec(x, v, T(0));
    v5_dgram(v, 1, 2, 601000, S + 1, 3);
    fx_vec(x, v, T(1));
    v5_dgram(v, 1, 0, 400, S + 60, 10); /* restarted */
    fx_vec(x, v, T(60));
    v5_dgram(v, 2, 1, 1400, S + 61, 11);
    fx_vec(x, v, T(61));
    ft_exporter_stats st = fx_stats(x);
    ASSERT_EQ(st.ctr[FT_CTR_records], 6);
    ASSERT_EQ(st.ctr[FT_CTR_sequence_resets], 1);
    ASSERT_EQ(st.ctr[FT_CTR_lost_records], 0);
    ASSERT_EQ(st.ctr[FT_CTR_sequence_reordered], 0);
    /* restarted run: (S+60)*1000 - (400 - 100) and - (400 - 350) ms */
    const ft_flow *f = &x->c.f[3];
    ASSERT_TRUE(vec_addr_is(&f->src_addr, "198.51.100.10"));
    ASSERT_EQ(f->bytes, 1010);
    ASSERT_EQ(f->sequence_num, 0);
    ASSERT_EQ(f->time_flow_start_ns, VEC_MS2NS((S + 60) * 1000ull - 300));
    ASSERT_EQ(f->time_flow_end_ns, VEC_MS2NS((S + 60) * 1000ull - 50));
    /* first run, record 3: S*1000 + 1000 - 300 */
    ASSERT_EQ(x->c.f[2].time_flow_start_ns, VEC_MS2NS(S * 1000ull + 1000 - 300));

    v5_dgram(v, 1, 6, 5400, S + 65, 20);
    fx_vec(x, v, T(65));
    st = fx_stats(x);
    ASSERT_EQ(st.ctr[FT_CTR_lost_records], 3);
    ASSERT_EQ(st.ctr[FT_CTR_sequence_resets], 1);
    free(v);
}

/* ---- IPFIX ----------------------------------------------------------------- */

#define T0_MS (S * 1000ull - 600000) /* first run's systemInitTimeMilliseconds */
#define T1_MS ((S + 30) * 1000ull - 200) /* restarted run's */

/* Options template 401 (RFC 7011 §3.4.2.2): scope observationDomainId(149)
 * 4, systemInitTimeMilliseconds(160) 8, samplingInterval(34) 4; and its data
 * record. 24 + 20 bytes. */
static void ipfix_opts(vec *v, uint64_t init_ms, uint32_t rate)
{
    v_begin(v, 24);
    v_u16(v, 3);              /* options template set */
    v_u16(v, 24);             /* Length: 4 + 6 + 3*4 = 22, + 2 padding */
    v_u16(v, 401);            /* Template ID */
    v_u16(v, 3);              /* Field Count */
    v_u16(v, 1);              /* Scope Field Count */
    ipfix_field(v, 149, 4);   /* scope observationDomainId */
    ipfix_field(v, 160, 8);   /* systemInitTimeMilliseconds */
    ipfix_field(v, 34, 4);    /* samplingInterval */
    v_u16(v, 0);              /* padding */
    v_end(v);
    v_begin(v, 20);
    v_u16(v, 401);            /* set ID */
    v_u16(v, 20);             /* Length: 4 + 16 */
    v_u32(v, IPFIX_DOMAIN);   /* observationDomainId */
    v_u64(v, init_ms);        /* systemInitTimeMilliseconds */
    v_u32(v, rate);           /* samplingInterval */
    v_end(v);
}

/* Data set 400 in layout A: sourceIPv4Address(8) 4, octetDeltaCount(1) 8,
 * flowStartSysUpTime(22) 4, flowEndSysUpTime(21) 4 -> 20 bytes; 24 with the
 * set header. Its template set: 4 + 4 + 4*4 = 24. */
static void ipfix_tpl_a(vec *v)
{
    v_begin(v, 24);
    v_u16(v, 2), v_u16(v, 24); /* template set, length */
    v_u16(v, 400), v_u16(v, 4); /* Template ID 400, Field Count 4 */
    ipfix_field(v, 8, 4), ipfix_field(v, 1, 8), ipfix_field(v, 22, 4), ipfix_field(v, 21, 4);
    v_end(v);
}
static void ipfix_data_a(vec *v, int host, uint64_t bytes, uint32_t start, uint32_t end)
{
    v_begin(v, 24);
    v_u16(v, 400), v_u16(v, 24); /* set ID 400, Length 4 + 20 */
    v_ip4(v, 198, 51, 100, host), v_u64(v, bytes), v_u32(v, start), v_u32(v, end);
    v_end(v);
}
/* Layout B of the same ID 400: octetDeltaCount 4, destinationTransportPort(11)
 * 2, sourceIPv4Address 4, flowStartSysUpTime 4, flowEndSysUpTime 4 -> 18
 * bytes; the data set 4 + 18 + 2 padding = 24; the template set 4 + 4 + 5*4 = 28. */
static void ipfix_tpl_b(vec *v)
{
    v_begin(v, 28);
    v_u16(v, 2), v_u16(v, 28);
    v_u16(v, 400), v_u16(v, 5);
    ipfix_field(v, 1, 4), ipfix_field(v, 11, 2), ipfix_field(v, 8, 4), ipfix_field(v, 22, 4),
        ipfix_field(v, 21, 4);
    v_end(v);
}
static void ipfix_data_b(vec *v, int host, uint32_t bytes, uint32_t start, uint32_t end)
{
    v_begin(v, 24);
    v_u16(v, 400), v_u16(v, 24);
    v_u32(v, bytes), v_u16(v, 8443), v_ip4(v, 198, 51, 100, host), v_u32(v, start), v_u32(v, end);
    v_u16(v, 0); /* padding */
    v_end(v);
}

/* First run: message seq 0 (options data + 1 record = 2 data records) and
 * seq 2 (1 record) -> 3 expected. Restarted exporter, a new stream (RFC 7011
 * §3.1): seq 0 with a new systemInitTimeMilliseconds, rate 10 and template
 * 400 redefined (2 records), seq 2 (1 record): one reset, nothing lost or
 * reordered, the new records read with layout B and timed from the new init
 * time. Then seq 7 where 3 is expected: 4 data records lost exactly. */
static void t_ipfix_restart(void)
{
    fx *x = fx_new(NULL);
    vec *v = calloc(1, sizeof *v);
    ASSERT_TRUE(v != NULL);
    v_begin(v, 16 + 24 + 20 + 24 + 24); /* 108 */
    ipfix_header(v, 108, S, 0, IPFIX_DOMAIN);
    ipfix_opts(v, T0_MS, 100);
    ipfix_tpl_a(v);
    ipfix_data_a(v, 1, 1500, 5000, 6000);
    v_end(v);
    ASSERT_EQ(fx_vec(x, v, T(0)), FT_OK);
    memset(v, 0, sizeof *v);
    v_begin(v, 16 + 24); /* 40 */
    ipfix_header(v, 40, S + 1, 2, IPFIX_DOMAIN);
    ipfix_data_a(v, 2, 1600, 7000, 8000);
    v_end(v);
    ASSERT_EQ(fx_vec(x, v, T(1)), FT_OK);

    memset(v, 0, sizeof *v);
    v_begin(v, 16 + 24 + 20 + 28 + 24); /* 112 */
    ipfix_header(v, 112, S + 30, 0, IPFIX_DOMAIN);
    ipfix_opts(v, T1_MS, 10);
    ipfix_tpl_b(v);
    ipfix_data_b(v, 10, 700, 50, 150);
    v_end(v);
    ASSERT_EQ(fx_vec(x, v, T(30)), FT_OK);
    memset(v, 0, sizeof *v);
    v_begin(v, 16 + 24); /* 40 */
    ipfix_header(v, 40, S + 31, 2, IPFIX_DOMAIN);
    ipfix_data_b(v, 11, 800, 900, 1100);
    v_end(v);
    ASSERT_EQ(fx_vec(x, v, T(31)), FT_OK);

    ft_exporter_stats st = fx_stats(x);
    ASSERT_EQ(st.ctr[FT_CTR_records], 4);
    ASSERT_EQ(st.ctr[FT_CTR_options_records], 2);
    ASSERT_EQ(st.ctr[FT_CTR_sequence_resets], 1);
    ASSERT_EQ(st.ctr[FT_CTR_lost_records], 0);
    ASSERT_EQ(st.ctr[FT_CTR_sequence_reordered], 0);
    ASSERT_EQ(vec_err_sum(&st), 0);
    /* first run: T0 + 7000 / 8000 ms, rate 100 */
    const ft_flow *f = &x->c.f[1];
    ASSERT_EQ(f->bytes, 1600);
    ASSERT_EQ(f->sampling_rate, 100);
    ASSERT_EQ(f->time_flow_start_ns, VEC_MS2NS(T0_MS + 7000));
    ASSERT_EQ(f->time_flow_end_ns, VEC_MS2NS(T0_MS + 8000));
    /* restarted: layout B, T1 + 50 / 150 and T1 + 900 / 1100 ms, rate 10 */
    f = &x->c.f[2];
    ASSERT_TRUE(vec_addr_is(&f->src_addr, "198.51.100.10"));
    ASSERT_EQ(f->bytes, 700);
    ASSERT_EQ(f->dst_port, 8443);
    ASSERT_EQ(f->sampling_rate, 10);
    ASSERT_EQ(f->time_flow_start_ns, VEC_MS2NS(T1_MS + 50));
    ASSERT_EQ(f->time_flow_end_ns, VEC_MS2NS(T1_MS + 150));
    f = &x->c.f[3];
    ASSERT_TRUE(vec_addr_is(&f->src_addr, "198.51.100.11"));
    ASSERT_EQ(f->bytes, 800);
    ASSERT_EQ(f->time_flow_start_ns, VEC_MS2NS(T1_MS + 900));
    ASSERT_EQ(f->time_flow_end_ns, VEC_MS2NS(T1_MS + 1100));

    memset(v, 0, sizeof *v);
    v_begin(v, 40);
    ipfix_header(v, 40, S + 35, 7, IPFIX_DOMAIN); /* 3 expected: records 3..6 lost */
    ipfix_data_b(v, 12, 900, 5000, 5100);
    v_end(v);
    fx_vec(x, v, T(35));
    st = fx_stats(x);
    ASSERT_EQ(st.ctr[FT_CTR_lost_records], 4);
    ASSERT_EQ(st.ctr[FT_CTR_sequence_resets], 1);
    ASSERT_EQ(st.ctr[FT_CTR_records], 5);
    free(v);
}

/* With no sysUptime to tell (IPFIX), reordering must still read as
 * reordering: seq 0 (2 records), 3 arrives (record 2 lost), then 2 (1
 * record) fills that gap: lost back to 0, one reordered, no reset. */
static void t_ipfix_reorder_vs_restart(void)
{
    fx *x = fx_new(NULL);
    vec *v = calloc(1, sizeof *v);
    ASSERT_TRUE(v != NULL);
    v_begin(v, 16 + 24 + 24 + 24); /* 88: template A + data 24 + a second data set 24 */
    ipfix_header(v, 88, S, 0, IPFIX_DOMAIN);
    ipfix_tpl_a(v);
    ipfix_data_a(v, 1, 1, 0, 0);
    ipfix_data_a(v, 2, 2, 0, 0);
    v_end(v);
    fx_vec(x, v, T(0));
    const uint32_t seq[] = {3, 2};
    for (int i = 0; i < 2; i++) {
        memset(v, 0, sizeof *v);
        v_begin(v, 40);
        ipfix_header(v, 40, S + 1, seq[i], IPFIX_DOMAIN);
        ipfix_data_a(v, 3 + i, 3, 0, 0);
        v_end(v);
        fx_vec(x, v, T(1));
        ASSERT_EQ(fx_stats(x).ctr[FT_CTR_lost_records], i == 0 ? 1 : 0);
    }
    ft_exporter_stats st = fx_stats(x);
    ASSERT_EQ(st.ctr[FT_CTR_sequence_reordered], 1);
    ASSERT_EQ(st.ctr[FT_CTR_sequence_resets], 0);
    free(v);
}

/* An IPFIX message of k one-record data sets of layout A (and template 400
 * first when tpl), sequence seq. */
static void ipfix_msg_a(vec *v, bool tpl, int k, uint32_t seq, int host)
{
    memset(v, 0, sizeof *v);
    size_t len = 16 + (tpl ? 24 : 0) + 24 * (size_t)k;
    v_begin(v, len);
    ipfix_header(v, (uint16_t)len, S + (uint32_t)host, seq, IPFIX_DOMAIN);
    if (tpl)
        ipfix_tpl_a(v);
    for (int i = 0; i < k; i++)
        ipfix_data_a(v, host + i, 100, 0, 0);
    v_end(v);
}

/* softflowd 1.1.0 numbers an IPFIX message after its own data records
 * (seq = records sent including this message's, options not counted),
 * where RFC 7011 §3.1 says before. Messages of 2, 1, 3 records numbered 2,
 * 3, 6 lose nothing; the domain follows that numbering from the second
 * message on (it fits exactly, the RFC's does not). Then a message of 2
 * records is dropped: the next, of 1 record, says 9 where 7 was expected:
 * 2 records lost, no reset. The RFC's numbering (0, 2, 3) loses nothing
 * either (t_ipfix_reorder_vs_restart and ipfix_test cover it). */
static void t_ipfix_numbered_after_own_records(void)
{
    fx *x = fx_new(NULL);
    vec *v = calloc(1, sizeof *v);
    ASSERT_TRUE(v != NULL);
    ipfix_msg_a(v, true, 2, 2, 1);
    fx_vec(x, v, T(0));
    ipfix_msg_a(v, false, 1, 3, 3);
    fx_vec(x, v, T(1));
    ipfix_msg_a(v, false, 3, 6, 4);
    fx_vec(x, v, T(2));
    ft_exporter_stats st = fx_stats(x);
    ASSERT_EQ(st.ctr[FT_CTR_records], 6);
    ASSERT_EQ(st.ctr[FT_CTR_lost_records], 0);
    ASSERT_EQ(st.ctr[FT_CTR_sequence_resets], 0);
    ASSERT_EQ(st.ctr[FT_CTR_sequence_reordered], 0);
    ipfix_msg_a(v, false, 1, 9, 10); /* records 7, 8 went in a lost message */
    fx_vec(x, v, T(4));
    st = fx_stats(x);
    ASSERT_EQ(st.ctr[FT_CTR_lost_records], 2);
    ASSERT_EQ(st.ctr[FT_CTR_sequence_resets], 0);
    /* and it restarts: a new stream numbered the same way, 2 then 3 */
    ipfix_msg_a(v, true, 2, 2, 20);
    fx_vec(x, v, T(30));
    ipfix_msg_a(v, false, 1, 3, 22);
    fx_vec(x, v, T(31));
    st = fx_stats(x);
    ASSERT_EQ(st.ctr[FT_CTR_lost_records], 2);
    ASSERT_EQ(st.ctr[FT_CTR_sequence_resets], 1);
    ASSERT_EQ(st.ctr[FT_CTR_sequence_reordered], 0);
    ASSERT_EQ(st.ctr[FT_CTR_records], 10);
    free(v);
}

int main(void)
{
    FT_RUN(t_v9_restart_counters);
    FT_RUN(t_v9_restart_template_later);
    FT_RUN(t_v9_restart_into_gap);
    FT_RUN(t_v9_uptime_wrap_is_no_restart);
    FT_RUN(t_v9_uptime_standing_still_is_no_restart);
    FT_RUN(t_v9_restart_sampling);
    FT_RUN(t_v5_restart);
    FT_RUN(t_ipfix_restart);
    FT_RUN(t_ipfix_reorder_vs_restart);
    FT_RUN(t_ipfix_numbered_after_own_records);
    fx_done();
    return FT_DONE();
}
