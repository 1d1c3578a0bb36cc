"""The partners' guide (docs/api.md) served as a page at /api/v1/guide: no key, the security
headers every page has, every section of the source, and links that work where it is served."""

import re
from html.parser import HTMLParser

import pytest

from hireops.api import guide

GUIDE = "/api/v1/guide"
SECURITY_HEADERS = (
    "X-Frame-Options",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Cross-Origin-Opener-Policy",
)


class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.headings: list[str] = []
        self._heading = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if re.fullmatch(r"h[1-6]", tag):
            self._heading = True
            self.headings.append("")

    def handle_endtag(self, tag):
        if re.fullmatch(r"h[1-6]", tag):
            self._heading = False

    def handle_data(self, data):
        if self._heading:
            self.headings[-1] += data


def read(client) -> Page:
    answer = client.get(GUIDE)
    assert answer.status_code == 200, answer.content[:300]
    assert answer["Content-Type"] == "text/html; charset=utf-8"
    page = Page()
    page.feed(answer.content.decode())
    return page


def test_the_guide_needs_no_key_and_has_every_section_of_docs_api_md(client):
    page = read(client)
    expected, fenced = [], False
    for line in guide.SOURCE.read_text().splitlines():
        fenced ^= line.startswith("```")
        if not fenced and re.match(r"#{1,6} ", line):
            expected.append(line.lstrip("#").strip().replace("`", ""))
    assert page.headings == expected and len(expected) > 10
    # A key changes nothing (not counted against its rate limit either: the page is public).
    with_key = client.get(GUIDE, HTTP_AUTHORIZATION="Bearer hko_not-a-key")
    assert with_key.status_code == 200 and "RateLimit" not in with_key


def test_the_guide_has_the_security_headers_of_every_page(client, admin_client):
    answer = client.get(GUIDE)
    for other in (client.get("/api/v1/docs"), admin_client.get("/admin/")):
        for name in SECURITY_HEADERS:
            assert answer.get(name) == other.get(name) and answer.get(name), name


def test_every_link_in_the_guide_works_where_it_is_served(client):
    """Links to a section reach a heading's id; links on this host answer 200 without a key
    (the document, its browser); links elsewhere are absolute http(s) URLs."""
    page = read(client)
    assert {"openapi.json", "/api/v1/docs", "#scopes", "https://www.standardwebhooks.com/"} <= set(page.links)
    for link in page.links:
        if link.startswith("#"):
            assert link[1:] in page.ids, link
        elif re.match(r"https?://", link):
            continue
        else:
            target = link if link.startswith("/") else GUIDE.rsplit("/", 1)[0] + "/" + link
            assert client.get(target).status_code == 200, link


def test_html_in_the_source_is_shown_as_text_never_run(client, tmp_path, monkeypatch):
    source = tmp_path / "api.md"
    source.write_text(
        "# Guide\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1))\n\n<img src=x onerror=alert(1)>\n"
    )
    monkeypatch.setattr(guide, "SOURCE", source)
    guide.rendered.cache_clear()
    try:
        html = client.get(GUIDE).content.decode()
    finally:
        guide.rendered.cache_clear()
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img" not in html and 'href="javascript:' not in html


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("Writes are safe to retry: `Idempotency-Key`", "writes-are-safe-to-retry-idempotency-key"),
        (
            "Webhooks: hireops tells your system what happened",
            "webhooks-hireops-tells-your-system-what-happened",
        ),
        ("Errors: problem details (RFC 9457)", "errors-problem-details-rfc-9457"),
    ],
)
def test_sections_have_the_anchors_github_gives_them(client, heading, anchor):
    """README.md links to docs/api.md#webhooks-…: the same link works on the served page."""
    assert heading in guide.SOURCE.read_text()
    assert anchor in read(client).ids
