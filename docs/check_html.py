"""Check the rendered documentation site (run after ``sphinx-build``; ``make docs`` does).

``python docs/check_html.py [BUILD_DIR]`` (default ``docs/_build/html``) parses the built
HTML with the standard library and fails (exit status 1, one line per problem) unless

* the index page links to the user guide, the gallery and the API reference, and every
  page in the site's navigation exists;
* every public name (each public package's ``__all__``, read from the code as the build
  reads it: :mod:`apipages`) has a page under ``generated/`` that carries the name's
  anchor, a rendered signature and some text, and its package page links to it;
* every class page documents a method, a parameter or an attribute, and every gallery page
  shows at least one figure and no traceback;
* every internal link of every page resolves to a file of the site.
"""

from __future__ import annotations

import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from apipages import public_names, public_packages  # noqa: E402


class Page(HTMLParser):
    """Links, ids, images, signature blocks and the visible text of one HTML page."""

    def __init__(self, path: Path):
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.images: list[str] = []
        self.signatures = 0
        self.member_signatures = 0
        self._skip = 0
        self._text: list[str] = []
        self.feed(path.read_text(encoding="utf-8"))
        self.text = " ".join(" ".join(self._text).split())

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag == "img" and a.get("src"):
            self.images.append(a["src"])
        if tag == "dt" and "sig" in (a.get("class") or "").split():
            self.signatures += 1
            if (a.get("id") or "").count(".") >= 3:  # semiparam.pkg.Class.member
                self.member_signatures += 1
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self._text.append(data)


def internal_targets(page: Path, links: list[str], root: Path):
    """Files that the page's relative links point to."""
    for href in links:
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or href.startswith(("mailto:", "#", "javascript:")):
            continue
        if not parts.path:
            continue
        target = (page.parent / unquote(parts.path)).resolve()
        yield href, target


def check(build: Path) -> list[str]:
    problems: list[str] = []
    index = build / "index.html"
    if not index.is_file():
        return [f"{index} does not exist: build the site first (make docs)."]
    home = Page(index)
    for needed in ("user_guide.html", "auto_examples/index.html", "api/index.html"):
        if not any(urlsplit(h).path == needed for h in home.links):
            problems.append(f"index.html does not link to {needed}")

    for pkg in public_packages():
        pkg_page = build / "api" / f"{pkg}.html"
        if not pkg_page.is_file():
            problems.append(f"no API page for the package {pkg} ({pkg_page.name})")
            continue
        listing = {urlsplit(h).path for h in Page(pkg_page).links}
        for name in public_names(pkg):
            full = f"{pkg}.{name}"
            path = build / "generated" / f"{full}.html"
            if not path.is_file():
                problems.append(f"{full}: no API page")
                continue
            if f"../generated/{full}.html" not in listing:
                problems.append(f"{full}: not linked from api/{pkg}.html")
            page = Page(path)
            if full not in page.ids:
                problems.append(f"{full}: its page has no anchor {full!r} (autodoc failed?)")
            if page.signatures == 0:
                problems.append(f"{full}: its page renders no signature")
            if len(page.text) < 200:
                problems.append(f"{full}: its page is nearly empty ({len(page.text)} chars)")

    for page_path in sorted((build / "generated").glob("semiparam.*.html")):
        text = page_path.read_text(encoding="utf-8")
        if '<dl class="py class">' in text and Page(page_path).member_signatures == 0:
            documented = any(f">{s}<" in text for s in ("Attributes", "Parameters"))
            if not documented and not page_path.stem.endswith(("Warning", "Error")):
                problems.append(f"{page_path.name}: a class page with no member, parameter "
                                "or attribute documented")

    for example in sorted((build / "auto_examples").glob("plot_*.html")):
        page = Page(example)
        if not any("sphx_glr_" in src for src in page.images):
            problems.append(f"{example.name}: no figure rendered")
        if "Traceback (most recent call last)" in page.text:
            problems.append(f"{example.name}: shows a traceback")

    for page_path in sorted(build.rglob("*.html")):
        if "_static" in page_path.parts or "_sources" in page_path.parts:
            continue
        for href, target in internal_targets(page_path, Page(page_path).links, build):
            if not target.exists():
                rel = page_path.relative_to(build)
                problems.append(f"{rel}: broken link {href}")
    return problems


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    build = Path(argv[0]) if argv else HERE / "_build" / "html"
    problems = check(build)
    for p in problems:
        print(p)
    n_pages = len(list((build / "generated").glob("semiparam.*.html")))
    if problems:
        print(f"check_html: {len(problems)} problem(s)")
        return 1
    print(f"check_html: OK ({n_pages} API pages, every internal link resolves)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
