/*
 * server.c - libmicrohttpd daemon, routing, limits, JSON errors and the
 * embedded web files (server.h). Workload: a browser refreshing a page
 * every few seconds and a Prometheus scrape every 15-60 s; a few requests
 * a second, each answered in full on its first call.
 */
#include "http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "http/assets.h"
#include "http/http_int.h"

#define MEMORY_LIMIT (64 * 1024) /* request buffer per connection */

/* Statuses counted for /metrics; the last slot counts any other. 431
 * (headers past MEMORY_LIMIT) and 414 past it come from libmicrohttpd
 * itself (on_log). */
static const unsigned counted[] = {200, 400, 401, 404, 405, 413, 414, 431, 500, 503};
#define N_COUNTED (sizeof counted / sizeof counted[0])

struct ft_http {
    ft_http_opts o;
    struct MHD_Daemon *d;
    int fd;
    uint16_t port;
    char url[FT_ADDR_STRLEN + 24]; /* "https://[ADDR]:PORT" */
    bool tls;                      /* HTTPS only */
    _Atomic uint64_t requests[N_COUNTED + 1]; /* several HTTP threads add: atomic adds */
    pthread_mutex_t log_mu;
    ft_log_limiter lim; /* under log_mu */
    char *token;        /* --http-token-file's token, owned (wiped at stop); NULL = no authentication */
    size_t token_len;
    char *tls_cert, *tls_key; /* PEM copies, owned (the key wiped at stop); NULL = plain HTTP */
    char last_log[256];       /* libmicrohttpd's first message (under log_mu): why a start failed */

    /* Open connections, in all and per client address (under conn_mu;
     * taken per connection opened or closed, never per request). */
    pthread_mutex_t conn_mu;
    uint32_t open;        /* under conn_mu */
    struct per_ip {
        ft_addr addr;
        uint32_t n;       /* > 0 */
    } *ips;               /* n_ips entries in use, max_connections allocated; under conn_mu */
    size_t n_ips;
    _Atomic uint64_t refused_limit, refused_per_ip; /* connections closed at once */
    _Atomic uint32_t open_now;                      /* a copy of open for /metrics */
    bool mutexes;                                   /* log_mu and conn_mu initialised */
};

/* ---- answers ------------------------------------------------------------------------ */

const char *ft_req_param(const ft_req *r, const char *name)
{
    for (size_t i = 0; i < r->n_params; i++)
        if (strcmp(r->params[i].name, name) == 0)
            return r->params[i].value;
    return NULL;
}

void ft_req_json(ft_req *r, unsigned status, json_t *v)
{
    char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    free(r->body);
    r->body = NULL;
    if (!text) {
        static const char oom[] = "{\"error\":\"out of memory\"}";
        r->status = 500;
        r->body = strdup(oom);
        r->body_len = r->body ? strlen(oom) : 0;
    } else {
        r->status = status;
        r->body_len = strlen(text);
        /* A newline, so that curl output ends its line. */
        char *t = realloc(text, r->body_len + 2);
        if (t) {
            t[r->body_len++] = '\n';
            t[r->body_len] = 0;
            text = t;
        }
        r->body = text;
    }
    r->ctype = "application/json";
}

