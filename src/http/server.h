/*
 * server.h - the HTTP server (libmicrohttpd): the query API under /api/v1,
 * /metrics, /healthz, /readyz and the embedded web page (assets.h). The
 * contract is API.md in the shared notes and the README's HTTP section.
 *
 * Threads and limits: libmicrohttpd's internal thread pool (`threads`
 * threads, epoll); at most `max_connections` open connections and
 * `max_per_ip` from one client address: a connection past either is
 * closed as soon as it is accepted (counted, logged at a limited rate),
 * so a client learns at once rather than waiting unanswered; an idle
 * connection is closed after `idle_timeout_s`; 64 KiB of request memory
 * per connection (headers past it: 431 from libmicrohttpd, counted). A slow query holds one HTTP thread and one
 * read-only SQLite connection, never a receive worker (query.h).
 *
 * Requests: GET and HEAD only (others 405 with Allow); no request body
 * (413); a request line past FT_HTTP_MAX_URI bytes is refused (414) -
 * with our JSON body up to libmicrohttpd's 64 KiB buffer, with its own
 * short body beyond. Unknown paths 404; unknown or repeated query
 * parameters 400. Every error is {"error": "..."} with its status. Each
 * request is answered from its first call (headers complete): nothing is
 * kept between calls, so there is no per-connection state to free.
 *
 * Ownership: the server keeps a pointer to the backend (which must outlive
 * it) and owns its daemon and listening socket.
 */
#ifndef FT_HTTP_SERVER_H
#define FT_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "flow/flow_json.h"
#include "http/prom.h"
#include "query.h"

#define FT_HTTP_MAX_URI 8192 /* bytes of path + query string we accept */

/* What the endpoints read. Every callback may run on several HTTP threads
 * at once and must be thread-safe. */
typedef struct ft_http_backend {
    void *ctx;
    ft_query *query;        /* rollups (top, series), or NULL: 503 */
    uint32_t window_s;      /* --window */
    uint32_t retention_s;   /* --retention (ranges longer are refused), 0 = none */
    bool by_exporter;       /* --rollup-by-exporter */
    /* Every exporter seen, merged per address, into *out (empty on entry;
     * the server frees it with ft_stats_set_free). */
    void (*exporters)(void *ctx, ft_stats_set *out);
    /* Writes every family of the pipeline (metrics.h) into p. */
    void (*metrics)(void *ctx, ft_prom *p);
    /* Readiness: calls reason(arg, text) for each thing not ready and
     * check(arg, name, state) for each check ("listeners", "ok"). */
    void (*ready)(void *ctx, void (*check)(void *arg, const char *name, const char *state, bool ok), void *arg);
} ft_http_backend;

typedef struct ft_http_opts {
    ft_addr addr;             /* family 4 or 6 */
    uint16_t port;            /* 0 = any free port (logged) */
    uint32_t threads;         /* >= 1 */
    uint32_t max_connections; /* >= 1 */
    uint32_t max_per_ip;      /* open connections per client address; 0 = max_connections */
    uint32_t idle_timeout_s;  /* an idle connection is closed after this, seconds >= 1 */
    const ft_http_backend *backend;
    /* --http-token-file: when token_len > 0, every request but /healthz must
     * carry "Authorization: Bearer <token>" (RFC 6750 §2.1), else 401 with
     * WWW-Authenticate: Bearer and a JSON error. The bytes are copied; the
     * token never appears in a log line or an answer. */
    const char *token;
    size_t token_len;
    /* --http-cert/--http-key: when both are set, HTTPS only (TLS through
     * libmicrohttpd's GnuTLS); PEM texts, NUL-terminated, copied (the key
     * copy is wiped at stop). NULL = plain HTTP. */
    const char *tls_cert;
    const char *tls_key;
} ft_http_opts;

/* Reads a bearer token for ft_http_opts from path: the first line, without
 * its line end ('\n' or "\r\n"), 1..4096 printable ASCII bytes (RFC 6750
 * §2.1 b64token characters and others; no spaces). Warns (log, naming the
 * file only) when others may read it (mode & 0004). Returns a malloc'd NUL-
 * terminated token (caller frees; ideally wipes first) and its length in
 * *len, or NULL with a message in err (which never holds token bytes). */
char *ft_http_token_read(const char *path, size_t *len, char *err, size_t err_len);

/* Reads a PEM file for --http-cert (key false) or --http-key (key true):
 * the whole file (at most 1 MiB), which must hold a "-----BEGIN
 * CERTIFICATE-----" block (cert) or a "-----BEGIN ... PRIVATE KEY-----"
 * block (key). A key file that others may read (mode & 0004) is warned
 * about, naming the file. Returns a malloc'd NUL-terminated text (caller
 * frees; wipe a key first), or NULL with a message naming the option and
 * the file in err (never the file's bytes). */
char *ft_http_pem_read(const char *path, bool key, char *err, size_t err_len);

typedef struct ft_http ft_http;

/* Binds, starts the threads and logs "http: serving on http://ADDR:PORT"
 * (https:// with TLS). NULL with a message in err (cannot bind ...: errno
 * text; libmicrohttpd without TLS support; a certificate or key GnuTLS
 * refuses, with its reason). */
ft_http *ft_http_start(const ft_http_opts *o, char *err, size_t err_len);

/* The bound port. */
uint16_t ft_http_port(const ft_http *h);

/* Requests answered, by status (for /metrics: the server's own family). */
void ft_http_metrics(ft_http *h, ft_prom *p);

/* Stops accepting, finishes the requests in progress, joins the threads,
 * frees. NULL is a no-op. */
void ft_http_stop(ft_http *h);

#endif
