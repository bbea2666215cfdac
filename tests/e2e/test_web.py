#!/usr/bin/python3
"""test_web.py - the web page (web/, served by flowtally at /) in a real
browser: Debian's chromium, headless, driven over the DevTools protocol
(cdp.py, standard library only).

Data: flowgen (bench/) writes 45 minutes of NetFlow v9 + IPFIX from two
exporters into a pcap; flowtally --pcap adds it to an SQLite database. A live
flowtally on that database (--listen, --http on a free port) then receives a
NetFlow v5 burst from flowgen, which stays in the open window. The oracle is
the sum of both runs' --print records per key (the issue's definitions, as
in rollup_oracle.py) and flowgen's own totals for the live exporter.

Cases:
  table      the page's table (key, average rate, volume, packets, flows,
             share) equals the /api/v1/top answer the page received (numbers
             re-derived here from the JSON: Python's own grouping, rounding
             to 3 significant digits with decimal SI prefixes checked as an
             interval), and that answer equals the --print sums.
  chart      the /api/v1/series answer has the top keys and sums to the
             --print sums; uPlot's legend names them; a screenshot of the
             chart has the first series' colour and many non-background
             pixels.
  a11y       chromium's accessibility tree: every control has a name, the
             chart is one image named by its caption, the tables are named.
  exporters  the exporters table equals /api/v1/exporters; the live
             exporter's packets and records are flowgen's.
  switching  dimension, time range and metric changes fetch again with the
             new parameters and the table follows the new answer.
  api_error  an unknown dimension from the address (crafted HTML) makes the
             server answer 400; the page shows that {"error"} text, as text.
  crafted    keys and an exporter address carrying HTML/script, put into the
             server's real answers by the DevTools Fetch domain (flowtally's
             keys are numeric today; exporters will name things one day), are
             shown literally and run nothing.
  refresh    with refresh=2 in the address the page fetches again by itself;
             paused, it does not; "Refresh now" does.
  offline    every request the page made went to flowtally itself (no
             external network); no JavaScript exception; after flowtally
             stops, a refresh shows the network error.

Screenshots go to $FT_BUILD_DIR/artifacts/test_web/*.png.
Needs: $FLOWTALLY built with the HTTP server, $FT_BUILD_DIR/flowgen, chromium
(apt-get install chromium). Exit 77 when one is missing.
"""
import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cdp  # noqa: E402
import ftlib  # noqa: E402
import rollup_oracle as ro  # noqa: E402

SKIP = 77
# The browser's time zone (DevTools Emulation): custom ranges are typed in
# local time; +05:30 all year, so a wrong conversion cannot pass by chance.
TZ_NAME, TZ_OFFSET_S = "Asia/Kolkata", 19800
PALETTE0 = (0x1f, 0x5f, 0xa8)        # web/app.js PALETTE[0], drawn with alpha 0xb3
failures = []


def fail(case, msg):
    failures.append(case)
    print("FAIL %s: %s" % (case, msg))


def ok(case, msg):
    print("ok %s: %s" % (case, msg))


def check(case, cond, msg):
    if not cond:
        fail(case, msg)
    return cond


# ----------------------------------------------------------------- oracle

def sums(recs, dim):
    """{key: {"bytes", "packets", "flows"}} over all records (all inside the range)."""
    out = {}
    for rec in recs:
        r = ro.rate_of(rec)
        v = out.setdefault(ro.key_of(rec, dim), {"bytes": 0, "packets": 0, "flows": 0})
        v["bytes"] += min(rec["bytes"] * r, ro.BYTES_MAX)
        v["packets"] += min(rec["packets"] * r, ro.PACKETS_MAX)
        v["flows"] += 1
    return out


def top_of(s, metric, n):
    """The top n (key, values) by metric desc, then key (API.md)."""
    return sorted(s.items(), key=lambda kv: (-kv[1][metric], kv[0]))[:n]


def group(n):
    return "{:,}".format(n)


SI = ["", "k", "M", "G", "T", "P", "E"]


