-- schema.sql - flowtally's SQLite schema, embedded in the binary at build time
-- (cmake/embed.cmake) and applied by src/store/sqlite_store.c.
--
-- Versioned with PRAGMA user_version: each "-- migration N: ..." section below
-- runs once, in order, in its own transaction that also sets user_version to
-- N. A database at version V gets the sections after V; a database newer than
-- this file is refused. Append new sections; never edit an applied one.
--
-- The stable interface for users' SQL (sql/queries.sql) and the HTTP API is
-- the view `rollups`; the tables behind it may change in later migrations.
-- Times are Unix seconds (UTC); bytes and packets are already multiplied by
-- each record's sampling rate.

-- migration 1: rollup rows, windows, dimensions, the rollups view

-- The dimensions of src/window/rollup.h (FT_DIM_MAP): id = position + 1.
CREATE TABLE dimensions (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    help TEXT NOT NULL
);
INSERT INTO dimensions (id, name, help) VALUES
    (1, 'src_as', 'source AS number'),
    (2, 'dst_as', 'destination AS number'),
    (3, 'as_pair', 'source and destination AS numbers'),
    (4, 'src_port', 'IP protocol and source port'),
    (5, 'dst_port', 'IP protocol and destination port'),
    (6, 'proto', 'IP protocol'),
    (7, 'src_country', 'source country (ISO 3166 alpha-2)'),
    (8, 'dst_country', 'destination country'),
    (9, 'in_if', 'exporter and input interface (SNMP ifIndex)'),
    (10, 'out_if', 'exporter and output interface (SNMP ifIndex)');

-- One row per (dimension, window, key, exporter). Every flush adds to it
-- (INSERT ... ON CONFLICT DO UPDATE SET bytes = bytes + excluded.bytes ...),
-- so a late correction or a second partial flush after a restart adds up
-- exactly. WITHOUT ROWID: the table is stored in primary-key order, so it is
-- itself the covering index for "one dimension over a time range" (the
-- top-talkers sums of sql/queries.sql read one contiguous range of it).
CREATE TABLE rollup (
    dim          INTEGER NOT NULL REFERENCES dimensions (id),
    window_start INTEGER NOT NULL,           -- s, a multiple of window_len
    key          TEXT NOT NULL,              -- 'AS64500', 'AS64500-AS64501', '6/443', '17', 'NL',
                                             -- 'unknown', '192.0.2.1:3', '[2001:db8::1]:3', 'other'
    exporter     TEXT NOT NULL DEFAULT '',   -- exporter address with --rollup-by-exporter, else ''
    window_len   INTEGER NOT NULL,           -- s
    bytes        INTEGER NOT NULL,
    packets      INTEGER NOT NULL,
    flows        INTEGER NOT NULL,           -- flow records
    updated_at   INTEGER NOT NULL,           -- wall clock of the last flush that added to the row
    PRIMARY KEY (dim, window_start, key, exporter)
) WITHOUT ROWID;

-- "Top N by bytes" of one dimension in one window (or a few) without a sort.
CREATE INDEX rollup_top_bytes ON rollup (dim, window_start, bytes DESC);

-- One row per window ever flushed: how complete it is.
CREATE TABLE windows (
    window_start INTEGER PRIMARY KEY,        -- s
    window_len   INTEGER NOT NULL,           -- s
    state        TEXT NOT NULL,              -- 'closed': flushed at its close (end + lateness passed);
                                             -- 'partial': only flushed at a shutdown so far
    flows        INTEGER NOT NULL,           -- flow records added, all flushes together
    flushes      INTEGER NOT NULL,           -- flushes that added to it
    corrections  INTEGER NOT NULL,           -- of those, late corrections
    first_flush  INTEGER NOT NULL,           -- wall clock, s
    last_flush   INTEGER NOT NULL
);

CREATE VIEW rollups AS
SELECT r.window_start                AS window_start,
       r.window_start + r.window_len AS window_end,
       d.name                        AS dimension,
       r.key                         AS key,
       r.exporter                    AS exporter,
       r.bytes                       AS bytes,
       r.packets                     AS packets,
       r.flows                       AS flows
FROM rollup AS r
JOIN dimensions AS d ON d.id = r.dim;

-- migration 2: exporter state, so a restart decodes at once

-- What the decoders learnt from each exporter (NetFlow v9/IPFIX templates,
-- sampling rates from options data, systemInitTimeMilliseconds), saved at
-- shutdown and at every window close, loaded at start. state is the
-- decoder's own versioned encoding (src/decode/decoder.h ft_decoder_export).
CREATE TABLE exporter_state (
    exporter TEXT PRIMARY KEY,               -- address, as in --stats
    saved_at INTEGER NOT NULL,               -- wall clock, s
    state    BLOB NOT NULL
) WITHOUT ROWID;
