"""Form labels that start with a capital, as Django's own do.

Django capitalises a model field's verbose name when it makes a model form's field from it
("Stage"); a plain form's label is shown as written, and ours reuse the models' lower-case
verbose names (one msgid, one translation), so they read "stage:". The project's form renderer
(``FORM_RENDERER``) gives every form a bound field that capitalises its label: no form can
forget it.
"""

from django.forms.boundfield import BoundField
from django.forms.renderers import DjangoTemplates
from django.utils.text import capfirst


class CapitalisedBoundField(BoundField):
    def __init__(self, form, field, name):
        super().__init__(form, field, name)
        self.label = capfirst(self.label)


class Renderer(DjangoTemplates):
    """Django's default renderer, with ``CapitalisedBoundField``."""

    bound_field_class = CapitalisedBoundField