def si_ok(text, exact, unit):
    """'' when text is exact shown with 3 significant digits and the right
    decimal SI prefix (integers below 1000 exactly), else why not."""
    m = re.match(r"^(\d+)(?:\.(\d+))? ([kMGTPE]?)" + re.escape(unit) + "$", text)
    if not m:
        return "%r is not a number with a unit %s" % (text, unit)
    ip, fp, pre = m.group(1), m.group(2) or "", m.group(3)
    scale = 1000 ** SI.index(pre)
    mant = float(ip + "." + fp) if fp else float(ip)
    if pre == "" and float(exact).is_integer() and exact < 1000:
        return "" if (not fp and int(ip) == exact) else "%r for the integer %r" % (text, exact)
    if pre != "" and not 1 <= mant < 1000:
        return "%r: mantissa outside [1, 1000)" % text
    if pre != "" and len((ip + fp).lstrip("0")) != 3:
        return "%r: not 3 significant digits" % text
    tol = 0.5 * 10 ** -len(fp) * scale * (1 + 1e-9)
    if abs(mant * scale - exact) > tol:
        return "%r for %r (off by more than half a unit of the last digit)" % (text, exact)
    if exact >= 1000 * scale:
        return "%r for %r: a larger prefix was due" % (text, exact)
    return ""


def pct_ok(text, frac):
    m = re.match(r"^(\d+\.\d) %$", text)
    if not m:
        return "%r is not a percentage" % text
    return "" if abs(float(m.group(1)) - frac * 100) <= 0.05 + 1e-9 else "%r for %r" % (text, frac)


# ----------------------------------------------------------------- page

JS_TABLE = """(() => {
  const cells = tr => [...tr.children].map(c => c.textContent);
  return {rows: [...document.querySelectorAll('#top tbody tr:not(.empty)')].map(cells),
          foot: [...document.querySelectorAll('#top tfoot tr')].map(cells),
          share_head: document.getElementById('share-head').textContent};
})()"""

JS_EXPORTERS = """[...document.querySelectorAll('#exporters tbody tr:not(.empty)')]
  .map(tr => [...tr.children].map(c => c.textContent))"""

JS_LEGEND = """[...document.querySelectorAll('#chart .u-legend .u-series .u-label')]
  .map(e => e.textContent)"""


class Session:
    def __init__(self, page, base):
        self.page, self.base = page, base

    def open(self, fragment):
        """A fresh document of the page with this address fragment (via
        about:blank: a fragment change alone would not load the page again)."""
        self.page.navigate("about:blank")
        self.page.navigate(self.base + fragment)
        return self.wait_loaded("")

    def loaded(self):
        return self.page.eval("document.body.dataset.loaded || ''")

    def wait_loaded(self, prev, timeout=30.0):
        """Waits until a load after `prev` finished; returns its generation."""
        return self.page.wait_js("(document.body.dataset.loaded || '') !== %s && document.body.dataset.loaded"
                                 % json.dumps(prev), timeout)

    def api_requests(self, path, since):
        """[(requestId, url)] of the page's requests to path since a mark."""
        return [(e["requestId"], e["request"]["url"]) for e in self.page.events("Network.requestWillBeSent", since)
                if urllib.parse.urlsplit(e["request"]["url"]).path.endswith(path)]

    def answer(self, path, since):
        """(query dict, status, JSON) of the last request to path since the mark."""
        reqs = self.api_requests(path, since)
        if not reqs:
            raise AssertionError("no request to %s" % path)
        rid, url = reqs[-1]
        if self.page.wait_event("Network.loadingFinished", lambda p: p["requestId"] == rid, since) is None:
            raise AssertionError("%s: no response" % url)
        resp = self.page.wait_event("Network.responseReceived", lambda p: p["requestId"] == rid, since)
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
        return q, resp["response"]["status"], json.loads(self.page.response_body(rid))

    def set_control(self, cid, value):
        """Chooses value in a <select> as a user would: value + change event."""
        self.page.eval("(() => { const e = document.getElementById(%s); e.value = %s;"
                       " e.dispatchEvent(new Event('change', {bubbles: true})); })()"
                       % (json.dumps(cid), json.dumps(value)))

    def change(self, cid, value):
        """set_control, then waits for the load; returns the mark before it."""
        m, prev = self.page.mark(), self.loaded()
        self.set_control(cid, value)
        if not self.wait_loaded(prev):
            raise AssertionError("no load after %s=%s" % (cid, value))
        return m

    def screenshot(self, path, selector=None):
        clip = None
        if selector:
            clip = self.page.eval("(() => { const r = document.querySelector(%s).getBoundingClientRect();"
                                  " return {x: r.left + scrollX, y: r.top + scrollY, width: r.width,"
                                  " height: r.height}; })()" % json.dumps(selector))
        return self.page.screenshot(path, clip)


