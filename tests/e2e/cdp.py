"""cdp.py - drive Debian's headless chromium through the Chrome DevTools
Protocol (https://chromedevtools.github.io/devtools-protocol/), with the
standard library only: a WebSocket client (RFC 6455), the protocol's JSON
messages, and a PNG decoder (RFC 2083 / PNG spec: 8-bit RGB(A), not
interlaced - what chromium's Page.captureScreenshot writes) to look at
screenshots' pixels.

    b = Browser.start(workdir)            # chromium --headless=new --remote-debugging-port=0
    page = b.new_page()                   # a tab, attached in flat session mode
    page.call("Page.navigate", {"url": u})
    page.eval("document.title")
    b.close()

Events are kept in arrival order; wait_event(method, pred) returns the first
one (from `since`) that matches. Used by test_web.py.
"""
import base64
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time
import urllib.parse
import zlib


class CDPError(Exception):
    pass


def find_chromium():
    """Path of the chromium binary ($FT_CHROMIUM, else Debian's), or None."""
    env = os.environ.get("FT_CHROMIUM")
    if env:
        return env if os.access(env, os.X_OK) else None
    for n in ("chromium", "chromium-browser", "google-chrome"):
        p = shutil.which(n)
        if p:
            return p
    return None


# --------------------------------------------------------------- WebSocket

