"""The admin's list of apps and models (the index and every page's sidebar), written in Python.

Django's ``admin/app_list.html`` costs a template's machinery for every model a role sees: about
5 ms of every admin page for a superuser's 49 models (docs/benchmarks.md).
``templates/admin/app_list.html`` calls this tag instead; it writes the same elements, classes,
links and texts, escaped as Django escapes them (tests/test_admin_app_list.py compares it with
Django's template for every role, both languages, both places and pages inside and outside an
app), only with less whitespace. Plain string building: ``format_html`` and Django's lazy-aware
``escape`` cost half as much again as the template they replace."""

import html
from urllib.parse import quote

from django import template
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

register = template.Library()


def _esc(value) -> str:
    """``conditional_escape``: what is marked safe stays as it is, the rest is escaped."""
    return value.__html__() if hasattr(value, "__html__") else html.escape(str(value))


def _within(url, path: str) -> bool:
    """Django's ``{% if url in request.path|urlencode %}``: False for a model without a URL."""
    return bool(url) and url in path


# Django's own messages, translated by django.contrib.admin's catalogue as for its template: held
# here, not marked, so makemessages leaves them out of the project's catalogue.
_ADD, _VIEW, _CHANGE = "Add", "View", "Change"
_COLUMNS = ("Model name", "Add link", "Change or view list link")
_MODELS_IN = "Models in the %(name)s application"
_NOTHING = "You don’t have permission to view or edit anything."


class _Words:
    """The fixed texts of one list, translated once (escaped, as ``{% translate %}`` writes them)."""

    def __init__(self):
        self.add, self.view, self.change = (_esc(gettext(t)) for t in (_ADD, _VIEW, _CHANGE))
        self.head = "".join(f'<th scope="col">{_esc(gettext(t))}</th>' for t in _COLUMNS)
        self.models_in = gettext(_MODELS_IN)  # blocktranslate: the text itself is not escaped


def _model_row(label_prefix: str, model: dict, path: str, show_changelinks: bool, words: _Words) -> str:
    name = _esc(model["object_name"].lower())
    label = f"{label_prefix}-{name}"
    url = model.get("admin_url")
    current = _within(url, path)
    if url:
        marked = ' aria-current="page"' if current else ""
        shown = f'<a href="{_esc(url)}"{marked}>{_esc(model["name"])}</a>'
    else:
        shown = _esc(model["name"])
    cells = [f'<th scope="row" id="{label}">{shown}</th>']
    add_url = model.get("add_url")
    cells.append(
        f'<td><a href="{_esc(add_url)}" class="addlink" aria-describedby="{label}">{words.add}</a></td>'
        if add_url
        else "<td></td>"
    )
    if url and show_changelinks:
        kind, text = ("viewlink", words.view) if model.get("view_only") else ("changelink", words.change)
        cells.append(f'<td><a href="{_esc(url)}" class="{kind}" aria-describedby="{label}">{text}</a></td>')
    elif show_changelinks:
        cells.append("<td></td>")
    return f'<tr class="model-{name}{" current-model" if current else ""}">{"".join(cells)}</tr>'


def _app(app: dict, path: str, show_changelinks: bool, words: _Words) -> str:
    label = _esc(app["app_label"])
    title = words.models_in % {"name": _esc(app["name"])}
    rows = "\n".join(_model_row(label, m, path, show_changelinks, words) for m in app["models"])
    current = " current-app" if _within(app["app_url"], path) else ""
    link = f'<a href="{_esc(app["app_url"])}" class="section" title="{title}">{_esc(app["name"])}</a>'
    return (
        f'<div class="app-{label} module{current}">\n<table>\n<caption>{link}</caption>\n'
        f'<thead class="visually-hidden"><tr>{words.head}</tr></thead>\n{rows}\n</table>\n</div>'
    )


@register.simple_tag(takes_context=True)
def app_list(context) -> SafeString:
    apps = context.get("app_list")
    if not apps:
        return mark_safe(f"<p>{_esc(gettext(_NOTHING))}</p>")  # noqa: S308
    request = context.get("request")
    path = quote(request.path, safe="/") if request is not None else ""  # Django's urlencode filter
    show_changelinks, words = bool(context.get("show_changelinks")), _Words()
    return mark_safe("\n".join(_app(app, path, show_changelinks, words) for app in apps))  # noqa: S308  escaped
