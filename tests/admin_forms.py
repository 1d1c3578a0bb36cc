"""Submitting an admin page's form as the browser would, for tests with Django's test client."""

import re


def save_as_shown(client, url: str):
    """POST the change form at ``url`` back with its hidden inputs (inline management forms
    included) and Save, as pressing the button would."""
    page = client.get(url).content.decode()
    data = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    return client.post(url, {**data, "_save": "Save"})