bool ft_req_error(ft_req *r, unsigned status, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* Messages echo parts of the request, which may be any bytes: keep
     * printable ASCII only, so the JSON string is always valid UTF-8. */
    for (char *c = msg; *c; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
            *c = '?';
    json_t *o = json_object();
    if (o)
        json_object_set_new(o, "error", json_string(msg));
    ft_req_json(r, status, o);
    return false;
}

/* ---- static files --------------------------------------------------------------------- */

static const ft_asset *asset(const char *path)
{
    for (size_t i = 0; i < ft_web_assets_n; i++)
        if (strcmp(ft_web_assets[i].path, path) == 0)
            return &ft_web_assets[i];
    return NULL;
}

static const char *mime(const char *path)
{
    static const struct {
        const char *ext, *type;
    } t[] = {
        {".html", "text/html; charset=utf-8"},     {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},             {".svg", "image/svg+xml"},
        {".png", "image/png"},                     {".ico", "image/x-icon"},
        {".woff2", "font/woff2"},                  {".map", "application/json"},
        {".txt", "text/plain; charset=utf-8"},     {".md", "text/plain; charset=utf-8"},
    };
    const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
    if (dot && (!slash || dot > slash))
        for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
            if (strcmp(dot, t[i].ext) == 0)
                return t[i].type;
    /* LICENSE, README and other files without a known extension. */
    return "text/plain; charset=utf-8";
}

/* ---- routing ---------------------------------------------------------------------------- */

typedef struct route {
    const char *path;
    void (*fn)(ft_req *r);
    const char *params[9]; /* accepted query parameters, NULL-terminated */
} route;

static const route routes[] = {
    {"/api/v1/top", ft_api_top, {"dimension", "from", "to", "limit", "metric", "exporter", NULL}},
    {"/api/v1/series", ft_api_series, {"dimension", "key", "top", "from", "to", "step", "metric", "exporter", NULL}},
    {"/api/v1/dimensions", ft_api_dimensions, {NULL}},
    {"/api/v1/exporters", ft_api_exporters, {NULL}},
    {"/metrics", ft_api_metrics, {NULL}},
    {"/healthz", ft_api_healthz, {NULL}},
    {"/readyz", ft_api_readyz, {NULL}},
};

struct collect {
    ft_req *r;
    size_t bytes;
    bool too_many;
    bool nul; /* a name or value held a NUL byte (%00) */
};

/* Sizes come from libmicrohttpd, not strlen: a %00 in a query decodes to
 * a NUL, and the C string would silently end there ("dst_port%00x" read
 * as "dst_port"). Such a parameter is refused instead. */
static enum MHD_Result on_arg(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
                              const char *value, size_t value_size)
{
    (void)kind;
    struct collect *c = cls;
    if (strlen(key) != key_size || (value && strlen(value) != value_size))
        c->nul = true;
    c->bytes += key_size + (value ? value_size : 0) + 2;
    if (c->r->n_params == FT_HTTP_MAX_PARAMS) {
        c->too_many = true;
        return MHD_YES;
    }
    c->r->params[c->r->n_params].name = key;
    c->r->params[c->r->n_params].value = value ? value : "";
    c->r->n_params++;
    return MHD_YES;
}

/* Checks the query parameters against the route's list. */
static bool params_ok(ft_req *r, const route *rt)
{
    for (size_t i = 0; i < r->n_params; i++) {
        bool known = false;
        for (size_t k = 0; rt->params[k]; k++)
            known = known || strcmp(rt->params[k], r->params[i].name) == 0;
        if (!known)
            return ft_req_error(r, 400, "unknown parameter '%.64s' for %s", r->params[i].name, rt->path);
        for (size_t j = 0; j < i; j++)
            if (strcmp(r->params[j].name, r->params[i].name) == 0)
                return ft_req_error(r, 400, "parameter '%.64s' given twice", r->params[i].name);
    }
    return true;
}

/* ---- connection limits -------------------------------------------------------------- */

static bool sockaddr_addr(const struct sockaddr *sa, ft_addr *a)
{
    if (sa && sa->sa_family == AF_INET) {
        *a = ft_addr_v4((const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr);
        return true;
    }
    if (sa && sa->sa_family == AF_INET6) {
        *a = ft_addr_v6((const uint8_t *)&((const struct sockaddr_in6 *)sa)->sin6_addr);
        return true;
    }
    return false;
}

/* Under conn_mu: the entry of a, or NULL. Linear: the table holds the
 * clients connected right now (at most --http-max-connections), and it is
 * read once per connection, not per request. */
static struct per_ip *find_ip(ft_http *h, const ft_addr *a)
{
    for (size_t i = 0; i < h->n_ips; i++)
        if (ft_addr_eq(&h->ips[i].addr, a))
            return &h->ips[i];
    return NULL;
}

/*
 * libmicrohttpd's accept policy, on the accepting thread right after
 * accept(2): past --http-max-connections open connections, or past
 * --http-max-connections-per-ip from this client, the connection is
 * closed at once (counted) instead of waiting unanswered. The counts move
 * when a connection starts and ends (on_connection), so two accepts in
 * two threads at the same instant may both pass: a burst may exceed a
 * limit by --http-threads - 1 at most.
 */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *sa, socklen_t len)
{
    ft_http *h = cls;
    (void)len;
    ft_addr a;
    bool have = sockaddr_addr(sa, &a);
    pthread_mutex_lock(&h->conn_mu);
    const struct per_ip *e = have ? find_ip(h, &a) : NULL;
    bool full = h->open >= h->o.max_connections;
    bool greedy = !full && h->o.max_per_ip && e && e->n >= h->o.max_per_ip;
    pthread_mutex_unlock(&h->conn_mu);
    if (!full && !greedy)
        return MHD_YES;
    atomic_fetch_add_explicit(full ? &h->refused_limit : &h->refused_per_ip, 1, memory_order_relaxed);
    char text[FT_ADDR_STRLEN] = "?";
    if (have)
        ft_addr_format(&a, text);
    pthread_mutex_lock(&h->log_mu);
    ft_log_limited(&h->lim, full ? 2 : 3, FT_LOG_WARN, "http", "connection from %s closed: %s", text,
                   full ? "--http-max-connections open already" : "--http-max-connections-per-ip from it already");
    pthread_mutex_unlock(&h->log_mu);
    return MHD_NO;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    ft_http *h = cls;
    (void)socket_context;
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    ft_addr a;
    bool have = ci && sockaddr_addr(ci->client_addr, &a);
    pthread_mutex_lock(&h->conn_mu);
    struct per_ip *e = have ? find_ip(h, &a) : NULL;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        h->open++;
        if (e)
            e->n++;
        else if (have && h->n_ips < h->o.max_connections + h->o.threads) /* the table's size */
            h->ips[h->n_ips++] = (struct per_ip){a, 1};
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        if (h->open)
            h->open--;
        if (e && --e->n == 0)
            *e = h->ips[--h->n_ips];
    }
    atomic_store_explicit(&h->open_now, h->open, memory_order_relaxed);
    pthread_mutex_unlock(&h->conn_mu);
}

