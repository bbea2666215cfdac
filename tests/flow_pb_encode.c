/*
 * flow_pb_encode.c - test helper: --print JSON records in, FlowMessages out.
 *
 * Usage: flow_pb_encode goflow|goflow2 < records.jsonl > messages.bin
 * Each input line is one flow record in the --print JSON vocabulary
 * (flow_json.h; keys not given stay zero); each is encoded with the very
 * encoder the collector uses (flow/flow_pb.h) and written length-delimited.
 * Lets test_kafka_golden.py put a record with every field set (MPLS stacks,
 * encapsulation, PPP, countries: fields no corpus capture fills) through
 * the encoder and compare it with `protoc --encode`.
 * Exit: 0, 1 on a bad line (message on stderr), 2 on bad usage.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "flow/flow_json.h"
#include "flow/flow_pb.h"

static int set_field(ft_flow *f, const char *key, json_t *v)
{
    const ft_flow_field *d = ft_flow_field_find(key);
    if (!d)
        return -1;
    char *p = (char *)f + d->off;
    switch (d->kind) {
    case FT_FIELD_TYPE: {
        static const char *const names[] = {"FLOWUNKNOWN", "SFLOW_5", "NETFLOW_V5", "NETFLOW_V9", "IPFIX"};
        for (int i = 0; i < 5; i++)
            if (json_is_string(v) && strcmp(json_string_value(v), names[i]) == 0)
                *(ft_flow_type *)p = (ft_flow_type)i;
        return 0;
    }
    case FT_FIELD_U32:
        *(uint32_t *)p = (uint32_t)json_integer_value(v);
        return json_is_integer(v) ? 0 : -1;
    case FT_FIELD_U64:
        *(uint64_t *)p = (uint64_t)json_integer_value(v);
        return json_is_integer(v) ? 0 : -1;
    case FT_FIELD_BOOL:
        *(bool *)p = json_is_true(v);
        return 0;
    case FT_FIELD_ADDR:
        if (!json_is_string(v))
            return -1;
        if (!*json_string_value(v)) {
            memset(p, 0, sizeof(ft_addr));
            return 0;
        }
        return ft_addr_parse(json_string_value(v), (ft_addr *)p);
    case FT_FIELD_MAC: {
        unsigned b[6];
        if (!json_is_string(v) || sscanf(json_string_value(v), "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3],
                                         &b[4], &b[5]) != 6)
            return -1;
        uint64_t m = 0;
        for (int i = 0; i < 6; i++)
            m = m << 8 | (b[i] & 0xff);
        *(uint64_t *)p = m;
        return 0;
    }
    case FT_FIELD_ASPATH: {
        size_t i;
        json_t *x;
        f->as_path_len = 0;
        json_array_foreach(v, i, x)
        {
            if (i < FT_AS_PATH_MAX)
                f->as_path[f->as_path_len++] = (uint32_t)json_integer_value(x);
        }
        return 0;
    }
    case FT_FIELD_COUNTRY:
        if (!json_is_string(v))
            return -1;
        strncpy(p, json_string_value(v), 2);
        p[2] = 0;
        return 0;
    }
    return -1;
}

int main(int argc, char **argv)
{
    if (argc != 2 || (strcmp(argv[1], "goflow") && strcmp(argv[1], "goflow2"))) {
        fprintf(stderr, "usage: flow_pb_encode goflow|goflow2 < records.jsonl\n");
        return 2;
    }
    ft_flow_pb *e = ft_flow_pb_new(strcmp(argv[1], "goflow2") == 0 ? FT_PB_GOFLOW2 : FT_PB_GOFLOW,
                                   FT_PB_FRAMING_DELIMITED);
    char line[16384];
    int rc = 0, n = 0;
    while (e && fgets(line, sizeof line, stdin)) {
        n++;
        json_error_t err;
        json_t *o = json_loads(line, 0, &err);
        if (!json_is_object(o)) {
            fprintf(stderr, "line %d: not a JSON object: %s\n", n, err.text);
            rc = 1;
            json_decref(o);
            break;
        }
        ft_flow f;
        memset(&f, 0, sizeof f);
        const char *key;
        json_t *v;
        json_object_foreach(o, key, v)
        {
            if (set_field(&f, key, v) != 0) {
                fprintf(stderr, "line %d: bad or unknown field '%s'\n", n, key);
                rc = 1;
            }
        }
        json_decref(o);
        size_t len;
        const uint8_t *p = ft_flow_pb_encode(e, &f, &len);
        fwrite(p, 1, len, stdout);
    }
    ft_flow_pb_free(e);
    return e ? rc : 1;
}