def check_table(case, sess, top):
    """The page's table against the /top JSON it was given."""
    t = sess.page.eval(JS_TABLE)
    rows, foot = t["rows"], t["foot"]
    metric, seconds = top["metric"], top["to"] - top["from"]
    errs = []
    if len(rows) != len(top["rows"]):
        errs.append("%d rows on the page, %d in the answer" % (len(rows), len(top["rows"])))
    total = top["total"]
    for i, (d, r) in enumerate(zip(rows, top["rows"])):
        want = [str(i + 1), r["key"], None, None, group(r["packets"]), group(r["flows"]), None]
        for j in (0, 1, 4, 5):
            if d[j] != want[j]:
                errs.append("row %d column %d: %r, expected %r" % (i + 1, j, d[j], want[j]))
        for why in (si_ok(d[2], r["bytes"] * 8 / seconds, "bit/s"), si_ok(d[3], r["bytes"], "B"),
                    pct_ok(d[6].strip(), r[metric] / total[metric])):
            if why:
                errs.append("row %d (%s): %s" % (i + 1, r["key"], why))
    if len(foot) != 1:
        errs.append("footer: %r" % foot)
    else:
        f = foot[0]
        for why in (si_ok(f[2], total["bytes"] * 8 / seconds, "bit/s"), si_ok(f[3], total["bytes"], "B"),
                    "" if f[4] == group(total["packets"]) else "packets %r" % f[4],
                    "" if f[5] == group(total["flows"]) else "flows %r" % f[5]):
            if why:
                errs.append("total: " + why)
    if t["share_head"] != "Share of " + metric:
        errs.append("share column heading %r" % t["share_head"])
    if errs:
        fail(case, "the table differs from /api/v1/top:\n  " + "\n  ".join(errs[:20]))
        return False
    return True


def check_top_oracle(case, top, recs, dim, metric, limit):
    """/top over a range holding every record against the --print sums."""
    s = sums(recs, dim)
    want = [{"key": k, "bytes": v["bytes"], "packets": v["packets"], "flows": v["flows"]}
            for k, v in top_of(s, metric, limit)]
    got = [{k: r[k] for k in ("key", "bytes", "packets", "flows")} for r in top["rows"]]
    tot = {m: sum(v[m] for v in s.values()) for m in ("bytes", "packets", "flows")}
    ok_ = check(case, got == want, "/top %s by %s is not the --print sums:\n  got  %r\n  want %r"
                % (dim, metric, got[:5], want[:5]))
    ok_ &= check(case, top["total"] == tot, "/top total %r, the --print sums %r" % (top["total"], tot))
    return ok_


# ----------------------------------------------------------------- flowtally

