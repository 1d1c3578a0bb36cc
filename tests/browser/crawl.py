"""A walk through every admin page a signed-in user can reach by following links, as a person
clicking around would, with what is wrong on each page written down (never stopping at the
first): an error status, a console error, a violation of the Content-Security-Policy, one of
the three security headers missing, words in the wrong language and a table wider than its box
(in either language: English words are longer). Downloads and answers that are not HTML are
not checked.

Which pages: from /admin/, every same-origin link under /admin/ or /accounts/ (allauth's
second-factor pages the admin links to), found on the pages themselves, never a list made by
hand. Never a form sent, so nothing changes; no logout link followed. To stay bounded (and the
same at every run) the walk visits each distinct page once and, per kind of page (Django's URL
name), only a few variants: ``PATHS_PER_ROUTE`` objects' pages, ``QUERIES_PER_ROUTE`` filtered
versions of a list. Links are taken in the order the pages show them, breadth first.
"""

import os
import re
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

from django.urls import Resolver404, resolve

from .crawl_text import Data

SCOPE = ("/admin/", "/accounts/")
# Links not to follow: they sign out, redirect off the admin, or serve script or JSON.
NEVER = re.compile(r"/logout/|^/admin/r/|^/admin/jsi18n/|^/admin/autocomplete/")
# Parameters that change no page's content, only where it links back to (or whether it is a popup).
IGNORED_PARAMS = {"_changelist_filters", "_to_field", "_popup"}
PATHS_PER_ROUTE = 1  # one object's change page, history, delete confirmation, stage form…
# A list filtered (or paged) as the first link to it says, e.g. the dashboard's "failed".
QUERIES_PER_ROUTE = 1
# A list sorted another way, or with counts beside its filters, shows the same cells: such
# links are not followed.
SAME_CELLS = re.compile(r"^(o=[\w.-]*|_facets=True)$")
MAX_PAGES = 400  # a runaway crawl fails instead of running for ever
SHOOT_EVERY_PAGE = os.environ.get("HIREOPS_CRAWL_SHOTS") == "every"

# What the page shows a reader, in the page's own language: text nodes that are visible
# (not in script, code or an element marked in another language, like the language switcher's
# "English"), the labels of buttons, placeholders, tooltips and the window title.
READ_TEXT = """() => {
  const lang = document.documentElement.lang;
  const out = [document.title];
  const shown = (el) => {
    const box = el.closest('select') || el;
    return box.checkVisibility({checkVisibilityCSS: true, checkOpacity: true});
  };
  const ours = (el) => !el.closest('script,style,noscript,template,code,pre,kbd,samp,textarea')
    && (el.closest('[lang]') || document.documentElement).lang === lang;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (el && node.textContent.trim() && ours(el) && shown(el)) out.push(node.textContent);
  }
  for (const el of document.querySelectorAll(
      'input[type=submit], input[type=button], input[type=reset], [placeholder], [title]')) {
    if (!ours(el) || !shown(el)) continue;
    if (el.matches('input[type=submit], input[type=button], input[type=reset]')) out.push(el.value);
    if (el.placeholder) out.push(el.placeholder);
    if (el.title) out.push(el.title);
  }
  return out;
}"""

# Tables wider than the box that holds them: the nearest ancestor that clips or scrolls
# (Django's ``div.results``, overflow-x: auto) shows a scroll bar and hides the last columns;
# without one, the table pushes past the content area. And the page itself wider than the window.
OVERFLOWS = """() => {
  const found = [];
  const page = document.documentElement.scrollWidth - window.innerWidth;
  if (page > 0) found.push(['the page is wider than the window', `${page} px more`]);
  const content = document.querySelector('#content') || document.body;
  for (const table of document.querySelectorAll('table')) {
    if (!table.checkVisibility()) continue;
    let box = table.parentElement;
    while (box && box !== content && getComputedStyle(box).overflowX === 'visible') box = box.parentElement;
    box = box || content;
    const wider = box === content
      ? Math.round(table.getBoundingClientRect().right - content.getBoundingClientRect().right)
      : box.scrollWidth - box.clientWidth;
    if (wider > 1) {
      const name = table.id ? `table#${table.id}` : `table.${[...table.classList].join('.') || '(unnamed)'}`;
      const holder = box.id ? `#${box.id}` : `${box.tagName.toLowerCase()}.${[...box.classList].join('.')}`;
      const size = `${wider} px more than ${box.clientWidth} px`;
      found.push([`${name} is wider than its container ${holder}`, size]);
    }
  }
  return found;
}"""

