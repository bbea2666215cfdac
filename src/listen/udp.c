/*
 * udp.c - SO_REUSEPORT sockets, source-address steering, recvmmsg workers
 * (udp.h).
 */
#include "listen/udp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/counters.h"
#include "core/log.h"

#define BATCH 64            /* datagrams per recvmmsg */
#define DGRAM_MAX 65536     /* > the largest UDP payload (65527 over IPv6) */
#define EXPIRE_EVERY_NS 1000000000ull

#ifndef SO_ATTACH_REUSEPORT_CBPF
#define SO_ATTACH_REUSEPORT_CBPF 51
#endif
#ifndef SO_RXQ_OVFL
#define SO_RXQ_OVFL 40
#endif

typedef struct worker {
    ft_udp_listener *l;
    uint32_t idx;
    int fd;
    int kick_fd; /* eventfd: ft_udp_listener_kick wakes this worker from its idle poll */
    pthread_t thread;
    bool started;
    ft_decoder *dec;
    char name[40]; /* "netflow:2055.0": the decoder's log prefix; lives as long as it */
    const ft_worker_out *out;
    ft_log_limiter lim;

    /* Receive state, allocated once: the hot path allocates nothing. */
    uint8_t *bufs; /* BATCH x DGRAM_MAX */
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    struct sockaddr_storage from[BATCH];
    union {
        char buf[CMSG_SPACE(sizeof(uint32_t))];
        struct cmsghdr align;
    } ctrl[BATCH];

    uint32_t ovfl_last; /* last SO_RXQ_OVFL value seen (kernel's running count) */
    /* single writer (this worker), read at exit or by tests: ft_ctr, no lock prefix */
    ft_ctr datagrams, bytes, kernel_drops, oversize, recv_errors, not_allowed;
} worker;

struct ft_udp_listener {
    ft_udp_opts o;
    char url[FT_LISTEN_URL_STRLEN]; /* with the bound port */
    uint16_t port;
    uint32_t n;
    worker *w; /* n entries */
};

static uint64_t now_ns(clockid_t c)
{
    struct timespec t;
    clock_gettime(c, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static socklen_t make_sockaddr(const ft_listen_url *u, uint16_t port, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    if (u->addr.family == 4) {
        struct sockaddr_in *s = (struct sockaddr_in *)ss;
        s->sin_family = AF_INET;
        s->sin_port = htons(port);
        memcpy(&s->sin_addr, u->addr.b + 12, 4);
        return sizeof *s;
    }
    struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;
    s->sin6_family = AF_INET6;
    s->sin6_port = htons(port);
    memcpy(&s->sin6_addr, u->addr.b, 16);
    return sizeof *s;
}

/*
 * The steering program (classic BPF, run by the kernel per datagram with the
 * packet's network header reachable at SKF_NET_OFF). It returns the index of
 * the socket in the reuseport group, in bind order:
 *   A = IPv4 source (header offset 12), or the XOR of the four 32-bit words of
 *       the IPv6 source (offsets 8..23), chosen by the version nibble, so a
 *       dual-stack [::] socket steers both families;
 *   A = A ^ (A >> 16); A *= 0x45d9f3b; A ^= A >> 16   (mixes all bits into
 *       the low ones: exporters 10.0.0.2, .4, .6 must not all land on one
 *       of 2 workers as a plain "mod 2" would do);
 *   return A % n.
 * Only the source address is read, never the source port.
 */
static int attach_steering(int fd, uint32_t n)
{
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_B | BPF_ABS, (uint32_t)SKF_NET_OFF),
        BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 4),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 6, 0, 11),
        /* IPv6: fold the source address */
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)SKF_NET_OFF + 8),
        BPF_STMT(BPF_MISC | BPF_TAX, 0),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)SKF_NET_OFF + 12),
        BPF_STMT(BPF_ALU | BPF_XOR | BPF_X, 0),
        BPF_STMT(BPF_MISC | BPF_TAX, 0),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)SKF_NET_OFF + 16),
        BPF_STMT(BPF_ALU | BPF_XOR | BPF_X, 0),
        BPF_STMT(BPF_MISC | BPF_TAX, 0),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)SKF_NET_OFF + 20),
        BPF_STMT(BPF_ALU | BPF_XOR | BPF_X, 0),
        BPF_JUMP(BPF_JMP | BPF_JA, 1, 0, 0),
        /* IPv4: the source address */
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)SKF_NET_OFF + 12),
        /* mix, then pick */
        BPF_STMT(BPF_MISC | BPF_TAX, 0),
        BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 16),
        BPF_STMT(BPF_ALU | BPF_XOR | BPF_X, 0),
        BPF_STMT(BPF_ALU | BPF_MUL | BPF_K, 0x45d9f3b),
        BPF_STMT(BPF_MISC | BPF_TAX, 0),
        BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 16),
        BPF_STMT(BPF_ALU | BPF_XOR | BPF_X, 0),
        BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, n),
        BPF_STMT(BPF_RET | BPF_A, 0),
    };
    struct sock_fprog prog = {(unsigned short)(sizeof code / sizeof code[0]), code};
    return setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof prog);
}

