/*
 * geo.c - MaxMind DB lookups for flow addresses (geo.h).
 *
 * Workload: two address lookups per flow record on every receive worker.
 * A per-worker 4-way set-associative cache (LRU within a set) answers
 * repeats; a miss costs one walk of
 * the database's search tree (MMDB_lookup_sockaddr: up to 32 or 128 node
 * reads, binary address, no text parsing) and one MMDB_aget_value per
 * database on the record found.
 */
#include "enrich/geo.h"

#include "core/counters.h"

#include <arpa/inet.h>
#include <errno.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#define MAX_PATH_DEPTH 8     /* components of a lookup path */
#define DETECT_RECORDS 512   /* data records read at open to find the layout */
#define DETECT_NODES 1000000 /* search-tree nodes visited at most for that */
/* Per worker: 65536 addresses, 2 MiB. Direct-mapped 4096 slots missed
 * about a third of the time with 2000 live addresses (a src/dst pair often
 * shares a slot and evicts each other), 2 ways still 8% (sets holding 3+
 * addresses used in turn miss every time under LRU); 4 ways take 5
 * addresses in one set to thrash. 8192 addresses missed 97% of the time
 * with 20000 live ones (bench/run's live rows: 10k flow keys), and a miss
 * costs a search-tree walk (~0.4 us on the bench's small database): the
 * cache is sized for tens of thousands of active addresses. */
#define CACHE_SETS 16384 /* power of two */
#define CACHE_WAYS 4

/* ---- special-purpose addresses ------------------------------------------------ */

static const struct {
    uint32_t net; /* host order */
    uint8_t bits;
} special_v4[] = {
    {0x00000000, 8},  /* 0.0.0.0/8 "this network", RFC 791 / RFC 1122 §3.2.1.3 */
    {0x0a000000, 8},  /* 10.0.0.0/8 private, RFC 1918 */
    {0x64400000, 10}, /* 100.64.0.0/10 shared address space (CGN), RFC 6598 */
    {0x7f000000, 8},  /* 127.0.0.0/8 loopback, RFC 1122 */
    {0xa9fe0000, 16}, /* 169.254.0.0/16 link-local, RFC 3927 */
    {0xac100000, 12}, /* 172.16.0.0/12 private, RFC 1918 */
    {0xc0000000, 24}, /* 192.0.0.0/24 IETF protocol assignments, RFC 6890 */
    {0xc0000200, 24}, /* 192.0.2.0/24 TEST-NET-1 documentation, RFC 5737 */
    {0xc0a80000, 16}, /* 192.168.0.0/16 private, RFC 1918 */
    {0xc6120000, 15}, /* 198.18.0.0/15 benchmarking, RFC 2544 */
    {0xc6336400, 24}, /* 198.51.100.0/24 TEST-NET-2 documentation, RFC 5737 */
    {0xcb007100, 24}, /* 203.0.113.0/24 TEST-NET-3 documentation, RFC 5737 */
    {0xe0000000, 4},  /* 224.0.0.0/4 multicast, RFC 5771 */
    {0xf0000000, 4},  /* 240.0.0.0/4 reserved, and 255.255.255.255 broadcast, RFC 1112 / RFC 919 */
};

static const struct {
    uint8_t net[16];
    uint8_t bits;
} special_v6[] = {
    {{0}, 127},                                     /* ::/128 unspecified and ::1/128 loopback, RFC 4291 */
    {{0x00, 0x64, 0xff, 0x9b, 0x00, 0x01}, 48},     /* 64:ff9b:1::/48 local-use NAT64, RFC 8215 */
    {{0x01, 0x00}, 64},                             /* 100::/64 discard-only, RFC 6666 */
    {{0x20, 0x01, 0x00, 0x02, 0x00, 0x00}, 48},     /* 2001:2::/48 benchmarking, RFC 5180 */
    {{0x20, 0x01, 0x0d, 0xb8}, 32},                 /* 2001:db8::/32 documentation, RFC 3849 */
    {{0x3f, 0xff}, 20},                             /* 3fff::/20 documentation, RFC 9637 */
    {{0xfc}, 7},                                    /* fc00::/7 unique local, RFC 4193 */
    {{0xfe, 0x80}, 10},                             /* fe80::/10 link-local, RFC 4291 */
    {{0xff}, 8},                                    /* ff00::/8 multicast, RFC 4291 */
};

