"""The dashboard's trend charts as each role sees them on a 1366 × 768 laptop, in English and in
Chinese, over a year of rollups: every chart a role's dashboard shows (whatever its name: the
charts are found on the page, never listed here) is visible and inside the screen's width, its
title, axis labels and legend are rendered and overlap neither each other nor the plot, its
table opens, and the period switch changes what is drawn. Screenshots in test-artifacts/browser/."""

import itertools
from collections import defaultdict
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone, translation

from hireops.core import trends
from hireops.core.auth import roles
from hireops.core.trends.charts import LABEL_EVERY_BAR_UP_TO, NOTHING_IN_PERIOD
from hireops.events import inbox, registry
from hireops.events.models import EventStatus
from orders.models import BackgroundCheck, CheckState, Exam, ExamState
from tests.conftest import STAFF_PASSWORD
from tests.factories import a_background_check, an_exam

from .admin_ui import ARTIFACTS, SHOT, expect, log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1366, "height": 768}
LANGUAGES = {"en": ("en-US", "en"), "zh-hans": ("zh-CN", "zh-hans")}
SUPERUSER = "superuser"
# Every role the project defines, and the superuser: a role added later is measured too.
ROLES = (SUPERUSER, *roles.STAFF_ROLES, roles.AUDITOR)
DAYS = 364


def seed_a_year() -> None:
    """Rows of every kind the trends count, spread over the year (busier some weeks than others,
    a few failed, canceled or terminated) and over the last two days by the hour; then every
    registered metric is recomputed over the hours its rows fell in, as the beat task would.

    Each ``seed_*`` function writes one kind of rows and returns, by metric, the moments they
    fall in: only those hours are recomputed (the rollups are those of every hour recomputed, in
    half the time). A metric no function names is recomputed over every hour of the seed."""
    now = timezone.now().replace(minute=30, second=0, microsecond=0)
    moments = [now - timedelta(days=d, hours=d % 24) for d in range(DAYS)]
    moments += [now - timedelta(hours=h) for h in range(48)]
    written: dict[str, set] = defaultdict(set)
    for seeded in (
        seed_events(moments),
        seed_orders(moments[:DAYS:2]),
        seed_calls_and_requests(moments[:DAYS:3]),
        seed_money(moments[1:DAYS:4]),
        seed_leavers(moments[2:DAYS:3]),
        seed_balances(moments[::3]),
    ):
        for metric, when in seeded.items():
            written[metric] |= set(when)
    every_hour = {*moments, *(m + timedelta(hours=30) for m in moments)}
    for name, metric in trends.metrics().items():
        # A metric that counts rows ahead of their moments (an order's due moment) reads hours
        # no row falls in: it is recomputed over every hour, like a metric no seed names.
        known = name in written and metric.ahead is None
        trends.mark(name, written[name] if known else every_hour)
    trends.recompute()
    assert BackgroundCheck.objects.exists() and Exam.objects.exists()


def seed_events(moments: list) -> dict[str, list]:
    """Events of every handled type, a few failed, more some hours than others."""
    types = itertools.cycle(registry.handled_types())
    rows, serial = [], itertools.count()
    for i, moment in enumerate(moments):
        for _ in range(1 + (i * 7) % 23):
            n = next(serial)
            status = EventStatus.FAILED if n % 9 == 0 else EventStatus.PROCESSED
            rows.append(
                inbox.InboxRow(f"ev-{n}", "2.0", next(types), "cli", "", "", "", "{}", moment, status)
            )
    inbox.insert_rows(rows)
    return {"events": moments}


def seed_orders(moments: list) -> dict[str, list]:
    """Background checks (a few canceled) and exams, received at each moment and ended 30 hours
    later."""
    for i, moment in enumerate(moments):
        for j in range(1 + i % 4):
            if j % 2 == 0:
                order = a_background_check()
                state = CheckState.CANCELED if i % 5 == 0 else CheckState.COMPLETED
            else:
                order, state = an_exam(), ExamState.ANSWERED
            type(order).objects.filter(pk=order.pk).update(
                received_at=moment, ended_at=moment + timedelta(hours=30), state=state
            )
    when = [*moments, *(m + timedelta(hours=30) for m in moments)]
    metrics = ("orders.failed", "orders.received", "orders.ended", "orders.usage", "orders.turnaround")
    return dict.fromkeys(metrics, when)