static void set_rcvbuf(ft_udp_listener *l, int fd, bool report)
{
    int want = (int)l->o.rcvbuf, got = 0;
    socklen_t len = sizeof got;
    if (want > 0) {
        /* SO_RCVBUFFORCE passes net.core.rmem_max (needs CAP_NET_ADMIN);
         * SO_RCVBUF is capped by it silently. */
        if (geteuid() != 0 || setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof want) != 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof want);
    }
    if (!report || getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len) != 0)
        return;
    /* Linux reports twice the requested size (it counts its bookkeeping). */
    if (want > 0 && got / 2 < want)
        ft_log(FT_LOG_WARN, "udp", "%s: receive buffer is %d bytes, less than --rcvbuf %d: raise "
               "net.core.rmem_max (or run with CAP_NET_ADMIN)", l->url, got / 2, want);
    else
        ft_log(FT_LOG_INFO, "udp", "%s: receive buffer %d bytes per socket (SO_RCVBUF reads %d: the kernel "
               "doubles it for its overhead)", l->url, got / 2, got);
}

static void format_url(ft_udp_listener *l, uint16_t port)
{
    ft_listen_url_format(&l->o.url, port, l->url);
}

ft_udp_listener *ft_udp_listener_new(const ft_udp_opts *o, char *err, size_t err_len)
{
    ft_udp_listener *l = calloc(1, sizeof *l);
    if (!l) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    l->o = *o;
    l->n = o->workers ? o->workers : 1;
    l->port = o->url.port;
    format_url(l, l->port);
    l->w = calloc(l->n, sizeof *l->w);
    if (!l->w) {
        snprintf(err, err_len, "out of memory");
        goto fail;
    }
    for (uint32_t i = 0; i < l->n; i++)
        l->w[i].fd = l->w[i].kick_fd = -1;

    for (uint32_t i = 0; i < l->n; i++) {
        worker *w = &l->w[i];
        w->l = l;
        w->idx = i;
        w->out = &o->outs[i];
        ft_log_limiter_init(&w->lim, 10);
        int fam = o->url.addr.family == 4 ? AF_INET : AF_INET6;
        w->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (w->kick_fd < 0) {
            snprintf(err, err_len, "cannot create an eventfd for %s: %s", l->url, strerror(errno));
            goto fail;
        }
        w->fd = socket(fam, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (w->fd < 0) {
            snprintf(err, err_len, "cannot create a socket for %s: %s", l->url, strerror(errno));
            goto fail;
        }
        int one = 1;
        /* Only a multi-worker listener shares its port: a single socket
         * without SO_REUSEPORT makes a second collector on the same port fail
         * to bind instead of silently taking half of the traffic. */
        if (l->n > 1 && setsockopt(w->fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
            snprintf(err, err_len, "cannot set SO_REUSEPORT on %s: %s", l->url, strerror(errno));
            goto fail;
        }
        if (setsockopt(w->fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one) != 0)
            ft_log(FT_LOG_DEBUG, "udp", "%s: SO_RXQ_OVFL unavailable (%s): kernel drops not counted", l->url,
                   strerror(errno));
        set_rcvbuf(l, w->fd, false);
        struct sockaddr_storage ss;
        socklen_t sl = make_sockaddr(&o->url, l->port, &ss);
        if (bind(w->fd, (struct sockaddr *)&ss, sl) != 0) {
            snprintf(err, err_len, "cannot bind %s: %s", l->url, strerror(errno));
            goto fail;
        }
        if (i == 0) {
            /* Port 0: the kernel chose; the other workers join that port. */
            sl = sizeof ss;
            if (getsockname(w->fd, (struct sockaddr *)&ss, &sl) == 0)
                l->port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                                         : ((struct sockaddr_in6 *)&ss)->sin6_port);
            format_url(l, l->port);
            set_rcvbuf(l, w->fd, true);
        }

        w->bufs = malloc((size_t)BATCH * DGRAM_MAX);
        if (!w->bufs) {
            snprintf(err, err_len, "out of memory for %s receive buffers", l->url);
            goto fail;
        }
        snprintf(w->name, sizeof w->name, "%s:%u.%u", ft_listen_proto_name(o->url.proto), (unsigned)l->port,
                 (unsigned)i);
        w->dec = ft_decoder_new(o->decoder, w->name);
        if (!w->dec) {
            snprintf(err, err_len, "out of memory for %s decoders", l->url);
            goto fail;
        }
    }

    if (l->n > 1) {
        if (attach_steering(l->w[0].fd, l->n) != 0)
            ft_log(FT_LOG_WARN, "udp", "%s: cannot attach the source-address steering program (%s): the kernel "
                   "will spread datagrams by address AND port, so an exporter that changes source port "
                   "may reach a worker without its templates", l->url, strerror(errno));
        else
            ft_log(FT_LOG_DEBUG, "udp", "%s: %u workers, steered by exporter address", l->url, (unsigned)l->n);
    }
    ft_log(FT_LOG_INFO, "udp", "listening on %s (%u worker%s)", l->url, (unsigned)l->n, l->n > 1 ? "s" : "");
    return l;

fail:
    ft_udp_listener_free(l);
    return NULL;
}

/* ft_addr of a received datagram's source. An IPv4 exporter reaching a
 * dual-stack IPv6 socket shows as ::ffff:a.b.c.d: it is an IPv4 exporter. */
static void source_of(const struct sockaddr_storage *ss, ft_addr *a, uint16_t *port)
{
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)ss;
        *a = ft_addr_v4((const uint8_t *)&s->sin_addr);
        *port = ntohs(s->sin_port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)ss;
        const uint8_t *b = (const uint8_t *)&s->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(&s->sin6_addr))
            *a = ft_addr_v4(b + 12);
        else
            *a = ft_addr_v6(b);
        *port = ntohs(s->sin6_port);
    } else {
        memset(a, 0, sizeof *a);
        *port = 0;
    }
}

