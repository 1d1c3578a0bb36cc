"""The vendor orders' scopes: reading them, sending what Feishu hears of them, and the
candidates' personal data unmasked."""

from django.utils.translation import gettext_lazy as _

from hireops.api.scopes import declare
from hireops.core.privacy import personal

READ, WRITE, PERSONAL = "orders:read", "orders:write", "orders:personal_data"
declare(
    READ,
    _("See the background checks and exams and what was sent about them"),
    permission="orders.view_backgroundcheck",
)
declare(
    WRITE,
    _("Send progress, results, terminations, exam logins and scores to Feishu"),
    permission="orders.work_backgroundcheck",
)
declare(PERSONAL, _("See the candidates' personal data in orders unmasked"), permission=personal.PERMISSION)
