"""A year of a large customer's data, generated inside PostgreSQL for ``bench/admin.py``.

Every table is filled by one or two ``INSERT … SELECT … FROM generate_series(…)``
statements, in one transaction: an interrupted seed leaves nothing behind. Values are
drawn with ``random()`` after ``setseed()``, so every seed of one size is the same data.
The shapes follow the code that writes the rows in production: Feishu's documented event
envelopes (tests/events/feishu_samples/), messages stored as ``Message`` JSON
(hireops.core.messages) with the app's own message ids, a binding's ``usage_text`` and
``field_values_text`` derived from its lists as ``bindings.matching`` derives them, the
change history as ``hireops.core.audit.record`` writes it.

Sizes at scale 1 (``SIZES``): 1,000,000 Feishu events, 200,000 referral accounts (with cash
rows, ~570,000 balance changes and 50,000 withdrawals), 200,000 eco-account bindings
(~240,000 status changes) of 20,000 vendor customers (30,000 identifiers), ~110,000 change
history entries, 400 background jobs (~48,000 items), 365 reconciliation runs, 1,000 customer
tenants (a vendor's store app; the first four carry the events and bindings), and the vendor's
orders on its bound accounts: 150,000 background checks and 50,000 exams over the year (most
ended, the last weeks' still open, some of them overdue), with a catalogue of 40 packages and
20 papers. Then what the dashboards count (``_dashboard_statements``): 14 payout runs and
~140,000 lines, every account's registration, enable/deactivate requests, 30,000 rewards from
outside, 20,000 leavers, the orders' writes to Feishu and the catalogue's pushes.

Two spreads (``SPREADS``): "large", the traffic mostly from the first of the four busy tenants
and failures as a healthy year has them; "flat", every tenant as busy as the next and ten
times the failed and waiting rows.
"""

import json
import time

from bench import seed_calls

# Rows at scale 1; other scales multiply them (at least 1 each).
SIZES = {
    "events": 1_000_000,
    "accounts": 200_000,
    "bindings": 200_000,
    "customers": 20_000,
    "withdrawals": 50_000,
    "log_entries": 100_000,
    "jobs": 400,
    "reconciliation_runs": 365,
    "tenants": 1_000,  # a vendor's store app; the first four carry the traffic
    "background_checks": 150_000,
    "exams": 50_000,
    "rewards": 30_000,  # referral rewards from outside systems
    "leavers": 20_000,  # a tenth of the accounts' people leave in a year
}

APP_ID = "cli_9f5343c580712544"
TOKEN = "rvaYgkND1GOiu5MM0E1rncYC6PLtF7JV"  # noqa: S105  (Feishu's sample verification token)
# A large customer's tenants: most traffic comes from the first.
TENANTS = ["2ca1d211f64f6438", "7f3e90b2c41a5d18", "a51c6e08d93b7f24", "e0b94d7a12c3f865"]
REFERRAL_EVENT = "hire.referral_account.assets_update_v1"
ECO_EVENT = "hire.eco_account.created_v1"
APP_TICKET = "app_ticket"
# Types Feishu pushes that no app handles: stored as "ignored".
UNHANDLED = [
    "hire.eco_exam.created_v1",
    "hire.eco_background_check.created_v1",
    "hire.eco_background_check.canceled_v1",
]

SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘蒋蔡余杜叶程苏魏吕丁"
)
GIVEN = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂兰志红鹏辉玲华飞鑫波宇浩凯婷雪琳晨欣怡子轩")
CITIES = ["北京", "上海", "深圳", "杭州", "成都", "广州", "南京", "武汉", "西安", "苏州"]
BRAND_1 = list("华中新天金恒鼎瑞远星启蓝博安创海宏嘉盛泰通达信德")
BRAND_2 = list("信通达泰安盛宇辰航科云锐晟川越联拓方元捷")
INDUSTRIES = ["科技", "信息技术", "人力资源", "咨询", "网络", "软件", "教育科技", "数据服务"]
REJECT_REASONS = ["不是我们的客户", "客户已解约", "重复账号", "测试账号，不绑定", "订单号填写错误"]


def sizes(scale: float) -> dict[str, int]:
    return {name: max(1, round(n * scale)) for name, n in SIZES.items()}


def _params(n: dict, users: dict, content_types: dict) -> dict:
    # The app's own message ids (imported here: Django must be set up first).
    from bindings import matching
    from hireops.core.messages import Message
    from hireops.events.services import REPROCESSED
    from hireops.feishu_calls import failures
    from referrals.accounts import balances, registration, status
    from referrals.models import StatusAction
    from referrals.withdrawals import services as withdrawals

    def stored(msgid, **params) -> str:
        """A ``MessageField`` value as the app stores it."""
        return json.dumps(Message(msgid, **params).to_json(), ensure_ascii=False)

    return {
        **{f"n_{name}": value for name, value in n.items()},
        "app_id": APP_ID,
        "token": TOKEN,
        "tenants": TENANTS,
        "unhandled": UNHANDLED,
        "referral_event": REFERRAL_EVENT,
        "eco_event": ECO_EVENT,
        "app_ticket": APP_TICKET,
        "surnames": SURNAMES,
        "given": GIVEN,
        "cities": CITIES,
        "brand_1": BRAND_1,
        "brand_2": BRAND_2,
        "industries": INDUSTRIES,
        "reject_reasons": REJECT_REASONS,
        # Users (primary keys) of each role, created by the benchmark before seeding.
        **{f"user_{role}": pk for role, pk in users.items()},
        **{f"ct_{name}": pk for name, pk in content_types.items()},
        # Stored messages, as the code writes them; %(…)s placeholders filled from SQL.
        "msg_not_registered": balances.NOT_REGISTERED_YET,
        "msg_no_customer": "No customer has %(values)s.",
        "msg_matched": "Matched automatically on %(values)s.",
        "msg_explained": "%(explanation)s (%(detail)s)",
        "msg_deactivated": failures.explanation("hire.referral_account.withdraw", 1002555),
        "msg_later": failures.SYSTEM_ERROR_LATER,
        "error_no_employee": stored(
            "%(explanation)s (%(detail)s)",
            explanation=Message(failures.explanation("hire.referral_account.create", 1002551)),
            detail="Feishu 1002551: user not found",
        ),
        "log_reprocessed": REPROCESSED,
        "log_withdrawal": withdrawals.WITHDRAWAL_REQUESTED,
        "log_enable": status.STATUS_REQUESTED[StatusAction.ENABLE],
        "log_deactivate": status.STATUS_REQUESTED[StatusAction.DEACTIVATE],
        "log_pull": balances.BALANCE_PULL_REQUESTED,
        "log_imported": registration.IMPORTED,
        "log_retried": withdrawals.WITHDRAWAL_RETRIED,
        "log_bound": matching.BOUND,
        "log_rejected": matching.REJECTED,
        "log_rematched": matching.REMATCHED_REVIEW,
    }


# How the year is spread (``seed(spread=…)``). "large": a large customer, most traffic from
# its first tenant and few failures. "flat": every one of the 1,000 tenants as busy as the
# next, and ten times the failed and waiting rows: the lists and counts a tenant filter or a
# failure tile reads are then large everywhere.
SPREADS = {
    "large": {"flat": False, "failed_share": 0.01, "pending_share": 0.002, "fail_every": 200},
    "flat": {"flat": True, "failed_share": 0.1, "pending_share": 0.02, "fail_every": 20},
}
# A row's tenant from its random r2: one of the four busy ones, or any of them all (flat).
TENANT_OF_R2 = """CASE WHEN %(flat)s
                THEN COALESCE((%(tenants)s::text[])[1 + floor(r2 * %(n_tenants)s)::int],
                              'bench-tenant-' || lpad((1 + floor(r2 * %(n_tenants)s)::int)::text, 4, '0'))
                ELSE (%(tenants)s::text[])[CASE WHEN r2 < 0.7 THEN 1 WHEN r2 < 0.9 THEN 2
                                                WHEN r2 < 0.98 THEN 3 ELSE 4 END] END"""

