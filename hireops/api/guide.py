"""The partners' guide, docs/api.md, served as a page at ``/api/v1/guide`` (no key, like the
document and its browser), so the document's description links to something a partner can
open. Rendered once a process, as CommonMark with tables (as the repository shows it); raw HTML
in the source is escaped, and headings get the ids GitHub gives them, so links to a section
(``#rate-limits``) work in both places."""

import re
from functools import cache
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from markdown_it import MarkdownIt
from markdown_it.token import Token
from ninja import Router

from .site import register

SOURCE = Path(settings.BASE_DIR) / "docs" / "api.md"
router = Router(tags=["Guide"])


@router.get("/guide", auth=None, include_in_schema=False)
def guide(request: HttpRequest) -> HttpResponse:
    title, body = rendered()
    return HttpResponse(render_to_string("api/guide.html", {"title": title, "body": mark_safe(body)}))  # noqa: S308  # markdown-it escapes the source's HTML


@cache
def rendered() -> tuple[str, str]:
    """(the first heading's text, the guide as HTML)."""
    markdown = MarkdownIt("commonmark", {"html": False}).enable("table")
    tokens = markdown.parse(SOURCE.read_text(encoding="utf-8"))
    title = ""
    seen: dict[str, int] = {}
    for i, token in enumerate(tokens):
        if token.type == "heading_open":
            text = _text(tokens[i + 1])
            title = title or text
            token.attrSet("id", _unique(_slug(text), seen))
    return title, markdown.renderer.render(tokens, markdown.options, {})


def _text(inline: Token) -> str:
    return "".join(child.content for child in inline.children or () if child.type in ("text", "code_inline"))


def _slug(text: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")


def _unique(slug: str, seen: dict[str, int]) -> str:
    count = seen.get(slug, 0)
    seen[slug] = count + 1
    return slug if count == 0 else f"{slug}-{count}"


register(router)