/* The kernel's drop counter rides on each datagram (SO_RXQ_OVFL); count the
 * increase since the last one seen. */
static void check_drops(worker *w, struct msghdr *h)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SO_RXQ_OVFL)
            continue;
        uint32_t v;
        memcpy(&v, CMSG_DATA(c), sizeof v);
        uint32_t d = v - w->ovfl_last; /* modulo 2^32 */
        w->ovfl_last = v;
        if (d) {
            ft_ctr_add(&w->kernel_drops, d);
            ft_log_limited(&w->lim, 1, FT_LOG_WARN, "udp",
                           "%s worker %u: the kernel dropped %u datagrams (receive buffer full; raise "
                           "--rcvbuf or --workers)", w->l->url, (unsigned)w->idx, (unsigned)d);
        }
    }
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    ft_udp_listener *l = w->l;
    uint64_t next_expire = now_ns(CLOCK_MONOTONIC) + EXPIRE_EVERY_NS;
    ft_allow_list allow = l->o.allow; /* the refresh callback may replace it (SIGHUP) */

    for (uint32_t i = 0; i < BATCH; i++) {
        w->iov[i].iov_base = w->bufs + (size_t)i * DGRAM_MAX;
        w->iov[i].iov_len = DGRAM_MAX;
    }

    while (!atomic_load_explicit(l->o.stop, memory_order_relaxed)) {
        if (w->out->refresh)
            w->out->refresh(w->out->sink.ctx, w->dec, &allow);
        for (uint32_t i = 0; i < BATCH; i++) {
            struct msghdr *h = &w->msgs[i].msg_hdr;
            h->msg_name = &w->from[i];
            h->msg_namelen = sizeof w->from[i];
            h->msg_iov = &w->iov[i];
            h->msg_iovlen = 1;
            h->msg_control = w->ctrl[i].buf;
            h->msg_controllen = sizeof w->ctrl[i].buf;
            h->msg_flags = 0;
        }
        int n = recvmmsg(w->fd, w->msgs, BATCH, MSG_DONTWAIT, NULL);
        if (n > 0) {
            uint64_t t = now_ns(CLOCK_REALTIME);
            for (int i = 0; i < n; i++) {
                struct msghdr *h = &w->msgs[i].msg_hdr;
                check_drops(w, h);
                ft_datagram dg;
                source_of(&w->from[i], &dg.exporter, &dg.exporter_port);
                dg.time_received_ns = t;
                dg.data = w->iov[i].iov_base;
                dg.len = w->msgs[i].msg_len;
                if (h->msg_flags & MSG_TRUNC) {
                    /* Cannot happen with 64 KiB buffers; counted if it does. */
                    ft_ctr_add(&w->oversize, 1);
                    ft_log_limited(&w->lim, 2, FT_LOG_WARN, "udp", "%s: datagram longer than %d bytes cut",
                                   l->url, DGRAM_MAX);
                }
                ft_ctr_add(&w->datagrams, 1);
                ft_ctr_add(&w->bytes, dg.len);
                if (!ft_allow_ok(&allow, &dg.exporter)) {
                    /* Not one of our exporters: not a byte of it is read. */
                    char a[FT_ADDR_STRLEN];
                    ft_ctr_add(&w->not_allowed, 1);
                    ft_log_limited(&w->lim, ft_addr_hash(&dg.exporter) ^ 4, FT_LOG_WARN, "udp",
                                   "%s: datagram from %s dropped: not in --allow-exporter", l->url,
                                   ft_addr_format(&dg.exporter, a));
                    continue;
                }
                ft_decoder_decode(w->dec, &dg, &w->out->sink);
            }
            ft_worker_out_flush(w->out);
        } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            ft_ctr_add(&w->recv_errors, 1);
            ft_log_limited(&w->lim, 3, FT_LOG_WARN, "udp", "%s worker %u: receive error: %s", l->url,
                           (unsigned)w->idx, strerror(errno));
            struct timespec pause = {0, 10 * 1000 * 1000}; /* do not spin on a persistent error */
            nanosleep(&pause, NULL);
        }

        uint64_t mono = now_ns(CLOCK_MONOTONIC);
        if (mono >= next_expire) {
            uint64_t wall = now_ns(CLOCK_REALTIME);
            ft_decoder_expire(w->dec, wall);
            ft_decoder_publish(w->dec);
            if (w->out->tick)
                w->out->tick(w->out->sink.ctx, w->dec, wall);
            next_expire = mono + EXPIRE_EVERY_NS;
        }
        if (n > 0)
            continue; /* more may be queued: read again before sleeping */
        /* Idle: sleep until a datagram, a stop, a kick, or the next expiry. */
        struct pollfd p[3] = {{w->fd, POLLIN, 0}, {l->o.wake_fd, POLLIN, 0}, {w->kick_fd, POLLIN, 0}};
        uint64_t ms = (next_expire - mono + 999999) / 1000000;
        if (poll(p, 3, (int)(ms < 1000 ? ms : 1000)) > 0 && (p[2].revents & POLLIN)) {
            uint64_t v;
            if (read(w->kick_fd, &v, sizeof v) < 0 && errno != EAGAIN)
                ft_log_limited(&w->lim, 5, FT_LOG_WARN, "udp", "%s worker %u: reading its eventfd: %s", l->url,
                               (unsigned)w->idx, strerror(errno));
        }
    }

    ft_decoder_finish(w->dec);
    ft_worker_out_flush(w->out);
    ft_decoder_publish(w->dec); /* the final counters, equal to --stats */
    return NULL;
}

