"""CSV exports from admin lists. UTF-8 with a BOM so Excel opens Chinese text correctly."""

import csv
from collections.abc import Callable, Iterable

from django.http import HttpResponse
from django.utils import timezone

Column = tuple[str, Callable[[object], object]]  # header, value of a row


def csv_response(name: str, columns: list[Column], rows: Iterable) -> HttpResponse:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow([str(header) for header, _ in columns])
    for row in rows:
        writer.writerow(["" if (v := value(row)) is None else str(v) for _, value in columns])
    return response


def field_label(model, name: str) -> str:
    return str(model._meta.get_field(name).verbose_name)
