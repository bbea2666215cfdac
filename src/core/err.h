/*
 * err.h - every decode fault and every drop reason, from one X-macro table.
 *
 * The same list yields the enum, ft_err_name() (the /metrics label and the
 * --stats key), ft_err_reason() (the log text) and the per-exporter counter
 * array, so a new malformed kind cannot go uncounted.
 */
#ifndef FT_ERR_H
#define FT_ERR_H

/* X(NAME, name, "reason") */
#define FT_ERR_MAP(X)                                                                      \
    X(TRUNCATED, truncated, "datagram shorter than its header or than a length it declares")         \
    X(BAD_VERSION, bad_version, "unknown export protocol version")                                     \
    X(BAD_LENGTH, bad_length, "message length field disagrees with the datagram")                     \
    X(BAD_COUNT, bad_count, "record count disagrees with the datagram length")                       \
    X(BAD_SET_LENGTH, bad_set_length, "set length shorter than its header or past the message end")       \
    X(BAD_SET_ID, bad_set_id, "reserved set ID")                                                      \
    X(BAD_TEMPLATE, bad_template, "template with 0 fields, too many fields or a record too long")       \
    X(BAD_TEMPLATE_ID, bad_template_id, "template ID below 256")                                           \
    X(BAD_RECORD, bad_record, "data record runs past its set (variable-length field too long)")       \
    X(NO_TEMPLATE, no_template, "data set without its template (held for later unless withdrawn)")    \
    X(TEMPLATE_CAP, template_cap, "template dropped: per-exporter template cap or template memory budget reached") \
    X(EXPORTER_CAP, exporter_cap, "datagram dropped: exporter table cap reached")                       \
    X(PENDING_CAP, pending_cap, "held data set dropped: per-exporter pending cap reached")              \
    X(PENDING_EXPIRED, pending_expired, "held data set dropped: its template never arrived in time")       \
    X(UNSUPPORTED, unsupported, "protocol recognised but not decoded")                                 \
    X(BAD_SAMPLE, bad_sample, "sFlow sample or record length disagrees with its contents")            \
    X(FRAGMENT, fragment, "IP fragment of an export datagram (not reassembled)")                    \
    X(NOT_UDP, not_udp, "capture packet is not an IPv4/IPv6 UDP datagram")

typedef enum ft_err {
    FT_OK = 0,
#define FT_ERR_ENUM(e, name, reason) FT_ERR_##e,
    FT_ERR_MAP(FT_ERR_ENUM)
#undef FT_ERR_ENUM
        FT_ERR_COUNT
} ft_err;

/* Lower-case stable name of e ("truncated", "no_template"...), used as the
 * /metrics label and --stats key. Static storage; "ok" for FT_OK. */
const char *ft_err_name(ft_err e);

/* One-line human reason for e. Static storage. */
const char *ft_err_reason(ft_err e);

#endif