int ft_udp_listener_start(ft_udp_listener *l, char *err, size_t err_len)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = 0;
    for (uint32_t i = 0; i < l->n; i++) {
        int e = pthread_create(&l->w[i].thread, NULL, worker_main, &l->w[i]);
        if (e != 0) {
            snprintf(err, err_len, "cannot start worker %u of %s: %s", (unsigned)i, l->url, strerror(e));
            rc = -1;
            break;
        }
        l->w[i].started = true;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

/* Debug: which exporters a worker holds (the steering at work). */
struct exporter_list {
    char text[1024];
    size_t len, count;
};

static void list_exporter(void *arg, const ft_exporter_stats *s)
{
    struct exporter_list *x = arg;
    char a[FT_ADDR_STRLEN];
    x->count++;
    if (x->len < sizeof x->text) {
        int n = snprintf(x->text + x->len, sizeof x->text - x->len, "%s%s", x->count > 1 ? " " : "",
                         ft_addr_format(&s->addr, a));
        x->len += n > 0 ? (size_t)n : 0;
    }
}

void ft_udp_listener_join(ft_udp_listener *l)
{
    if (!l)
        return;
    for (uint32_t i = 0; i < l->n; i++) {
        worker *w = &l->w[i];
        if (!w->started)
            continue;
        pthread_join(w->thread, NULL);
        w->started = false;
        ft_log(FT_LOG_INFO, "udp",
               "%s worker %u: %llu datagrams, %llu bytes, %llu dropped by the kernel, %llu cut (over %d bytes), "
               "%llu receive errors, %llu from sources not allowed",
               l->url, (unsigned)i, (unsigned long long)ft_ctr_get(&w->datagrams),
               (unsigned long long)ft_ctr_get(&w->bytes), (unsigned long long)ft_ctr_get(&w->kernel_drops),
               (unsigned long long)ft_ctr_get(&w->oversize), DGRAM_MAX,
               (unsigned long long)ft_ctr_get(&w->recv_errors), (unsigned long long)ft_ctr_get(&w->not_allowed));
        if (ft_log_threshold >= FT_LOG_DEBUG) {
            struct exporter_list x = {{0}, 0, 0};
            ft_decoder_foreach_exporter(w->dec, list_exporter, &x);
            ft_log(FT_LOG_DEBUG, "udp", "%s worker %u exporters (%zu): %s%s", l->url, (unsigned)i, x.count, x.text,
                   x.len >= sizeof x.text ? "..." : "");
        }
    }
}

void ft_udp_listener_kick(ft_udp_listener *l)
{
    uint64_t one = 1;
    for (uint32_t i = 0; l && i < l->n; i++)
        if (l->w[i].kick_fd >= 0 && write(l->w[i].kick_fd, &one, sizeof one) < 0 && errno != EAGAIN)
            ft_log(FT_LOG_WARN, "udp", "%s: cannot wake worker %u (%s): it looks again within 1 s", l->url,
                   (unsigned)i, strerror(errno));
}

uint16_t ft_udp_listener_port(const ft_udp_listener *l)
{
    return l->port;
}

uint64_t ft_udp_listener_datagrams(const ft_udp_listener *l, uint32_t worker_idx)
{
    return worker_idx < l->n ? ft_ctr_get(&l->w[worker_idx].datagrams) : 0;
}

void ft_udp_listener_foreach_exporter(ft_udp_listener *l, void (*cb)(void *arg, const ft_exporter_stats *s),
                                      void *arg)
{
    for (uint32_t i = 0; i < l->n; i++)
        if (l->w[i].dec)
            ft_decoder_foreach_exporter(l->w[i].dec, cb, arg);
}

void ft_udp_listener_read_published(ft_udp_listener *l, void (*xcb)(void *arg, const ft_exporter_stats *s),
                                    void (*icb)(void *arg, const ft_if_counters *c), void *arg)
{
    for (uint32_t i = 0; i < l->n; i++)
        if (l->w[i].dec)
            ft_decoder_read_published(l->w[i].dec, xcb, icb, arg);
}

void ft_udp_listener_counters(const ft_udp_listener *l, uint32_t i, ft_udp_counters *out)
{
    memset(out, 0, sizeof *out);
    if (i >= l->n)
        return;
    const worker *w = &l->w[i];
    out->datagrams = ft_ctr_get(&w->datagrams);
    out->bytes = ft_ctr_get(&w->bytes);
    out->kernel_drops = ft_ctr_get(&w->kernel_drops);
    out->oversize = ft_ctr_get(&w->oversize);
    out->recv_errors = ft_ctr_get(&w->recv_errors);
    out->not_allowed = ft_ctr_get(&w->not_allowed);
    if (w->dec)
        ft_decoder_decode_time(w->dec, &out->decode_time);
}

uint32_t ft_udp_listener_workers(const ft_udp_listener *l)
{
    return l->n;
}

const char *ft_udp_listener_url(const ft_udp_listener *l)
{
    return l->url;
}

ft_decoder *ft_udp_listener_decoder(ft_udp_listener *l, uint32_t i)
{
    return i < l->n ? l->w[i].dec : NULL;
}

void ft_udp_listener_free(ft_udp_listener *l)
{
    if (!l)
        return;
    if (l->w) {
        for (uint32_t i = 0; i < l->n; i++) {
            worker *w = &l->w[i];
            if (w->started) /* a contract breach: never free under a running thread */
                abort();
            if (w->fd >= 0)
                close(w->fd);
            if (w->kick_fd >= 0)
                close(w->kick_fd);
            ft_decoder_free(w->dec);
            free(w->bufs);
        }
        free(l->w);
    }
    free(l);
}