static void count(ft_http *h, unsigned status)
{
    size_t i = 0;
    while (i < N_COUNTED && counted[i] != status)
        i++;
    atomic_fetch_add_explicit(&h->requests[i], 1, memory_order_relaxed);
}

static enum MHD_Result send_answer(struct MHD_Connection *c, ft_http *h, ft_req *r, const ft_asset *file)
{
    struct MHD_Response *resp;
    if (file)
        resp = MHD_create_response_from_buffer(file->len, (void *)file->data, MHD_RESPMEM_PERSISTENT);
    else
        resp = MHD_create_response_from_buffer(r->body_len, r->body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(r->body);
        return MHD_NO; /* libmicrohttpd closes the connection */
    }
    r->body = NULL; /* the response owns it now */
    MHD_add_response_header(resp, "Content-Type", r->ctype ? r->ctype : "application/json");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Cache-Control", file ? "no-cache" : "no-store");
    if (r->allow)
        MHD_add_response_header(resp, "Allow", r->allow);
    if (r->www_authenticate)
        MHD_add_response_header(resp, "WWW-Authenticate", r->www_authenticate);
    enum MHD_Result rc = MHD_queue_response(c, r->status, resp);
    MHD_destroy_response(resp);
    count(h, r->status);
    return rc;
}

static uint64_t wall_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (uint64_t)t.tv_sec;
}

/* True when the request carries "Authorization: Bearer <token>" with our
 * token (RFC 6750 §2.1; the scheme name is case-insensitive, RFC 7235
 * §2.1). The comparison reads every byte of our token whatever the given
 * value, and never stops at the first difference, so its time does not tell
 * an attacker how many leading bytes were right. */
static bool authorized(const ft_http *h, struct MHD_Connection *c)
{
    const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!v || strncasecmp(v, "Bearer ", 7) != 0)
        return false;
    v += 7;
    while (*v == ' ')
        v++;
    size_t n = strlen(v);
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    volatile unsigned char diff = n != h->token_len;
    for (size_t i = 0; i < h->token_len; i++)
        diff |= (unsigned char)h->token[i] ^ (unsigned char)(i < n ? v[i] : 0);
    return diff == 0;
}

