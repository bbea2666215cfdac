/*
 * recvcount.c - the machine's UDP receive ceiling for bench/run: a bare
 * recvmmsg loop that only counts datagrams and payload bytes, nothing else.
 *
 * Usage: recvcount HOST PORT [RCVBUF_BYTES] [THREADS]
 * Binds THREADS SO_REUSEPORT UDP sockets on HOST:PORT (IPv4), prints
 * "listening HOST:PORT" on stderr, receives until SIGINT/SIGTERM, then
 * prints {"kind":"recvcount","datagrams":N,"octets":N} on stdout.
 * Exit: 0, 1 on a socket error, 2 on a usage error.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 64
#define DGRAM 65536
#define MAX_THREADS 16

static volatile sig_atomic_t g_stop; /* only the signal flag is global */

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

struct worker {
    int fd;
    pthread_t tid;
    uint64_t datagrams, octets;
};

static void *run(void *arg)
{
    struct worker *w = arg;
    static _Thread_local unsigned char buf[BATCH][2048];
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    for (int i = 0; i < BATCH; i++) {
        iov[i].iov_base = buf[i];
        iov[i].iov_len = sizeof buf[i];
        memset(&msgs[i], 0, sizeof msgs[i]);
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    while (!g_stop) {
        int n = recvmmsg(w->fd, msgs, BATCH, MSG_WAITFORONE, NULL);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            perror("recvcount: recvmmsg");
            break;
        }
        w->datagrams += (uint64_t)n;
        for (int i = 0; i < n; i++)
            w->octets += msgs[i].msg_len;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: recvcount HOST PORT [RCVBUF_BYTES] [THREADS]\n");
        return 2;
    }
    int rcvbuf = argc > 3 ? atoi(argv[3]) : 0;
    int threads = argc > 4 ? atoi(argv[4]) : 1;
    if (threads < 1 || threads > MAX_THREADS) {
        fprintf(stderr, "recvcount: THREADS must be 1..%d\n", MAX_THREADS);
        return 2;
    }
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)atoi(argv[2]));
    if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
        fprintf(stderr, "recvcount: bad IPv4 address %s\n", argv[1]);
        return 2;
    }
    struct sigaction act;
    memset(&act, 0, sizeof act);
    act.sa_handler = on_signal; /* no SA_RESTART: recvmmsg returns EINTR */
    sigaction(SIGINT, &act, NULL);
    sigaction(SIGTERM, &act, NULL);

    struct worker w[MAX_THREADS];
    memset(w, 0, sizeof w);
    for (int i = 0; i < threads; i++) {
        int one = 1;
        w[i].fd = socket(AF_INET, SOCK_DGRAM, 0);
        if (w[i].fd < 0 || setsockopt(w[i].fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) {
            perror("recvcount: socket");
            return 1;
        }
        /* RCVBUFFORCE ignores rmem_max when we may; else the capped SO_RCVBUF */
        if (rcvbuf > 0 && setsockopt(w[i].fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0)
            setsockopt(w[i].fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
        if (bind(w[i].fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
            perror("recvcount: bind");
            return 1;
        }
    }
    socklen_t len = sizeof sa;
    getsockname(w[0].fd, (struct sockaddr *)&sa, &len);
    fprintf(stderr, "listening %s:%u\n", argv[1], ntohs(sa.sin_port));
    for (int i = 0; i < threads; i++)
        pthread_create(&w[i].tid, NULL, run, &w[i]);
    uint64_t d = 0, o = 0;
    for (int i = 0; i < threads; i++) {
        /* a blocked recvmmsg needs the signal delivered to its thread */
        while (pthread_tryjoin_np(w[i].tid, NULL) != 0) {
            if (g_stop)
                pthread_kill(w[i].tid, SIGINT);
            usleep(20000);
        }
        d += w[i].datagrams;
        o += w[i].octets;
    }
    printf("{\"kind\":\"recvcount\",\"datagrams\":%llu,\"octets\":%llu}\n", (unsigned long long)d,
           (unsigned long long)o);
    return 0;
}
