"""Benchmark: a store app publishes one scope's custom fields to 1,000 customer tenants.

    REDIS_URL=redis://127.0.0.1:6379/6 .venv/bin/python bench/publish_fanout.py [--tenants 1000]
        [--concurrency 4]

Starts the Feishu sandbox (a subprocess) and installs ``--tenants`` tenants there, records the
same tenants (installed) in a PostgreSQL database (DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/hireops_fanout_bench, created and migrated here) with two
custom fields of scope 1, delivers the app ticket, then runs the publish as production does:
``fields_publish_request`` queues one publish per tenant and a real ``celery worker`` (threads
pool, ``--concurrency``) on the Redis broker sends them, each with its tenant's token.

Prints the wall time from the request until every publish finished, the calls the sandbox
answered per second (token fetches and creates), the 429s it answered, and whether every
tenant's Feishu holds the fields. Feishu's limits are per app and tenant (1,000/min and 50/s
for this endpoint, docs/feishu.md): each tenant here gets one call, so a 429 would mean the
limiter mixed tenants up. Target: every tenant published, 0 x 429.
"""

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.support import redis_missing, sandbox_stack  # noqa: E402

FIELDS = "/open-apis/hire/v1/eco_account_custom_fields"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    if redis_missing():
        return 2
    with sandbox_stack("fanout", control_timeout=60, FEISHU_APP_TYPE="store", LOG_LEVEL="WARNING") as stack:
        from django.conf import settings

        from bindings.models import CustomFieldDefinition, FieldPublish, TenantFieldScope
        from bindings.publishing import fields_publish_request, scope_touch
        from hireops.core.models import CallStatus
        from hireops.feishu import save_app_ticket
        from hireops.tenants.models import Tenant

        control = stack.control
        keys = [f"bench-tenant-{i:04d}" for i in range(args.tenants)]
        for key in keys:
            control.install_tenant(key)
        FieldPublish.objects.all().delete()
        TenantFieldScope.objects.all().delete()
        Tenant.objects.all().delete()
        Tenant.objects.bulk_create([Tenant(tenant_key=key) for key in keys])
        CustomFieldDefinition.objects.all().delete()
        for key, zh, en in (
            ("org_id", "机构编号", "Organisation ID"),
            ("api_token", "接口令牌", "API token"),
        ):
            CustomFieldDefinition.objects.create(scope=1, key=key, name_zh=zh, name_en=en)
        scope_touch(1)
        save_app_ticket(settings.FEISHU_APP_ID, control.push_app_ticket()["event"]["app_ticket"])
        control.clear_requests()

        stack.start_worker(args.concurrency)
        time.sleep(3)  # the worker connects to the broker
        started = time.monotonic()
        publishes = fields_publish_request(1)
        batch = publishes[0].batch
        pending = FieldPublish.objects.filter(batch=batch, status=CallStatus.QUEUED)
        while pending.exists():
            time.sleep(0.2)
            if time.monotonic() - started > 600:
                print("gave up after 600 s")
                return 1
        wall = time.monotonic() - started

        log = control.requests()
        answered = [r for r in log if r["status"] == 200]
        met_429 = sum(1 for r in log if r["status"] == 429)
        succeeded = FieldPublish.objects.filter(batch=batch, status=CallStatus.SUCCEEDED).count()
        in_feishu = {
            e["tenant_key"] for e in control.state()["custom_fields"] if e["scope"] == 1 and e["fields"]
        }
        creates = sum(1 for r in answered if r["path"] == FIELDS)
        print(
            f"tenants         {args.tenants}, worker celery --pool=threads --concurrency={args.concurrency}"
        )
        print(f"wall time       {wall:.1f} s from the request to the last publish finished")
        print(f"calls           {len(answered)} answered 200 ({creates} creates, the rest token fetches)")
        print(f"rate            {len(answered) / wall:.0f} calls/s over all tenants")
        print(f"429 met         {met_429}")
        print(f"published       {succeeded} publishes succeeded; {len(in_feishu)} tenants hold the fields")
        passed = succeeded == args.tenants and len(in_feishu) == args.tenants and met_429 == 0
        print("RESULT          " + ("PASS" if passed else "FAIL"))
        return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