char *ft_http_token_read(const char *path, size_t *len, char *err, size_t err_len)
{
    enum { TOKEN_MAX = 4096 };
    char *buf = NULL;
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, err_len, "--http-token-file %s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && (st.st_mode & S_IROTH))
        ft_log(FT_LOG_WARN, "http", "--http-token-file %s can be read by every user (mode %04o): chmod 600 it",
               path, (unsigned)(st.st_mode & 07777));
    buf = calloc(1, TOKEN_MAX + 2);
    if (!buf) {
        snprintf(err, err_len, "--http-token-file %s: out of memory", path);
        goto fail;
    }
    if (!fgets(buf, TOKEN_MAX + 2, f)) {
        snprintf(err, err_len, "--http-token-file %s: empty", path);
        goto fail;
    }
    size_t n = strlen(buf);
    if (n && buf[n - 1] == '\n')
        buf[--n] = 0;
    else if (n > TOKEN_MAX) {
        snprintf(err, err_len, "--http-token-file %s: the token is longer than %d bytes", path, TOKEN_MAX);
        goto fail;
    }
    if (n && buf[n - 1] == '\r')
        buf[--n] = 0;
    if (n == 0) {
        snprintf(err, err_len, "--http-token-file %s: the first line is empty", path);
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        if (buf[i] <= 0x20 || buf[i] >= 0x7f) {
            snprintf(err, err_len, "--http-token-file %s: byte %zu of the token is not printable ASCII (spaces "
                     "and control characters cannot travel in a header)", path, i + 1);
            goto fail;
        }
    }
    fclose(f);
    *len = n;
    return buf;
fail:
    if (buf) {
        memset(buf, 0, TOKEN_MAX + 2);
        free(buf);
    }
    fclose(f);
    return NULL;
}

char *ft_http_pem_read(const char *path, bool key, char *err, size_t err_len)
{
    enum { PEM_MAX = 1 << 20 };
    const char *opt = key ? "--http-key" : "--http-cert";
    char *buf = NULL;
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, err_len, "%s %s: %s", opt, path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > PEM_MAX) {
        snprintf(err, err_len, "%s %s: not a regular file of at most %d bytes", opt, path, PEM_MAX);
        goto fail;
    }
    if (key && (st.st_mode & S_IROTH))
        ft_log(FT_LOG_WARN, "http", "--http-key %s can be read by every user (mode %04o): chmod 600 it", path,
               (unsigned)(st.st_mode & 07777));
    size_t cap = (size_t)st.st_size + 1;
    if (!(buf = calloc(1, cap))) {
        snprintf(err, err_len, "%s %s: out of memory", opt, path);
        goto fail;
    }
    size_t n = fread(buf, 1, cap - 1, f);
    if (ferror(f)) {
        snprintf(err, err_len, "%s %s: read error", opt, path);
        goto fail;
    }
    buf[n] = 0;
    /* RFC 7468 §2: textual encodings start with "-----BEGIN label-----";
     * a certificate is labelled CERTIFICATE (§5), a key PRIVATE KEY (§10),
     * or "RSA PRIVATE KEY"/"EC PRIVATE KEY" in the older formats. GnuTLS
     * checks the contents when the server starts. */
    bool found = false;
    for (const char *b = buf; !found && (b = strstr(b, "-----BEGIN ")); b += 11) {
        const char *end = strstr(b + 11, "-----");
        if (!end)
            break;
        size_t len = (size_t)(end - (b + 11));
        found = key ? len >= 11 && memcmp(end - 11, "PRIVATE KEY", 11) == 0
                    : len == 11 && memcmp(b + 11, "CERTIFICATE", 11) == 0;
    }
    if (!found || memchr(buf, 0, n)) {
        snprintf(err, err_len, "%s %s: no PEM %s in it (expected a '-----BEGIN %s-----' block)", opt, path,
                 key ? "private key" : "certificate", key ? "PRIVATE KEY" : "CERTIFICATE");
        goto fail;
    }
    fclose(f);
    return buf;
fail:
    if (buf) {
        volatile char *t = buf;
        for (size_t i = 0; buf[i]; i++)
            t[i] = 0;
        free(buf);
    }
    fclose(f);
    return NULL;
}

