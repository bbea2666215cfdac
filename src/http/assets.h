/*
 * assets.h - the files of web/, embedded at build time by
 * cmake/embed_dir.cmake (generated gen/web_assets.c), served by the HTTP
 * server: "/" is index.html, "/static/PATH" is PATH.
 */
#ifndef FT_HTTP_ASSETS_H
#define FT_HTTP_ASSETS_H

#include <stddef.h>

typedef struct ft_asset {
    const char *path;           /* relative to web/, '/' separated: "index.html", "vendor/uPlot.min.js" */
    const unsigned char *data;  /* the file's bytes (followed by a NUL not counted in len) */
    size_t len;                 /* bytes */
} ft_asset;

/* Sorted by path; ft_web_assets[ft_web_assets_n] is {NULL, NULL, 0}. */
extern const ft_asset ft_web_assets[];
extern const size_t ft_web_assets_n;

#endif