# Each statement: (what it fills, SQL). Parameters are psycopg's %(name)s, so a literal percent
# sign is written %% (and modulo is mod()).
STATEMENTS = [
    (
        "tenants",
        """
INSERT INTO tenants_tenant (tenant_key, name, status, status_since_ms, first_seen, last_seen)
SELECT key, CASE WHEN i <= 300 THEN '客户' || i ELSE '' END,
       CASE WHEN mod(i, 50) = 0 THEN 'uninstalled' WHEN mod(i, 37) = 0 THEN 'suspended' ELSE 'installed' END,
       NULL, now() - interval '365 days' + interval '8 hours' * i, now() - interval '1 hour' * mod(i, 72)
FROM (
    SELECT i, COALESCE((%(tenants)s::text[])[i], 'bench-tenant-' || lpad(i::text, 4, '0')) AS key
    FROM generate_series(1, %(n_tenants)s) AS i
) AS t
ON CONFLICT (tenant_key) DO NOTHING
""",
    ),
    (
        "referral accounts",
        """
INSERT INTO referrals_referralaccount
    (name, mobile_code, mobile_number, email, account_id, status, error_code, error, attempts,
     pending_action, action_error, points, assets_modify_time, balance_synced_at, balance_error,
     created_by_id, created_at, updated_at, tenant_key, employee_id)
SELECT name,
       CASE WHEN contact = 'email' THEN '' ELSE '86' END,
       CASE WHEN contact = 'email' THEN '' ELSE '1' || (3 + mod(i, 7))::text || lpad(i::text, 9, '0') END,
       CASE WHEN contact = 'mobile' THEN ''
            ELSE 'emp' || lpad(i::text, 7, '0') || '@corp' || mod(i, 5)::text || '.example.cn' END,
       CASE WHEN status IN ('active', 'deactivated') THEN (7100000000000000000 + i::bigint * 7919)::text END,
       status,
       CASE WHEN status = 'failed' THEN 1002551 END,
       CASE WHEN status = 'failed' THEN %(error_no_employee)s ELSE '' END,
       CASE WHEN status = 'pending' THEN 0 ELSE 1 + (r3 * 2)::int END,
       CASE WHEN status = 'active' AND r3 < 0.005 THEN 'deactivate'
            WHEN status = 'deactivated' AND r3 < 0.05 THEN 'enable' ELSE '' END,
       '',
       CASE WHEN status IN ('active', 'deactivated') THEN floor(r2 * r2 * 5000)::bigint ELSE 0 END,
       CASE WHEN status IN ('active', 'deactivated')
            THEN (extract(epoch FROM synced) * 1000)::bigint END,
       CASE WHEN status IN ('active', 'deactivated') THEN synced END,
       '',
       %(user_hr)s,
       created,
       greatest(created, coalesce(synced, created)),
       '',
       CASE WHEN status IN ('active', 'deactivated') THEN 'E' || lpad(i::text, 7, '0') ELSE '' END
FROM (
    SELECT i, r2, r3, created,
           (%(surnames)s::text[])[1 + floor(r1 * array_length(%(surnames)s::text[], 1))::int]
           || (%(given)s::text[])[1 + floor(r2 * array_length(%(given)s::text[], 1))::int]
           || CASE WHEN r3 < 0.6
                   THEN (%(given)s::text[])[1 + floor(r4 * array_length(%(given)s::text[], 1))::int]
                   ELSE '' END AS name,
           CASE WHEN r4 < 0.08 THEN 'mobile' WHEN r4 > 0.95 THEN 'email' ELSE 'both' END AS contact,
           CASE WHEN r5 < 0.90 THEN 'active' WHEN r5 < 0.95 THEN 'deactivated'
                WHEN r5 < 0.98 THEN 'failed' ELSE 'pending' END AS status,
           now() - interval '2 days' * r3 AS synced
    FROM (
        SELECT i, random() AS r1, random() AS r2, random() AS r3, random() AS r4, random() AS r5,
               now() - interval '365 days' * (1 - i::float8 / %(n_accounts)s) AS created
        FROM generate_series(1, %(n_accounts)s) AS i
    ) AS g
) AS a
""",
    ),
    (
        "cash balances",
        """
INSERT INTO referrals_accountcash (account_id, currency, amount)
SELECT id, 'CNY', round((random() * random() * 2000)::numeric, 2)
FROM referrals_referralaccount WHERE status = 'active' AND random() < 0.6
UNION ALL
SELECT id, 'USD', round((random() * 200)::numeric, 2)
FROM referrals_referralaccount WHERE status = 'active' AND mod(id, 50) = 0
""",
    ),
    (
        "balance changes (2-4 per registered account, the last one what it holds)",
        """
INSERT INTO referrals_balancechange (account_id, source, modify_time, points, cash, reference, at)
SELECT a.id,
       CASE WHEN j = 1 THEN 'registration' WHEN r < 0.75 THEN 'event' WHEN r < 0.93 THEN 'pull'
            ELSE 'withdrawal' END,
       (extract(epoch FROM at) * 1000)::bigint,
       CASE WHEN j = 2 + mod(a.id, 3) THEN a.points ELSE floor(r * 5000)::bigint END,
       CASE WHEN j = 2 + mod(a.id, 3) THEN coalesce(held.cash, '{}'::jsonb)
            WHEN r < 0.5 THEN jsonb_build_object('CNY', round((r * 800)::numeric, 2)::text)
            ELSE '{}'::jsonb END,
       CASE WHEN j = 1 THEN '' ELSE md5('ev' || a.id::text || '-' || j::text) END,
       at
FROM referrals_referralaccount AS a
-- One pass over the cash rows (their indexes are dropped while seeding): the last snapshot
-- holds them, as the balances' writer leaves it.
LEFT JOIN (
    SELECT account_id, jsonb_object_agg(currency, amount::text) AS cash
    FROM referrals_accountcash GROUP BY account_id
) AS held ON held.account_id = a.id
CROSS JOIN LATERAL generate_series(1, 2 + mod(a.id, 3)::int) AS j
CROSS JOIN LATERAL (
    SELECT random() AS r, a.created_at + (now() - a.created_at) * (j - 1) / (2 + mod(a.id, 3)) AS at
) AS x
WHERE a.account_id IS NOT NULL
""",
    ),
    (
        "withdrawals",
        """
INSERT INTO referrals_withdrawal
    (account_id, external_order_id, bonus_types, expected_points, expected_cash, withdrawn_points,
     withdrawn_cash, trans_time, status, attempts, error_code, error, log_id, requested_by_id,
     requested_at, finished_at, maybe_applied)
SELECT a.id,
       'wd-' || md5('withdrawal-' || w.i::text),
       CASE WHEN w.r < 0.7 THEN '[1, 2]'::jsonb ELSE '[1]'::jsonb END,
       points, cash,
       CASE WHEN status = 'succeeded' THEN points END,
       CASE WHEN status = 'succeeded' THEN cash END,
       CASE WHEN status = 'succeeded' THEN (extract(epoch FROM requested) * 1000)::bigint + 1500 END,
       status,
       CASE WHEN status = 'queued' THEN 1 + mod(w.i, 3) ELSE 1 END,
       CASE WHEN status = 'failed' THEN 1002555 END,
       CASE WHEN status = 'failed' THEN jsonb_build_object(
                'msgid', %(msg_explained)s,
                'params', jsonb_build_object(
                    'explanation', jsonb_build_object('msgid', %(msg_deactivated)s, 'params', '{}'::jsonb),
                    'detail', 'Feishu 1002555: account deactivated; log id ' || md5(w.i::text)))::text
            WHEN status = 'queued' AND mod(w.i, 2) = 0 THEN jsonb_build_object(
                'msgid', %(msg_later)s, 'params', '{}'::jsonb)::text
            ELSE '' END,
       CASE WHEN status = 'queued' THEN '' ELSE to_char(requested, 'YYYYMMDDHH24MISS') || md5(w.i::text) END,
       %(user_hr_withdrawals)s,
       requested,
       CASE WHEN status = 'queued' THEN NULL ELSE requested + interval '2 seconds' END,
       false
FROM (
    SELECT i, r,
           floor(random() * 3000)::bigint AS points,
           CASE WHEN r < 0.7 THEN jsonb_build_object('CNY', round((random() * 500)::numeric, 2)::text)
                ELSE '{}'::jsonb END AS cash,
           CASE WHEN i > %(n_withdrawals)s * 0.995 THEN 'queued' WHEN random() < 0.08 THEN 'failed'
                ELSE 'succeeded' END AS status,
           now() - interval '365 days' * (1 - i::float8 / %(n_withdrawals)s) AS requested
    FROM (SELECT i, random() AS r FROM generate_series(1, %(n_withdrawals)s) AS i) AS g
) AS w
JOIN (
    SELECT id, row_number() OVER (ORDER BY id) AS rn FROM referrals_referralaccount WHERE status = 'active'
) AS a ON a.rn = 1 + mod((w.i - 1) * %(withdrawal_step)s, %(n_active)s)
""",
    ),
    (
        "reconciliation runs",
        """
INSERT INTO referrals_reconciliationrun
    (start_ms, end_ms, trade_details, mismatch_count, status, attempts, error_code, error, log_id,
     requested_by_id, requested_at, finished_at, tenant_key, maybe_applied)
SELECT (extract(epoch FROM day) * 1000)::bigint,
       (extract(epoch FROM day + interval '1 day') * 1000)::bigint,
       jsonb_build_array(jsonb_build_object('bonus_type', 1, 'total_recharge_reward_info',
                                            jsonb_build_object('point_bonus', floor(random() * 90000)::int))),
       CASE WHEN status = 'succeeded' THEN mismatches END,
       status, 1, NULL,
       CASE WHEN status = 'failed'
            THEN jsonb_build_object('msgid', %(msg_later)s, 'params', '{}'::jsonb)::text ELSE '' END,
       md5('recon' || i::text),
       CASE WHEN mod(i, 30) = 0 THEN %(user_hr)s END,
       day + interval '1 day 2 hours',
       day + interval '1 day 2 hours 3 seconds',
       '', false
FROM (
    SELECT i, date_trunc('day', now()) - interval '1 day' * i AS day,
           CASE WHEN random() < 0.97 THEN 'succeeded' ELSE 'failed' END AS status,
           CASE WHEN random() < 0.08 THEN 1 + floor(random() * 5)::int ELSE 0 END AS mismatches
    FROM generate_series(1, %(n_reconciliation_runs)s) AS i
) AS runs
""",
    ),
    (
        "reconciliation mismatches",
        """
INSERT INTO referrals_reconciliationmismatch (run_id, account_id, feishu_withdrawn_points, our_points)
SELECT r.id, (7100000000000000000 + (1 + floor(random() * %(n_accounts)s))::bigint * 7919)::text,
       p + 100, p
FROM referrals_reconciliationrun AS r
CROSS JOIN LATERAL generate_series(1, r.mismatch_count) AS j
CROSS JOIN LATERAL (SELECT floor(random() * 3000)::bigint AS p) AS x
WHERE r.mismatch_count > 0
""",
    ),
    (
        "vendor customers",
        """
INSERT INTO bindings_vendorcustomer (name, contact, notes, created_at, updated_at)
SELECT (%(cities)s::text[])[1 + mod(c, array_length(%(cities)s::text[], 1))]
       || (%(brand_1)s::text[])[1 + floor(random() * array_length(%(brand_1)s::text[], 1))::int]
       || (%(brand_2)s::text[])[1 + floor(random() * array_length(%(brand_2)s::text[], 1))::int]
       || (%(industries)s::text[])[1 + floor(random() * array_length(%(industries)s::text[], 1))::int]
       || '有限公司'
       || CASE WHEN mod(c, 4) = 0
               THEN (%(cities)s::text[])[1 + mod(c / 4, array_length(%(cities)s::text[], 1))] || '分公司'
               ELSE '' END,
       (%(surnames)s::text[])[1 + floor(random() * array_length(%(surnames)s::text[], 1))::int] || '经理 '
       || '13' || mod(c, 10)::text || '****' || lpad(mod(c * 37, 10000)::text, 4, '0'),
       CASE WHEN mod(c, 10) = 0 THEN '年度框架合同，按季度结算' ELSE '' END,
       now() - interval '720 days' * (1 - c::float8 / %(n_customers)s),
       now() - interval '720 days' * (1 - c::float8 / %(n_customers)s)
FROM generate_series(1, %(n_customers)s) AS c
""",
    ),
    (
        "customer identifiers (ord_id each, tax_no for half)",
        """
INSERT INTO bindings_customeridentifier (customer_id, key, value)
SELECT %(customer_base)s + c - 1, 'ord_id', (7000000 + c)::text
FROM generate_series(1, %(n_customers)s) AS c
UNION ALL
SELECT %(customer_base)s + c - 1, 'tax_no', '91310000' || lpad(c::text, 10, '0')
FROM generate_series(1, %(n_customers)s) AS c WHERE mod(c, 2) = 0
""",
    ),
    (
        "eco-account bindings",
        """
INSERT INTO bindings_ecoaccountbinding
    (app_id, tenant_key, account_id, scope, account_name, usage_list, usage_text,
     custom_field_values, field_values_text, status, customer_id, review_reason, decided_manually,
     source_event_id, created_at, updated_at)
SELECT %(app_id)s, tenant, (6900000000000000000 + i::bigint * 104729)::text, scope,
       company || CASE scope WHEN 1 THEN ' 背调账号 ' ELSE ' 笔试账号 ' END || lpad(i::text, 6, '0'),
       usage_list,
       ',' || array_to_string(ARRAY(SELECT jsonb_array_elements_text(usage_list)), ',') || ',',
       jsonb_build_array(jsonb_build_object('key', 'ord_id', 'value', ord_id),
                         jsonb_build_object('key', second_key, 'value', second_value)),
       'ord_id=' || ord_id || E'\\n' || second_key || '=' || second_value,
       status,
       CASE WHEN status = 'bound' THEN %(customer_base)s + c - 1 END,
       CASE WHEN status = 'rejected' THEN reject_reason
            WHEN status = 'bound' AND manual THEN '客户确认的账号'
            WHEN status = 'bound' THEN jsonb_build_object(
                'msgid', %(msg_matched)s, 'params', jsonb_build_object('values', 'ord_id=' || ord_id))::text
            ELSE jsonb_build_object(
                'msgid', %(msg_no_customer)s,
                'params', jsonb_build_object('values', 'ord_id=' || ord_id))::text
       END,
       manual,
       md5('eco-' || i::text),
       created,
       created + interval '1 hour' * r * 48
FROM (
    SELECT i, c, r, created, status, scope,
           status = 'rejected' OR (status = 'bound' AND mod(i, 5) = 0) AS manual,
           CASE WHEN status = 'bound' THEN (7000000 + c)::text ELSE (8000000 + i)::text END AS ord_id,
           CASE scope WHEN 1 THEN 'candidate_no' ELSE 'exam_batch' END AS second_key,
           CASE scope WHEN 1 THEN 'C' || lpad(i::text, 8, '0')
                ELSE to_char(created, 'YYYY') || '-B' || lpad(mod(i, 40)::text, 2, '0') END AS second_value,
           CASE WHEN r < 0.6 THEN '[1]'::jsonb WHEN r < 0.85 THEN '[2]'::jsonb ELSE '[1, 2]'::jsonb END
               AS usage_list,
           {TENANT_OF_R2} AS tenant,
           (%(cities)s::text[])[1 + mod(c, array_length(%(cities)s::text[], 1))]
           || (%(brand_1)s::text[])[1 + mod(c, array_length(%(brand_1)s::text[], 1))]
           || (%(brand_2)s::text[])[1 + mod(c / 7, array_length(%(brand_2)s::text[], 1))]
           || (%(industries)s::text[])[1 + mod(c / 3, array_length(%(industries)s::text[], 1))] AS company,
           (%(reject_reasons)s::text[])[1 + mod(i, array_length(%(reject_reasons)s::text[], 1))]
               AS reject_reason
    FROM (
        SELECT i, r, r2, 1 + mod(i * 7, %(n_customers)s) AS c,
               CASE WHEN r3 < 0.85 THEN 'bound' WHEN r3 < 0.95 THEN 'needs_review'
                    ELSE 'rejected' END AS status,
               CASE WHEN r4 < 0.7 THEN 1 ELSE 2 END AS scope,
               now() - interval '365 days' * (1 - i::float8 / %(n_bindings)s) AS created
        FROM (
            SELECT i, random() AS r, random() AS r2, random() AS r3, random() AS r4
            FROM generate_series(1, %(n_bindings)s) AS i
        ) AS g
    ) AS g2
) AS b
""",
    ),
    (
        "binding status changes",
        """
INSERT INTO bindings_bindingstatuschange
    (binding_id, from_status, to_status, customer_id, actor_id, reason, at)
SELECT id, '', CASE WHEN decided_manually THEN 'needs_review' ELSE status END,
       CASE WHEN decided_manually THEN NULL ELSE customer_id END, NULL,
       CASE WHEN decided_manually THEN jsonb_build_object(
                'msgid', %(msg_no_customer)s,
                'params', jsonb_build_object(
                    'values', 'ord_id=' || (custom_field_values -> 0 ->> 'value')))::text
            ELSE review_reason END,
       created_at
FROM bindings_ecoaccountbinding
UNION ALL
SELECT id, 'needs_review', status, customer_id, %(user_vendor)s, review_reason, updated_at
FROM bindings_ecoaccountbinding WHERE decided_manually
""",
    ),
    (
        "custom fields, matching rules, scopes, publishes",
        """
WITH fields (scope, key, name_zh, name_en, required, position) AS (
    VALUES (1, 'ord_id', '订单号', 'Order number', true, 1),
           (1, 'candidate_no', '候选人编号', 'Candidate number', true, 2),
           (1, 'check_package', '背调套餐', 'Check package', false, 3),
           (1, 'project_code', '项目代码', '', false, 4),
           (1, 'cost_center', '成本中心', 'Cost center', false, 5),
           (1, 'region', '区域', 'Region', false, 6),
           (1, 'contact_hr', '对接 HR', 'HR contact', false, 7),
           (1, 'legacy_code', '旧系统编号', 'Legacy code', false, 8),
           (2, 'ord_id', '订单号', 'Order number', true, 1),
           (2, 'exam_batch', '考试批次', 'Exam batch', true, 2),
           (2, 'paper_type', '试卷类型', 'Paper type', false, 3),
           (2, 'proctoring', '监考方式', '', false, 4),
           (2, 'cost_center', '成本中心', 'Cost center', false, 5)
), inserted_fields AS (
    INSERT INTO bindings_customfielddefinition
        (scope, tenant_key, key, name_zh, name_en, is_required, description_zh, description_en,
         display_order, is_active, updated_at)
    SELECT scope, '', key, name_zh, name_en, required, '请填写' || name_zh, '', position * 10,
           key <> 'legacy_code', now() - interval '1 day' * position
    FROM fields
    RETURNING id
), rules AS (
    INSERT INTO bindings_matchingrule (scope, keys)
    VALUES (1, '["ord_id", "tax_no"]'::jsonb), (2, '["ord_id"]'::jsonb)
    RETURNING id
), publishes AS (
    INSERT INTO bindings_fieldpublish
        (scope, status, revision, payload, response, attempts, error_code, error, log_id,
         requested_by_id, requested_at, finished_at, tenant_key, maybe_applied)
    SELECT 1 + mod(i, 2), CASE WHEN i = 7 THEN 'failed' ELSE 'succeeded' END, i / 2 + 1,
           jsonb_build_object('scope', 1 + mod(i, 2),
                              'custom_field_list', (SELECT jsonb_agg(jsonb_build_object('key', key))
                                                    FROM fields WHERE fields.scope = 1 + mod(i, 2))),
           jsonb_build_object('code', 0, 'msg', 'success'),
           1, NULL, '', md5('publish' || i::text),
           %(user_vendor)s, now() - interval '12 days' * (30 - i), now() - interval '12 days' * (30 - i),
           '', false
    FROM generate_series(1, 30) AS i
    RETURNING id
), published AS (
    -- What the app's own tenant ("": a self-built app) accepted last: scope 2 is one edit behind.
    INSERT INTO bindings_tenantfieldscope (scope, tenant_key, published_revision, own_revision)
    VALUES (1, '', 16, 0), (2, '', 14, 0)
    ON CONFLICT (scope, tenant_key) DO UPDATE SET published_revision = EXCLUDED.published_revision
    RETURNING id
)
-- The scopes' rows come with the migrations.
UPDATE bindings_fieldscope
SET revision = CASE scope WHEN 1 THEN 16 ELSE 15 END,
    shared_revision = CASE scope WHEN 1 THEN 16 ELSE 15 END
""",
    ),
    (
        "Feishu events",
        """
INSERT INTO events_feishuevent
    (event_id, schema, event_type, app_id, tenant_key, create_time, account_id, payload, received_at,
     status, attempts, last_error, next_attempt_at, processed_at, duplicate_count, last_duplicate_at)
SELECT event_id, schema, event_type, %(app_id)s, tenant, create_time, account_id,
       -- Written as JSON text and parsed once: several times faster than nested jsonb_build_object.
       (CASE kind
        WHEN 2 THEN
            '{"ts": "' || create_time || '", "uuid": "' || event_id || '", "token": "' || %(token)s
            || '", "type": "event_callback", "event": {"app_id": "' || %(app_id)s || '", "app_ticket": "'
            || md5('ticket' || i::text) || '", "type": "app_ticket"}}'
        ELSE
            '{"schema": "2.0", "header": {"event_id": "' || event_id || '", "event_type": "' || event_type
            || '", "create_time": "' || create_time || '", "token": "' || %(token)s || '", "app_id": "'
            || %(app_id)s || '", "tenant_key": "' || tenant || '"}, "event": '
            || CASE kind
               WHEN 0 THEN
                   '{"account_id": "' || account_id || '", "assets": {"confirmed_bonus": {"point_bonus": '
                   || floor(r * 5000)::int || ', "cash_bonus": [{"currency_type": "CNY", "amount": '
                   || floor(r * 800)::int || '}]}}, "modify_time": "' || create_time || '"}'
               WHEN 1 THEN
                   '{"scope": ' || 1 + mod(k, 2) || ', "account_id": "' || account_id
                   || '", "account_name": "背调账号 ' || lpad(k::text, 6, '0')
                   || '", "usage_list": [1], "custom_field_list": [{"key": "ord_id", "value": "'
                   || 7000000 + mod(k, 20000) || '"}, {"key": "candidate_no", "value": "C'
                   || lpad(k::text, 8, '0') || '"}]}'
               ELSE
                   '{"exam_id": "' || md5('exam' || i::text) || '", "account_id": "' || account_id
                   || '", "paper_id": "paper001", "candidate_info": {"name": "王二", "email": "cand'
                   || i || '@example.com", "mobile": {"code": "86", "number": "189'
                   || lpad(mod(i, 100000000)::text, 8, '0') || '"}}}'
               END
            || '}'
        END)::jsonb,
       received,
       status,
       CASE WHEN status = 'failed' THEN 1 + floor(r * 8)::int WHEN status = 'processed' THEN 1 ELSE 0 END,
       CASE WHEN status <> 'failed' THEN ''
            WHEN kind = 0 THEN jsonb_build_object(
                'msgid', %(msg_not_registered)s, 'params', jsonb_build_object('account_id', account_id))::text
            ELSE 'IntegrityError: duplicate key value violates unique constraint' END,
       CASE WHEN status = 'failed' THEN now() + interval '1 minute' * floor(r * 600) END,
       CASE WHEN status = 'processed' THEN received + interval '80 milliseconds' END,
       CASE WHEN r < 0.02 THEN 1 ELSE 0 END,
       CASE WHEN r < 0.02 THEN received + interval '3 seconds' END
FROM (
    SELECT i, kind, k, r, received,
           CASE kind WHEN 0 THEN %(referral_event)s WHEN 1 THEN %(eco_event)s WHEN 2 THEN %(app_ticket)s
                ELSE (%(unhandled)s::text[])[1 + mod(i, array_length(%(unhandled)s::text[], 1))]
           END AS event_type,
           CASE WHEN kind = 2 THEN '1.0' ELSE '2.0' END AS schema,
           md5('event-' || i::text) AS event_id,
           (extract(epoch FROM received) * 1000)::bigint::text AS create_time,
           CASE WHEN kind = 2 THEN ''
                ELSE {TENANT_OF_R2} END AS tenant,
           CASE kind WHEN 0 THEN (7100000000000000000 + k::bigint * 7919)::text
                     WHEN 1 THEN (6900000000000000000 + k::bigint * 104729)::text
                     WHEN 2 THEN ''
                     ELSE (6900000000000000000 + k::bigint * 104729)::text END AS account_id,
           CASE WHEN kind = 3 THEN 'ignored'
                WHEN i > %(n_events)s * (1 - %(pending_share)s) THEN 'pending'
                WHEN r3 < %(failed_share)s THEN 'failed'
                ELSE 'processed' END AS status
    FROM (
        SELECT i, r, r2, r3,
               CASE WHEN r1 < 0.60 THEN 0 WHEN r1 < 0.90 THEN 1 WHEN r1 < 0.95 THEN 2 ELSE 3 END AS kind,
               CASE WHEN r1 < 0.60 THEN 1 + floor(r4 * %(n_accounts)s)::int
                    ELSE 1 + floor(r4 * %(n_bindings)s)::int END AS k,
               now() - interval '365 days' * (1 - i::float8 / %(n_events)s) - interval '1 second' * r
                   AS received
        FROM (
            SELECT i, random() AS r, random() AS r1, random() AS r2, random() AS r3, random() AS r4
            FROM generate_series(1, %(n_events)s) AS i
        ) AS g
    ) AS g2
) AS e
""",
    ),
    (
        "background jobs",
        """
INSERT INTO jobs_bulkjob
    (kind, params, language, status, tenant_key, requested_by_id, requested_at, started_at, finished_at)
SELECT kind,
       CASE kind WHEN 'bindings.reject' THEN jsonb_build_object('reason', '不是我们的客户')
                 WHEN 'referrals.withdraw' THEN jsonb_build_object('bonus_types', jsonb_build_array(1, 2))
                 ELSE '{}'::jsonb END,
       CASE WHEN mod(i, 10) = 0 THEN 'en' ELSE 'zh-hans' END,
       CASE WHEN i = %(n_jobs)s THEN 'queued' WHEN i > %(n_jobs)s - 3 THEN 'running' ELSE 'done' END,
       '',
       CASE WHEN kind LIKE 'bindings.%%' THEN %(user_vendor)s
            WHEN kind = 'referrals.withdraw' THEN %(user_hr_withdrawals)s ELSE %(user_hr)s END,
       requested, requested + interval '1 second',
       CASE WHEN i > %(n_jobs)s - 3 THEN NULL ELSE requested + interval '5 minutes' END
FROM (
    SELECT i, now() - interval '365 days' * (1 - i::float8 / %(n_jobs)s) AS requested,
           (ARRAY['bindings.bind', 'bindings.reject', 'bindings.rematch', 'referrals.withdraw',
                  'referrals.enable', 'referrals.deactivate', 'referrals.pull_balance',
                  'referrals.retry_registration', 'referrals.import'])[1 + mod(i * 5, 9)] AS kind
    FROM generate_series(1, %(n_jobs)s) AS i
) AS j
""",
    ),
    (
        "background job items",
        """
INSERT INTO jobs_bulkjobitem (job_id, position, object_id, label, data, status, message, finished_at)
SELECT j.id, p,
       CASE WHEN j.kind = 'referrals.import' THEN '' ELSE (1 + mod(j.id * 1000 + p, 100000))::text END,
       CASE WHEN j.kind LIKE 'bindings.%%'
            THEN '背调账号 ' || lpad(mod(j.id * 1000 + p, 100000)::text, 6, '0')
            ELSE '王*' || ' (138****' || lpad(mod(p * 37, 10000)::text, 4, '0') || ')' END,
       NULL,
       CASE WHEN j.status = 'done' OR p <= n / 2 THEN
                CASE WHEN mod(j.id + p, 17) = 0 THEN 'failed' ELSE 'succeeded' END
            ELSE 'pending' END,
       CASE WHEN j.status <> 'done' AND p > n / 2 THEN ''
            WHEN mod(j.id + p, 17) = 0 THEN '飞书无法访问，请稍后重试' ELSE '已完成' END,
       CASE WHEN j.status = 'done' OR p <= n / 2 THEN j.started_at + interval '1 second' * p END
FROM (SELECT *, 20 + floor(random() * 200)::int AS n FROM jobs_bulkjob) AS j
CROSS JOIN LATERAL generate_series(1, j.n) AS p
""",
    ),
    (
        "change history: referral accounts and withdrawals",
        """
INSERT INTO django_admin_log
    (action_time, object_id, object_repr, action_flag, change_message, content_type_id, user_id)
SELECT now() - interval '365 days' * random(), a.id::text, left(a.name, 200),
       CASE WHEN m = 4 THEN 1 ELSE 2 END,
       jsonb_build_array(jsonb_build_object('hireops', jsonb_build_object(
           'message', (ARRAY[%(log_withdrawal)s, %(log_enable)s, %(log_deactivate)s, %(log_pull)s,
                             %(log_imported)s])[m + 1],
           'params', CASE WHEN m = 0 THEN jsonb_build_object('order', 'wd-' || md5(i::text))
                          ELSE '{}'::jsonb END)))::text,
       %(ct_referralaccount)s,
       CASE WHEN m = 0 THEN %(user_hr_withdrawals)s ELSE %(user_hr)s END
FROM (SELECT i, mod(i, 5) AS m FROM generate_series(1, %(n_log_accounts)s) AS i) AS g
JOIN referrals_referralaccount AS a ON a.id = %(account_base)s + mod(i * 7919, %(n_accounts)s)
UNION ALL
SELECT now() - interval '365 days' * random(), w.id::text, w.external_order_id, 2,
       jsonb_build_array(jsonb_build_object('hireops', jsonb_build_object(
           'message', %(log_retried)s, 'params', '{}'::jsonb)))::text,
       %(ct_withdrawal)s, %(user_hr_withdrawals)s
FROM referrals_withdrawal AS w WHERE mod(w.id, 10) = 0 AND w.status <> 'succeeded' OR mod(w.id, 50) = 0
""",
    ),
    (
        "change history: bindings, customers, custom fields",
        """
INSERT INTO django_admin_log
    (action_time, object_id, object_repr, action_flag, change_message, content_type_id, user_id)
SELECT b.updated_at, b.id::text, left(b.account_name, 200), 2,
       jsonb_build_array(jsonb_build_object('hireops', CASE
           WHEN b.status = 'rejected' THEN jsonb_build_object(
               'message', %(log_rejected)s, 'params', jsonb_build_object('reason', b.review_reason))
           WHEN b.status = 'bound' THEN jsonb_build_object(
               'message', %(log_bound)s, 'params', jsonb_build_object('customer', c.name))
           ELSE jsonb_build_object('message', %(log_rematched)s, 'params', '{}'::jsonb) END))::text,
       %(ct_ecoaccountbinding)s, %(user_vendor)s
FROM bindings_ecoaccountbinding AS b LEFT JOIN bindings_vendorcustomer AS c ON c.id = b.customer_id
WHERE b.decided_manually OR (b.status = 'needs_review' AND mod(b.id, 3) = 0)
UNION ALL
SELECT c.created_at, c.id::text, left(c.name, 200), 1, '[{"added": {}}]', %(ct_vendorcustomer)s,
       %(user_vendor)s
FROM bindings_vendorcustomer AS c WHERE mod(c.id, 7) = 0
UNION ALL
SELECT now() - interval '1 day' * i, f.id::text,
       CASE f.scope WHEN 1 THEN '背调 · ' ELSE '笔试 · ' END || f.key, 2,
       '[{"changed": {"fields": ["Display order", "Active"]}}]', %(ct_customfielddefinition)s, %(user_vendor)s
FROM bindings_customfielddefinition AS f CROSS JOIN generate_series(1, 40) AS i
""",
    ),
    (
        "change history: events reprocessed",
        """
INSERT INTO django_admin_log
    (action_time, object_id, object_repr, action_flag, change_message, content_type_id, user_id)
SELECT received_at + interval '2 hours', id::text, left(event_type || ' ' || event_id, 200), 2,
       jsonb_build_array(jsonb_build_object('hireops', jsonb_build_object(
           'message', %(log_reprocessed)s, 'params', '{}'::jsonb)))::text,
       %(ct_feishuevent)s,
       CASE event_type WHEN %(eco_event)s THEN %(user_vendor)s WHEN %(referral_event)s THEN %(user_hr)s
            ELSE %(user_superuser)s END
FROM events_feishuevent WHERE status = 'failed' OR (status = 'processed' AND attempts > 1)
""",
    ),
    (
        "catalogue: packages and papers",
        """
WITH p AS (
    INSERT INTO orders_package
        (code, name, description, turnaround_days, is_active, display_order, updated_at)
    SELECT 'pkg-' || lpad(i::text, 3, '0'), '背调套餐 ' || i, '', 3 + mod(i, 12), true, i, now()
    FROM generate_series(1, 40) AS i RETURNING 1
)
INSERT INTO orders_exampaper
    (code, name, duration_minutes, question_count, turnaround_days, is_active, display_order, updated_at)
SELECT 'paper-' || lpad(i::text, 3, '0'), '笔试试卷 ' || i, 60, 40, 7, true, i, now()
FROM generate_series(1, 20) AS i
""",
    ),
    (
        "background checks",
        """
WITH accounts AS (
    SELECT row_number() OVER (ORDER BY id) AS k, id, app_id, tenant_key, account_id, customer_id
    FROM bindings_ecoaccountbinding WHERE status = 'bound' AND scope = 1
), n AS (SELECT count(*) AS n FROM accounts)
INSERT INTO orders_backgroundcheck
    (app_id, tenant_key, account_id, binding_id, customer_id, candidate_name, candidate_mobile_code,
     candidate_mobile, candidate_email, received_at, ended_at, source_event_id, background_check_id,
     package_id, additional_item_ids, custom_field_values, comment, candidate_first_name,
     candidate_last_name, contact_name, contact_mobile_code, contact_mobile, contact_email, state,
     cancel_reason, result)
SELECT a.app_id, a.tenant_key, a.account_id, a.id, a.customer_id,
       (%(surnames)s::text[])[1 + mod(i, array_length(%(surnames)s::text[], 1))]
       || (%(given)s::text[])[1 + mod(i / 3, array_length(%(given)s::text[], 1))],
       '86', '139' || lpad(i::text, 8, '0'), 'c' || i || '@example.com',
       received, CASE WHEN state IN ('completed', 'canceled', 'terminated')
                      THEN received + interval '1 day' * (1 + mod(i, 9)) END,
       md5('check-' || i::text), (7400000000000000000 + i::bigint)::text,
       'pkg-' || lpad((1 + mod(i, 40))::text, 3, '0'), '[]', '[]', '', '', '', 'HR', '86', '', '', state,
       CASE WHEN state = 'canceled' THEN '候选人放弃' ELSE '' END,
       CASE WHEN state = 'completed' THEN '无差异' ELSE '' END
FROM (
    SELECT i, received,
           CASE WHEN received > now() - interval '20 days' THEN
                    CASE WHEN r < 0.4 THEN 'new' WHEN r < 0.9 THEN 'in_progress' ELSE 'completed' END
                WHEN r < 0.85 THEN 'completed' WHEN r < 0.93 THEN 'canceled'
                WHEN r < 0.97 THEN 'terminated' ELSE 'in_progress' END AS state
    FROM (
        SELECT i, random() AS r,
               now() - interval '365 days' * (1 - i::float8 / %(n_background_checks)s) AS received
        FROM generate_series(1, %(n_background_checks)s) AS i
    ) AS g
) AS c, n
JOIN accounts AS a ON true
WHERE a.k = 1 + mod(i::bigint * 7919, n.n)
""",
    ),
    (
        "exams",
        """
WITH accounts AS (
    SELECT row_number() OVER (ORDER BY id) AS k, id, app_id, tenant_key, account_id, customer_id
    FROM bindings_ecoaccountbinding WHERE status = 'bound' AND scope = 2
), n AS (SELECT count(*) AS n FROM accounts)
INSERT INTO orders_exam
    (app_id, tenant_key, account_id, binding_id, customer_id, candidate_name, candidate_mobile_code,
     candidate_mobile, candidate_email, received_at, ended_at, source_event_id, exam_id, paper_id,
     talent_id, application_id, state, exam_url, exam_username, exam_password, score)
SELECT a.app_id, a.tenant_key, a.account_id, a.id, a.customer_id,
       (%(surnames)s::text[])[1 + mod(i, array_length(%(surnames)s::text[], 1))]
       || (%(given)s::text[])[1 + mod(i / 5, array_length(%(given)s::text[], 1))],
       '86', '138' || lpad(i::text, 8, '0'), 'e' || i || '@example.com',
       received, CASE WHEN state IN ('answered', 'graded') THEN received + interval '2 days' END,
       md5('exam-' || i::text), (7500000000000000000 + i::bigint)::text,
       'paper-' || lpad((1 + mod(i, 20))::text, 3, '0'), '', '', state,
       CASE WHEN state <> 'new' THEN 'https://exam.example.com/' || i ELSE '' END, '', '',
       CASE WHEN state IN ('answered', 'graded') THEN (50 + mod(i, 50))::text ELSE '' END
FROM (
    SELECT i, received,
           CASE WHEN received > now() - interval '10 days' THEN
                    CASE WHEN r < 0.3 THEN 'new' WHEN r < 0.8 THEN 'arranged' ELSE 'answered' END
                WHEN r < 0.6 THEN 'answered' WHEN r < 0.97 THEN 'graded' ELSE 'arranged' END AS state
    FROM (
        SELECT i, random() AS r, now() - interval '365 days' * (1 - i::float8 / %(n_exams)s) AS received
        FROM generate_series(1, %(n_exams)s) AS i
    ) AS g
) AS e, n
JOIN accounts AS a ON true
WHERE a.k = 1 + mod(i::bigint * 7919, n.n)
""",
    ),
]