# A page's checks and its links in one call: each call to the page is a round trip that, on a
# busy 2-core machine, costs more than the checks themselves, and Playwright's own selector
# calls (eval_on_selector_all) first inject its selector engine into every new page, as costly
# again. Measured on the walk's pages: 525 ms a page with three calls, 315 ms with this one.
CHECK_PAGE = f"""() => [
  ({OVERFLOWS})(),
  ({READ_TEXT})(),
  Array.from(document.querySelectorAll('a[href]'), (a) => a.href),
]"""

# The browser's rules every HTML answer carries (docs/deployment.md, "Security headers").
SECURITY_HEADERS = ("content-security-policy", "referrer-policy", "permissions-policy")
# Before any script of each page (Playwright adds it outside the page's policy): each violation
# the browser reports, sent to the crawler.
WATCH_POLICY = """
document.addEventListener('securitypolicyviolation', (e) => window.cspViolation(
  `${e.disposition} ${e.effectiveDirective}: ${e.blockedURI || 'inline'}`
  + ` (${e.sourceFile || '?'}:${e.lineNumber})`));
"""


def missing_headers(headers: dict[str, str]) -> list[str]:
    """The security headers an HTML answer lacks (``headers`` named in lower case)."""
    return [name for name in SECURITY_HEADERS if not headers.get(name)]


@dataclass
class Finding:
    url: str
    kind: str  # "status", "headers", "policy", "console", "overflow", "english", "chinese"
    detail: str  # the problem, the same on every page that has it
    note: str = ""  # this page's particulars (how many pixels)


@dataclass
class Walk:
    """The pages visited, in order, and what was wrong on them."""

    visited: list[str] = field(default_factory=list)
    routes: dict[str, str] = field(default_factory=dict)  # url → Django's URL name
    findings: list[Finding] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # downloads, non-HTML answers

    def report(self) -> str:
        """Each problem once, with every page that has it: a to-do list."""
        pages: dict[tuple[str, str], list[str]] = {}
        for f in self.findings:
            pages.setdefault((f.kind, f.detail), []).append(f"{f.url}  ({f.note})" if f.note else f.url)
        lines = [
            f"{len(pages)} problems on {len({f.url for f in self.findings})} of {len(self.visited)} pages:"
        ]
        for (kind, detail), urls in sorted(pages.items()):
            lines.append(f"- [{kind}] {detail}  ({len(urls)} pages)")
            lines.extend(f"    {url}" for url in urls)
        return "\n".join(lines)


def normalised(href: str, origin: str) -> str | None:
    """The page ``href`` leads to, as the walk names it, or None when the walk never goes there."""
    parts = urlsplit(href)
    if f"{parts.scheme}://{parts.netloc}" != origin or not parts.path.startswith(SCOPE):
        return None
    if NEVER.search(parts.path):
        return None
    query = sorted(
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in IGNORED_PARAMS
    )
    return parts.path + (f"?{urlencode(query)}" if query else "")


def route_of(url: str) -> str:
    path = url.split("?")[0]
    try:
        return resolve(path).view_name or path
    except Resolver404:
        return path


def slug(url: str) -> str:
    return re.sub(r"[^\w.-]+", "-", url.strip("/")).strip("-")[:150] or "root"