def seed_calls_and_requests(moments: list) -> dict[str, list]:
    """Calls to Feishu of every kind, deliveries to partners' endpoints (named at length, as
    people name them) and requests of partners' API keys, as the engine and the API count them."""
    from hireops import outbound
    from hireops.api import counting
    from hireops.api.models import ApiKey, RequestCount
    from hireops.calls_made.models import CallMade, CallOutcome
    from hireops.feishu_calls.callee import TREND as FEISHU_CALLS
    from hireops.webhooks.delivery import TREND as DELIVERIES
    from hireops.webhooks.models import WebhookEndpoint
    from tests.api.keys import make_key

    kinds = sorted(kind.name for kind in outbound.kinds())
    endpoints = [
        WebhookEndpoint.objects.create(url=f"https://erp{i}.partner.example.com/hooks", description=name)
        for i, name in enumerate(
            ("Acme 集团人事系统对接（生产环境）", "Background checks to Globex ERP", "短名")
        )
    ]
    for i in range(3):
        make_key("orders:read", name=f"partner {i}")
    keys = list(ApiKey.objects.values_list("prefix", flat=True))
    outcomes = itertools.cycle([CallOutcome.SUCCEEDED] * 5 + [CallOutcome.RETRIED, CallOutcome.FAILED])
    calls, requests = [], []
    for i, moment in enumerate(moments):
        for kind in kinds[i % len(kinds) :: 3]:
            calls.append(CallMade(metric=FEISHU_CALLS, dimension=kind, outcome=next(outcomes), at=moment))
        for endpoint in endpoints[: 1 + i % 3]:
            calls.append(
                CallMade(metric=DELIVERIES, dimension=str(endpoint.pk), outcome=next(outcomes), at=moment)
            )
        for j, prefix in enumerate(keys):
            outcome = counting.outcome_of(429 if (i + j) % 6 == 0 else 200)
            hour = trends.hour_of(moment)
            requests.append(
                RequestCount(
                    hour=hour, key_prefix=prefix, outcome=outcome, count=1 + (i * j) % 40, batch=f"seed:{i}"
                )
            )
    CallMade.objects.bulk_create(calls)
    RequestCount.objects.bulk_create(requests)
    return dict.fromkeys((FEISHU_CALLS, DELIVERIES, counting.METRIC), moments)


def seed_money(moments: list) -> dict[str, list]:
    """Withdrawals Feishu confirmed and rewards from outside it accepted, in two currencies and
    in points."""
    from decimal import Decimal

    from hireops.core.models import CallStatus
    from referrals.models import PayoutLine, PayoutRun, PayoutRunStatus, RewardBonusType, Withdrawal
    from tests.factories import a_referral_account, a_reward_row

    account = a_referral_account()
    for i, moment in enumerate(moments):
        currency = ("CNY", "USD")[i % 2]
        Withdrawal.objects.create(
            account=account,
            external_order_id=f"w-{i}",
            bonus_types=[1, 2],
            status=CallStatus.SUCCEEDED,
            withdrawn_points=10 * (i % 7),
            withdrawn_cash={currency: f"{100 + i * 3}.50"},
            finished_at=moment,
        )
        cash = {"bonus_type": RewardBonusType.CASH, "currency": currency, "amount": Decimal(f"{20 + i}.00")}
        a_reward_row(status=CallStatus.SUCCEEDED, finished_at=moment, **(cash if i % 3 else {}))
    # A paid payout run every ten moments (a chart bar per run and currency), each its own account.
    for i, moment in enumerate(moments[::10]):
        run = PayoutRun.objects.create(title=f"Run {i}", status=PayoutRunStatus.FINISHED)
        currency = ("CNY", "USD")[i % 2]
        PayoutLine.objects.create(
            run=run,
            account=a_referral_account(),
            external_order_id=f"p-{i}",
            cash={currency: f"{300 + i}.00"},
            withdrawn_cash={currency: f"{300 + i}.00"},
            status=CallStatus.SUCCEEDED,
            finished_at=moment,
        )
    return dict.fromkeys(("referrals.withdrawals", "referrals.rewards", "referrals.payouts"), moments)