def local_input(unix):
    """Unix seconds as an <input type=datetime-local> value in TZ_NAME."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(unix + TZ_OFFSET_S))


def http_get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def run_data(binary, flowgen, work):
    """The history: 45 minutes of v9 + IPFIX from 2 exporters, ending 5
    minutes ago, through flowtally --pcap into web.db. Returns the records."""
    now = int(time.time())
    pcap, db = os.path.join(work, "history.pcap"), os.path.join(work, "web.db")
    g = subprocess.run([flowgen, "--pcap-out", pcap, "--proto", "v9,ipfix", "--exporters", "2", "--keys", "40",
                        "--count", "5400", "--rate", "2", "--start-time", str(now - 3000), "--seed", "7"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120, check=True)
    gen = json.loads(g.stdout)
    p = subprocess.run([binary, "--pcap", pcap, "--db", db, "--print", "--log-level", "warn"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    recs = [json.loads(l) for l in p.stdout.decode().splitlines() if l.strip()]
    if p.returncode != 0 or len(recs) != gen["records"]:
        raise RuntimeError("flowtally --pcap: exit %d, %d of %d records: %s"
                           % (p.returncode, len(recs), gen["records"], p.stderr.decode()[-2000:]))
    return db, recs


class Live:
    """flowtally --listen netflow://127.0.0.1:0 --http 127.0.0.1:0 --db DB --print"""

    def __init__(self, binary, work, db):
        self.out_path = os.path.join(work, "live.jsonl")
        self.out = open(self.out_path, "wb")
        self.p = ftlib.start([binary, "--listen", "netflow://127.0.0.1:0", "--http", "127.0.0.1:0", "--db", db, "--rcvbuf", "4m",
                              "--print"], stdin=subprocess.DEVNULL, stdout=self.out, stderr=subprocess.PIPE)
        self.err = ftlib.LineReader(self.p.stderr)
        m = self.err.wait_for(r"listening on netflow://127\.0\.0\.1:(\d+)", 15)
        h = self.err.wait_for(r"http://127\.0\.0\.1:(\d+)", 15)
        if not m or not h:
            ftlib.stop(self.p, signal.SIGKILL)
            raise RuntimeError("flowtally did not start its listeners: %s" % self.err.text()[-2000:])
        self.port, self.http = int(m.group(1)), "http://127.0.0.1:%d/" % int(h.group(1))

    def records(self):
        with open(self.out_path, encoding="utf-8") as fh:
            return [json.loads(l) for l in fh if l.strip()]

    def wait_records(self, n, timeout=20.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with open(self.out_path, "rb") as fh:
                if fh.read().count(b"\n") >= n:
                    return True
            time.sleep(0.1)
        return False

    def stop(self):
        rc = ftlib.stop(self.p, signal.SIGTERM, 30.0)
        self.out.close()
        return rc


# ----------------------------------------------------------------- cases

CRAFTED = ('<img src=x onerror="window.__xss=1;alert(1)"><script>window.__xss=2</script>'
           '"><svg onload=window.__xss=3> &lt;b&gt; & \'q\'')
CRAFTED_EXPORTER = '<b id="xss">192.0.2.66</b><iframe src="javascript:window.__xss=4"></iframe>'


def case_main(sess, art, recs, live_gen):
    """table, chart, exporters on the first view: dst_port, last hour, bytes."""
    page = sess.page
    m = page.mark()
    if not sess.open("#dimension=dst_port&range=1h&metric=bytes&limit=10"):
        fail("table", "the page did not finish loading")
        return
    q, st, top = sess.answer("/api/v1/top", m)
    check("table", q.get("dimension") == "dst_port" and q.get("from") == "-1h" and q.get("metric") == "bytes"
          and q.get("limit") == "10", "/top query %r" % q)
    if st == 200 and check_top_oracle("table", top, recs, "dst_port", "bytes", 10) and check_table("table", sess, top):
        ok("table", "%d rows of dst_port by bytes equal /api/v1/top and the --print sums of %d records"
           % (len(top["rows"]), len(recs)))
    sess.screenshot(os.path.join(art, "page.png"))

    # chart: the answer, the legend, the pixels
    _, st, ser = sess.answer("/api/v1/series", m)
    s = sums(recs, "dst_port")
    want_keys = [k for k, _ in top_of(s, "bytes", 10)]
    keys = [x["key"] for x in ser.get("series", [])]
    good = check("chart", keys == want_keys, "/series keys %r, the top 10 of --print %r" % (keys, want_keys))
    for x in ser.get("series", []):
        if x["key"] in s and sum(x["values"]) != s[x["key"]]["bytes"]:
            good = check("chart", False, "/series %s sums to %d bytes, --print to %d"
                         % (x["key"], sum(x["values"]), s[x["key"]]["bytes"]))
    # the grey top layer: every other key, from the answer's per-bucket totals
    total = ser.get("total") or []
    all_bytes = sum(v["bytes"] for v in s.values())
    good &= check("chart", sum(total) == all_bytes, "/series totals sum to %d bytes, --print to %d"
                  % (sum(total), all_bytes))
    rest = all_bytes - sum(s[k]["bytes"] for k in keys if k in s)
    legend = page.eval(JS_LEGEND)
    want_legend = ["time"] + keys + (["(all other keys)"] if rest > 0 else [])
    good &= check("chart", legend == want_legend, "legend %r, expected %r" % (legend, want_legend))
    png = sess.screenshot(os.path.join(art, "chart.png"), "#chart canvas")
    w, h, px = cdp.pixels(png)
    fill = tuple(round(c * 0xb3 / 255 + 255 * (1 - 0xb3 / 255)) for c in PALETTE0)
    first = sum(1 for p in px if all(abs(a - b) <= 12 for a, b in zip(p, fill)))
    ink = sum(1 for p in px if min(p) < 200)
    good &= check("chart", first >= 0.01 * w * h and ink >= 0.05 * w * h,
                  "chart screenshot %dx%d: %d pixels of the first series' fill %r, %d non-background"
                  % (w, h, first, fill, ink))
    if good:
        ok("chart", "%d series over %d buckets and the totals sum to the --print sums; legend names them; %d of "
           "%d pixels drawn, %d in the top key's colour" % (len(keys), len(ser.get("times", [])), ink, w * h, first))

    # accessibility, as chromium's accessibility tree computes it
    nodes = page.call("Accessibility.getFullAXTree")["nodes"]
    def role(n):
        return (n.get("role") or {}).get("value")
    def name(n):
        return (n.get("name") or {}).get("value") or ""
    unnamed = [role(n) for n in nodes if not n.get("ignored") and role(n) in
               ("combobox", "ComboBox", "checkbox", "button", "textbox", "spinbutton") and not name(n).strip()]
    imgs = [name(n) for n in nodes if not n.get("ignored") and role(n) in ("img", "image")]
    tables = [name(n) for n in nodes if not n.get("ignored") and role(n) == "table"]
    good = check("a11y", not unnamed, "controls without an accessible name: %r" % unnamed)
    good &= check("a11y", len(imgs) == 1 and imgs[0].startswith("Stacked bit/s"), "chart image names %r" % imgs)
    good &= check("a11y", len(tables) >= 2 and all(tables), "table names %r" % tables)
    if good:
        ok("a11y", "every control named, the chart an image named by its caption, %d named tables" % len(tables))

    # exporters
    _, st, ex = sess.answer("/api/v1/exporters", m)
    dom = page.eval(JS_EXPORTERS)
    good = check("exporters", len(dom) == len(ex["exporters"]), "%d rows, %d exporters" % (len(dom),
                                                                                       len(ex["exporters"])))
    for d, x in zip(dom, ex["exporters"]):
        good &= check("exporters", d[0] == x["address"] and d[1] == ", ".join(x["protocols"])
                      and d[3] == group(x["packets"]) and d[4] == group(x["records"])
                      and d[5] == group(x["sequence_lost"]),
                      "row %r for %r" % (d, x))
    lv = [x for x in ex["exporters"] if x["address"] == "127.0.0.1"]
    good &= check("exporters", len(lv) == 1 and lv[0]["packets"] == live_gen["datagrams"]
                  and lv[0]["records"] == live_gen["records"],
                  "live exporter %r, flowgen sent %d datagrams / %d records"
                  % (lv, live_gen["datagrams"], live_gen["records"]))
    if good:
        ok("exporters", "%d exporters shown as /api/v1/exporters says; 127.0.0.1 has flowgen's %d datagrams and "
           "%d records" % (len(dom), live_gen["datagrams"], live_gen["records"]))
    return top


def case_switching(sess, recs, top_1h):
    # dimension
    m = sess.change("dimension", "src_as")
    q, st, top = sess.answer("/api/v1/top", m)
    good = check("switching", q.get("dimension") == "src_as", "dimension change sent %r" % q)
    good &= check_top_oracle("switching", top, recs, "src_as", "bytes", 10) and check_table("switching", sess, top)
    good &= check("switching", bool(top["rows"]) and top["rows"][0]["key"].startswith("AS"),
                  "src_as keys %r" % [r["key"] for r in top["rows"]])
    _, _, ser = sess.answer("/api/v1/series", m)
    good &= check("switching", ser.get("dimension") == "src_as", "series after the switch: %r" % ser.get("dimension"))
    # time range: 15 minutes hold the live burst and part of the history
    m = sess.change("range", "15m")
    q, st, top = sess.answer("/api/v1/top", m)
    good &= check("switching", q.get("from") == "-15m" and q.get("dimension") == "src_as", "range change sent %r" % q)
    good &= check_table("switching", sess, top)
    all_bytes = sum(v["bytes"] for v in sums(recs, "src_as").values())
    good &= check("switching", 0 < top["total"]["bytes"] < all_bytes,
                  "15 minutes hold %d bytes, all records %d" % (top["total"]["bytes"], all_bytes))
    # metric
    m = sess.change("metric", "packets")
    q, st, top = sess.answer("/api/v1/top", m)
    good &= check("switching", q.get("metric") == "packets" and top["metric"] == "packets", "metric change %r" % q)
    good &= check_table("switching", sess, top)
    pk = [r["packets"] for r in top["rows"]]
    good &= check("switching", pk == sorted(pk, reverse=True), "rows not by packets: %r" % pk)
    # back to the hour: all records, by packets
    m = sess.change("range", "1h")
    _, _, top = sess.answer("/api/v1/top", m)
    good &= check_top_oracle("switching", top, recs, "src_as", "packets", 10) and check_table("switching", sess, top)
    # a custom range, typed in local time (the browser runs in TZ_NAME)
    t1 = int(time.time()) // 60 * 60 + 60
    t0 = t1 - 1200
    m, prev = sess.page.mark(), sess.loaded()
    sess.set_control("range", "custom")
    shown = sess.page.eval("!document.getElementById('custom').hidden")
    sess.page.eval("document.getElementById('from').value = %s; document.getElementById('to').value = %s;"
                   "document.getElementById('apply').click()" % (json.dumps(local_input(t0)),
                                                                 json.dumps(local_input(t1))))
    if not sess.wait_loaded(prev):
        raise AssertionError("no load after a custom range")
    q, st, top = sess.answer("/api/v1/top", m)
    good &= check("switching", shown and q.get("from") == str(t0) and q.get("to") == str(t1),
                  "custom range %s .. %s (%s) sent %r" % (local_input(t0), local_input(t1), TZ_NAME, q))
    good &= check_table("switching", sess, top)
    good &= check("switching", "range=custom&from=%d&to=%d" % (t0, t1) in sess.page.eval("location.hash"),
                  "custom range not kept in the address")
    if good:
        ok("switching", "dimension, range, metric and custom-range changes refetch with the new parameters and "
           "the table follows")


def case_api_error(sess, art):
    page = sess.page
    m, prev = page.mark(), sess.loaded()
    page.eval("location.hash = %s" % json.dumps("#" + urllib.parse.urlencode(
        {"dimension": CRAFTED, "range": "1h", "metric": "bytes"})))
    if not sess.wait_loaded(prev):
        fail("api_error", "no load after the address changed")
        return
    reqs = sess.api_requests("/api/v1/top", m)
    url = reqs[-1][1] if reqs else None
    st, body = http_get(url) if url else (None, None)
    if not check("api_error", st == 400 and isinstance(body, dict) and isinstance(body.get("error"), str),
                 "%s answered %r %r; expected 400 with an error" % (url, st, body)):
        return
    want = "Top talkers: %s (HTTP 400)" % body["error"]
    shown = page.eval("[...document.querySelectorAll('#errors p')].map(p => p.textContent)")
    good = check("api_error", want in shown, "errors shown %r, expected %r" % (shown, want))
    good &= check("api_error", page.eval("document.querySelectorAll('#errors *:not(p):not(strong)').length") == 0,
                  "markup inside the error box")
    good &= check("api_error", page.eval("document.getElementById('errors').getAttribute('role')") == "alert",
                  "the error box is not role=alert")
    good &= check("api_error", page.eval("document.querySelectorAll('#top tbody tr:not(.empty)').length") == 0,
                  "rows of another query still shown")
    good &= check("api_error", page.eval("typeof window.__xss") == "undefined", "crafted markup ran")
    sess.screenshot(os.path.join(art, "error.png"))
    if good:
        ok("api_error", "400 %r shown as text in the alert box" % body["error"])


def case_crafted(sess, art):
    """Fetch domain: the server's real answers with one key/address replaced."""
    page = sess.page
    sess.change("dimension", "dst_port")   # a valid query again (errors cleared)
    page.call("Fetch.enable", {"patterns": [{"urlPattern": "*/api/v1/top?*", "requestStage": "Response"},
                                            {"urlPattern": "*/api/v1/series?*", "requestStage": "Response"},
                                            {"urlPattern": "*/api/v1/exporters*", "requestStage": "Response"}]})
    m, prev = page.mark(), sess.loaded()
    page.eval("document.getElementById('refresh').click()")
    seen = set()
    try:
        for _ in range(3):
            ev = page.wait_event("Fetch.requestPaused", lambda p: p["requestId"] not in seen, m)
            if ev is None:
                raise AssertionError("requests not paused (%d seen)" % len(seen))
            seen.add(ev["requestId"])
            body = json.loads(_fetch_body(page, ev["requestId"]))
            path = urllib.parse.urlsplit(ev["request"]["url"]).path
            if path.endswith("/top") and body.get("rows"):
                body["rows"][0]["key"] = CRAFTED
            elif path.endswith("/series") and body.get("series"):
                body["series"][0]["key"] = CRAFTED
            elif path.endswith("/exporters") and body.get("exporters"):
                body["exporters"][0]["address"] = CRAFTED_EXPORTER
            page.call("Fetch.fulfillRequest", {
                "requestId": ev["requestId"], "responseCode": ev.get("responseStatusCode", 200),
                "responseHeaders": ev.get("responseHeaders", []),
                "body": base64.b64encode(json.dumps(body).encode()).decode()})
    finally:
        page.call("Fetch.disable")
    if not sess.wait_loaded(prev):
        fail("crafted", "no load after the refresh")
        return
    got = page.eval("""({
      key: document.querySelector('#top tbody tr th').textContent,
      legend: [...document.querySelectorAll('#chart .u-legend .u-series .u-label')].map(e => e.textContent)[1],
      exporter: document.querySelector('#exporters tbody tr th').textContent,
      option: [...document.getElementById('exporter').options].map(o => o.text).includes(%s),
      caption: document.getElementById('chart-caption').textContent,
      elements: document.querySelectorAll('img, svg:not(.u-legend svg), iframe, b#xss').length,
      scripts: document.scripts.length,
      xss: typeof window.__xss})""" % json.dumps(CRAFTED_EXPORTER))
    good = check("crafted", got["key"] == CRAFTED, "table key %r" % got["key"])
    good &= check("crafted", got["legend"] == CRAFTED, "legend %r" % got["legend"])
    good &= check("crafted", got["exporter"] == CRAFTED_EXPORTER and got["option"], "exporter %r" % got)
    good &= check("crafted", CRAFTED in got["caption"], "caption %r" % got["caption"])
    good &= check("crafted", got["elements"] == 0 and got["scripts"] == 2 and got["xss"] == "undefined",
                  "markup became elements or ran: %r" % got)
    good &= check("crafted", not page.events("Page.javascriptDialogOpening", m), "a dialog opened")
    sess.screenshot(os.path.join(art, "crafted.png"))
    if good:
        ok("crafted", "HTML/script in a key (table, legend, caption) and an exporter address is shown literally")


def _fetch_body(page, rid):
    r = page.call("Fetch.getResponseBody", {"requestId": rid})
    return base64.b64decode(r["body"]).decode() if r.get("base64Encoded") else r["body"]


def case_refresh(sess):
    page = sess.page
    m = page.mark()
    sess.open("#dimension=dst_port&range=1h&metric=bytes&refresh=2")
    if not page.wait_js("Number(document.body.dataset.loaded) >= 3", 15):
        fail("refresh", "no automatic refresh within 15 s at refresh=2 (loads: %r)" % sess.loaded())
        return
    n = len(sess.api_requests("/api/v1/top", m))
    label = page.eval("document.getElementById('auto-label').textContent")
    page.eval("document.getElementById('auto').click()")
    time.sleep(0.5)     # a load the timer started just before the click may still be reported
    m2 = page.mark()
    time.sleep(5)
    after = len(sess.api_requests("/api/v1/top", m2))
    good = check("refresh", n >= 3 and label == "Refresh every 2 s", "%d /top requests, label %r" % (n, label))
    good &= check("refresh", after == 0, "%d /top requests in 5 s while paused" % after)
    good &= check("refresh", "auto=0" in page.eval("location.hash"), "pause not kept in the address")
    m3, prev = page.mark(), sess.loaded()
    page.eval("document.getElementById('refresh').click()")
    sess.wait_loaded(prev)
    good &= check("refresh", len(sess.api_requests("/api/v1/top", m3)) == 1, "Refresh now did not fetch once")
    if good:
        ok("refresh", "%d loads at refresh=2, none in 5 s paused, one on Refresh now" % n)


def case_offline(sess, live, art):
    page = sess.page
    urls = [e["request"]["url"] for e in page.events("Network.requestWillBeSent")]
    outside = [u for u in urls if not u.startswith(sess.base) and not u.startswith("data:")]
    good = check("offline", urls and not outside, "requests outside flowtally: %r" % outside[:5])
    exc = page.events("Runtime.exceptionThrown")
    good &= check("offline", not exc, "JavaScript exceptions: %r" % [e["exceptionDetails"].get("text")
                                                                      for e in exc][:3])
    logs = [e["entry"] for e in page.events("Log.entryAdded") if e["entry"]["level"] == "error"
            and e["entry"].get("source") != "network"]
    good &= check("offline", not logs, "console errors: %r" % [l.get("text") for l in logs][:3])
    # flowtally gone: the refresh says so, the last answer stays (dimmed)
    rc = live.stop()
    good &= check("offline", rc == 0, "flowtally exit %r" % rc)
    prev = sess.loaded()
    page.eval("document.getElementById('refresh').click()")
    sess.wait_loaded(prev)
    shown = page.eval("[...document.querySelectorAll('#errors p')].map(p => p.textContent)")
    rows = page.eval("document.querySelectorAll('#top.stale tbody tr:not(.empty)').length")
    good &= check("offline", any(s.startswith("Top talkers: cannot reach flowtally") for s in shown) and rows > 0,
                  "after flowtally stopped: errors %r, %d dimmed rows" % (shown, rows))
    sess.screenshot(os.path.join(art, "offline.png"))
    if good:
        ok("offline", "%d requests, all to flowtally; no exception; a stopped server is reported" % len(urls))


# ----------------------------------------------------------------- main

def main(argv):
    binary = os.environ.get("FLOWTALLY")
    build = os.environ.get("FT_BUILD_DIR") or (os.path.dirname(binary) if binary else None)
    missing = []
    if not binary or not os.access(binary, os.X_OK):
        missing.append("FLOWTALLY (the binary)")
    flowgen = os.path.join(build, "flowgen") if build else None
    if not flowgen or not os.access(flowgen, os.X_OK):
        missing.append("flowgen in FT_BUILD_DIR (cmake --build builds it)")
    if not cdp.find_chromium():
        missing.append("chromium (apt-get install chromium)")
    if not missing:
        h = subprocess.run([binary, "--help"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT).stdout.decode()
        if "--http" not in h:
            missing.append("the HTTP server in flowtally (--http)")
    if missing:
        print("SKIP: missing " + ", ".join(missing))
        return SKIP
    only = argv[1:]
    art = os.path.join(build, "artifacts", "test_web")
    os.makedirs(art, exist_ok=True)
    work = tempfile.mkdtemp(prefix="ft-web-", dir=build)
    browser = live = None
    try:
        db, recs = run_data(binary, flowgen, work)
        live = Live(binary, work, db)
        g = subprocess.run([flowgen, "--target", "127.0.0.1:%d" % live.port, "--proto", "v5", "--count", "3000", "--rate", "10k",
                            "--keys", "40", "--seed", "9", "--sampling-rate", "100"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, check=True)
        live_gen = json.loads(g.stdout)
        if not live.wait_records(live_gen["records"]):
            raise RuntimeError("the live flowtally printed %d of %d records"
                               % (len(live.records()), live_gen["records"]))
        recs = recs + live.records()

        browser = cdp.Browser.start(work)
        page = browser.new_page()
        for dom in ("Page", "Network", "Runtime", "Log", "Accessibility"):
            page.call(dom + ".enable")
        page.call("Emulation.setDeviceMetricsOverride", {"width": 1280, "height": 1000, "deviceScaleFactor": 1,
                                                          "mobile": False})
        page.call("Emulation.setTimezoneOverride", {"timezoneId": TZ_NAME})
        sess = Session(page, live.http)
        cases = [("main", lambda: case_main(sess, art, recs, live_gen)),
                 ("switching", lambda: case_switching(sess, recs, None)),
                 ("api_error", lambda: case_api_error(sess, art)),
                 ("crafted", lambda: case_crafted(sess, art)),
                 ("refresh", lambda: case_refresh(sess)),
                 ("offline", lambda: case_offline(sess, live, art))]
        for name, fn in cases:
            if only and name not in only:
                continue
            try:
                fn()
            except Exception as e:  # a harness failure is a failure, with its reason
                fail(name, "%s: %s" % (type(e).__name__, e))
    except Exception as e:
        fail("setup", "%s: %s" % (type(e).__name__, e))
    finally:
        if browser:
            browser.close()
        ftlib.cleanup()
    print("screenshots in %s" % art)
    if failures:
        print("%d failure(s); files kept in %s" % (len(failures), work))
        return 1
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
