"""Every link between the README and the docs pages leads somewhere: a file of the repository,
and, for a link to a section (``deployment.md#settings``), a heading of that page with the anchor
GitHub gives it. A page renamed or a heading reworded fails here, not on a reader."""

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from markdown_it import MarkdownIt

from tests.conftest import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MARKDOWN = MarkdownIt("commonmark").enable("table")


def _tokens(page: Path):
    for token in MARKDOWN.parse(page.read_text(encoding="utf-8")):
        yield token
        yield from token.children or ()


def anchors(page: Path) -> set[str]:
    """GitHub's anchors for a page's headings: lower case, punctuation dropped, spaces to
    hyphens, and ``-1``, ``-2`` … after a repeated one."""
    tokens = MARKDOWN.parse(page.read_text(encoding="utf-8"))
    seen: dict[str, int] = {}
    found = set()
    for i, token in enumerate(tokens):
        if token.type == "heading_open":
            inline = tokens[i + 1]
            text = "".join(c.content for c in inline.children or () if c.type in ("text", "code_inline"))
            slug = re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def links(page: Path) -> list[str]:
    return [t.attrGet("href") for t in _tokens(page) if t.type == "link_open" and t.attrGet("href")]


def test_the_pages_are_found_and_link_to_each_other():
    assert {"README.md", "deployment.md", "development.md", "extending.md", "benchmarks.md"} <= {
        page.name for page in PAGES
    }
    assert any(href.startswith("docs/") for href in links(ROOT / "README.md"))
    assert "rules" in anchors(ROOT / "docs" / "extending.md")


@pytest.mark.parametrize("page", PAGES, ids=[page.name for page in PAGES])
def test_every_link_of_a_page_leads_to_a_file_and_a_heading(page):
    broken = []
    for href in links(page):
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or parts.path.startswith("/"):
            continue  # a web address, or a path of the served site (the guide's /api/v1/docs)
        target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
        if not target.exists():
            broken.append(f"{href}: no such file")
        elif parts.fragment and target.suffix == ".md" and unquote(parts.fragment) not in anchors(target):
            broken.append(f"{href}: no such heading in {target.relative_to(ROOT)}")
    assert not broken, f"{page.relative_to(ROOT)}:\n" + "\n".join(broken)
