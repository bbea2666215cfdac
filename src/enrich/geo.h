/*
 * geo.h - country and AS number of flow addresses from MaxMind DB (.mmdb)
 * files (libmaxminddb, "MaxMind DB File Format Specification" 2.0).
 *
 * Two databases, either optional, possibly the same file:
 *   --geoip-country FILE  src_country / dst_country (ISO 3166-1 alpha-2);
 *   --geoip-asn FILE      src_as / dst_as, as --asn-source says.
 * Record layouts in use, detected at open (see ft_geo_open):
 *   country: country.iso_code   MaxMind GeoLite2/GeoIP2 Country and City, DB-IP lite;
 *            country_code       ip-location-db (iptoasn, geolite2, dbip mirrors);
 *   ASN:     autonomous_system_number   MaxMind GeoLite2/GeoIP2 ASN, DB-IP, ip-location-db;
 *            asn ("AS15169")            ipinfo.
 * An explicit dotted path (--geoip-country-key, --geoip-asn-key) overrides
 * the detection.
 *
 * Special-purpose addresses (private, shared, loopback, link-local,
 * documentation, benchmarking, multicast, reserved: IANA IPv4/IPv6
 * Special-Purpose Address Registries, RFC 6890, RFC 1918, RFC 5737, RFC 3849,
 * RFC 9637, RFC 4193, RFC 6598) are never looked up: they belong to no
 * country and no public AS. They are counted (`special`).
 *
 * Threads: one ft_geo (the mmap'ed databases, read-only after open, which
 * libmaxminddb documents as safe to share between threads) and one
 * ft_enricher per worker (its address cache and counters), so the hot path
 * takes no lock. The cache is direct-mapped: 4096 addresses per worker;
 * flows repeat addresses, so most lookups never reach the database.
 */
#ifndef FT_GEO_H
#define FT_GEO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "flow/flow.h"

/* --asn-source, in the order of the option's choices. */
typedef enum ft_asn_source {
    FT_ASN_FLOW = 0,     /* the exporter's AS numbers only */
    FT_ASN_GEOIP,        /* the database's (0 when it has none) */
    FT_ASN_PREFER_FLOW,  /* the exporter's when non-zero, else the database's */
    FT_ASN_PREFER_GEOIP, /* the database's when it has one, else the exporter's */
} ft_asn_source;

typedef struct ft_geo_opts {
    const char *country_file; /* NULL = no countries */
    const char *asn_file;     /* NULL = no AS numbers from a database */
    const char *country_key;  /* dotted lookup path ("country.iso_code"); NULL = detect */
    const char *asn_key;      /* dotted lookup path; NULL = detect */
    ft_asn_source asn_source;
} ft_geo_opts;

typedef struct ft_geo ft_geo;

/*
 * Opens the databases (mmap) and finds each one's layout: the first data
 * records of its search tree (depth first, up to 512 of them) are read and
 * the first known path that holds a value of the right kind decides. With
 * an explicit key, that path must hold a value in one of those records.
 * Returns NULL with a message in err naming the option, the file and what
 * was expected when a file is missing or unreadable, is not a MaxMind DB or
 * is truncated (its metadata sits at the end), is corrupt, or holds no
 * country / AS number ("GeoLite2-ASN given as --geoip-country"). Never NULL
 * when o names no file (then enrichment is a no-op).
 */
ft_geo *ft_geo_open(const ft_geo_opts *o, char *err, size_t err_len);

/* Unmaps the databases. Every ft_enricher of g must be freed first. NULL is
 * a no-op. */
void ft_geo_close(ft_geo *g);

/* True when g does anything (a country or an AS database is open). */
bool ft_geo_active(const ft_geo *g);

/* One line for the start-up log: files, database types, build dates and
 * the lookup paths in use. */
void ft_geo_describe(const ft_geo *g, char *buf, size_t len);

/* Per-worker counters (X-macro: name, help). */
#define FT_GEO_CTR_MAP(X)                                                                                  \
    X(addresses, "flow addresses enriched (source and destination count one each)")                       \
    X(cache_hits, "addresses answered from the worker's cache")                                           \
    X(lookups, "addresses looked up in the databases (cache misses)")                                     \
    X(special, "private, loopback, link-local, documentation, multicast... addresses: no country, no AS") \
    X(country_not_found, "public addresses the country database has no country for")                      \
    X(asn_not_found, "public addresses the AS database has no AS number for")                             \
    X(lookup_errors, "lookups that failed inside the database (corrupt data): no country, no AS")

typedef enum ft_geo_ctr {
#define FT_GEO_CTR_ENUM(name, help) FT_GEO_CTR_##name,
    FT_GEO_CTR_MAP(FT_GEO_CTR_ENUM)
#undef FT_GEO_CTR_ENUM
        FT_GEO_CTR_COUNT
} ft_geo_ctr;

const char *ft_geo_ctr_name(ft_geo_ctr c);

typedef struct ft_enricher ft_enricher;

/* A worker's enricher over g (not owned; must outlive it). NULL on ENOMEM. */
ft_enricher *ft_enricher_new(const ft_geo *g);
void ft_enricher_free(ft_enricher *e); /* NULL is a no-op */

/* Owner thread: from now on e looks addresses up in g (not owned; must
 * outlive e or the next call), and forgets every cached answer, which came
 * from the previous databases (SIGHUP reload). The counters go on. */
void ft_enricher_set_geo(ft_enricher *e, const ft_geo *g);

/*
 * Enriches f in place, on the owning worker's thread: with a country
 * database, sets src_country/dst_country ("" when special or unknown);
 * with an AS database, sets src_as/dst_as per the --asn-source policy.
 * Never fails: a lookup error leaves the fields empty and is counted.
 */
void ft_enrich(ft_enricher *e, ft_flow *f);

/* Adds e's counters into out[FT_GEO_CTR_COUNT]. Any thread (relaxed
 * atomics: exact once the owner is stopped). */
void ft_enricher_counters(const ft_enricher *e, uint64_t *out);

/* True when a is a special-purpose address (see the header comment). An
 * IPv4-mapped IPv6 address is judged by its IPv4 address. */
bool ft_addr_is_special(const ft_addr *a);

#endif