/* Marks a request whose headers have been seen (libmicrohttpd's per-request
 * pointer): a constant, so nothing is allocated per request. */
static const char headers_seen = 1;

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    (void)upload_data;
    ft_http *h = cls;
    const char *clen = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    const char *te = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    bool body = (clen && strcmp(clen, "0") != 0) || te;
    /* libmicrohttpd calls once when the headers are in, then once per piece
     * of body, then once more: a request without a body is answered on its
     * second call, which keeps the connection alive; one with a body at
     * once (405 or 413), and the connection closes. */
    if (!*con_cls && !body) {
        *con_cls = (void *)&headers_seen;
        return MHD_YES;
    }
    *upload_data_size = 0;
    ft_req r;
    memset(&r, 0, sizeof r);
    r.be = h->o.backend;
    r.server = h;
    r.path = url;
    r.now_s = wall_s();
    r.status = 200;

    const route *rt = NULL;
    const ft_asset *file = NULL;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (strcmp(url, routes[i].path) == 0)
            rt = &routes[i];
    if (!rt) {
        if (strcmp(url, "/") == 0)
            file = asset("index.html");
        else if (strncmp(url, "/static/", 8) == 0)
            file = asset(url + 8);
        else if (strcmp(url, "/favicon.ico") == 0)
            file = asset("favicon.ico");
    }
    struct collect col = {&r, strlen(url), false, false};
    MHD_get_connection_values_n(c, MHD_GET_ARGUMENT_KIND, on_arg, &col);
    bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;

    if (h->token && strcmp(url, "/healthz") != 0 && !authorized(h, c)) {
        /* Before routing: without the token nothing is told, not even
         * whether a path exists. */
        r.www_authenticate = "Bearer realm=\"flowtally\"";
        ft_req_error(&r, 401, "authorization required: send 'Authorization: Bearer <token>' (--http-token-file)");
    } else if (!rt && !file) {
        ft_req_error(&r, 404, "no such path: %.200s (see /api/v1/dimensions, /api/v1/top, /api/v1/series, "
                     "/api/v1/exporters, /metrics, /healthz, /readyz)", url);
    } else if (!get) {
        r.allow = "GET, HEAD";
        ft_req_error(&r, 405, "method %.16s not allowed: GET or HEAD", method);
    } else if (body) {
        ft_req_error(&r, 413, "a request body is not accepted here");
    } else if (col.bytes > FT_HTTP_MAX_URI) {
        ft_req_error(&r, 414, "request URI longer than %d bytes", FT_HTTP_MAX_URI);
    } else if (col.too_many) {
        ft_req_error(&r, 400, "more than %d query parameters", FT_HTTP_MAX_PARAMS);
    } else if (col.nul) {
        ft_req_error(&r, 400, "a query parameter holds a NUL byte (%%00)");
    } else if (file) {
        r.ctype = mime(file->path);
        return send_answer(c, h, &r, file);
    } else if (params_ok(&r, rt)) {
        rt->fn(&r);
    }
    return send_answer(c, h, &r, NULL);
}

/* libmicrohttpd's own messages (malformed requests, resource limits). */
static void on_log(void *cls, const char *fmt, va_list ap)
{
    ft_http *h = cls;
    char msg[512];
    /* libmicrohttpd answers some requests itself, before on_request: 431
     * for headers past MEMORY_LIMIT, 414 for a request line past it, 400
     * for malformed requests. It says so with this message (its first
     * argument the status): count them with ours. */
    static const char refused[] = "Error processing request (HTTP response code is %u";
    if (strncmp(fmt, refused, sizeof refused - 1) == 0) {
        va_list cp;
        va_copy(cp, ap);
        count(h, va_arg(cp, unsigned));
        va_end(cp);
    }
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = 0;
    pthread_mutex_lock(&h->log_mu);
    if (!h->last_log[0]) /* the first one says why (GnuTLS' reason), the later ones only that it failed */
        snprintf(h->last_log, sizeof h->last_log, "%.255s", msg);
    ft_log_limited(&h->lim, 1, FT_LOG_INFO, "http", "%s", msg);
    pthread_mutex_unlock(&h->log_mu);
}