static bool prefix_match(const uint8_t *a, const uint8_t *net, unsigned bits)
{
    unsigned full = bits / 8, rest = bits % 8;
    if (memcmp(a, net, full) != 0)
        return false;
    if (!rest)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a[full] & mask) == (net[full] & mask);
}

static bool is_v4_mapped(const ft_addr *a)
{
    static const uint8_t pfx[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return memcmp(a->b, pfx, 12) == 0;
}

bool ft_addr_is_special(const ft_addr *a)
{
    if (a->family == 4 || (a->family == 6 && is_v4_mapped(a))) {
        uint32_t v = (uint32_t)a->b[12] << 24 | (uint32_t)a->b[13] << 16 | (uint32_t)a->b[14] << 8 | a->b[15];
        for (size_t i = 0; i < sizeof special_v4 / sizeof special_v4[0]; i++) {
            uint32_t mask = special_v4[i].bits ? ~0u << (32 - special_v4[i].bits) : 0;
            if ((v & mask) == special_v4[i].net)
                return true;
        }
        return false;
    }
    if (a->family != 6)
        return false;
    for (size_t i = 0; i < sizeof special_v6 / sizeof special_v6[0]; i++)
        if (prefix_match(a->b, special_v6[i].net, special_v6[i].bits))
            return true;
    return false;
}

/* ---- databases ------------------------------------------------------------------ */

typedef enum { ROLE_COUNTRY, ROLE_ASN } role_kind;

/* Known layouts per role, tried in this order. */
static const struct layout {
    role_kind role;
    const char *path; /* dotted */
    const char *who;  /* for logs and errors */
} layouts[] = {
    {ROLE_COUNTRY, "country.iso_code", "MaxMind GeoLite2/GeoIP2, DB-IP"},
    {ROLE_COUNTRY, "country_code", "ip-location-db"},
    {ROLE_ASN, "autonomous_system_number", "MaxMind GeoLite2/GeoIP2 ASN, DB-IP, ip-location-db"},
    {ROLE_ASN, "asn", "ipinfo"},
};

typedef struct db {
    MMDB_s mmdb; /* MMDB_entry_s points here: the struct never moves (heap) */
    bool open;
    dev_t dev;
    ino_t ino;
} db;

typedef struct role {
    db *d;                                /* NULL = role unused */
    char pathbuf[128];                    /* the dotted path, split in place */
    const char *path[MAX_PATH_DEPTH + 1]; /* NULL-terminated */
    char text[128];                       /* "country.iso_code (ip-location-db)" */
} role;

struct ft_geo {
    ft_asn_source asn_source;
    db dbs[2];
    role country, asn;
};

static const char *role_option(role_kind k)
{
    return k == ROLE_COUNTRY ? "--geoip-country" : "--geoip-asn";
}

static const char *role_expect(role_kind k)
{
    return k == ROLE_COUNTRY ? "a country code (country.iso_code as in MaxMind GeoLite2/GeoIP2 and DB-IP, or "
                               "country_code as in ip-location-db)"
                             : "an AS number (autonomous_system_number as in MaxMind GeoLite2 ASN, DB-IP and "
                               "ip-location-db, or asn as in ipinfo)";
}

static int split_path(role *r, const char *dotted)
{
    snprintf(r->pathbuf, sizeof r->pathbuf, "%s", dotted);
    size_t n = 0;
    for (char *s = r->pathbuf, *tok; (tok = strsep(&s, "."));) {
        if (!*tok || n == MAX_PATH_DEPTH)
            return -1;
        r->path[n++] = tok;
    }
    r->path[n] = NULL;
    return strlen(dotted) < sizeof r->pathbuf && n ? 0 : -1;
}

static bool cc_ok(const char *s, uint32_t n)
{
    return n == 2 && ((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z')) &&
           ((s[1] >= 'A' && s[1] <= 'Z') || (s[1] >= 'a' && s[1] <= 'z'));
}

/* An AS number from what the path holds: an unsigned integer, or text
 * "AS64500" / "64500". 0 when it holds neither (or AS 0, RFC 7607). */
static uint32_t asn_of(const MMDB_entry_data_s *d)
{
    switch (d->type) {
    case MMDB_DATA_TYPE_UINT16:
        return d->uint16;
    case MMDB_DATA_TYPE_UINT32:
        return d->uint32;
    case MMDB_DATA_TYPE_UINT64:
        return d->uint64 <= UINT32_MAX ? (uint32_t)d->uint64 : 0;
    case MMDB_DATA_TYPE_INT32:
        return d->int32 > 0 ? (uint32_t)d->int32 : 0;
    case MMDB_DATA_TYPE_UTF8_STRING: {
        const char *s = d->utf8_string;
        uint32_t n = d->data_size, i = 0;
        if (n >= 2 && (s[0] == 'A' || s[0] == 'a') && (s[1] == 'S' || s[1] == 's'))
            i = 2;
        uint64_t v = 0;
        if (i == n)
            return 0;
        for (; i < n; i++) {
            if (s[i] < '0' || s[i] > '9' || v > UINT32_MAX / 10)
                return 0;
            v = v * 10 + (uint64_t)(s[i] - '0');
        }
        return v <= UINT32_MAX ? (uint32_t)v : 0;
    }
    }
    return 0;
}

/* Reads r's value in the record at entry. Returns 1 found (country in
 * cc[0..2] upper-cased, or *asn), 0 absent, -1 database error. */
static int read_value(const role *r, role_kind k, MMDB_entry_s *entry, char cc[2], uint32_t *asn)
{
    MMDB_entry_data_s d;
    int st = MMDB_aget_value(entry, &d, r->path);
    if (st == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR)
        return 0;
    if (st != MMDB_SUCCESS)
        return -1;
    if (!d.has_data)
        return 0;
    if (k == ROLE_COUNTRY) {
        if (d.type != MMDB_DATA_TYPE_UTF8_STRING || !cc_ok(d.utf8_string, d.data_size))
            return 0;
        cc[0] = (char)(d.utf8_string[0] & ~0x20);
        cc[1] = (char)(d.utf8_string[1] & ~0x20);
        return 1;
    }
    *asn = asn_of(&d);
    return *asn ? 1 : 0;
}

/*
 * Depth-first walk of the search tree (MaxMind DB spec "Search Tree
 * Section"), left before right, calling visit on each data record until it
 * returns non-zero or DETECT_RECORDS records / DETECT_NODES nodes were
 * seen. Returns visit's non-zero result, 0 when exhausted, or -1 with why
 * set on a corrupt tree.
 */
static int walk_records(const MMDB_s *m, int (*visit)(void *arg, MMDB_entry_s *e), void *arg, const char **why)
{
    uint32_t stack[300];
    size_t sp = 0, records = 0, nodes = 0;
    stack[sp++] = 0;
    while (sp && records < DETECT_RECORDS && nodes < DETECT_NODES) {
        uint32_t n = stack[--sp];
        MMDB_search_node_s node;
        int st = MMDB_read_node(m, n, &node);
        nodes++;
        if (st != MMDB_SUCCESS) {
            *why = MMDB_strerror(st);
            return -1;
        }
        /* Right pushed first: the left subtree (lower addresses) comes first. */
        uint64_t rec[2] = {node.right_record, node.left_record};
        uint8_t type[2] = {node.right_record_type, node.left_record_type};
        MMDB_entry_s *ent[2] = {&node.right_record_entry, &node.left_record_entry};
        for (int i = 0; i < 2; i++) {
            if (type[i] == MMDB_RECORD_TYPE_SEARCH_NODE) {
                if (sp == sizeof stack / sizeof stack[0] || rec[i] > UINT32_MAX) {
                    *why = "search tree deeper than 128 bits";
                    return -1;
                }
                stack[sp++] = (uint32_t)rec[i];
            } else if (type[i] == MMDB_RECORD_TYPE_INVALID) {
                *why = "search tree record points past the data section";
                return -1;
            }
        }
        for (int i = 1; i >= 0; i--) {
            if (type[i] != MMDB_RECORD_TYPE_DATA)
                continue;
            records++;
            int v = visit(arg, ent[i]);
            if (v)
                return v;
        }
    }
    return 0;
}

struct detect {
    role *r;
    role_kind k;
    const char *explicit_path; /* NULL = try the layouts */
    int found;                 /* 1 + index in layouts, or 1 for the explicit path */
    int errors;
};

static int detect_visit(void *arg, MMDB_entry_s *e)
{
    struct detect *dt = arg;
    char cc[2];
    uint32_t asn;
    if (dt->explicit_path) {
        int v = read_value(dt->r, dt->k, e, cc, &asn);
        if (v < 0)
            dt->errors++;
        return v > 0 ? (dt->found = 1) : 0;
    }
    for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++) {
        if (layouts[i].role != dt->k)
            continue;
        split_path(dt->r, layouts[i].path);
        int v = read_value(dt->r, dt->k, e, cc, &asn);
        if (v < 0)
            dt->errors++;
        if (v > 0) {
            dt->found = (int)i + 1;
            return 1;
        }
    }
    return 0;
}

static void set_err(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
}

/* Opens file into a free slot of g, or reuses the slot already holding the
 * same file (same device and inode). */
static db *open_db(ft_geo *g, role_kind k, const char *file, char *err, size_t err_len)
{
    struct stat st;
    if (stat(file, &st) != 0) {
        set_err(err, err_len, "%s %s: cannot open: %s (expected a MaxMind DB .mmdb file with %s; see geo/README.md)",
                role_option(k), file, strerror(errno), role_expect(k));
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        set_err(err, err_len, "%s %s: not a regular file (expected a MaxMind DB .mmdb file with %s)", role_option(k),
                file, role_expect(k));
        return NULL;
    }
    for (int i = 0; i < 2; i++)
        if (g->dbs[i].open && g->dbs[i].dev == st.st_dev && g->dbs[i].ino == st.st_ino)
            return &g->dbs[i];
    db *d = g->dbs[0].open ? &g->dbs[1] : &g->dbs[0];
    int rc = MMDB_open(file, MMDB_MODE_MMAP, &d->mmdb);
    if (rc != MMDB_SUCCESS) {
        const char *hint = rc == MMDB_INVALID_METADATA_ERROR || rc == MMDB_UNKNOWN_DATABASE_FORMAT_ERROR ||
                                   rc == MMDB_INVALID_DATA_ERROR || rc == MMDB_CORRUPT_SEARCH_TREE_ERROR
                               ? "not a MaxMind DB file, or truncated (its metadata is at the end)"
                               : "cannot read it";
        set_err(err, err_len, "%s %s: %s: %s%s%s (expected a MaxMind DB .mmdb file with %s)", role_option(k), file,
                hint, MMDB_strerror(rc), rc == MMDB_IO_ERROR || rc == MMDB_FILE_OPEN_ERROR ? ": " : "",
                rc == MMDB_IO_ERROR || rc == MMDB_FILE_OPEN_ERROR ? strerror(errno) : "", role_expect(k));
        return NULL;
    }
    d->open = true;
    d->dev = st.st_dev;
    d->ino = st.st_ino;
    return d;
}

static int open_role(ft_geo *g, role *r, role_kind k, const char *file, const char *key, char *err,
                     size_t err_len)
{
    db *d = open_db(g, k, file, err, err_len);
    if (!d)
        return -1;
    r->d = d;
    if (key && split_path(r, key) != 0) {
        set_err(err, err_len, "%s-key '%s': not a lookup path (names separated by dots, at most %d)", role_option(k),
                key, MAX_PATH_DEPTH);
        return -1;
    }
    struct detect dt = {r, k, key, 0, 0};
    const char *why = NULL;
    int w = walk_records(&d->mmdb, detect_visit, &dt, &why);
    const char *type = d->mmdb.metadata.database_type ? d->mmdb.metadata.database_type : "?";
    if (w < 0) {
        set_err(err, err_len, "%s %s: corrupt search tree (%s); expected a MaxMind DB .mmdb file with %s",
                role_option(k), file, why, role_expect(k));
        return -1;
    }
    if (!dt.found) {
        if (key)
            set_err(err, err_len, "%s %s (database type '%s'): no record holds %s at '%s'%s", role_option(k), file,
                    type, k == ROLE_COUNTRY ? "a two-letter country code" : "an AS number", key,
                    dt.errors ? " (and some records are corrupt)" : "");
        else
            set_err(err, err_len, "%s %s (database type '%s'): none of its records holds %s; is it the right database? "
                    "(or name the field with %s-key)", role_option(k), file, type, role_expect(k), role_option(k));
        return -1;
    }
    if (key) {
        split_path(r, key);
        snprintf(r->text, sizeof r->text, "%s (--%s-key)", key, role_option(k) + 2);
    } else {
        const struct layout *l = &layouts[dt.found - 1];
        split_path(r, l->path);
        snprintf(r->text, sizeof r->text, "%s (%s layout)", l->path, l->who);
    }
    return 0;
}

ft_geo *ft_geo_open(const ft_geo_opts *o, char *err, size_t err_len)
{
    ft_geo *g = calloc(1, sizeof *g);
    if (!g) {
        set_err(err, err_len, "out of memory");
        return NULL;
    }
    g->asn_source = o->asn_source;
    if (o->country_file && open_role(g, &g->country, ROLE_COUNTRY, o->country_file, o->country_key, err, err_len))
        goto fail;
    if (o->asn_file && open_role(g, &g->asn, ROLE_ASN, o->asn_file, o->asn_key, err, err_len))
        goto fail;
    /* --asn-source flow: the file was checked, but never looked up. */
    if (o->asn_source == FT_ASN_FLOW)
        g->asn.d = NULL;
    return g;
fail:
    ft_geo_close(g);
    return NULL;
}

void ft_geo_close(ft_geo *g)
{
    if (!g)
        return;
    for (int i = 0; i < 2; i++)
        if (g->dbs[i].open)
            MMDB_close(&g->dbs[i].mmdb);
    free(g);
}

bool ft_geo_active(const ft_geo *g)
{
    return g && (g->country.d || g->asn.d);
}

static size_t describe_role(const role *r, const char *what, char *buf, size_t len)
{
    if (!r->d || !len)
        return 0;
    const MMDB_metadata_s *m = &r->d->mmdb.metadata;
    char when[32] = "?";
    time_t t = (time_t)m->build_epoch;
    struct tm tm;
    if (gmtime_r(&t, &tm))
        strftime(when, sizeof when, "%Y-%m-%d", &tm);
    int n = snprintf(buf, len, "%s%s from %s (type '%s', built %s, IPv%u): %s", *buf ? "; " : "", what,
                     r->d->mmdb.filename, m->database_type ? m->database_type : "?", when, (unsigned)m->ip_version,
                     r->text);
    return n > 0 ? (size_t)n : 0;
}

void ft_geo_describe(const ft_geo *g, char *buf, size_t len)
{
    if (!len)
        return;
    buf[0] = 0;
    size_t n = describe_role(&g->country, "countries", buf, len);
    if (n < len)
        describe_role(&g->asn, "AS numbers", buf + n, len - n);
}

/* ---- per-worker enrichment -------------------------------------------------------- */

static const char *const geo_ctr_names[FT_GEO_CTR_COUNT] = {
#define FT_GEO_CTR_NAME(name, help) #name,
    FT_GEO_CTR_MAP(FT_GEO_CTR_NAME)
#undef FT_GEO_CTR_NAME
};

const char *ft_geo_ctr_name(ft_geo_ctr c)
{
    return (unsigned)c < FT_GEO_CTR_COUNT ? geo_ctr_names[c] : "unknown";
}

/* What an address resolves to. */
typedef struct answer {
    char cc[2];      /* upper case; cc[0] == 0: none */
    uint32_t asn;    /* 0: none */
    uint8_t special; /* special-purpose address: not looked up */
    uint8_t error;   /* a lookup failed */
} answer;

typedef struct centry {
    uint8_t b[16];
    uint8_t family; /* 0: empty slot */
    answer a;
} centry;

struct ft_enricher {
    const ft_geo *g;
    ft_ctr ctr[FT_GEO_CTR_COUNT]; /* single writer: the owning worker; read from any thread (/metrics) */
    centry cache[CACHE_SETS][CACHE_WAYS]; /* [set][0] is the most recently used */
};

ft_enricher *ft_enricher_new(const ft_geo *g)
{
    ft_enricher *e = calloc(1, sizeof *e);
    if (e)
        e->g = g;
    return e;
}

void ft_enricher_set_geo(ft_enricher *e, const ft_geo *g)
{
    e->g = g;
    /* Every cached answer came from the old databases. */
    memset(e->cache, 0, sizeof e->cache);
}

void ft_enricher_free(ft_enricher *e)
{
    free(e);
}

void ft_enricher_counters(const ft_enricher *e, uint64_t *out)
{
    for (int i = 0; e && i < FT_GEO_CTR_COUNT; i++)
        out[i] += ft_ctr_get(&e->ctr[i]);
}

/* The country and AS answers for one address: one search-tree walk per
 * database file, so that a combined file serving both roles (one
 * file for --geoip-country and --geoip-asn) is walked once, not twice. */
static void lookup_roles(const ft_geo *g, const struct sockaddr *sa, answer *a)
{
    const role *roles[2] = {&g->country, &g->asn};
    const role_kind kinds[2] = {ROLE_COUNTRY, ROLE_ASN};
    const db *walked = NULL;
    MMDB_lookup_result_s res;
    memset(&res, 0, sizeof res);
    bool usable = false;
    for (int i = 0; i < 2; i++) {
        const role *r = roles[i];
        if (!r->d)
            continue;
        if (r->d != walked) {
            int mmdb_err = MMDB_SUCCESS;
            res = MMDB_lookup_sockaddr(&r->d->mmdb, sa, &mmdb_err);
            walked = r->d;
            usable = false;
            if (mmdb_err == MMDB_IPV6_LOOKUP_IN_IPV4_DATABASE_ERROR)
                continue; /* an IPv4-only database knows no IPv6 address */
            if (mmdb_err != MMDB_SUCCESS) {
                a->error = 1;
                continue;
            }
            usable = res.found_entry;
        }
        if (usable && read_value(r, kinds[i], &res.entry, a->cc, &a->asn) < 0)
            a->error = 1;
    }
}

static void resolve(ft_enricher *e, const ft_addr *addr, answer *out)
{
    memset(out, 0, sizeof *out);
    ft_ctr_add(&e->ctr[FT_GEO_CTR_addresses], 1);
    if (ft_addr_is_special(addr)) {
        out->special = 1;
        ft_ctr_add(&e->ctr[FT_GEO_CTR_special], 1);
        return;
    }
    centry *set = e->cache[ft_addr_hash(addr) & (CACHE_SETS - 1)];
    int way = 0;
    while (way < CACHE_WAYS && !(set[way].family == addr->family && memcmp(set[way].b, addr->b, 16) == 0))
        way++;
    if (way < CACHE_WAYS) {
        ft_ctr_add(&e->ctr[FT_GEO_CTR_cache_hits], 1);
        *out = set[way].a;
        centry x = set[way]; /* to the front: the most recent */
        memmove(&set[1], &set[0], (size_t)way * sizeof *set);
        set[0] = x;
    } else {
        ft_ctr_add(&e->ctr[FT_GEO_CTR_lookups], 1);
        struct sockaddr_storage ss;
        memset(&ss, 0, sizeof ss);
        if (addr->family == 4 || is_v4_mapped(addr)) {
            struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
            s4->sin_family = AF_INET;
            memcpy(&s4->sin_addr, addr->b + 12, 4);
        } else {
            struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
            s6->sin6_family = AF_INET6;
            memcpy(&s6->sin6_addr, addr->b, 16);
        }
        lookup_roles(e->g, (const struct sockaddr *)&ss, out);
        memmove(&set[1], &set[0], (CACHE_WAYS - 1) * sizeof *set); /* the least recent goes */
        memcpy(set[0].b, addr->b, 16);
        set[0].family = addr->family;
        set[0].a = *out;
    }
    if (out->error) {
        ft_ctr_add(&e->ctr[FT_GEO_CTR_lookup_errors], 1);
        return;
    }
    if (e->g->country.d && !out->cc[0])
        ft_ctr_add(&e->ctr[FT_GEO_CTR_country_not_found], 1);
    if (e->g->asn.d && !out->asn)
        ft_ctr_add(&e->ctr[FT_GEO_CTR_asn_not_found], 1);
}

static uint32_t pick_asn(ft_asn_source src, uint32_t flow, uint32_t db_asn)
{
    switch (src) {
    case FT_ASN_FLOW:
        return flow;
    case FT_ASN_GEOIP:
        return db_asn;
    case FT_ASN_PREFER_FLOW:
        return flow ? flow : db_asn;
    case FT_ASN_PREFER_GEOIP:
        return db_asn ? db_asn : flow;
    }
    return flow;
}

static void apply(const ft_geo *g, const answer *a, char cc[3], uint32_t *as)
{
    if (g->country.d) {
        cc[0] = a->error ? 0 : a->cc[0];
        cc[1] = a->error ? 0 : a->cc[1];
        cc[2] = 0;
    }
    if (g->asn.d)
        *as = pick_asn(g->asn_source, *as, a->error ? 0 : a->asn);
}

void ft_enrich(ft_enricher *e, ft_flow *f)
{
    const ft_geo *g = e->g;
    if (!g->country.d && !g->asn.d)
        return;
    answer a;
    if (f->src_addr.family) {
        resolve(e, &f->src_addr, &a);
        apply(g, &a, f->src_country, &f->src_as);
    }
    if (f->dst_addr.family) {
        resolve(e, &f->dst_addr, &a);
        apply(g, &a, f->dst_country, &f->dst_as);
    }
}
