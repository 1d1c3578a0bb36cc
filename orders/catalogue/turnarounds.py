"""Each package's and paper's turnaround, cached: the dashboard and the overdue lists read them
on every view (``orders.selectors``); every change of the catalogue forgets them
(``services.catalogue_changed``)."""

from django.core.cache import cache

from .models import ExamPaper, Package

TURNAROUNDS = "orders:turnarounds"


def turnarounds() -> dict[str, dict[str, int]]:
    found = cache.get(TURNAROUNDS)
    if found is None:
        found = {
            "packages": dict(Package.objects.values_list("code", "turnaround_days")),
            "papers": dict(ExamPaper.objects.values_list("code", "turnaround_days")),
        }
        cache.set(TURNAROUNDS, found, 600)
    return found


def forget_turnarounds() -> None:
    cache.delete(TURNAROUNDS)
