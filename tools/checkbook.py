"""The rendered book as a reader's browser sees it: every page of ``_build/html`` loaded in headless
Chromium, failing on console errors, images that did not load or are not visible, and internal
links whose file or anchor does not exist.

Requests to the web are blocked, so the check runs offline and means the same everywhere; the web
resources a page asks for (a CDN script, say) are listed with it, not counted as errors.

Chromium is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``: messages are
JSON terminated by a NUL byte on file descriptors 3 and 4), so the check needs nothing beyond the
standard library and a Chromium binary. Pages are opened as ``file://`` URLs, the way
``_build/html/index.html`` is opened after ``make book``.

    python -m tools.checkbook [_build/html] [--chromium PATH]
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "chrome")
PAGE_TIMEOUT_S = 30.0
# After the load event, a page's deferred work (theme scripts, search index) may still log errors.
SETTLE_S = 0.5
# Files Sphinx writes beside the pages that are not pages of the book.
SKIPPED_FOLDERS = ("_static", "_sources", "_images", "_downloads")

# Runs in the page: every image and where it stands, every link as the browser resolved it.
INSPECT_PAGE = """
(() => {
  const images = [...document.images].map(img => {
    const box = img.getBoundingClientRect();
    const style = getComputedStyle(img);
    return {src: img.currentSrc || img.src, complete: img.complete, naturalWidth: img.naturalWidth,
            width: box.width, height: box.height,
            hidden: style.visibility === 'hidden' || style.display === 'none' || img.closest('[hidden]') !== null,
            inContent: img.closest('article, main') !== null};
  });
  const links = [...document.querySelectorAll('a[href]')].map(a => a.href);
  return JSON.stringify({images, links});
})()
"""


class BrowserError(RuntimeError):
    """Chromium could not be started or stopped answering."""


def find_chromium(explicit: str | None = None) -> str:
    for name in [explicit] if explicit else CHROMIUM_CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    raise BrowserError(f"no Chromium found (tried {explicit or ', '.join(CHROMIUM_CANDIDATES)})")


def _above_4(fd: int) -> int:
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 5)
    os.close(fd)
    return moved


class Chromium:
    """A headless Chromium spoken to over the DevTools pipe; use as a context manager."""

    def __init__(self, executable: str | None = None):
        self.executable = find_chromium(executable)
        self._next_id = 0
        self._buffer = b""
        self.events: list[dict] = []

    def __enter__(self) -> "Chromium":
        self._profile = tempfile.TemporaryDirectory(prefix="cltbook-chromium-")
        to_browser_read, self._to_browser = os.pipe()
        self._from_browser, from_browser_write = os.pipe()
        # Above 4, so that placing them on 3 and 4 in the child never lands a descriptor on itself
        # (which would keep its close-on-exec flag).
        to_browser_read, from_browser_write = (_above_4(fd) for fd in (to_browser_read, from_browser_write))

        def on_fds_3_and_4():  # the protocol's fixed descriptors, in the child only
            os.dup2(to_browser_read, 3)
            os.dup2(from_browser_write, 4)

        self._process = subprocess.Popen(
            [
                self.executable,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--mute-audio",
                "--remote-debugging-pipe",
                f"--user-data-dir={self._profile.name}",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=on_fds_3_and_4,
            close_fds=False,
        )
        os.close(to_browser_read)
        os.close(from_browser_write)
        self.send("Target.setDiscoverTargets", {"discover": False})  # the first answer: it is up
        return self

    def __exit__(self, *exc) -> None:
        try:
            self._write({"id": self._new_id(), "method": "Browser.close"})
        except OSError:
            pass
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)
        self._profile.cleanup()

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _write(self, message: dict) -> None:
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")

    def _read(self, deadline: float) -> dict | None:
        """The next message, or None when the deadline passes first."""
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([self._from_browser], [], [], left)
            if not ready:
                return None
            chunk = os.read(self._from_browser, 1 << 16)
            if not chunk:
                raise BrowserError(f"Chromium exited (code {self._process.poll()})")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def send(
        self, method: str, params: dict | None = None, session: str | None = None, timeout: float = PAGE_TIMEOUT_S
    ) -> dict:
        """Send one command and return its result; events that arrive meanwhile are kept."""
        message_id = self._new_id()
        message = {"id": message_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self._write(message)
        deadline = time.monotonic() + timeout
        while True:
            answer = self._read(deadline)
            if answer is None:
                raise BrowserError(f"no answer to {method} within {timeout} s")
            if answer.get("id") == message_id:
                if "error" in answer:
                    raise BrowserError(f"{method}: {answer['error'].get('message')}")
                return answer.get("result", {})
            if "method" in answer:
                self.events.append(answer)

    def wait_for(self, method: str, session: str, timeout: float) -> bool:
        """Collect events until ``method`` arrives for ``session`` (True) or the timeout (False)."""
        deadline = time.monotonic() + timeout
        if any(e["method"] == method and e.get("sessionId") == session for e in self.events):
            return True
        while True:
            event = self._read(deadline)
            if event is None:
                return False
            if "method" in event:
                self.events.append(event)
                if event["method"] == method and event.get("sessionId") == session:
                    return True

    def collect(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while (event := self._read(deadline)) is not None:
            if "method" in event:
                self.events.append(event)


WEB_URLS = ["http://*", "https://*"]
BLOCKED = "net::ERR_BLOCKED_BY_CLIENT"


@dataclass
class PageReport:
    page: str
    console_errors: list[str] = field(default_factory=list)
    web_resources: list[str] = field(default_factory=list)
    broken_images: list[str] = field(default_factory=list)
    broken_links: list[str] = field(default_factory=list)
    images: int = 0
    links: int = 0

    @property
    def problems(self) -> list[str]:
        return (
            [f"console: {m}" for m in self.console_errors]
            + [f"web request (the book must load offline): {url}" for url in self.web_resources]
            + [f"image: {m}" for m in self.broken_images]
            + [f"link: {m}" for m in self.broken_links]
        )


def _console_errors(events: list[dict], session: str) -> tuple[list[str], list[str]]:
    """Errors the page reported (uncaught exceptions, console.error, the browser's own error log
    with failed resource loads among them, failed requests), and the web resources it asked for."""
    errors, web = [], []
    requested = {}
    for event in events:
        if event.get("sessionId") != session:
            continue
        method, params = event["method"], event.get("params", {})
        if method == "Network.requestWillBeSent":
            requested[params["requestId"]] = params["request"]["url"]
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            description = details.get("exception", {}).get("description") or details.get("text", "")
            errors.append(f"uncaught {description} ({details.get('url', '')}:{details.get('lineNumber', '')})")
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            errors.append(
                "console.error: "
                + " ".join(str(arg.get("value", arg.get("description", ""))) for arg in params.get("args", []))
            )
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            entry = params["entry"]
            if BLOCKED not in entry.get("text", ""):  # a blocked web request: listed from the network
                errors.append(f"{entry.get('text', '')} {entry.get('url', '')}".strip())
        elif method == "Network.loadingFailed" and params.get("blockedReason"):
            web.append(requested.get(params["requestId"], "?"))
        elif method == "Network.loadingFailed" and not params.get("canceled"):
            errors.append(f"request failed: {params.get('errorText', '')} ({params.get('type', '')})")
    return errors, sorted(set(web))


class _Anchors(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value and (name == "id" or (name == "name" and tag == "a")):
                self.ids.add(value)


class LinkChecker:
    """Whether a ``file://`` link inside the built book names a file that exists and, when it has a
    fragment, an element with that id."""

    def __init__(self, root: Path):
        self.root = root.resolve()
        self._anchors: dict[Path, set[str]] = {}

    def anchors(self, page: Path) -> set[str]:
        if page not in self._anchors:
            parser = _Anchors()
            parser.feed(page.read_text(encoding="utf-8", errors="replace"))
            self._anchors[page] = parser.ids
        return self._anchors[page]

    def problem(self, href: str) -> str | None:
        """Why ``href`` is broken, or None; links outside the book (web, mail, data) are not checked."""
        url = urlparse(href)
        if url.scheme != "file":
            return None
        target = Path(unquote(url.path))
        if target.is_dir():
            target = target / "index.html"
        if not target.resolve().is_relative_to(self.root):
            return f"{href} leaves the book's folder"
        if not target.is_file():
            return f"{href}: no such file"
        fragment = unquote(url.fragment)
        if fragment and target.suffix == ".html" and fragment not in self.anchors(target):
            return f"{href}: no element with id {fragment!r}"
        return None


def pages(root: Path) -> list[Path]:
    return sorted(
        p for p in root.rglob("*.html") if not any(part in SKIPPED_FOLDERS for part in p.relative_to(root).parts)
    )


def check_page(browser: Chromium, page: Path, links: LinkChecker) -> PageReport:
    report = PageReport(str(page.relative_to(links.root)))
    target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    try:
        for domain in ("Runtime", "Log", "Network", "Page"):
            browser.send(f"{domain}.enable", session=session)
        browser.send("Network.setBlockedURLs", {"urls": WEB_URLS}, session=session)
        browser.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1400, "height": 1000, "deviceScaleFactor": 1, "mobile": False},
            session=session,
        )
        navigation = browser.send("Page.navigate", {"url": page.resolve().as_uri()}, session=session)
        if navigation.get("errorText"):
            report.console_errors.append(f"navigation failed: {navigation['errorText']}")
            return report
        if not browser.wait_for("Page.loadEventFired", session, PAGE_TIMEOUT_S):
            report.console_errors.append(f"the page did not finish loading within {PAGE_TIMEOUT_S} s")
            return report
        browser.collect(SETTLE_S)
        found = json.loads(
            browser.send("Runtime.evaluate", {"expression": INSPECT_PAGE, "returnByValue": True}, session=session)[
                "result"
            ]["value"]
        )
        errors, report.web_resources = _console_errors(browser.events, session)
        report.console_errors += errors
        report.images, report.links = len(found["images"]), len(found["links"])
        for image in found["images"]:
            report.broken_images += _image_problems(image)
        for href in sorted(set(found["links"])):
            problem = links.problem(href)
            if problem:
                report.broken_links.append(problem)
        return report
    finally:
        browser.send("Target.closeTarget", {"targetId": target})
        browser.events = [e for e in browser.events if e.get("sessionId") != session]


def _image_problems(image: dict) -> list[str]:
    src = image["src"]
    shown = src if not src.startswith("data:") else src[:40] + "..."
    problems = []
    if not image["complete"] or image["naturalWidth"] == 0:
        problems.append(f"{shown} did not load")
    url = urlparse(src)
    if url.scheme == "file":
        path = Path(unquote(url.path))
        if not path.is_file() or path.stat().st_size == 0:
            problems.append(f"{shown}: missing or empty file")
    if image["inContent"] and (image["hidden"] or image["width"] < 1 or image["height"] < 1):
        problems.append(f"{shown} is not visible ({image['width']:.0f}x{image['height']:.0f} px)")
    return problems


def check_book(html_root: Path, chromium: str | None = None) -> list[PageReport]:
    """One report per page of the built book."""
    html_root = Path(html_root).resolve()
    found = pages(html_root)
    if not found:
        raise FileNotFoundError(f"no HTML pages under {html_root}: build the book first (`make book`)")
    links = LinkChecker(html_root)
    with Chromium(chromium) as browser:
        return [check_page(browser, page, links) for page in found]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.checkbook", description=__doc__.split("\n\n")[0])
    parser.add_argument("html_root", nargs="?", default="_build/html", type=Path)
    parser.add_argument(
        "--chromium", help="the browser binary (default: the first of %s on PATH)" % ", ".join(CHROMIUM_CANDIDATES)
    )
    args = parser.parse_args(argv)
    reports = check_book(args.html_root, args.chromium)
    failed = [r for r in reports if r.problems]
    for report in reports:
        status = "FAIL" if report.problems else "ok"
        print(f"{status:4} {report.page}  ({report.images} images, {report.links} links)")
        for problem in report.problems:
            print(f"       {problem}")
    print(
        f"{len(reports) - len(failed)} of {len(reports)} pages load without console errors, "
        "or requests that leave the machine, with every image loaded and visible and every internal link resolving"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
