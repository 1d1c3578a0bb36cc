"""Submitting an admin page's form as the browser would, for tests with Django's test client."""

import re
from collections import defaultdict
from html.parser import HTMLParser

from django.apps import apps


def save_as_shown(client, url: str):
    """POST the change form at ``url`` back with its hidden inputs (inline management forms
    included) and Save, as pressing the button would."""
    page = client.get(url).content.decode()
    data = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    return client.post(url, {**data, "_save": "Save"})


class _Forms(HTMLParser):
    """The POST forms of a page: each a list of (tag, attributes), a select with its options."""

    def __init__(self):
        super().__init__()
        self.forms: list[list] = []
        self._form = self._select = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._form = [] if (attrs.get("method") or "").lower() == "post" else None
            if self._form is not None:
                self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag in ("input", "textarea", "button"):
            self._form.append((tag, attrs))
        elif tag == "select":
            self._select = {**attrs, "options": []}
            self._form.append((tag, self._select))
        elif tag == "option" and self._select is not None:
            self._select["options"].append(attrs.get("value", ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def _autocomplete_choice(attrs) -> str:
    """An admin autocomplete (its options come from a search): the first row it would find."""
    model = apps.get_model(attrs["data-app-label"], attrs["data-model-name"])
    related = model._meta.get_field(attrs["data-field-name"]).related_model
    first = related._default_manager.order_by("pk").first()
    return str(first.pk) if first else ""


def filled_in(form: list) -> dict[str, list[str]]:
    """What a person confirming the page would send: hidden values kept, every box ticked, the
    first choice of each list, some text in each empty field, the first named submit button."""
    data, submitted = defaultdict(list), False
    for tag, attrs in form:
        name, kind = attrs.get("name"), (attrs.get("type") or "text").lower()
        if not name or kind == "file":
            continue
        if tag == "button" or kind in ("submit", "image", "button"):
            if not submitted:
                data[name].append(attrs.get("value", ""))
                submitted = True
        elif tag == "select":
            options = [o for o in attrs["options"] if o]
            choice = (
                options[0] if options else (_autocomplete_choice(attrs) if "data-model-name" in attrs else "")
            )
            data[name].append(choice)
        elif kind == "checkbox":
            data[name].append(attrs.get("value", "on"))
        elif kind == "radio":
            if name not in data or "checked" in attrs:
                data[name] = [attrs.get("value", "")]
        elif tag == "textarea":
            data[name].append("Checked by a test.")
        else:
            data[name].append(attrs.get("value") or ("1" if kind == "number" else "Checked by a test."))
    return dict(data)


def confirm_action_page(client, url: str, response, rounds: int = 3):
    """Go through the page an admin action answered with (a confirmation, a form to fill), as a
    person would, until the action is done (a redirect or a file)."""
    for _ in range(rounds):
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            return response
        parser = _Forms()
        parser.feed(response.content.decode())
        # The action's own page carries it as a hidden input (a list offers it in a <select>).
        forms = [f for f in parser.forms if any(t == "input" and a.get("name") == "action" for t, a in f)]
        if not forms:
            return response
        response = client.post(url, filled_in(forms[0]))
    return response