def seed_leavers(moments: list) -> dict[str, list]:
    """Employees who left, some each week, in every outcome HR's chart stacks (more in some
    months than others): paid by a run or at once, deactivated, without an account, marked as
    handled, in progress, needing a person."""
    from hireops.core.models import CallStatus
    from referrals.models import Leaver, LeaverHow, LeaverMatch, LeaverPolicy, LeaverState, Withdrawal
    from tests.factories import a_referral_account

    paid = Withdrawal.objects.create(
        account=a_referral_account(),
        external_order_id="leaver-paid",
        bonus_types=[2],
        status=CallStatus.SUCCEEDED,
    )
    kinds = [
        {"state": LeaverState.DONE, "policy": LeaverPolicy.NEXT_RUN, "match": LeaverMatch.MATCHED},
        {
            "state": LeaverState.DONE,
            "policy": LeaverPolicy.AT_ONCE,
            "match": LeaverMatch.MATCHED,
            "withdrawal": paid,
        },
        {"state": LeaverState.DONE, "policy": LeaverPolicy.DEACTIVATE, "match": LeaverMatch.MATCHED},
        {"state": LeaverState.DONE, "match": LeaverMatch.NO_ACCOUNT},
        {
            "state": LeaverState.DONE,
            "policy": LeaverPolicy.NEXT_RUN,
            "match": LeaverMatch.MATCHED,
            "handled_by_hand": True,
        },
        {"state": LeaverState.AWAITING_RUN, "policy": LeaverPolicy.NEXT_RUN, "match": LeaverMatch.MATCHED},
        {"state": LeaverState.NEEDS_PERSON, "match": LeaverMatch.NONE},
    ]
    made, arrived = [], []
    for i, moment in enumerate(moments):
        for j in range(1 + (i * 5) % 7):
            n = len(made)
            made.append(
                Leaver(
                    open_id=f"ou_left_{n}",
                    name=f"离职员工{n}",
                    how=LeaverHow.RESIGNED,
                    source_event_id=f"left-{n}",
                    cash_then={"CNY": "88.00"},
                    **kinds[(i + j) % len(kinds)],
                )
            )
            arrived.append(moment)
    made = Leaver.objects.bulk_create(made)
    for leaver, moment in zip(made, arrived, strict=True):  # the creation stamped now
        leaver.created_at = moment
    Leaver.objects.bulk_update(made, ["created_at"], batch_size=500)
    return {"referrals.leavers": arrived}


def seed_balances(moments: list) -> dict[str, list]:
    """Balance snapshots of a few accounts, oldest first (in the order they were applied):
    their cash in two currencies and their points growing, paid out now and then."""
    from referrals.models import BalanceChange
    from tests.factories import a_referral_account

    accounts = [a_referral_account() for _ in range(3)]
    rows, held = [], [0, 0, 0]
    for i, moment in enumerate(sorted(moments)):
        held[i % 3] = 0 if i % 17 == 16 else held[i % 3] + 40 + (i * 13) % 300
        cash = {"CNY": f"{held[i % 3] * 7}.25", **({"USD": f"{held[i % 3]}.50"} if i % 3 else {})}
        rows.append(
            (moment, BalanceChange(account=accounts[i % 3], source="event", points=held[i % 3], cash=cash))
        )
    BalanceChange.objects.bulk_create([row for _moment, row in rows])
    for moment, row in rows:  # recorded at that moment (``at`` is set as a row is inserted)
        BalanceChange.objects.filter(pk=row.pk).update(at=moment)
    return {"referrals.owed": moments}


def a_user(role: str, staff_user, name: str):
    if role == SUPERUSER:
        return get_user_model().objects.create_superuser(name, password=STAFF_PASSWORD)
    return staff_user(role, username=name)


# Per chart on the page: the boxes of its SVG, the texts drawn in it by part (axes, unit,
# legend), the plot (grid and bars), and whether the page scrolls sideways.
MEASURE = """() => {
    const box = (e) => { const r = e.getBoundingClientRect();
        return {left: r.left, right: r.right, top: r.top, bottom: r.bottom,
                width: r.width, height: r.height}; };
    const texts = (svg, part) => [...svg.querySelectorAll(`.${part} text`)].map(t => ({
        text: t.textContent, box: box(t), size: parseFloat(getComputedStyle(t).fontSize)}));
    return {
        overflow: document.documentElement.scrollWidth - window.innerWidth,
        viewport: window.innerWidth,
        charts: [...document.querySelectorAll('#trends section.trend')].map(section => {
            const svg = section.querySelector('svg');
            const heading = section.querySelector('h3');
            const marks = [...svg.querySelectorAll('.trend-bars > *')];  // bars, and a target's lines
            const plot = [...svg.querySelectorAll('.trend-grid line'), ...marks].map(box);
            return {
                name: section.id,
                heading: heading ? heading.innerText.trim() : '',
                headingBox: heading ? box(heading) : null,
                title: (svg.querySelector('title') || {}).textContent || '',
                svg: box(svg),
                scale: svg.getBoundingClientRect().width / svg.viewBox.baseVal.width,
                bars: marks.length,
                rows: section.querySelectorAll('table tbody tr').length,
                plot: plot.length ? {
                    left: Math.min(...plot.map(b => b.left)), right: Math.max(...plot.map(b => b.right)),
                    top: Math.min(...plot.map(b => b.top)), bottom: Math.max(...plot.map(b => b.bottom)),
                } : null,
                yAxis: texts(svg, 'trend-axis-y'),
                xAxis: texts(svg, 'trend-axis-x'),
                unit: texts(svg, 'trend-unit'),
                legend: texts(svg, 'trend-legend'),
                swatches: [...svg.querySelectorAll('.trend-legend rect')].map(box),
                series: [...section.querySelectorAll('table thead th')].slice(1)
                    .map(th => th.textContent.trim()),
            };
        }),
    };
}"""