# The statements name the tenant macro; each is the same SQL for every spread.
STATEMENTS = [(label, sql.replace("{TENANT_OF_R2}", TENANT_OF_R2)) for label, sql in STATEMENTS]


def _filled(model_label: str, given: dict[str, str], source: str, params: dict) -> str:
    """``INSERT … SELECT`` into a model's table: ``given`` maps a column to its SQL expression
    (over ``source``); every other NOT NULL column gets its field's default as a parameter, a
    timestamp Django sets itself ``now()``, a nullable one NULL. A column added later with a
    default so fills itself, instead of breaking the seed as a hand-written column list does."""
    from django.apps import apps
    from django.db import connection
    from django.db.models.expressions import DatabaseDefault

    model = apps.get_model(model_label)
    columns, values = [], []
    for field in model._meta.concrete_fields:
        column = field.column
        if field.primary_key and column not in given:
            continue
        if column in given:
            value = given[column]
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            value = "now()"
        elif field.null:
            continue
        else:
            default = field.get_default()
            if isinstance(default, DatabaseDefault):
                continue  # the database fills it
            if default is None:
                raise ValueError(f"{model_label}.{field.name} has no default: the seed must give it")
            key = f"default__{model._meta.db_table}__{column}"
            params[key] = field.get_db_prep_save(default, connection)
            value = f"%({key})s"
        columns.append(column)
        values.append(value)
    return f"INSERT INTO {model._meta.db_table} ({', '.join(columns)})\nSELECT {', '.join(values)}\n{source}"


