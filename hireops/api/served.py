"""The partners' API as it is served, every operation in it: the platform's own (the calling key,
the guide), then each app's ``api.py``, found as the admin finds ``admin.py``.

Only what serves or reads the whole API imports this module: the URLconf (config/urls.py), the
command writing its document, and ``hireops.core.discovery`` on the first use of the scopes or
the routes (``require("api")``, provided by ``ApiConfig.ready()``). An operation's module imports
``hireops.api.site``, never this one, so the API's modules form no import cycle
(tests/test_import_graph.py).
"""

from django.utils.module_loading import autodiscover_modules

from . import guide, own  # noqa: F401  (the platform's operations register as they are imported)
from .site import api

autodiscover_modules("api")

__all__ = ["api"]
