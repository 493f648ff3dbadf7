"""Drive Debian's headless Chromium over the DevTools protocol, and serve the app with uvicorn.

Used by the browser tests and by bench/bench_web.py: open a page, wait until
it has drawn, and report console errors, failed requests, the hosts it
contacted, load timings and a screenshot.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import websocket

#: The screens pages are checked at (Emulation.setDeviceMetricsOverride): a common phone, and a laptop.
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}
DESKTOP = {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False}

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-default-apps",
    "--hide-scrollbars", "--mute-audio", "--window-size=1280,900",
]


def chromium_binary() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status < 500:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer within {timeout} s")
        time.sleep(0.2)


@contextmanager
def serve_app(database_url: str, workers: int = 1, extra_env: dict | None = None):
    """Run ``uvicorn api.app:create_app --factory`` on a free localhost port; yield its base URL."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, **(extra_env or {})}
    repo = Path(__file__).resolve().parent.parent
    # The server's stderr (one access-log line per request) goes to a file: an
    # undrained pipe fills up and then blocks the server mid-request.
    log = tempfile.NamedTemporaryFile(prefix="hm-server-", suffix=".log", delete=False)
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(workers), "--log-level", "warning"],
        cwd=repo, env=env, stdout=subprocess.DEVNULL, stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_http(base + "/healthz", 30)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        os.unlink(log.name)


@dataclass
class PageReport:
    url: str
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    request_urls: list[str] = field(default_factory=list)
    load_ms: float | None = None
    ready_ms: float | None = None
    state: dict | None = None
    timed_out: bool = False
    transferred_bytes: int = 0

    def other_hosts(self, base: str) -> list[str]:
        own = urlsplit(base).netloc
        return sorted({u for u in self.request_urls
                       if urlsplit(u).scheme in ("http", "https", "ws", "wss") and urlsplit(u).netloc != own})


