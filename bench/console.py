"""The console's initial load: gzipped JS and CSS before anything lazy, from the build and in the browser.

Budget (issue 14): at most 300 KB of gzipped JS and CSS on first load; ECharts
and the content editor load lazily.  From the build: the entry chunk, its CSS
and everything it imports statically.  In Chromium: what the login page
actually fetches (requests and bytes), served from ``console/dist`` under
``/console/`` as the CDN serves it.  Prints ratios against the budget and
against the whole build (the lazy share).  Run ``make console`` first.

    .venv/bin/python -m bench.console
"""

from __future__ import annotations

import gzip
import re
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

DIST = Path(__file__).resolve().parent.parent / "console" / "dist"
BUDGET = 300 * 1024
STATIC_IMPORT = re.compile(r'(?:import|from)\s*"\./([^"]+\.js)"')
ASSET = re.compile(r'(?:src|href)="/console/(assets/[^"]+\.(?:js|css))"')


def gz(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=9))


def initial_from_build(dist: Path = DIST) -> set[str]:
    """Assets the entry page loads before any route's lazy chunk: index.html's, and their static imports."""
    todo = ASSET.findall((dist / "index.html").read_text())
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        if name.endswith(".js"):
            text = (dist / name).read_text(errors="replace")
            todo += [f"assets/{m}" for m in STATIC_IMPORT.findall(text)]
    return seen


def in_browser(dist: Path = DIST) -> tuple[int, int, list[str]]:
    """(requests, gzipped bytes, names) of JS and CSS the login page fetches in Chromium."""
    from playwright.sync_api import sync_playwright

    from devstack.browser import launch

    root = dist.parent
    handler = partial(_Quiet, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    fetched: list[str] = []
    try:
        with sync_playwright() as pw:
            browser = launch(pw)
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            page.on("response", lambda r: fetched.append(r.url))
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/console/")
            page.wait_for_selector("input[name=username]", timeout=30000)
            page.wait_for_timeout(500)
            browser.close()
    finally:
        server.shutdown()
    names = sorted({u.split("/console/", 1)[1] for u in fetched if re.search(r"/console/assets/.+\.(js|css)$", u)})
    return len(names), sum(gz(dist / n) for n in names), names


class _Quiet(SimpleHTTPRequestHandler):
    def translate_path(self, path: str) -> str:  # /console/… → console/dist/…
        path = path.split("?", 1)[0]
        if path.startswith("/console/"):
            path = "/dist/" + path[len("/console/") :]
        return super().translate_path(path)

    def log_message(self, *args) -> None:
        pass


def main() -> None:
    if not (DIST / "index.html").is_file():
        raise SystemExit("build the console first: make console")
    every = sorted(p.relative_to(DIST).as_posix() for p in DIST.rglob("*") if p.suffix in (".js", ".css"))
    total = sum(gz(DIST / n) for n in every)
    initial = initial_from_build()
    initial_bytes = sum(gz(DIST / n) for n in initial)
    lazy = [n for n in every if n not in initial]
    print(f"build: {len(every)} JS/CSS files, {total / 1024:.1f} KB gzipped in all")
    print(
        f"initial load (from the build): {len(initial)} files, {initial_bytes / 1024:.1f} KB gzipped "
        f"= {initial_bytes / BUDGET:.2f} × the 300 KB budget, {initial_bytes / total:.2f} × the whole build"
    )
    for name in ("echarts", "ContentEditor"):
        chunk = [n for n in lazy if Path(n).name.startswith(name)]
        print(f"  {name}: lazy ({', '.join(chunk) or 'not found'})")
    requests, browser_bytes, names = in_browser()
    print(
        f"initial load (Chromium, login page): {requests} JS/CSS requests, {browser_bytes / 1024:.1f} KB gzipped "
        f"= {browser_bytes / BUDGET:.2f} × budget; lazy chunks fetched: "
        f"{[n for n in names if n not in initial] or 'none'}"
    )


if __name__ == "__main__":
    main()
