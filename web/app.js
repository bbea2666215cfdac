/* flowtally web page: top talkers of one dimension over a time range (table +
 * stacked area chart), the exporters list, auto-refresh.
 *
 * Data: the JSON API of ../notes API.md (/api/v1/dimensions, /top, /series,
 * /exporters), fetched relative to the page so a reverse proxy may mount it
 * under a prefix. Every string that comes from the API or the address bar
 * (flow keys, exporter addresses, error texts: exporters and users choose
 * them) reaches the page as text only: DOM nodes with textContent, option
 * labels, uPlot's legend (textContent too). There is no innerHTML here.
 *
 * State lives in the address's fragment (#dimension=dst_port&range=1h...), so
 * a view can be bookmarked and reloaded. No build step, no dependency but the
 * vendored uPlot (static/vendor/uplot).
 */
(function () {
    'use strict';

    var RANGES = { '15m': 900, '1h': 3600, '6h': 21600, '24h': 86400, '7d': 604800 };
    var METRICS = ['bytes', 'packets', 'flows'];
    var DEFAULT_REFRESH_S = 30;
    var MAX_POINTS = 240;           /* chart buckets wanted at most; the step grows beyond */
    /* Distinguishable on white and for the common colour-vision deficiencies
     * (the order matters more than the hues: neighbours differ in lightness). */
    var PALETTE = ['#1f5fa8', '#e07b00', '#2e9b48', '#c8323a', '#7b4fb0', '#8c5a3c', '#d35fb7',
        '#5f6b73', '#a5a82a', '#1ba5b8'];

    var state = {
        dimension: 'dst_port', metric: 'bytes', range: '1h', from: null, to: null,
        limit: 10, exporter: '', auto: true, refresh: DEFAULT_REFRESH_S
    };
    var dims = [];                  /* from /api/v1/dimensions */
    var windowS = 0;                /* from the last /top answer */
    var generation = 0;             /* answers of an older load are dropped */
    var inflight = null;            /* AbortController of the current load */
    var timer = null;
    var chart = null;
    var chartRaw = null;            /* the unstacked values, for the legend */
    var shown = { top: null, series: null };    /* the queries on screen */

    function $(id) { return document.getElementById(id); }

    /* ---------------------------------------------------------------- units */

    var PREFIXES = ['', 'k', 'M', 'G', 'T', 'P', 'E'];

    /* v (>= 0) with 3 significant digits and a decimal SI prefix (k = 1000):
     * 999 B, 1.50 kB, 12.3 Mbit/s, 100 Gbit/s. Integers below 1000 stay exact. */
    function si(v, unit) {
        if (!isFinite(v)) return '–';
        var i = 0, neg = v < 0;
        v = Math.abs(v);
        while (v >= 1000 && i < PREFIXES.length - 1) { v /= 1000; i++; }
        var s;
        for (;;) {
            if (i === 0 && Number.isInteger(v)) s = String(v);
            else if (v >= 100) s = v.toFixed(0);
            else if (v >= 10) s = v.toFixed(1);
            else s = v.toFixed(2);
            /* 999.7 rounds to "1000": say 1.00 of the next prefix instead */
            if (parseFloat(s) >= 1000 && i < PREFIXES.length - 1) { v /= 1000; i++; continue; }
            break;
        }
        return (neg ? '-' : '') + s + ' ' + PREFIXES[i] + unit;
    }

    /* An integer count with thousands separators: 1,234,567. */
    function count(n) {
        if (typeof n !== 'number' || !isFinite(n)) return '–';
        var s = String(Math.round(Math.abs(n)));
        return (n < 0 ? '-' : '') + s.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
    }

    function percent(x) {
        if (typeof x !== 'number' || !isFinite(x)) return '–';
        return (x * 100).toFixed(1) + ' %';
    }

    function rateUnit(metric) {
        return metric === 'bytes' ? 'bit/s' : metric === 'packets' ? 'packets/s' : 'flows/s';
    }

    /* A metric amount per `seconds` as a rate in rateUnit(metric). */
    function toRate(metric, amount, seconds) {
        if (!(seconds > 0)) return NaN;
        return (metric === 'bytes' ? amount * 8 : amount) / seconds;
    }

    function pad2(n) { return (n < 10 ? '0' : '') + n; }

    function localTime(unix) {
        var d = new Date(unix * 1000);
        return d.getFullYear() + '-' + pad2(d.getMonth() + 1) + '-' + pad2(d.getDate()) + ' ' +
            pad2(d.getHours()) + ':' + pad2(d.getMinutes()) + ':' + pad2(d.getSeconds());
    }

    function ago(unix) {
        var s = Math.round(Date.now() / 1000 - unix);
        if (s < 0) return 'in the future';
        if (s < 90) return s + ' s ago';
        if (s < 5400) return Math.round(s / 60) + ' min ago';
        if (s < 129600) return Math.round(s / 3600) + ' h ago';
        return Math.round(s / 86400) + ' days ago';
    }

    /* Seconds as the API's duration syntax, in the largest unit that divides it. */
    function duration(s) {
        if (s % 86400 === 0) return (s / 86400) + 'd';
        if (s % 3600 === 0) return (s / 3600) + 'h';
        if (s % 60 === 0) return (s / 60) + 'm';
        return s + 's';
    }

    /* ------------------------------------------------------------- DOM bits */

    /* el('td', {className: 'num', title: '...'}, 'text', child...): strings are
     * text nodes, never markup. */
    function el(tag, props) {
        var e = document.createElement(tag);
        if (props) {
            Object.keys(props).forEach(function (k) {
                if (k === 'data') {
                    Object.keys(props.data).forEach(function (d) { e.dataset[d] = props.data[d]; });
                } else {
                    e[k] = props[k];
                }
            });
        }
        for (var i = 2; i < arguments.length; i++) {
            var c = arguments[i];
            if (c === null || c === undefined) continue;
            e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
        }
        return e;
    }

    function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); }

    function numCell(text, exact) {
        return el('td', { className: 'num', title: exact === undefined ? '' : String(exact) }, text);
    }

    /* ----------------------------------------------------------------- errors */

    var errors = {};                 /* source -> message */

    function setError(source, msg) {
        if (msg) errors[source] = msg; else delete errors[source];
        var box = $('errors');
        clear(box);
        Object.keys(errors).forEach(function (k) {
            box.appendChild(el('p', { className: 'error', data: { source: k } },
                el('strong', null, k + ': '), errors[k]));
        });
        document.body.classList.toggle('has-errors', Object.keys(errors).length > 0);
    }

    /* GET path?params as JSON. Rejects with an Error whose message is the API's
     * {"error": ...} text when it sent one, else the HTTP status or the network
     * failure. */
    function getJSON(path, params, signal) {
        var qs = params ? new URLSearchParams(params).toString() : '';
        var url = path + (qs ? '?' + qs : '');
        return fetch(url, { signal: signal, headers: { Accept: 'application/json' }, cache: 'no-store' })
            .then(function (r) {
                return r.text().then(function (body) {
                    var j = null;
                    try { j = JSON.parse(body); } catch (e) { j = null; }
                    if (!r.ok) {
                        var m = j && typeof j.error === 'string' ? j.error : (r.statusText || 'request failed');
                        var err = new Error(m + ' (HTTP ' + r.status + ')');
                        err.status = r.status;
                        throw err;
                    }
                    if (j === null) throw new Error('the answer is not JSON (HTTP ' + r.status + ')');
                    return j;
                });
            }, function (e) {
                if (e && e.name === 'AbortError') throw e;
                throw new Error('cannot reach flowtally (' + (e && e.message ? e.message : e) + ')');
            });
    }

    /* ----------------------------------------------------------------- state */

    function readHash() {
        var h = new URLSearchParams(location.hash.replace(/^#/, ''));
        if (h.get('dimension')) state.dimension = h.get('dimension');
        if (METRICS.indexOf(h.get('metric')) >= 0) state.metric = h.get('metric');
        var r = h.get('range');
        if (r && (RANGES[r] || r === 'custom')) state.range = r;
        var f = parseInt(h.get('from'), 10), t = parseInt(h.get('to'), 10);
        state.from = isFinite(f) ? f : null;
        state.to = isFinite(t) ? t : null;
        if (state.range === 'custom' && (state.from === null || state.to === null)) state.range = '1h';
        var l = parseInt(h.get('limit'), 10);
        if (l >= 1 && l <= 1000) state.limit = l;
        state.exporter = h.get('exporter') || '';
        state.auto = h.get('auto') !== '0';
        var rs = parseInt(h.get('refresh'), 10);
        state.refresh = rs >= 1 && rs <= 86400 ? rs : DEFAULT_REFRESH_S;
    }

    function writeHash() {
        var h = new URLSearchParams();
        h.set('dimension', state.dimension);
        h.set('metric', state.metric);
        h.set('range', state.range);
        if (state.range === 'custom') { h.set('from', state.from); h.set('to', state.to); }
        h.set('limit', state.limit);
        if (state.exporter) h.set('exporter', state.exporter);
        if (!state.auto) h.set('auto', '0');
        if (state.refresh !== DEFAULT_REFRESH_S) h.set('refresh', state.refresh);
        var s = '#' + h.toString();
        if (location.hash !== s) history.replaceState(null, '', s);
    }

    /* Ensures select e has an option for value v (e.g. a dimension or an
     * exporter named by the address but not listed yet) and selects it. */
    function selectValue(e, v, label) {
        var found = false;
        for (var i = 0; i < e.options.length; i++) if (e.options[i].value === v) found = true;
        if (!found) e.appendChild(new Option(label || v, v));
        e.value = v;
    }

    function showControls() {
        /* an unknown dimension named by the address is offered only while chosen */
        var dsel = $('dimension');
        for (var i = dsel.options.length - 1; i >= 0; i--) {
            var v = dsel.options[i].value;
            if (v !== state.dimension && !dims.some(function (d) { return d.name === v; })) dsel.remove(i);
        }
        selectValue(dsel, state.dimension);
        $('metric').value = state.metric;
        $('range').value = state.range;
        selectValue($('limit'), String(state.limit));
        selectValue($('exporter'), state.exporter);
        $('auto').checked = state.auto;
        $('auto-label').textContent = 'Refresh every ' + state.refresh + ' s';
        $('custom').hidden = state.range !== 'custom';
        if (state.range === 'custom') {
            $('from').value = inputTime(state.from);
            $('to').value = inputTime(state.to);
        }
        var d = dims.filter(function (x) { return x.name === state.dimension; })[0];
        $('dimension-help').textContent = d && d.help ? d.help : '';
    }

    /* Unix seconds <-> <input type=datetime-local> value (local time). */
    function inputTime(unix) {
        return localTime(unix).replace(' ', 'T');
    }

    function fromInput(v) {
        if (!v) return null;
        var t = new Date(v).getTime();
        return isFinite(t) ? Math.floor(t / 1000) : null;
    }

    function rangeParams() {
        if (state.range === 'custom') return { from: String(state.from), to: String(state.to) };
        return { from: '-' + state.range, to: 'now' };
    }

    /* ------------------------------------------------------------ the table */

    /* The share as text over a bar of that width (the bar is decoration). */
    function shareCell(share) {
        var bar = el('span', { className: 'bar' });
        var track = el('span', { className: 'track' }, bar);
        track.setAttribute('aria-hidden', 'true');
        bar.style.width = Math.max(0, Math.min(1, +share || 0)) * 100 + '%';
        return el('td', { className: 'num share' }, el('span', { className: 'pct' }, percent(share)), track);
    }

    function renderTop(top) {
        var tbody = $('top').tBodies[0], tfoot = $('top').tFoot;
        var seconds = top.to - top.from;
        var metric = top.metric;
        clear(tbody);
        clear(tfoot);
        $('top-caption').textContent = 'Top ' + state.limit + ' by ' + metric + ' of ' + top.dimension +
            ', ' + localTime(top.from) + ' – ' + localTime(top.to) + ' (' + duration(seconds) +
            '); average rate = bytes × 8 over the whole range';
        $('share-head').textContent = 'Share of ' + metric;
        var rows = Array.isArray(top.rows) ? top.rows : [];
        if (rows.length === 0) {
            tbody.appendChild(el('tr', { className: 'empty' },
                el('td', { colSpan: 7 }, 'No traffic in this range.')));
        }
        rows.forEach(function (r, i) {
            tbody.appendChild(el('tr', null,
                numCell(String(i + 1)),
                el('th', { scope: 'row', className: 'key' }, String(r.key)),
                numCell(si(toRate('bytes', r.bytes, seconds), 'bit/s')),
                numCell(si(r.bytes, 'B'), count(r.bytes) + ' bytes'),
                numCell(count(r.packets)),
                numCell(count(r.flows)),
                shareCell(r.share)));
        });
        var t = top.total || {};
        tfoot.appendChild(el('tr', null,
            el('td', null),
            el('th', { scope: 'row' }, 'All keys'),
            numCell(si(toRate('bytes', t.bytes, seconds), 'bit/s')),
            numCell(si(t.bytes, 'B'), count(t.bytes) + ' bytes'),
            numCell(count(t.packets)),
            numCell(count(t.flows)),
            numCell(t[metric] > 0 ? '100.0 %' : '–')));
        windowS = top.window_s > 0 ? top.window_s : windowS;
    }

    function clearTop() {
        var tbody = $('top').tBodies[0];
        clear(tbody);
        clear($('top').tFoot);
        $('top-caption').textContent = '';
        $('share-head').textContent = 'Share of ' + state.metric;
        tbody.appendChild(el('tr', { className: 'empty' },
            el('td', { colSpan: 7 }, 'No answer for this query: see the error above.')));
    }

    /* ------------------------------------------------------------ the chart */

    function clearChart() {
        if (chart) { chart.destroy(); chart = null; }
        clear($('chart'));
        $('chart-caption').textContent = 'No answer for this query: see the error above.';
    }

    /* uPlot draws each layer's cumulative sum; band i fills between series i
     * and i-1, so the areas stack with the top key at the bottom and, when
     * the answer has the range's per-bucket totals, every other key as one
     * grey layer on top (so the stack's height is all the traffic). The
     * legend and the caption give each layer's own values (chartRaw). */
    var OTHER_LABEL = '(all other keys)';
    var OTHER_COLOR = '#9aa3ab';

    function renderSeries(s) {
        var box = $('chart');
        var metric = s.metric, step = s.step_s;
        var times = Array.isArray(s.times) ? s.times : [];
        var series = Array.isArray(s.series) ? s.series : [];
        var unit = rateUnit(metric);
        var layers = series.map(function (x, i) {
            return { label: String(x.key), color: PALETTE[i % PALETTE.length],
                values: times.map(function (_, j) { return +x.values[j] || 0; }) };
        });
        if (Array.isArray(s.total) && s.total.length === times.length) {
            var rest = times.map(function (_, j) {
                var top = layers.reduce(function (a, l) { return a + l.values[j]; }, 0);
                return Math.max(0, (+s.total[j] || 0) - top);
            });
            if (rest.some(function (v) { return v > 0; })) {
                layers.push({ label: OTHER_LABEL, color: OTHER_COLOR, values: rest });
            }
        }
        chartRaw = layers.map(function (l) {
            return l.values.map(function (v) { return toRate(metric, v, step); });
        });
        var data = [times];
        var acc = times.map(function () { return 0; });
        chartRaw.forEach(function (vals) {
            acc = acc.map(function (a, j) { return a + vals[j]; });
            data.push(acc.slice());
        });
        $('chart-caption').textContent = series.length === 0 ?
            'No traffic in this range.' :
            'Stacked ' + unit + ' per ' + duration(step) + ' of the top ' + series.length + ' keys of ' +
            s.dimension + ' by ' + metric + ' (' + series.map(function (x) { return x.key; }).join(', ') + ')' +
            (layers.length > series.length ? ', and all other keys above them' : '');

        var opts = {
            width: Math.max(300, box.clientWidth),
            height: 320,
            scales: { x: { time: true }, y: { range: function (u, min, max) { return [0, max > 0 ? max * 1.05 : 1]; } } },
            axes: [
                {},
                { size: 80, label: unit, values: function (u, ticks) { return ticks.map(function (v) { return si(v, ''); }); } }
            ],
            series: [{ label: 'time', value: function (u, v) { return v === null ? '–' : localTime(v); } }],
            bands: [],
            legend: { live: true },
            cursor: { points: { show: false } }
        };
        layers.forEach(function (l, i) {
            opts.series.push({
                label: l.label,
                stroke: l.color,
                fill: l.color + 'b3',
                width: 1,
                points: { show: times.length < 3 },
                value: function (u, v, si_, idx) {
                    return idx === null || idx === undefined ? '–' : si(chartRaw[i][idx], unit);
                }
            });
            if (i > 0) opts.bands.push({ series: [i + 1, i], fill: l.color + 'b3' });
        });
        if (chart) { chart.destroy(); chart = null; }
        clear(box);
        if (typeof window.uPlot !== 'function') {
            box.appendChild(el('p', { className: 'error' }, 'The chart library did not load.'));
            return;
        }
        chart = new window.uPlot(opts, data, box);
        /* the drawing is an image described by the caption (the table holds
         * the numbers); uPlot's legend under it stays a readable table */
        var wrap = chart.root.querySelector('.u-wrap');
        if (wrap) {
            wrap.setAttribute('role', 'img');
            wrap.setAttribute('aria-labelledby', 'chart-caption');
        }
        var legend = chart.root.querySelector('.u-legend');
        if (legend) legend.setAttribute('aria-label', 'Chart legend: the ' + unit + ' of each layer at the pointer');
    }

    window.addEventListener('resize', function () {
        if (chart) chart.setSize({ width: Math.max(300, $('chart').clientWidth), height: 320 });
    });

    /* -------------------------------------------------------- the exporters */

    function renderExporters(j) {
        var tbody = $('exporters').tBodies[0];
        var list = Array.isArray(j.exporters) ? j.exporters : [];
        clear(tbody);
        if (list.length === 0) {
            tbody.appendChild(el('tr', { className: 'empty' }, el('td', { colSpan: 10 }, 'No exporter seen yet.')));
        }
        list.forEach(function (x) {
            var errs = x.errors && typeof x.errors === 'object' ? x.errors : {};
            var bad = Object.keys(errs).filter(function (k) { return errs[k] > 0; }).sort();
            var errCell = el('td', { className: bad.length ? 'errs' : '' });
            if (bad.length === 0) errCell.appendChild(document.createTextNode('none'));
            bad.forEach(function (k, n) {
                errCell.appendChild(document.createTextNode((n ? ', ' : '') + k + ' ' + count(errs[k])));
            });
            tbody.appendChild(el('tr', null,
                el('th', { scope: 'row' }, String(x.address)),
                el('td', null, (Array.isArray(x.protocols) ? x.protocols : []).join(', ')),
                el('td', { title: String(x.last_seen_rfc3339 || '') },
                    x.last_seen > 0 ? ago(x.last_seen) : 'never'),
                numCell(count(x.packets)),
                numCell(count(x.records)),
                numCell(count(x.sequence_lost)),
                numCell(percent(x.loss_estimate)),
                numCell(count(x.templates)),
                numCell(x.sampling_rate > 0 ? '1:' + count(x.sampling_rate) : '–')));
            tbody.lastChild.appendChild(errCell);
        });
        /* the filter offers every exporter seen, keeping the selection */
        var sel = $('exporter'), keep = sel.value;
        while (sel.options.length > 1) sel.remove(1);
        list.forEach(function (x) { sel.appendChild(new Option(String(x.address), String(x.address))); });
        selectValue(sel, keep);
    }

    /* ---------------------------------------------------------------- loads */

    function load() {
        var gen = ++generation;
        if (inflight) inflight.abort();
        inflight = new AbortController();
        var signal = inflight.signal;
        writeHash();
        document.body.classList.add('loading');
        $('status').textContent = 'Loading…';

        var base = rangeParams();
        base.dimension = state.dimension;
        base.metric = state.metric;
        if (state.exporter) base.exporter = state.exporter;

        /* After a failed refresh the last answer stays, dimmed; after a failed
         * new query (another dimension, range...) it would mislead: cleared. */
        var topQ = Object.assign({ limit: String(state.limit) }, base);
        var topId = JSON.stringify(topQ);
        var pTop = getJSON('api/v1/top', topQ, signal).then(function (top) {
            if (gen !== generation) return;
            renderTop(top);
            shown.top = topId;
            setError('Top talkers', null);
            $('top').classList.remove('stale');
            return top;
        }, function (e) {
            if (gen !== generation || e.name === 'AbortError') return;
            setError('Top talkers', e.message);
            if (shown.top !== topId) {
                shown.top = null;
                clearTop();
            }
            $('top').classList.add('stale');
        });

        /* the step: whole windows, at most MAX_POINTS buckets over the range */
        var seriesQ = Object.assign({ top: String(Math.min(state.limit, PALETTE.length)) }, base);
        var seconds = state.range === 'custom' ? state.to - state.from : RANGES[state.range];
        if (windowS > 0 && seconds > 0) {
            seriesQ.step = duration(windowS * Math.max(1, Math.ceil(seconds / windowS / MAX_POINTS)));
        }
        var seriesId = JSON.stringify(base) + seriesQ.top;
        var pSeries = getJSON('api/v1/series', seriesQ, signal).then(function (s) {
            if (gen !== generation) return;
            renderSeries(s);
            shown.series = seriesId;
            setError('Chart', null);
            $('chart').classList.remove('stale');
        }, function (e) {
            if (gen !== generation || e.name === 'AbortError') return;
            setError('Chart', e.message);
            if (shown.series !== seriesId) {
                shown.series = null;
                clearChart();
            }
            $('chart').classList.add('stale');
        });

        var pExp = getJSON('api/v1/exporters', null, signal).then(function (j) {
            if (gen !== generation) return;
            renderExporters(j);
            setError('Exporters', null);
            $('exporters').classList.remove('stale');
        }, function (e) {
            if (gen !== generation || e.name === 'AbortError') return;
            setError('Exporters', e.message);
            $('exporters').classList.add('stale');
        });

        return Promise.all([pTop, pSeries, pExp]).then(function () {
            if (gen !== generation) return;
            document.body.classList.remove('loading');
            var failed = Object.keys(errors).length > 0;
            $('status').textContent = (failed ? 'Last attempt ' : 'Updated ') + localTime(Date.now() / 1000 | 0) +
                (state.auto ? ' · next refresh in ' + state.refresh + ' s' : ' · auto-refresh paused');
            document.body.dataset.loaded = String(gen);
            schedule();
        });
    }

    function schedule() {
        if (timer) { clearTimeout(timer); timer = null; }
        if (state.auto) timer = setTimeout(load, state.refresh * 1000);
    }

    function loadDimensions() {
        return getJSON('api/v1/dimensions').then(function (j) {
            dims = Array.isArray(j.dimensions) ? j.dimensions : [];
            if (j.window_s > 0) windowS = j.window_s;
            var sel = $('dimension');
            clear(sel);
            dims.forEach(function (d) {
                var o = new Option(String(d.name), String(d.name));
                if (d.help) o.title = String(d.help);
                sel.appendChild(o);
            });
            setError('Dimensions', null);
        }, function (e) {
            setError('Dimensions', e.message);
        });
    }

    /* ------------------------------------------------------------- controls */

    function onChange() {
        state.dimension = $('dimension').value;
        state.metric = $('metric').value;
        state.limit = parseInt($('limit').value, 10) || 10;
        state.exporter = $('exporter').value;
        var r = $('range').value;
        if (r === 'custom') {
            $('custom').hidden = false;
            if (state.range !== 'custom') {
                /* start from the range shown so far; Apply loads */
                var now = Date.now() / 1000 | 0;
                $('to').value = inputTime(now);
                $('from').value = inputTime(now - (RANGES[state.range] || 3600));
                $('from').focus();
                return;
            }
        } else {
            state.range = r;
            $('custom').hidden = true;
        }
        showControls();
        load();
    }

    function onApply(ev) {
        ev.preventDefault();
        var f = fromInput($('from').value), t = fromInput($('to').value);
        if (f === null || t === null) {
            setError('Custom range', 'give both a start and an end');
            return;
        }
        setError('Custom range', null);
        state.range = 'custom';
        state.from = f;
        state.to = t;
        showControls();
        load();
    }

    function init() {
        readHash();
        ['dimension', 'metric', 'range', 'limit', 'exporter'].forEach(function (id) {
            $(id).addEventListener('change', onChange);
        });
        $('controls').addEventListener('submit', onApply);
        $('auto').addEventListener('change', function () {
            state.auto = $('auto').checked;
            writeHash();
            schedule();
            $('status').textContent = state.auto ? 'Auto-refresh on: every ' + state.refresh + ' s' :
                'Auto-refresh paused';
        });
        $('refresh').addEventListener('click', function () { load(); });
        window.addEventListener('hashchange', function () {
            readHash();
            showControls();
            load();
        });
        loadDimensions().then(function () {
            showControls();
            load();
        });
    }

    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
    else init();
}());