/* ---- life cycle -------------------------------------------------------------------------- */

static int bind_socket(ft_http *h, char *err, size_t err_len)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    char a[FT_ADDR_STRLEN];
    ft_addr_format(&h->o.addr, a);
    memset(&ss, 0, sizeof ss);
    if (h->o.addr.family == 4) {
        struct sockaddr_in *s = (struct sockaddr_in *)&ss;
        s->sin_family = AF_INET;
        s->sin_port = htons(h->o.port);
        memcpy(&s->sin_addr, h->o.addr.b + 12, 4);
        sl = sizeof *s;
    } else {
        struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;
        s->sin6_family = AF_INET6;
        s->sin6_port = htons(h->o.port);
        memcpy(&s->sin6_addr, h->o.addr.b, 16);
        sl = sizeof *s;
    }
    const char *scheme = h->tls ? "https" : "http";
    snprintf(h->url, sizeof h->url, h->o.addr.family == 6 ? "%s://[%s]:%u" : "%s://%s:%u", scheme, a,
             (unsigned)h->o.port);
    h->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (h->fd < 0) {
        snprintf(err, err_len, "cannot create a socket for %s: %s", h->url, strerror(errno));
        return -1;
    }
    int one = 1;
    /* A restarted flowtally binds at once despite connections in TIME_WAIT;
     * a second live one still fails (no SO_REUSEPORT). */
    setsockopt(h->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (h->o.addr.family == 6)
        setsockopt(h->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(h->fd, (struct sockaddr *)&ss, sl) != 0 || listen(h->fd, 128) != 0) {
        snprintf(err, err_len, "cannot bind %s: %s", h->url, strerror(errno));
        return -1;
    }
    sl = sizeof ss;
    if (getsockname(h->fd, (struct sockaddr *)&ss, &sl) == 0)
        h->port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                                : ((struct sockaddr_in6 *)&ss)->sin6_port);
    snprintf(h->url, sizeof h->url, h->o.addr.family == 6 ? "%s://[%s]:%u" : "%s://%s:%u", scheme, a,
             (unsigned)h->port);
    return 0;
}

ft_http *ft_http_start(const ft_http_opts *o, char *err, size_t err_len)
{
    ft_http *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    h->o = *o;
    h->o.token = NULL; /* our copy only: the caller's may be wiped */
    h->fd = -1;
    pthread_mutex_init(&h->log_mu, NULL);
    pthread_mutex_init(&h->conn_mu, NULL);
    h->mutexes = true;
    if (!(h->ips = calloc((size_t)o->max_connections + o->threads, sizeof *h->ips))) {
        snprintf(err, err_len, "out of memory");
        goto fail;
    }
    if (o->token && o->token_len) {
        h->token = malloc(o->token_len + 1);
        if (!h->token) {
            snprintf(err, err_len, "out of memory");
            goto fail;
        }
        memcpy(h->token, o->token, o->token_len);
        h->token[o->token_len] = 0;
        h->token_len = o->token_len;
    }
    ft_log_limiter_init(&h->lim, 10);
    bool tls = h->tls = o->tls_cert && o->tls_key;
    h->o.tls_cert = h->o.tls_key = NULL; /* our copies only */
    if (tls) {
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
            snprintf(err, err_len, "--http-cert: this libmicrohttpd (%s) was built without TLS support",
                     MHD_get_version());
            goto fail;
        }
        if (!(h->tls_cert = strdup(o->tls_cert)) || !(h->tls_key = strdup(o->tls_key))) {
            snprintf(err, err_len, "out of memory");
            goto fail;
        }
    }
    if (bind_socket(h, err, err_len) != 0)
        goto fail;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG | (tls ? MHD_USE_TLS : 0);
    /* The certificate and key are parsed by GnuTLS when the daemon starts. */
    struct MHD_OptionItem tls_opts[] = {
        {tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, h->tls_cert},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, h->tls_key},
        {MHD_OPTION_END, 0, NULL},
    };
    /* The server's threads take no signal: SIGINT/SIGTERM reach the main
     * thread (main.c). */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    /* Our accept policy closes what is past the limits; libmicrohttpd's own
     * limit (which would leave them waiting in the listen backlog) only
     * backs it up, above the burst it may let through. */
    h->d = MHD_start_daemon(flags, 0, on_accept, h, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, on_log, h,
                            MHD_OPTION_LISTEN_SOCKET, h->fd, MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
                            MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(o->threads > 1 ? o->threads : 1),
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)(o->max_connections + o->threads),
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)o->idle_timeout_s,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)MEMORY_LIMIT,
                            MHD_OPTION_ARRAY, tls_opts, MHD_OPTION_END);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!h->d) {
        pthread_mutex_lock(&h->log_mu);
        if (tls)
            snprintf(err, err_len, "cannot start the HTTPS server on %s: the certificate (--http-cert) or the key "
                     "(--http-key) was refused%s%s", h->url, h->last_log[0] ? ": " : "", h->last_log);
        else
            snprintf(err, err_len, "cannot start the HTTP server on %s%s%s", h->url, h->last_log[0] ? ": " : "",
                     h->last_log);
        pthread_mutex_unlock(&h->log_mu);
        goto fail;
    }
    h->fd = -1; /* the daemon owns (and closes) the listening socket now */
    ft_log(FT_LOG_INFO, "http", "serving on %s (%u thread%s, at most %u connections, %u per client, idle ones "
           "closed after %u s%s%s)", h->url, (unsigned)o->threads, o->threads > 1 ? "s" : "",
           (unsigned)o->max_connections, (unsigned)(o->max_per_ip ? o->max_per_ip : o->max_connections),
           (unsigned)o->idle_timeout_s,
           h->token ? ", bearer token required but on /healthz" : "", tls ? ", TLS only" : "");
    return h;