def overlap(a: dict, b: dict, slack: float = 0.5) -> bool:
    return (
        a["left"] < b["right"] - slack
        and b["left"] < a["right"] - slack
        and a["top"] < b["bottom"] - slack
        and b["top"] < a["bottom"] - slack
    )


def inside(a: dict, b: dict, slack: float = 0.5) -> bool:
    return (
        a["left"] >= b["left"] - slack
        and a["right"] <= b["right"] + slack
        and a["top"] >= b["top"] - slack
        and a["bottom"] <= b["bottom"] + slack
    )


def nothing_in_period() -> set[str]:
    """What a chart's legend says when its figures found no series, in each language."""
    texts = set()
    for language in LANGUAGES.values():
        with translation.override(language[1]):
            texts.add(str(NOTHING_IN_PERIOD))
    return texts


def problems_of(measured: dict) -> list[str]:
    """What a person would see wrong in the charts measured (empty when they look right)."""
    found = []
    if measured["overflow"] > 0:
        found.append(f"the page is {measured['overflow']} px wider than the screen")
    for chart in measured["charts"]:
        name, svg = chart["name"], chart["svg"]
        if svg["width"] < 300 or svg["height"] < 80:
            found.append(f"{name}: the chart is drawn {svg['width']:.0f} × {svg['height']:.0f} px")
        if svg["left"] < 0 or svg["right"] > measured["viewport"]:
            found.append(f"{name}: the chart leaves the screen ({svg['left']:.0f}..{svg['right']:.0f} px)")
        if not chart["heading"] or not chart["title"] or not chart["headingBox"]["height"]:
            found.append(f"{name}: no title shown")
        if chart["plot"] is None:
            found.append(f"{name}: no plot drawn")
            continue
        labels = [("y", t) for t in chart["yAxis"]] + [("x", t) for t in chart["xAxis"]]
        labels += [("unit", t) for t in chart["unit"]] + [("legend", t) for t in chart["legend"]]
        if (
            not chart["yAxis"]
            or not chart["unit"]
            or not chart["legend"]
            or (chart["rows"] and not chart["xAxis"])
        ):
            found.append(f"{name}: an axis, its unit or the legend has no text")
        if 0 < chart["rows"] <= LABEL_EVERY_BAR_UP_TO and len(chart["xAxis"]) < chart["rows"]:
            found.append(f"{name}: {chart['rows']} bars, {len(chart['xAxis'])} of them labelled")
        for part, label in labels:
            text, where = label["text"], label["box"]
            if not text.strip() or where["width"] < 1 or where["height"] < 1:
                found.append(f"{name}: {part} label {text!r} is not rendered")
            elif not inside(where, svg):
                found.append(f"{name}: {part} label {text!r} is cut off by the chart's edge")
            elif overlap(where, chart["plot"]):
                found.append(f"{name}: {part} label {text!r} overlaps the plot")
        for (part_a, a), (part_b, b) in itertools.combinations(labels, 2):
            if overlap(a["box"], b["box"]):
                found.append(f"{name}: {part_a} label {a['text']!r} overlaps {part_b} label {b['text']!r}")
        # The labels read at 10 px at least on screen; one legend entry per series, beside its swatch.
        for part, label in labels:
            if label["size"] * chart["scale"] < 10:
                found.append(
                    f"{name}: {part} label {label['text']!r} is {label['size'] * chart['scale']:.1f} px"
                )
        legend = [t["text"] for t in chart["legend"]]
        # Series found in the figures (a currency, a run), none in the period: the legend says so.
        nothing = not chart["series"] and len(legend) == 1 and legend[0] in nothing_in_period()
        if legend != chart["series"] and not nothing:
            found.append(
                f"{name}: the legend {[t['text'] for t in chart['legend']]} is not the table's series"
            )
        for swatch, label in zip(chart["swatches"], chart["legend"], strict=False):
            if overlap(swatch, label["box"]) or any(overlap(swatch, t["box"]) for _p, t in labels):
                found.append(f"{name}: the swatch of {label['text']!r} overlaps a label")
    return found


