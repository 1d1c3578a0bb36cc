"""What each person read from the app in Feishu (im_api.py), for people trying hireops and for
tests: ``GET /im/`` shows every message per person, newest first, each card as its reader sees
it (title, text, buttons with their links); ``/_sandbox/im/…`` lists them and plays what the
app's administrators and Feishu's users can change.

GET  /_sandbox/im/messages[?open_id=…]  messages delivered, oldest first: {message_id, chat_id,
                                        app_id, tenant_key, open_id, name, msg_type, content
                                        (the string sent), card (parsed), uuid, time, shown
                                        (a card's title, texts, buttons)}
POST /_sandbox/im/availability          {open_id, available: bool} the person is (not) within
                                        the app's availability scope (可用范围): 230013 if not
POST /_sandbox/im/bot                   {enabled: bool} the app's bot ability: 230006 when off
"""

import html
import time

from .im_api import card_texts


def messages(state, open_id: str | None = None) -> list[dict]:
    with state.lock:
        people = [open_id] if open_id else list(state.im_messages)
        found = [dict(m) for person in people for m in state.im_messages.get(person, ())]
    for message in found:
        if message["card"]:
            message["shown"] = card_texts(message["card"])
    return sorted(found, key=lambda m: m["time"])


def _messages(sb, call):
    return messages(sb.state, call.query.get("open_id"))


def _availability(sb, call):
    b = call.body
    open_id, available = b["open_id"], b.get("available", True)
    if not isinstance(available, bool):
        raise ValueError("available must be true or false")
    with sb.state.lock:
        if not any(e["open_id"] == open_id for e in sb.state.employees):
            raise ValueError(f"no employee with open_id {open_id!r}")
        if available:
            sb.state.im_unavailable.discard(open_id)
        else:
            sb.state.im_unavailable.add(open_id)
        return {"open_id": open_id, "available": available}


def _bot(sb, call):
    enabled = call.body.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ValueError("enabled must be true or false")
    with sb.state.lock:
        sb.state.im_bot_enabled = enabled
    return {"enabled": enabled}


CONTROL_ROUTES = [
    ("GET", "/_sandbox/im/messages", _messages, {"kind": "control"}),
    ("POST", "/_sandbox/im/availability", _availability, {"kind": "control"}),
    ("POST", "/_sandbox/im/bot", _bot, {"kind": "control"}),
]


# --- the page ------------------------------------------------------------------------------------
def _shown(message: dict) -> str:
    if not message["card"]:
        return f"<pre>{html.escape(message['content'][:2000])}</pre>"
    shown = card_texts(message["card"])
    texts = "".join(f"<p>{html.escape(t)}</p>" for t in shown["texts"])
    buttons = "".join(
        f'<a class="button" href="{html.escape(b["url"])}">{html.escape(b["text"])}</a> '
        f"<code>{html.escape(b['url'])}</code>"
        for b in shown["buttons"]
    )
    return f'<div class="card"><h3>{html.escape(shown["title"])}</h3>{texts}{buttons}</div>'


def page(state) -> str:
    """Every person's messages, newest first; the page refreshes itself."""
    with state.lock:
        people = {e["open_id"]: e for e in state.employees}
        inbox = {open_id: list(kept) for open_id, kept in state.im_messages.items()}
    sections = []
    for open_id, kept in sorted(inbox.items(), key=lambda item: -max(m["time"] for m in item[1])):
        person = people.get(open_id) or {"name": {}}
        name = person["name"].get("zh_cn") or person["name"].get("en_us") or open_id
        rows = "".join(
            "<li><span class=time>{}</span> {}</li>".format(
                time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(m["time"])), _shown(m)
            )
            for m in reversed(kept)
        )
        sections.append(
            f"<h2>{html.escape(name)} <code>{html.escape(open_id)}</code> ({len(kept)})</h2><ul>{rows}</ul>"
        )
    body = "".join(sections) or "<p>Nobody has received a message yet.</p>"
    return (
        "<!doctype html><meta charset=utf-8><meta http-equiv=refresh content=3>"
        "<title>Feishu sandbox: messages from the app</title>"
        "<style>.card{border:1px solid #ccc;border-radius:6px;padding:6px 10px;margin:4px 0;"
        "max-width:40em}.card h3{margin:2px 0}.card p{white-space:pre-line}"
        ".button{background:#3370ff;color:#fff;padding:2px 8px;border-radius:4px;"
        "text-decoration:none}.time{color:#888}</style>"
        "<h1>Messages from the app, per person</h1>"
        "<p>What each employee read in their chat with the app (newest first; the page refreshes "
        f"itself).</p>{body}"
    )