def _dashboard_statements(params: dict) -> list[tuple[str, str]]:
    """What the dashboards and the status page count, at a large customer's proportions: a
    year of monthly payout runs (one paying, one waiting for its approver, a few lines held),
    every account's registration, enable/deactivate requests, rewards from outside, leavers,
    each order's writes to Feishu and the catalogue's pushes, with their failures of the last
    week."""
    week = "now() - interval '7 days'"
    return [
        (
            "payout runs (12 paid, 1 paying, 1 awaiting approval)",
            _filled(
                "referrals.PayoutRun",
                {
                    "title": "'月度内推奖励 ' || r",
                    "status": "CASE WHEN r <= 12 THEN 'finished' WHEN r = 13 THEN 'paying' "
                    "ELSE 'awaiting' END",
                    "prepared_by_id": "%(user_hr)s",
                    "prepared_at": "now() - interval '30 days' * (14 - r) - interval '2 days'",
                    "decided_by_id": "CASE WHEN r <= 13 THEN %(user_hr_withdrawals)s END",
                    "decided_at": "CASE WHEN r <= 13 THEN now() - interval '30 days' * (14 - r) END",
                    "finished_at": "CASE WHEN r <= 12 "
                    "THEN now() - interval '30 days' * (14 - r) + interval '1 hour' END",
                    "totals": """'{"CNY": "10.00"}'::jsonb""",
                },
                "FROM generate_series(1, 14) AS r",
                params,
            ),
        ),
        (
            "payout lines (every 20th active account a run)",
            _filled(
                "referrals.PayoutLine",
                {
                    "run_id": "r.id",
                    "account_id": "a.id",
                    "tenant_key": "a.tenant_key",
                    "external_order_id": "'payout-' || r.id || '-' || a.id",
                    "cash": """'{"CNY": "10.00"}'::jsonb""",
                    "requested_by_id": "r.prepared_by_id",
                    "requested_at": "r.prepared_at",
                    "status": "CASE WHEN r.status <> 'finished' THEN 'queued' "
                    "WHEN mod(a.id, 2 * %(fail_every)s) = 0 THEN 'failed' ELSE 'succeeded' END",
                    "held": "r.status = 'finished' AND mod(a.id, 2 * %(fail_every)s) = 0",
                    "attempts": "CASE WHEN r.status = 'finished' THEN 1 ELSE 0 END",
                    "withdraw_sent": "r.status = 'finished' AND mod(a.id, 2 * %(fail_every)s) <> 0",
                    "finished_at": "r.finished_at",
                    # What Feishu confirmed it paid (HR's trends sum it per run and currency).
                    "withdrawn_cash": "CASE WHEN r.status = 'finished' "
                    "AND mod(a.id, 2 * %(fail_every)s) <> 0 "
                    """THEN '{"CNY": "10.00"}'::jsonb END""",
                },
                "FROM referrals_payoutrun AS r JOIN referrals_referralaccount AS a "
                "ON mod(a.id, 20) = mod(r.id, 20) AND a.status = 'active'",
                params,
            ),
        ),
        (
            "account registrations (one an account)",
            _filled(
                "referrals.AccountRegistration",
                {
                    "account_id": "a.id",
                    "requested_by_id": "%(user_hr)s",
                    "requested_at": "a.created_at",
                    "status": "CASE a.status WHEN 'failed' THEN 'failed' WHEN 'pending' THEN 'queued' "
                    "ELSE 'succeeded' END",
                    "attempts": "1",
                    "finished_at": "CASE WHEN a.status <> 'pending' "
                    "THEN a.created_at + interval '2 seconds' END",
                },
                "FROM referrals_referralaccount AS a",
                params,
            ),
        ),
        (
            "enable/deactivate requests (one account in twenty)",
            _filled(
                "referrals.AccountStatusChange",
                {
                    "account_id": "a.id",
                    "action": "CASE WHEN a.status = 'deactivated' THEN 'deactivate' ELSE 'enable' END",
                    "requested_by_id": "%(user_hr)s",
                    "requested_at": "a.updated_at",
                    "status": "CASE WHEN a.pending_action <> '' THEN 'queued' "
                    "WHEN mod(a.id, 97) = 0 THEN 'failed' ELSE 'succeeded' END",
                    "attempts": "1",
                    "finished_at": "CASE WHEN a.pending_action = '' THEN a.updated_at END",
                },
                "FROM referrals_referralaccount AS a "
                "WHERE a.account_id IS NOT NULL AND (mod(a.id, 20) = 0 OR a.pending_action <> '')",
                params,
            ),
        ),
        (
            "rewards from outside",
            _filled(
                "referrals.ExternalReferralReward",
                {
                    "tenant_key": "a.tenant_key",
                    "external_id": "'ext-' || i",
                    "employee_id": "'u' || a.id",
                    "account_id": "a.id",
                    "name": "a.name",
                    "application_id": "'app-' || i",
                    "talent_id": "'tal-' || i",
                    "job_id": "'job-' || mod(i, 300)",
                    "rule_type": "1",
                    "stage": "1 + mod(i, 3)",
                    "bonus_type": "2",
                    "currency": "CASE WHEN mod(i, 10) = 0 THEN 'USD' ELSE 'CNY' END",  # the trends' two
                    "amount": "500",
                    "requested_by_id": "%(user_hr)s",
                    "requested_at": "now() - interval '365 days' * (1 - i::float8 / %(n_rewards)s)",
                    # Closed by Feishu's answer a moment later (HR's trends count them by it).
                    "finished_at": "CASE WHEN i <= %(n_rewards)s - 20 THEN now() + interval '2 seconds' "
                    "- interval '365 days' * (1 - i::float8 / %(n_rewards)s) END",
                    "status": "CASE WHEN mod(i, %(fail_every)s) = 0 "
                    "AND i > %(n_rewards)s - %(n_rewards)s / 50 THEN 'failed' "
                    "WHEN i > %(n_rewards)s - 20 THEN 'queued' ELSE 'succeeded' END",
                    "attempts": "1",
                    "reward_id": "CASE WHEN mod(i, %(fail_every)s) <> 0 THEN 'rw-' || i ELSE '' END",
                },
                "FROM generate_series(1, %(n_rewards)s) AS i "
                "JOIN referrals_referralaccount AS a "
                "ON a.id = %(account_base)s + mod(i::bigint * 7919, %(n_accounts)s)",
                params,
            ),
        ),
        (
            "leavers",
            _filled(
                "referrals.Leaver",
                {
                    "tenant_key": "a.tenant_key",
                    "open_id": "'ou_leaver_' || i",
                    "union_id": "'on_leaver_' || i",
                    "user_id": "'u' || a.id",
                    "name": "a.name",
                    "how": "CASE WHEN mod(i, 10) = 0 THEN 'deleted' ELSE 'resigned' END",
                    "source_event_id": "md5('leaver-' || i)",
                    "match": "CASE WHEN mod(i, %(fail_every)s / 4) = 0 THEN 'none' ELSE 'matched' END",
                    "account_id": "CASE WHEN mod(i, %(fail_every)s / 4) <> 0 THEN a.id END",
                    # Each policy, most with cash to pay (HR's leavers chart: what became of them).
                    "policy": "(ARRAY['next_run', 'at_once', 'deactivate'])[1 + mod(i, 3)]",
                    "cash_then": 'CASE WHEN mod(i, 5) <> 0 THEN \'{"CNY": "120.50"}\'::jsonb '
                    "ELSE '{}'::jsonb END",
                    "points_then": "mod(i, 7) * 10",
                    "handled_by_hand": "mod(i, 97) = 0",
                    "state": "CASE WHEN mod(i, %(fail_every)s / 4) = 0 THEN 'needs_person' "
                    "WHEN i > %(n_leavers)s - %(n_leavers)s / 20 THEN 'awaiting_run' ELSE 'done' END",
                    "created_at": "now() - interval '365 days' * (1 - i::float8 / %(n_leavers)s)",
                },
                "FROM generate_series(1, %(n_leavers)s) AS i "
                "JOIN referrals_referralaccount AS a "
                "ON a.id = %(account_base)s + mod(i::bigint * 104729, %(n_accounts)s)",
                params,
            ),
        ),
        (
            "order writes (progress and result of each check, login and score of each exam)",
            _filled(
                "orders.OrderWrite",
                {
                    "kind": "w.kind",
                    "background_check_id": "w.check_id",
                    "exam_id": "w.exam_id",
                    "tenant_key": "w.tenant_key",
                    "stage_id": "CASE WHEN w.kind = 'progress' THEN 'stage-1' ELSE '' END",
                    "stage_name": "CASE WHEN w.kind = 'progress' THEN '核验中' ELSE '' END",
                    "requested_by_id": "%(user_vendor)s",
                    "requested_at": "w.at",
                    "status": f"CASE WHEN w.at > {week} AND mod(w.n, %(fail_every)s) = 0 THEN 'failed' "
                    f"WHEN w.at > now() - interval '1 hour' THEN 'queued' ELSE 'succeeded' END",
                    "attempts": "1",
                    "finished_at": "CASE WHEN w.at <= now() - interval '1 hour' "
                    "THEN w.at + interval '1 second' END",
                },
                """FROM (
    SELECT row_number() OVER () AS n, * FROM (
        SELECT 'progress' AS kind, c.id AS check_id, NULL::bigint AS exam_id, c.tenant_key,
               c.received_at + interval '1 hour' AS at
        FROM orders_backgroundcheck AS c WHERE c.state <> 'new'
        UNION ALL
        SELECT 'result', c.id, NULL, c.tenant_key, c.ended_at
        FROM orders_backgroundcheck AS c WHERE c.state = 'completed'
        UNION ALL
        SELECT 'login', NULL, e.id, e.tenant_key, e.received_at + interval '1 hour'
        FROM orders_exam AS e WHERE e.state <> 'new'
    ) AS u
) AS w""",
                params,
            ),
        ),
        (
            "catalogue pushes",
            _filled(
                "orders.CataloguePush",
                {
                    "binding_id": "b.id",
                    "catalogue": "(ARRAY['packages', 'form_fields', 'papers'])[1 + mod(b.id, 3)]",
                    "tenant_key": "b.tenant_key",
                    "requested_by_id": "%(user_vendor)s",
                    "requested_at": "b.updated_at",
                    "started_at": "b.updated_at",
                    "status": f"CASE WHEN b.updated_at > {week} "
                    "AND mod(b.id, %(fail_every)s / 5) = 0 THEN 'failed' ELSE 'succeeded' END",
                    "attempts": "1",
                    "finished_at": "b.updated_at + interval '3 seconds'",
                },
                "FROM bindings_ecoaccountbinding AS b WHERE b.status = 'bound' AND mod(b.id, 50) = 0",
                params,
            ),
        ),
    ]


