"""Messages from the app to one person in Feishu (docs/feishu.md §18): ``POST
/open-apis/im/v1/messages?receive_id_type=open_id`` with the tenant_access_token, and the
interactive card such a message carries.

The body's ``content`` is the card as a JSON *string* (unlike a custom group bot's ``card``
object). ``uuid`` (at most 50 characters) makes a repeat harmless: Feishu sends at most one
message per uuid within an hour, so a call retried after a lost answer, with the same uuid,
reaches the person once. A card's content may not exceed 30 KB: keep what it lists bounded.

Cards are built from plain text only (``plain_text`` elements, never ``lark_md``): what staff
typed (a run's title, a username) is shown as typed, and cannot mention everyone or hide a
link in markdown.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from .http import FeishuClient
from .shapes import JSONObject

ENDPOINT = "im.message.create"
MAX_UUID = 50
# Header colours Feishu's card JSON 1.0 offers; the ones hireops uses.
TEMPLATES = ("blue", "green", "orange", "red", "grey")


@dataclass(frozen=True)
class SentMessage:
    message_id: str
    chat_id: str = ""
    log_id: str | None = None


def _text(content: str) -> JSONObject:
    return {"tag": "plain_text", "content": content}


def card(
    title: str,
    paragraphs: Sequence[str],
    *,
    button: tuple[str, str] | None = None,
    template: str = "blue",
) -> JSONObject:
    """A card (JSON 1.0): a header with ``title``, one block of plain text per paragraph (its
    line breaks kept), and a button ``(label, url)`` that opens the URL."""
    if template not in TEMPLATES:
        raise ValueError(f"template must be one of {', '.join(TEMPLATES)}")
    elements: list[JSONObject] = [{"tag": "div", "text": _text(p)} for p in paragraphs if p]
    if button is not None:
        label, url = button
        action = {"tag": "button", "text": _text(label), "type": "primary", "url": url}
        elements.append({"tag": "action", "actions": [action]})
    return {
        "config": {"wide_screen_mode": True},
        "header": {"title": _text(title), "template": template},
        "elements": elements,
    }


def send_message(
    client: FeishuClient,
    *,
    receive_id: str,
    content: JSONObject,
    uuid: str,
    msg_type: str = "interactive",
    receive_id_type: str = "open_id",
    tenant_key: str | None = None,
) -> SentMessage:
    """Send one message to ``receive_id`` (an open_id of this app by default). ``uuid`` is
    the message's idempotency key: send a retry with the same one. Not repeated by the client
    after a failure, like every call (the task repeats it, with the same uuid)."""
    if not uuid or len(uuid) > MAX_UUID:
        raise ValueError(f"uuid: 1 to {MAX_UUID} characters")
    resp = client.request(
        "POST",
        "/open-apis/im/v1/messages",
        endpoint=ENDPOINT,
        params={"receive_id_type": receive_id_type},
        json={
            "receive_id": receive_id,
            "msg_type": msg_type,
            "content": json.dumps(content, ensure_ascii=False),
            "uuid": uuid,
        },
        tenant_key=tenant_key,
    )
    return SentMessage(
        message_id=str(resp.data.get("message_id") or ""),
        chat_id=str(resp.data.get("chat_id") or ""),
        log_id=resp.log_id,
    )
