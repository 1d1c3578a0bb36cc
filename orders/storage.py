"""Where report files live: ``STORAGES["reports"]`` (orders.reports says how they are served)."""

from django.core.files.storage import storages
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.functional import LazyObject, empty


class _ReportStorage(LazyObject):
    """``storages["reports"]``, looked up on first use (and again after a settings change
    in tests), not when the models load."""

    _wrapped: object  # the storage, or ``empty`` until it is looked up

    def _setup(self):
        self._wrapped = storages["reports"]


_storage = _ReportStorage()


def report_storage():
    return _storage


@receiver(setting_changed)
def _reset_storage(setting, **kwargs):
    if setting == "STORAGES":
        _storage._wrapped = empty
