-- queries.sql - top talkers from flowtally's rollups, for the sqlite3 shell:
--
--     sqlite3 flowtally.db < sql/queries.sql
--
-- Everything reads the view `rollups` (window_start, window_end, dimension,
-- key, exporter, bytes, packets, flows): Unix seconds, bytes and packets
-- already multiplied by the sampling rate. "The last hour" is the last hour
-- of data in the file (so a replayed capture works too); for the last hour of
-- wall-clock time use  window_start >= CAST(strftime('%s', 'now', '-1 hour') AS INTEGER).
-- Each query reads one dimension over a range of windows: one contiguous
-- range of the rollup table's primary key (dim, window_start, key, exporter).

.headers on
.mode column

-- What the file holds: windows, how many only partly flushed (a shutdown
-- before their close), and the records they count.
SELECT datetime(min(window_start), 'unixepoch') AS first_window,
       datetime(max(window_start + window_len), 'unixepoch') AS last_window_end,
       count(*) AS windows,
       sum(state = 'partial') AS partial,
       sum(corrections) AS late_corrections,
       sum(flows) AS flow_records
FROM windows;

-- Every dimension sums to the same totals (each record is in each once).
SELECT dimension, count(*) AS rows, sum(bytes) AS bytes, sum(packets) AS packets, sum(flows) AS flows
FROM rollups GROUP BY dimension ORDER BY dimension;

-- Top 10 destination ports (protocol/port) by bytes in the last hour, with
-- their share and their average rate over the hour.
WITH span AS (SELECT max(window_end) - 3600 AS t0 FROM rollups),
     top AS (SELECT key, sum(bytes) AS bytes, sum(packets) AS packets, sum(flows) AS flows
             FROM rollups, span WHERE dimension = 'dst_port' AND window_start >= span.t0 GROUP BY key)
SELECT key AS dst_port, bytes, packets, flows,
       round(100.0 * bytes / (SELECT sum(bytes) FROM top), 1) AS pct,
       round(bytes * 8 / 3600.0 / 1e6, 3) AS avg_mbit_s
FROM top ORDER BY bytes DESC LIMIT 10;

-- Top 10 source ports.
WITH span AS (SELECT max(window_end) - 3600 AS t0 FROM rollups)
SELECT key AS src_port, sum(bytes) AS bytes, sum(packets) AS packets, sum(flows) AS flows
FROM rollups, span WHERE dimension = 'src_port' AND window_start >= span.t0
GROUP BY key ORDER BY bytes DESC LIMIT 10;

-- Top 10 source and destination AS numbers, and AS pairs.
WITH span AS (SELECT max(window_end) - 3600 AS t0 FROM rollups)
SELECT key AS src_as, sum(bytes) AS bytes, sum(flows) AS flows
FROM rollups, span WHERE dimension = 'src_as' AND window_start >= span.t0
GROUP BY key ORDER BY bytes DESC LIMIT 10;

WITH span AS (SELECT max(window_end) - 3600 AS t0 FROM rollups)
SELECT key AS dst_as, sum(bytes) AS bytes, sum(flows) AS flows
FROM rollups, span WHERE dimension = 'dst_as' AND window_start >= span.t0
GROUP BY key ORDER BY bytes DESC LIMIT 10;

WITH span AS (SELECT max(window_end) - 3600 AS t0 FROM rollups)
SELECT key AS as_pair, sum(bytes) AS bytes, sum(flows) AS flows
FROM rollups, span WHERE dimension = 'as_pair' AND window_start >= span.t0
GROUP BY key ORDER BY bytes DESC LIMIT 10;

-- Top 10 source and destination countries ('unknown': no country database,
-- a private/documentation address, or an address the database lacks).
WITH span AS (SELECT max(window_end) - 3600 AS t0 FROM rollups)
SELECT key AS src_country, sum(bytes) AS bytes, sum(flows) AS flows
FROM rollups, span WHERE dimension = 'src_country' AND window_start >= span.t0
GROUP BY key ORDER BY bytes DESC LIMIT 10;

WITH span AS (SELECT max(window_end) - 3600 AS t0 FROM rollups)
SELECT key AS dst_country, sum(bytes) AS bytes, sum(flows) AS flows
FROM rollups, span WHERE dimension = 'dst_country' AND window_start >= span.t0
GROUP BY key ORDER BY bytes DESC LIMIT 10;

-- IP protocols, and the busiest interfaces (exporter:ifIndex).
WITH span AS (SELECT max(window_end) - 3600 AS t0 FROM rollups)
SELECT key AS proto, sum(bytes) AS bytes, sum(packets) AS packets, sum(flows) AS flows
FROM rollups, span WHERE dimension = 'proto' AND window_start >= span.t0
GROUP BY key ORDER BY bytes DESC LIMIT 10;

WITH span AS (SELECT max(window_end) - 3600 AS t0 FROM rollups)
SELECT key AS in_if, sum(bytes) AS bytes, sum(flows) AS flows
FROM rollups, span WHERE dimension = 'in_if' AND window_start >= span.t0
GROUP BY key ORDER BY bytes DESC LIMIT 10;

WITH span AS (SELECT max(window_end) - 3600 AS t0 FROM rollups)
SELECT key AS out_if, sum(bytes) AS bytes, sum(flows) AS flows
FROM rollups, span WHERE dimension = 'out_if' AND window_start >= span.t0
GROUP BY key ORDER BY bytes DESC LIMIT 10;

-- The top 3 destination ports of each of the last 6 windows (a time series).
WITH last AS (SELECT DISTINCT window_start FROM rollups ORDER BY window_start DESC LIMIT 6),
     ranked AS (SELECT r.window_start, r.key, r.bytes,
                       row_number() OVER (PARTITION BY r.window_start ORDER BY r.bytes DESC) AS rank
                FROM rollups AS r JOIN last USING (window_start)
                WHERE r.dimension = 'dst_port' AND r.exporter = '')
SELECT datetime(window_start, 'unixepoch') AS window, rank, key AS dst_port, bytes
FROM ranked WHERE rank <= 3 ORDER BY window_start, rank;

-- An explicit time range (here the whole file; replace the bounds with Unix
-- seconds, e.g. CAST(strftime('%s', '2024-05-01 00:00') AS INTEGER)).
SELECT key AS dst_port, sum(bytes) AS bytes
FROM rollups
WHERE dimension = 'dst_port'
  AND window_start >= (SELECT min(window_start) FROM rollups)
  AND window_end <= (SELECT max(window_end) FROM rollups)
GROUP BY key ORDER BY bytes DESC LIMIT 5;