class Crawler:
    """Walks from ``start`` in ``page`` (signed in already), checking each page against ``data``
    in ``language`` ("zh" or "en"), screenshots in ``shots``."""

    def __init__(self, page, origin: str, language: str, data: Data, shots: Path):
        self.page, self.origin, self.language, self.data, self.shots = page, origin, language, data, shots
        self.walk = Walk()
        self._console: list[str] = []
        self._violations: list[str] = []
        page.expose_function("cspViolation", lambda text: self._violations.append(text))
        page.add_init_script(WATCH_POLICY)
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self._console.append(f"uncaught: {error}"))
        self._paths: Counter = Counter()
        self._queries: Counter = Counter()
        self._seen: set[str] = set()

    def _on_console(self, message) -> None:
        if message.type == "error":
            where = (message.location or {}).get("url", "").replace(self.origin, "")
            self._console.append(f"{message.text} [{where}]" if where else message.text)

    def _admit(self, url: str) -> bool:
        """Whether the walk goes to ``url``: new, and within its route's allowance."""
        if url in self._seen:
            return False
        route = route_of(url)
        if "?" in url:
            if SAME_CELLS.match(url.split("?", 1)[1]) or self._queries[route] >= QUERIES_PER_ROUTE:
                return False
            self._queries[route] += 1
        else:
            if self._paths[route] >= PATHS_PER_ROUTE:
                return False
            self._paths[route] += 1
        self._seen.add(url)
        self.walk.routes[url] = route
        return True

    def run(self, start: str = "/admin/") -> Walk:
        queue = deque([start])
        self._admit(start)
        while queue:
            url = queue.popleft()
            assert len(self.walk.visited) < MAX_PAGES, (
                f"more than {MAX_PAGES} pages: {self.walk.visited[-20:]}"
            )
            for link in self._visit(url):
                target = normalised(link, self.origin)
                if target and self._admit(target):
                    queue.append(target)
        return self.walk

    def _visit(self, url: str) -> list[str]:
        """Open ``url``, write down what is wrong on it; the links it shows."""
        self._console.clear()
        self._violations.clear()
        try:
            response = self.page.goto(url)
        except Exception as exc:  # a download: Chromium aborts the navigation
            if "Download is starting" in str(exc):
                self.walk.skipped.append(url)
                return []
            raise
        self.walk.visited.append(url)

        def found(kind: str, detail: str, note: str = "") -> None:
            self.walk.findings.append(Finding(url, kind, detail, note))

        if response is None or response.status >= 400:
            found("status", f"answers {response.status if response else 'nothing'}")
        if "text/html" not in (response.headers.get("content-type", "") if response else ""):
            self.walk.skipped.append(url)
            return []
        for header in missing_headers(response.headers):
            found("headers", f"no {header}")
        # goto waited for the load event; everything the page is checked for comes back at once
        overflows, texts, links = self.page.evaluate(CHECK_PAGE)
        for problem, size in overflows:  # in both languages
            found("overflow", problem, size)
        text = "\n".join(texts)
        (self.shots / f"{slug(url)}.txt").write_text(text)  # what the check read, beside the screenshot
        if self.language == "zh":
            for words in dict.fromkeys(self.data.english_words(text)):
                found("english", repr(words))
        else:
            for words in dict.fromkeys(self.data.chinese(text)):
                found("chinese", repr(words))
        for message in dict.fromkeys(self._console):
            found("console", message)
        for violation in dict.fromkeys(self._violations):
            found("policy", violation)
        # A full-page screenshot costs 0.2 s, as much as loading the page: taken where the walk
        # found something, or of every page when asked (HIREOPS_CRAWL_SHOTS=every).
        if SHOOT_EVERY_PAGE or any(f.url == url for f in self.walk.findings):
            self.page.screenshot(path=self.shots / f"{slug(url)}.png", full_page=True)
        return links
