/*
 * http_int.h - what server.c (daemon, routing, errors, static files) shares
 * with api.c (the JSON endpoints). Not a public interface.
 */
#ifndef FT_HTTP_INT_H
#define FT_HTTP_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/server.h"

#define FT_HTTP_MAX_PARAMS 16

/* One request being answered (on one HTTP thread, within one call). */
typedef struct ft_req {
    const ft_http_backend *be;
    ft_http *server;
    const char *path;
    struct {
        const char *name, *value; /* value "" when the query said "?name" */
    } params[FT_HTTP_MAX_PARAMS];
    size_t n_params;
    uint64_t now_s; /* wall clock at arrival, s */
    /* the answer */
    unsigned status;
    char *body;         /* malloc'd, handed to libmicrohttpd */
    size_t body_len;
    const char *ctype;  /* static */
    const char *allow;  /* 405: the Allow header */
    const char *www_authenticate; /* 401: the WWW-Authenticate header (RFC 6750 §3) */
} ft_req;

/* The value of parameter name, or NULL when absent. */
const char *ft_req_param(const ft_req *r, const char *name);

/* Answers status with {"error": text}. Returns false (for "return ft_req_error(...)" in
 * handlers that return bool). */
bool ft_req_error(ft_req *r, unsigned status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Answers status with the JSON value (decref'd here; NULL = out of memory: 500). */
void ft_req_json(ft_req *r, unsigned status, json_t *v);

/* The endpoints (api.c). */
void ft_api_top(ft_req *r);
void ft_api_series(ft_req *r);
void ft_api_dimensions(ft_req *r);
void ft_api_exporters(ft_req *r);
void ft_api_healthz(ft_req *r);
void ft_api_readyz(ft_req *r);
void ft_api_metrics(ft_req *r);

#endif