class WebSocket:
    """A client WebSocket (RFC 6455) over a plain TCP socket: text frames out
    (masked, §5.3), frames in (continuations joined, pings answered)."""

    GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"   # RFC 6455 §1.3

    def __init__(self, url, timeout=30.0):
        u = urllib.parse.urlsplit(url)
        if u.scheme != "ws":
            raise CDPError("only ws:// URLs: %s" % url)
        self.sock = socket.create_connection((u.hostname, u.port or 80), timeout)
        self.sock.settimeout(None)
        key = base64.b64encode(os.urandom(16)).decode()
        path = u.path + ("?" + u.query if u.query else "")
        req = ("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n") % (path, u.hostname, u.port, key)
        self.sock.sendall(req.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            c = self.sock.recv(4096)
            if not c:
                raise CDPError("WebSocket handshake: connection closed")
            head += c
        head, self.buf = head.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        if not re.match(r"HTTP/1\.1 101\b", lines[0]):
            raise CDPError("WebSocket handshake refused: %s" % lines[0])
        want = base64.b64encode(hashlib.sha1((key + self.GUID).encode()).digest()).decode()
        accept = [l.split(":", 1)[1].strip() for l in lines[1:] if l.lower().startswith("sec-websocket-accept:")]
        if accept != [want]:
            raise CDPError("WebSocket handshake: bad Sec-WebSocket-Accept %r" % accept)
        self.wlock = threading.Lock()

    def _read(self, n):
        while len(self.buf) < n:
            c = self.sock.recv(1 << 16)
            if not c:
                raise EOFError("WebSocket closed")
            self.buf += c
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _send_frame(self, opcode, payload):
        n = len(payload)
        head = bytes([0x80 | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        # XOR with the repeated mask, as one big integer (fast for long messages)
        m = (mask * (n // 4 + 1))[:n]
        body = (int.from_bytes(payload, "big") ^ int.from_bytes(m, "big")).to_bytes(n, "big") if n else b""
        with self.wlock:
            self.sock.sendall(head + mask + body)

    def send_text(self, s):
        self._send_frame(0x1, s.encode("utf-8"))

    def recv(self):
        """The next whole message (str or bytes); EOFError when closed."""
        parts, first_op = [], None
        while True:
            b0, b1 = self._read(2)
            fin, op = b0 & 0x80, b0 & 0x0F
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            mask = self._read(4) if b1 & 0x80 else None
            data = self._read(n)
            if mask:
                m = (mask * (n // 4 + 1))[:n]
                data = (int.from_bytes(data, "big") ^ int.from_bytes(m, "big")).to_bytes(n, "big")
            if op == 0x8:                       # close
                raise EOFError("WebSocket closed by peer")
            if op == 0x9:                       # ping -> pong
                self._send_frame(0xA, data)
                continue
            if op == 0xA:
                continue
            if op != 0x0:
                first_op = op
            parts.append(data)
            if fin:
                msg = b"".join(parts)
                return msg.decode("utf-8") if first_op == 0x1 else msg

    def close(self):
        try:
            self._send_frame(0x8, b"")
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass


# --------------------------------------------------------------- protocol

class Connection:
    """One DevTools WebSocket: calls by id, events kept in order."""

    def __init__(self, ws_url):
        self.ws = WebSocket(ws_url)
        self.next_id = 0
        self.cv = threading.Condition()
        self.replies = {}
        self.events = []
        self.closed = False
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        try:
            while True:
                msg = json.loads(self.ws.recv())
                with self.cv:
                    if "id" in msg:
                        self.replies[msg["id"]] = msg
                    else:
                        self.events.append(msg)
                    self.cv.notify_all()
        except (EOFError, OSError, ValueError):
            with self.cv:
                self.closed = True
                self.cv.notify_all()

    def call(self, method, params=None, session=None, timeout=30.0):
        with self.cv:
            self.next_id += 1
            i = self.next_id
        msg = {"id": i, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self.ws.send_text(json.dumps(msg))
        end = time.monotonic() + timeout
        with self.cv:
            while i not in self.replies:
                left = end - time.monotonic()
                if self.closed or left <= 0:
                    raise CDPError("%s: %s" % (method, "connection closed" if self.closed else "no answer"))
                self.cv.wait(left)
            r = self.replies.pop(i)
        if "error" in r:
            raise CDPError("%s: %s" % (method, r["error"].get("message", r["error"])))
        return r.get("result", {})

    def mark(self):
        """Position in the event list, for wait_event(since=...)."""
        with self.cv:
            return len(self.events)

    def wait_event(self, method, pred=None, session=None, since=0, timeout=30.0):
        end = time.monotonic() + timeout
        with self.cv:
            i = since
            while True:
                while i < len(self.events):
                    e = self.events[i]
                    i += 1
                    if e.get("method") == method and (session is None or e.get("sessionId") == session) \
                            and (pred is None or pred(e.get("params", {}))):
                        return e.get("params", {})
                left = end - time.monotonic()
                if self.closed or left <= 0:
                    return None
                self.cv.wait(left)

    def find_events(self, method, session=None, since=0):
        with self.cv:
            return [e.get("params", {}) for e in self.events[since:]
                    if e.get("method") == method and (session is None or e.get("sessionId") == session)]


class Page:
    """One tab (a flat-mode session of the browser connection)."""

    def __init__(self, conn, target_id, session):
        self.conn, self.target_id, self.session = conn, target_id, session

    def call(self, method, params=None, timeout=30.0):
        return self.conn.call(method, params, self.session, timeout)

    def mark(self):
        return self.conn.mark()

    def wait_event(self, method, pred=None, since=0, timeout=30.0):
        return self.conn.wait_event(method, pred, self.session, since, timeout)

    def events(self, method, since=0):
        return self.conn.find_events(method, self.session, since)

    def eval(self, expr, await_promise=True, timeout=30.0):
        """The value of a JavaScript expression (JSON-able), exceptions raised."""
        r = self.call("Runtime.evaluate", {"expression": expr, "returnByValue": True,
                                           "awaitPromise": await_promise}, timeout)
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            raise CDPError("JavaScript: %s" % (d.get("exception", {}).get("description") or d.get("text")))
        return r.get("result", {}).get("value")

    def wait_js(self, expr, timeout=20.0, interval=0.05):
        """Polls expr until it is truthy; returns its value, or None on timeout."""
        end = time.monotonic() + timeout
        while True:
            v = self.eval(expr)
            if v:
                return v
            if time.monotonic() >= end:
                return None
            time.sleep(interval)

    def navigate(self, url, timeout=30.0):
        m = self.mark()
        r = self.call("Page.navigate", {"url": url})
        if r.get("errorText"):
            raise CDPError("navigate %s: %s" % (url, r["errorText"]))
        if self.wait_event("Page.loadEventFired", since=m, timeout=timeout) is None:
            raise CDPError("navigate %s: no load event" % url)

    def screenshot(self, path=None, clip=None):
        """PNG bytes of the page (clip: {x, y, width, height} in CSS pixels);
        written to path too when given."""
        p = {"format": "png", "captureBeyondViewport": True}
        if clip:
            p["clip"] = dict(clip, scale=1)
        png = base64.b64decode(self.call("Page.captureScreenshot", p, timeout=60)["data"])
        if path:
            with open(path, "wb") as fh:
                fh.write(png)
        return png

    def response_body(self, request_id):
        r = self.call("Network.getResponseBody", {"requestId": request_id})
        return base64.b64decode(r["body"]).decode("utf-8") if r.get("base64Encoded") else r["body"]


class Browser:
    """A headless chromium of our own (own profile folder), ended by its pid."""

    def __init__(self, proc, conn, stderr_path):
        self.proc, self.conn, self.stderr_path = proc, conn, stderr_path

    @classmethod
    def start(cls, workdir, binary=None, width=1280, height=1000, timeout=60.0):
        binary = binary or find_chromium()
        profile = os.path.join(workdir, "chromium-profile")
        os.makedirs(profile, exist_ok=True)
        args = [binary, "--headless=new", "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
                "--user-data-dir=" + profile, "--window-size=%d,%d" % (width, height),
                "--no-first-run", "--no-default-browser-check", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-extensions", "--disable-sync", "--disable-background-networking",
                "--disable-component-update", "--disable-default-apps", "--mute-audio",
                "--hide-scrollbars", "--force-color-profile=srgb", "--lang=en-US", "about:blank"]
        if os.geteuid() == 0:
            args.insert(1, "--no-sandbox")     # chromium refuses to run as root with its sandbox
        err_path = os.path.join(workdir, "chromium.stderr")
        err = open(err_path, "wb")
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=err, stderr=err, start_new_session=True)
        err.close()
        end = time.monotonic() + timeout
        url = None
        while time.monotonic() < end and url is None:
            with open(err_path, "rb") as fh:
                m = re.search(rb"DevTools listening on (ws://\S+)", fh.read())
            if m:
                url = m.group(1).decode()
            elif proc.poll() is not None:
                break
            else:
                time.sleep(0.1)
        if url is None:
            cls._kill(proc)
            with open(err_path, "rb") as fh:
                raise CDPError("chromium did not start: %s" % fh.read().decode("utf-8", "replace")[-2000:])
        return cls(proc, Connection(url), err_path)

    def new_page(self):
        t = self.conn.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        s = self.conn.call("Target.attachToTarget", {"targetId": t, "flatten": True})["sessionId"]
        return Page(self.conn, t, s)

    @staticmethod
    def _kill(proc):
        if proc.poll() is None:
            # its own session (start_new_session): the group is chromium's helpers only
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def close(self):
        try:
            self.conn.call("Browser.close", timeout=5)
        except CDPError:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            pass
        self._kill(self.proc)
        self.conn.ws.close()


# --------------------------------------------------------------- PNG

def png_decode(data):
    """(width, height, channels, rows): rows a list of bytes objects of
    width*channels values. 8-bit truecolour (2) or truecolour+alpha (6), not
    interlaced (PNG spec §11.2.2, filters §9)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, hdr = 8, [], None
    while pos < len(data):
        n, typ = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if typ == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif typ == b"IDAT":
            idat.append(body)
        elif typ == b"IEND":
            break
    w, h, depth, ctype, _comp, _filt, interlace = hdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        raise ValueError("PNG: only 8-bit RGB/RGBA, not interlaced (depth %d type %d)" % (depth, ctype))
    ch = 3 if ctype == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = w * ch
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f == 1:          # Sub
            for i in range(ch, stride):
                line[i] = (line[i] + line[i - ch]) & 0xFF
        elif f == 2:        # Up
            line = bytearray((a + b) & 0xFF for a, b in zip(line, prev))
        elif f == 3:        # Average
            for i in range(stride):
                left = line[i - ch] if i >= ch else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif f == 4:        # Paeth
            for i in range(stride):
                a = line[i - ch] if i >= ch else 0
                b = prev[i]
                c = prev[i - ch] if i >= ch else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 0xFF
        elif f != 0:
            raise ValueError("PNG: bad filter %d" % f)
        rows.append(bytes(line))
        prev = line
    return w, h, ch, rows


def pixels(png):
    """Every pixel of a PNG as (r, g, b) tuples, row by row."""
    w, h, ch, rows = png_decode(png)
    out = []
    for r in rows:
        for x in range(w):
            out.append((r[x * ch], r[x * ch + 1], r[x * ch + 2]))
    return w, h, out