fail:
    ft_http_stop(h);
    return NULL;
}

uint16_t ft_http_port(const ft_http *h)
{
    return h->port;
}

void ft_http_metrics(ft_http *h, ft_prom *p)
{
    char lab[32];
    ft_prom_family(p, "flowtally_http_requests_total", "counter", "HTTP requests answered, by status");
    for (size_t i = 0; i <= N_COUNTED; i++) {
        char code[8];
        if (i < N_COUNTED)
            snprintf(code, sizeof code, "%u", counted[i]);
        else
            snprintf(code, sizeof code, "other");
        ft_prom_u64(p, "flowtally_http_requests_total", ft_prom_labels(lab, sizeof lab, 1, "code", code),
                    atomic_load_explicit(&h->requests[i], memory_order_relaxed));
    }
    ft_prom_family(p, "flowtally_http_connections", "gauge", "HTTP connections open now");
    ft_prom_u64(p, "flowtally_http_connections", NULL, atomic_load_explicit(&h->open_now, memory_order_relaxed));
    ft_prom_family(p, "flowtally_http_connections_refused_total", "counter",
                   "HTTP connections closed at once, by reason: limit (--http-max-connections open), per_ip "
                   "(--http-max-connections-per-ip from that client)");
    ft_prom_u64(p, "flowtally_http_connections_refused_total", ft_prom_labels(lab, sizeof lab, 1, "reason", "limit"),
                atomic_load_explicit(&h->refused_limit, memory_order_relaxed));
    ft_prom_u64(p, "flowtally_http_connections_refused_total", ft_prom_labels(lab, sizeof lab, 1, "reason", "per_ip"),
                atomic_load_explicit(&h->refused_per_ip, memory_order_relaxed));
}

void ft_http_stop(ft_http *h)
{
    if (!h)
        return;
    if (h->d)
        MHD_stop_daemon(h->d);
    if (h->fd >= 0)
        close(h->fd);
    if (h->mutexes) {
        pthread_mutex_destroy(&h->log_mu);
        pthread_mutex_destroy(&h->conn_mu);
    }
    free(h->ips);
    if (h->token) {
        /* volatile: the wipe is not optimised away before free */
        volatile char *t = h->token;
        for (size_t i = 0; i < h->token_len; i++)
            t[i] = 0;
        free(h->token);
    }
    free(h->tls_cert);
    if (h->tls_key) {
        volatile char *k = h->tls_key;
        for (size_t i = 0; h->tls_key[i]; i++)
            k[i] = 0;
        free(h->tls_key);
    }
    free(h);
}
