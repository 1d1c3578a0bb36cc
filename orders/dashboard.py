"""The vendor orders' part of the admin index's "Needs attention" box: the work queue by
state, overdue orders, and what failed to reach Feishu. The counts are left to the board,
which makes one query of every section's counts."""

from django.utils.translation import gettext as _

from hireops.core.admin import dashboard

from . import selectors
from .catalogue.models import CataloguePush
from .models import BackgroundCheck, CheckState, Exam, ExamState, OrderWrite


def _queue(user):
    if dashboard.can_view(user, BackgroundCheck):
        yield (
            _("Background checks not started"),
            selectors.checks_in(CheckState.NEW),
            BackgroundCheck,
            {"state__exact": "new"},
        )
        yield (
            _("Background checks in progress"),
            selectors.checks_in(CheckState.IN_PROGRESS),
            BackgroundCheck,
            {"state__exact": "in_progress"},
        )
        yield _("Background checks overdue"), selectors.overdue_checks(), BackgroundCheck, {"overdue": "yes"}
    if dashboard.can_view(user, Exam):
        yield (
            _("Exams without login information"),
            selectors.exams_in(ExamState.NEW),
            Exam,
            {"state__exact": "new"},
        )
        yield (
            _("Exams waiting for a score"),
            selectors.exams_in(ExamState.ARRANGED),
            Exam,
            {"state__exact": "arranged"},
        )
        yield _("Exams overdue"), selectors.overdue_exams(), Exam, {"overdue": "yes"}
    if dashboard.can_view(user, OrderWrite):
        yield (
            _("Order writes failed (7 days)"),
            selectors.writes_failed(days=7),
            OrderWrite,
            {"status__exact": "failed"},
        )
    if dashboard.can_view(user, CataloguePush):
        yield (
            _("Catalogue pushes failed (7 days)"),
            selectors.pushes_failed(days=7),
            CataloguePush,
            {"status__exact": "failed"},
        )


@dashboard.contribute
def order_work(request):
    for label, rows, model, filters in _queue(request.user):
        yield dashboard.Item(label, rows, dashboard.changelist_url(model, **filters), per_tenant=rows)