SEEDED_TABLES = [
    "events_feishuevent",
    "referrals_referralaccount",
    "referrals_accountcash",
    "referrals_balancechange",
    "referrals_withdrawal",
    "referrals_reconciliationrun",
    "referrals_reconciliationmismatch",
    "bindings_vendorcustomer",
    "bindings_customeridentifier",
    "bindings_ecoaccountbinding",
    "bindings_bindingstatuschange",
    "bindings_customfielddefinition",
    "bindings_matchingrule",
    "bindings_fieldscope",
    "bindings_fieldpublish",
    "jobs_bulkjob",
    "jobs_bulkjobitem",
    "django_admin_log",
    "orders_package",
    "orders_exampaper",
    "orders_backgroundcheck",
    "orders_exam",
    "referrals_payoutrun",
    "referrals_payoutline",
    "referrals_accountregistration",
    "referrals_accountstatuschange",
    "referrals_externalreferralreward",
    "referrals_leaver",
    "orders_orderwrite",
    "orders_cataloguepush",
]


# What the secondary indexes, unique constraints and foreign keys of the seeded tables are:
# (statement dropping it, statement recreating it). Primary keys stay.
_SCHEMA_EXTRAS = """
SELECT 'ALTER TABLE ' || quote_ident(t.relname) || ' DROP CONSTRAINT ' || quote_ident(c.conname),
       'ALTER TABLE ' || quote_ident(t.relname) || ' ADD CONSTRAINT ' || quote_ident(c.conname) || ' '
       || pg_get_constraintdef(c.oid),
       c.contype = 'f'
FROM pg_constraint AS c JOIN pg_class AS t ON t.oid = c.conrelid
WHERE t.relname = ANY(%(tables)s) AND c.contype IN ('u', 'f')
UNION ALL
SELECT 'DROP INDEX ' || i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid), false
FROM pg_index AS i JOIN pg_class AS t ON t.oid = i.indrelid
WHERE t.relname = ANY(%(tables)s) AND NOT i.indisprimary
  AND NOT EXISTS (SELECT 1 FROM pg_constraint AS c
                  WHERE c.conrelid = i.indrelid AND c.conindid = i.indexrelid)
"""


