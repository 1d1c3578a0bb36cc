"""The peer of ``bench/webhook.py``: the official SDK's own receiver, stateless.

    gunicorn bench.sdk_receiver:app -w 2

lark-oapi's event dispatcher in Flask, exactly as the SDK's README shows it (its Flask
adapter, ``parse_req`` / ``parse_resp``), with a handler that does nothing: it decrypts,
verifies the token and the signature, decodes the event and answers 200, storing nothing.
Same keys as the benchmark's deliveries. Unmodified: nothing here reaches into the package.
"""

import lark_oapi as lark
from flask import Flask
from lark_oapi.adapter.flask import parse_req, parse_resp

KEY, TOKEN = "bench-encrypt-key", "bench-verification-token"  # as bench/webhook.py signs


def _ignore(data) -> None:
    return None


handler = (
    lark.EventDispatcherHandler.builder(KEY, TOKEN, lark.LogLevel.WARNING)
    .register_p1_customized_event("app_ticket", _ignore)
    .register_p2_hire_eco_account_created_v1(_ignore)
    .register_p2_hire_referral_account_assets_update_v1(_ignore)
    .build()
)
app = Flask(__name__)


@app.route("/feishu/events/", methods=["POST"])
def event():
    return parse_resp(handler.do(parse_req()))
