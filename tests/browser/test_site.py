"""The built site in a real browser (headless Chromium through Playwright), with the network off.

Every HTML page of the build is opened from disk; a page fails when it does not load, asks for
anything outside the build (a CDN), logs a console error, shows an image of zero natural width,
leaves math untypeset (raw \\( or $$ in the text, or no MathJax container on a page with math), or
links to a page or anchor that does not exist. A screenshot of every page goes to
_build/browser/. Run by `make browser-test` (part of `make test`) with --site _build/test/html.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

SKIP_DIRS = {"_static", "_sources", "_images", "_sphinx_design_static"}
READER_PAGES = {"97_findings", "99_scorecard"}  # the summary pages (issue 29): short, no table wider than the page
MAX_HEIGHT = 15_000  # px at a 1280 px wide window


def _chromium() -> str:
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    pytest.fail("no Chromium found: apt-get install -y chromium (or set $CHROMIUM)")


def _pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if not SKIP_DIRS & set(p.relative_to(site).parts))


def _ids(html_file: Path, cache: dict) -> set[str]:
    if html_file not in cache:
        cache[html_file] = set(re.findall(r'\bid="([^"]+)"', html_file.read_text(errors="replace")))
    return cache[html_file]


def _dead_links(page: Path, hrefs: list[str], cache: dict) -> list[str]:
    dead = []
    for href in hrefs:
        u = urlparse(href)
        if u.scheme in ("http", "https", "mailto", "javascript", "data") or href.startswith("#") and not href[1:]:
            continue
        target = page if not u.path else (page.parent / unquote(u.path)).resolve()
        if target.is_dir():
            target = target / "index.html"
        if not target.exists():
            dead.append(href)
        elif u.fragment and target.suffix == ".html" and unquote(u.fragment) not in _ids(target, cache):
            dead.append(href)
    return dead


CHECK_JS = """() => {
  const imgs = [...document.querySelectorAll('img')];
  const text = document.querySelector('main, article, body').innerText;
  return {
    images: imgs.length,
    broken_images: imgs.filter(i => !i.complete || i.naturalWidth === 0).map(i => i.getAttribute('src')),
    math_nodes: document.querySelectorAll('.math, div.math, span.math').length,
    mathjax: document.querySelectorAll('mjx-container').length,
    raw_math: (text.match(/\\\\\\(|\\\\\\[|\\$\\$/g) || []).length,
    hrefs: [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href')),
    tables: document.querySelectorAll('table').length,
    height: document.documentElement.scrollHeight,
    wide_tables: [...document.querySelectorAll('table')]
      .filter(t => t.scrollWidth > t.parentElement.clientWidth + 1).length,
  };
}"""


def test_every_page_loads_offline_with_images_math_and_links(site_dir):
    from playwright.sync_api import sync_playwright

    site = Path(site_dir).resolve()
    pages = _pages(site)
    assert pages, f"no HTML pages under {site}"
    shots = site.parents[1] / "browser" if site.parent.name == "test" else site.parent / "browser"
    shots.mkdir(parents=True, exist_ok=True)
    problems, summary, cache = {}, [], {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        outside = []
        context.route(re.compile(r"^(?!file:).*"), lambda route: (outside.append(route.request.url), route.abort()))
        for path in pages:
            name = str(path.relative_to(site))
            redirect = re.search(r'http-equiv="refresh" content="\d+;\s*url=([^"]+)"', path.read_text(), re.I)
            if redirect:  # e.g. index.html → the root page: check its target, do not render
                dead = _dead_links(path, [redirect.group(1)], cache)
                summary.append(f"{name:45s} redirect to {redirect.group(1)}  {'FAIL' if dead else 'OK'}")
                if dead:
                    problems[name] = [f"redirect to a missing page: {redirect.group(1)}"]
                continue
            errors, outside[:] = [], []
            page = context.new_page()
            page.on("console", lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
            page.goto(path.as_uri(), wait_until="load")
            page.evaluate("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
            info = page.evaluate(CHECK_JS)
            page.screenshot(path=str(shots / (name.replace("/", "__") + ".png")), full_page=True)
            page.close()
            bad = [f"console: {e}" for e in errors] + [f"outside the build: {u}" for u in outside]
            bad += [f"image with zero width: {s}" for s in info["broken_images"]]
            if info["raw_math"]:
                bad.append(f"{info['raw_math']} untypeset math delimiters in the text")
            if info["math_nodes"] and not info["mathjax"]:
                bad.append(f"{info['math_nodes']} math nodes but no MathJax container")
            bad += [f"dead link: {h}" for h in _dead_links(path, info["hrefs"], cache)]
            if path.stem in READER_PAGES:  # pages a reader takes in at a glance: short, tables within the width
                if info["height"] > MAX_HEIGHT:
                    bad.append(f"{info['height']} px tall at 1280 px width (at most {MAX_HEIGHT})")
                if info["wide_tables"]:
                    bad.append(f"{info['wide_tables']} tables wider than the page")
            summary.append(
                f"{name:45s} images {info['images']:3d}  math {info['mathjax']:4d}  tables {info['tables']:3d}  "
                f"links {len(info['hrefs']):4d}  {'OK' if not bad else 'FAIL'}"
            )
            if bad:
                problems[name] = bad
        browser.close()
    print("\n" + "\n".join(summary))
    built = {p.stem for p in pages}
    assert READER_PAGES <= built, f"summary pages missing from the build: {READER_PAGES - built}"
    assert not problems, "\n".join(f"{k}:\n  " + "\n  ".join(v) for k, v in problems.items())
