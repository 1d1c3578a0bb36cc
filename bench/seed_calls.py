"""The seed of the operators' trends' raw rows (bench/seed.py): what their retention keeps,
35 days of calls to Feishu (4,000 a day over the twelve kinds), of webhook delivery attempts
(6,000 a day over five endpoints) and of hourly API request counts (20 keys and the requests
with no key, three outcomes). Older figures live in the rollups alone."""

FEISHU_KINDS = [
    "tenants.lookup_name",
    "bindings.publish_fields",
    "orders.push_catalogue",
    "orders.send_write",
    "referrals.register_account",
    "referrals.change_status",
    "referrals.reconcile",
    "referrals.withdraw",
    "referrals.external_reward_create",
    "referrals.external_reward_delete",
    "referrals.payout_message",
    "referrals.pay_line",
]


def statements() -> list[tuple[str, str]]:
    kinds = "ARRAY[" + ", ".join(f"'{k}'" for k in FEISHU_KINDS) + "]"
    outcome = "CASE WHEN mod(i, 50) = 0 THEN 'failed' WHEN mod(i, 10) = 0 THEN 'retried' ELSE 'succeeded' END"
    return [
        (
            "calls to Feishu, 35 days",
            "INSERT INTO"  # noqa: S608  (constants only)
            " calls_made_callmade (metric, dimension, outcome, at) "
            f"SELECT 'feishu.calls', ({kinds})[1 + mod(i, 12)], {outcome}, "
            "now() - interval '35 days' * random() FROM generate_series(1, 140000) AS i",
        ),
        (
            "webhook delivery attempts, 35 days",
            "INSERT INTO"  # noqa: S608  (constants only)
            " calls_made_callmade (metric, dimension, outcome, at) "
            f"SELECT 'webhooks.deliveries', (1 + mod(i, 5))::text, {outcome}, "
            "now() - interval '35 days' * random() FROM generate_series(1, 210000) AS i",
        ),
        (
            "API requests counted per hour, 35 days",
            "INSERT INTO api_requestcount (hour, key_prefix, outcome, count, batch) "
            "SELECT date_trunc('hour', now()) - interval '1 hour' * h, "
            "CASE WHEN k = 0 THEN '' ELSE 'hko_bench' || lpad(k::text, 4, '0') END, o, "
            "1 + (random() * 1000)::int, 'seed:' || h "
            "FROM generate_series(1, 840) AS h, generate_series(0, 20) AS k, "
            "unnest(ARRAY['answered', 'refused', 'failed']) AS o",
        ),
    ]
