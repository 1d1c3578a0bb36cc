"""Every admin of the site writes each list row's selection box without a template
(hireops.core.admin_site.QuickActionCheckbox), exactly as Django's own widget would."""

import pytest
from django.contrib import admin
from django.utils import translation


class Row:
    pk = 7

    def __str__(self):
        return "<b>王芳 \"Fang\" & 'co'</b>"


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_every_admins_selection_box_is_djangos_own(language):
    row = Row()
    with translation.override(language):
        djangos = admin.ModelAdmin.action_checkbox(None, row)
        for model, model_admin in admin.site._registry.items():
            assert model_admin.action_checkbox(row) == djangos, model
    assert "&lt;b&gt;" in djangos and 'value="7"' in djangos  # escaped, as Django escapes it