class Chromium:
    """One headless Chromium with a fresh profile, driven through one page target."""

    def __init__(self, flags: tuple[str, ...] = ()):
        """Start Chromium; ``flags`` are added to the usual ones (e.g. ``--lang=en-US`` for an English browser)."""
        binary = chromium_binary()
        if binary is None:
            raise RuntimeError("chromium is not installed (apt-get install chromium)")
        # A start can miss its deadline on a loaded machine (a CI run beside other work): once more, then say why.
        try:
            page = self._start(binary, flags, 30)
        except RuntimeError:
            page = self._start(binary, flags, 90)
        self.ws = websocket.create_connection(page, timeout=60, suppress_origin=True)
        self._id = 0
        self.events: list[dict] = []

    def _start(self, binary: str, flags: tuple[str, ...], wait_s: float) -> str:
        """Launch Chromium with a fresh profile; the WebSocket address of its page, or RuntimeError saying why not
        (its exit code or the time waited, and the last lines it wrote)."""
        self.profile = tempfile.mkdtemp(prefix="hm-chromium-")
        log = Path(self.profile).with_suffix(".log")
        with log.open("wb") as err:
            self.proc = subprocess.Popen(
                [binary, *CHROMIUM_FLAGS, *flags, f"--user-data-dir={self.profile}", "--remote-debugging-port=0",
                 "about:blank"],
                stdout=subprocess.DEVNULL, stderr=err,
            )
        port_file = Path(self.profile) / "DevToolsActivePort"
        deadline = time.monotonic() + wait_s
        # The port file comes first; the endpoint may answer its first requests only seconds later (a busy CI).
        while (page := self._page(port_file)) is None:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                how = f"exited with {self.proc.returncode}" if self.proc.poll() is not None else f"not up in {wait_s:g} s"
                self.close()
                said = log.read_text(errors="replace").strip().splitlines()[-5:]
                log.unlink(missing_ok=True)
                raise RuntimeError(f"chromium did not start its DevTools endpoint ({how}): {' | '.join(said)}")
            time.sleep(0.1)
        log.unlink(missing_ok=True)
        return page

    @staticmethod
    def _page(port_file: Path) -> str | None:
        """The WebSocket address of the page target, once the port file is written and the endpoint answers."""
        text = port_file.read_text().strip() if port_file.exists() else ""
        if not text:
            return None
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{int(text.split()[0])}/json/list", timeout=5) as response:
                targets = json.load(response)
        except (OSError, ValueError):  # not answering yet (a time-out is an OSError)
            return None
        return next((t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page"), None)

    def send(self, method: str, **params) -> dict:
        self._id += 1
        my_id = self._id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == my_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def evaluate(self, expression: str):
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def open(self, url: str, ready_js: str | None = None, timeout: float = 60.0) -> PageReport:
        """Navigate, wait for the load event and (if given) until ``ready_js`` is true; report what happened."""
        self.events = []
        for domain in ("Page", "Runtime", "Network", "Log"):
            self.send(f"{domain}.enable")
        self.send("Network.setCacheDisabled", cacheDisabled=True)
        report = PageReport(url)
        started = time.monotonic()
        self.send("Page.navigate", url=url)
        deadline = started + timeout
        loaded = False
        self.ws.settimeout(0.25)
        try:
            while time.monotonic() < deadline:
                try:
                    self.events.append(json.loads(self.ws.recv()))
                except websocket.WebSocketTimeoutException:
                    pass
                if not loaded and any(e.get("method") == "Page.loadEventFired" for e in self.events):
                    loaded = True
                    report.load_ms = (time.monotonic() - started) * 1000
                    if ready_js is None:
                        break
                if loaded and ready_js is not None:
                    self.ws.settimeout(60)
                    if self.evaluate(ready_js):
                        report.ready_ms = (time.monotonic() - started) * 1000
                        break
                    self.ws.settimeout(0.25)
            else:
                report.timed_out = True
        finally:
            self.ws.settimeout(60)
        time.sleep(0.3)  # late events (a console error right after drawing)
        self.send("Runtime.evaluate", expression="1")
        self._collect(report)
        return report

    def _collect(self, report: PageReport) -> None:
        requests = {}
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Network.requestWillBeSent":
                requests[params["requestId"]] = params["request"]["url"]
                report.request_urls.append(params["request"]["url"])
            elif method == "Network.loadingFailed":
                if params.get("canceled"):
                    continue  # a fetch the page aborted on purpose (the view moved on)
                report.failed_requests.append(f"{requests.get(params['requestId'], '?')}: {params.get('errorText')}")
            elif method == "Network.responseReceived":
                status = params["response"]["status"]
                if status >= 400:
                    report.failed_requests.append(f"{params['response']['url']}: HTTP {status}")
            elif method == "Network.loadingFinished":
                report.transferred_bytes += int(params.get("encodedDataLength", 0))
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                report.console_errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in params["args"]))
            elif method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                report.console_errors.append(details.get("exception", {}).get("description") or details.get("text"))
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                report.console_errors.append(f"{params['entry'].get('url', '')}: {params['entry']['text']}")

    def screenshot(self, path: Path) -> None:
        data = self.send("Page.captureScreenshot", format="png")["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        try:
            if getattr(self, "ws", None):
                self.ws.close()
        finally:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
            shutil.rmtree(self.profile, ignore_errors=True)


# What the page's corners hold: none may cover another, nor run off the screen, on a laptop's screen.
MAP_CONTROL_CLASHES = """(function () {
  var boxes = ['.leaflet-control-layers', '.hm-filters', '.hm-legend', '.leaflet-control-minimap',
               '.leaflet-control-zoom', '#hm-title'].map(function (s) {
    var r = document.querySelector(s).getBoundingClientRect();
    return {name: s, left: r.left, top: r.top, right: r.right, bottom: r.bottom};
  });
  var clashes = [];
  boxes.forEach(function (a, i) { boxes.slice(i + 1).forEach(function (b) {
    if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) clashes.push(a.name + ' / ' + b.name);
  }); });
  boxes.forEach(function (a) { if (a.bottom > innerHeight || a.top < 0) clashes.push(a.name + ' off the screen'); });
  return clashes;
})()"""
