"""The vendor orders' work over many rows: exam logins imported from a file (hireops.jobs)."""

from django.utils.translation import gettext_lazy

from hireops.jobs.operations import Operation, register

from . import login_import
from .writes import WriteRefused


def _import_login(row, params, user):
    return login_import.send_row(row, user)


import_logins = register(
    Operation(
        "orders.import_logins",
        gettext_lazy("Import exam logins from CSV"),
        _import_login,
        refusals=(WriteRefused,),
        label=login_import.row_label,
    )
)