# Per chart, in the page's order: whether its table is shown, and how many rows its body has.
TABLES = """() => [...document.querySelectorAll('#trends section.trend')].map(section => {
    const table = section.querySelector('details table');
    return {shown: table.checkVisibility(), rows: table.querySelectorAll('tbody tr').length};
})"""


def check_the_dashboard(page, shot: str, screenshots: bool = True) -> list[dict]:
    """The dashboard's charts for the period shown: measured, screenshot (unless ``screenshots``
    is false: the same view seen again), each table opened by a click on its summary."""
    expect(page.locator("#content")).to_be_visible()
    measured = page.evaluate(MEASURE)
    if screenshots:
        screenshot(page, shot)
        if measured["charts"]:  # the charts alone, at the screen's scale, before the tables open
            page.locator("#trends").screenshot(path=ARTIFACTS / f"{shot}-charts.jpeg", **SHOT)
    problems = problems_of(measured)
    assert not problems, f"{shot}:\n" + "\n".join(problems)
    # Read before and after the clicks in one call each: a round trip per table and state was
    # half of the test's time.
    assert not any(table["shown"] for table in page.evaluate(TABLES)), f"{shot}: a table is open at first"
    for summary in page.locator("#trends section.trend details > summary").all():
        summary.click()
    opened = page.evaluate(TABLES)
    assert len(opened) == len(measured["charts"])
    assert all(table["shown"] and table["rows"] > 0 for table in opened), f"{shot}: {opened}"
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{shot}: an open table makes the page {overflow} px wider than the screen"
    return measured["charts"]


# The roles in two tests, each seeding the year once and walking its roles' dashboards: the seed
# takes as long as the longest role's walk, and two tests still let two workers share the walk.
ROLE_GROUPS = (ROLES[::2], ROLES[1::2])


@pytest.mark.timeout(480)  # a seed and three roles' walks, on a busy 2-core machine
@pytest.mark.parametrize("roles_walked", ROLE_GROUPS, ids=lambda group: "+".join(group))
def test_each_roles_charts_look_right_on_a_laptop_in_both_languages(
    browser, live_server, settings, staff_user, roles_walked
):
    seed_a_year()
    for role in roles_walked:
        walk_the_dashboard(browser, live_server, settings, staff_user, role)


def walk_the_dashboard(browser, live_server, settings, staff_user, role: str) -> None:
    """One role's dashboard in each language and period. The role signs in once: a second sign-in
    within the authenticator's 30 s waits for its next code (tests/browser/admin_ui.py), so the
    second language's browser carries the first one's session, as a person who switches their
    browser's language stays signed in."""
    slug = role.lower().replace(" ", "-")
    user = a_user(role, staff_user, f"charts-{slug}")
    signed_in = None
    for language, (locale, code) in LANGUAGES.items():
        settings.LANGUAGE_CODE = code
        context = browser.new_context(
            base_url=live_server.url, locale=locale, viewport=LAPTOP, storage_state=signed_in
        )
        page = context.new_page()
        try:
            if signed_in is None:
                log_in(page, user)
                signed_in = context.storage_state()
            page.goto("/admin/")
            expect(page.locator("html")).to_have_attribute("lang", code)
            charts = check_the_dashboard(page, f"trends-{slug}-{language}-30d")
            if not charts:
                expect(page.locator("#trends")).to_have_count(0)
                continue
            assert any(c["bars"] for c in charts), f"{role} sees charts with no bar in 30 days of data"
            links = page.locator("#trends nav a")  # the two periods not shown
            for key in ("quarter", "year", "30d"):
                page.locator(f'#trends nav a[href="?period={key}#trends"]').click()
                page.wait_for_url(f"**/admin/?period={key}#trends")
                current = page.locator('#trends nav [aria-current="page"]')
                expect(current).to_have_count(1)
                expect(links).to_have_count(2)
                # Back on 30 days, the view already shot in this language.
                drawn = check_the_dashboard(page, f"trends-{slug}-{language}-{key}", screenshots=key != "30d")
                assert [c["name"] for c in drawn] == [c["name"] for c in charts]
                if key == "year":
                    # A chart whose rows seed_a_year does not write is measured empty (its axes,
                    # title and legend still); the year's bars are drawn by those it writes.
                    assert any(c["bars"] for c in drawn), f"{role}: no chart draws a bar in a year"
        finally:
            context.close()