def _client_binding_cursor():
    """A cursor that binds parameters on the client: the seed's SQL gives one parameter several
    places of different types (text and varchar, an argument of jsonb_build_object), which
    only client-side binding takes. The project's own connections bind on the server
    (config/settings/django.py)."""
    from django.db import connection
    from django.db.backends.postgresql.base import Cursor  # psycopg's ClientCursor, Django's adapters

    connection.ensure_connection()
    return Cursor(connection.connection)


def seed(scale: float, users: dict[str, int], out=print, spread: str = "large") -> float:
    """Fill the bench database (its tables empty) at ``scale``, spread as ``SPREADS[spread]``
    says; returns the seconds it took, VACUUM ANALYZE included. ``users``: role key → user pk
    (superuser, vendor, hr, hr_withdrawals, auditor)."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection, transaction

    n = sizes(scale)
    models = {
        "referralaccount": ("referrals", "referralaccount"),
        "withdrawal": ("referrals", "withdrawal"),
        "ecoaccountbinding": ("bindings", "ecoaccountbinding"),
        "vendorcustomer": ("bindings", "vendorcustomer"),
        "customfielddefinition": ("bindings", "customfielddefinition"),
        "feishuevent": ("events", "feishuevent"),
    }
    content_types = {
        name: ContentType.objects.get_by_natural_key(app, model).pk for name, (app, model) in models.items()
    }
    params = {**_params(n, users, content_types), **SPREADS[spread]}
    # The change history's share of each kind of record (the rest: bindings, fields, events).
    params["n_log_accounts"] = max(1, round(n["log_entries"] * 0.45))
    started = time.perf_counter()
    with transaction.atomic(), _client_binding_cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute("SELECT setseed(0.42)")
        # Building an index once over a full table is many times faster than keeping it up
        # row by row, and a foreign key added afterwards is checked by one join instead of a
        # deferred trigger per row at commit. The same schema is put back below.
        cursor.execute(_SCHEMA_EXTRAS, {"tables": SEEDED_TABLES})
        extras = cursor.fetchall()
        for drop, _create, _is_fk in extras:
            cursor.execute(drop)
        for label, sql in [*STATEMENTS, *_dashboard_statements(params), *seed_calls.statements()]:
            # Ids of rows inserted by one statement in an empty table are consecutive: later
            # statements address the k-th account or customer as base + k - 1.
            if label == "withdrawals":
                cursor.execute("SELECT min(id) FROM referrals_referralaccount")
                params["account_base"] = cursor.fetchone()[0]
                cursor.execute("SELECT count(*) FROM referrals_referralaccount WHERE status = 'active'")
                params["n_active"] = max(1, cursor.fetchone()[0])
                params["withdrawal_step"] = max(1, params["n_active"] // n["withdrawals"])
            if label.startswith("customer identifiers"):
                cursor.execute("SELECT min(id) FROM bindings_vendorcustomer")
                params["customer_base"] = cursor.fetchone()[0]
            t0 = time.perf_counter()
            cursor.execute(sql, params)
            out(f"  {label:<55} {cursor.rowcount:>10,} rows  {time.perf_counter() - t0:6.1f} s")
        t0 = time.perf_counter()
        for _drop, create, _is_fk in sorted(extras, key=lambda extra: extra[2]):  # keys last
            cursor.execute(create)
        out(
            f"  {f'{len(extras)} indexes, unique constraints, foreign keys':<55} {'':>10}       "
            f"{time.perf_counter() - t0:6.1f} s"
        )
        t0 = time.perf_counter()
    out(f"  {'commit':<55} {'':>10}       {time.perf_counter() - t0:6.1f} s")
    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        # What autovacuum does to a live database: statistics, hint bits and the visibility map
        # (index-only scans), so the first timed pages neither write nor plan blind.
        for table in SEEDED_TABLES:
            cursor.execute("VACUUM ANALYZE " + connection.ops.quote_name(table))
    out(f"  {'VACUUM ANALYZE':<55} {'':>10}       {time.perf_counter() - t0:6.1f} s")
    return time.perf_counter() - started
