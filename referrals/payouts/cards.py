"""The card a message in Feishu shows of a payout run (``chats``), in the active language.

What an approver sees of the run in the admin and no more: its title, its lines (the first
``LINES_SHOWN``: each account's name and amount, as the decision page lists them) and totals
per currency, who caused it, and a button to the run's page in the admin (``ADMIN_BASE_URL``,
as the e-mails' links), where the decision asks for the second factor. No mobile, e-mail,
employee id or rejection reason (free text) goes to Feishu; the run's page has them for whoever
may see them. Every text is plain text (``hireops.feishu.im.card``): a title typed by staff is
shown as typed.
"""

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from hireops.core.models import CallStatus
from hireops.feishu import im
from hireops.feishu.shapes import JSONObject

from .amounts import normalised
from .approval import caused_by_text
from .models import PayoutLine, PayoutNews, PayoutRun
from .reports import paid_totals, run_progress

LINES_SHOWN = 10  # the card stays far under Feishu's 30 KB whatever the run's size


def admin_url(view: str, run: PayoutRun) -> str:
    return settings.ADMIN_BASE_URL.rstrip("/") + reverse(f"admin:referrals_payoutrun_{view}", args=[run.pk])


def _per_currency(totals: dict | None) -> str:
    return "\n".join(f"{currency}: {amount}" for currency, amount in normalised(totals).items()) or "0"


def _lines(run: PayoutRun) -> str:
    open_lines = PayoutLine.objects.filter(run=run, status=CallStatus.QUEUED).order_by("pk")
    shown = list(open_lines.values_list("account__name", "account__account_id", "cash")[:LINES_SHOWN])
    text = "\n".join(
        f"{name or account_id}: "
        + ", ".join(f"{amount} {currency}" for currency, amount in normalised(cash).items())
        for name, account_id, cash in shown
    )
    more = run.line_count - len(shown)
    if more > 0:
        text += "\n" + ngettext(
            "and %(count)s more line: see every line on the run's page",
            "and %(count)s more lines: see every line on the run's page",
            more,
        ) % {"count": more}
    return text


def _lines_count(run: PayoutRun) -> str:
    return ngettext("%(count)s line", "%(count)s lines", run.line_count) % {"count": run.line_count}


def _decider(run: PayoutRun) -> str:
    return run.decided_by.get_username() if run.decided_by else _("a deleted user")


def card(run: PayoutRun, news: str) -> JSONObject:
    """The card telling ``news`` (a ``PayoutNews``) of ``run``."""
    name = str(run)
    if news == PayoutNews.AWAITING:
        return im.card(
            _("A payout run waits for your decision"),
            [
                name,
                _lines_count(run) + "\n" + _lines(run),
                _("Totals") + "\n" + _per_currency(run.totals),
                _("Caused by: %(who)s") % {"who": caused_by_text(run)},
                _("Nothing is paid until you approve it. The admin asks for your second factor."),
            ],
            button=(_("Open and decide"), admin_url("decide", run)),
            template="orange",
        )
    run_page = (_("Open the run"), admin_url("change", run))
    if news == PayoutNews.CANCELLED:
        return im.card(
            _("A payout run you were asked to decide was cancelled"),
            [name, _("Cancelled before it was decided: nothing is paid, and nothing is left to decide.")],
            button=run_page,
            template="grey",
        )
    if news == PayoutNews.APPROVED:
        return im.card(
            _("Your payout run was approved"),
            [
                name,
                _("Approved by %(who)s: its lines are being paid.") % {"who": _decider(run)},
                _lines_count(run) + "\n" + _("Totals") + "\n" + _per_currency(run.totals),
            ],
            button=run_page,
            template="green",
        )
    if news == PayoutNews.REJECTED:
        return im.card(
            _("Your payout run was rejected"),
            [
                name,
                _("Rejected by %(who)s: nothing is paid. The reason is on the run's page.")
                % {"who": _decider(run)},
            ],
            button=run_page,
            template="red",
        )
    progress = run_progress(run)
    needing = progress.held + progress.failed
    paragraphs = [
        name,
        ngettext("%(paid)s of %(lines)s line paid.", "%(paid)s of %(lines)s lines paid.", progress.lines)
        % {"paid": progress.paid, "lines": progress.lines},
        _("Paid") + "\n" + _per_currency(paid_totals(run)),
    ]
    if needing:
        paragraphs.append(
            ngettext(
                "%(count)s line needs a person (held, or not paid): see the run's page.",
                "%(count)s lines need a person (held, or not paid): see the run's page.",
                needing,
            )
            % {"count": needing}
        )
    return im.card(
        _("Your payout run is paid"), paragraphs, button=run_page, template="orange" if needing else "green"
    )


def as_email(shown: JSONObject) -> tuple[str, str]:
    """A card as an e-mail, for whoever is not linked to Feishu: its title the subject, its
    paragraphs the body, its button's link last."""
    header = shown.get("header")
    title = header["title"]["content"] if isinstance(header, dict) else ""
    parts: list[str] = []
    link = ""
    for element in shown.get("elements") or []:
        if not isinstance(element, dict):
            continue
        if element.get("tag") == "div":
            parts.append(element["text"]["content"])
        for action in element.get("actions") or []:
            link = action.get("url") or link
    return str(title), "\n\n".join([*parts, link] if link else parts)
