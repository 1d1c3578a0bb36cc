"""Messages from the app to a person (docs/feishu.md §18): ``POST /open-apis/im/v1/messages``.

The tenant_access_token's app sends; the person is named by ``receive_id`` of the query's
``receive_id_type`` (``open_id`` as the app knows them: the directory's in the Hire app, a
derived one in any other app, as web login gives them; ``union_id``, ``user_id``, ``email``).
Every message accepted is kept per person (``GET /im/`` shows them, ``/_sandbox/im/messages``
lists them) with its card as sent. Checks, after the gateway's (token, the app's 50/s and
1000/min): the query and body's fields, the bot ability, the person (known to this app, in its
tenant, not resigned, within the availability scope), the content (its size, then its JSON and
the card's shape), the uuid (a repeat within an hour answers the first message and delivers
nothing), the person's own limit (5 a second). Every refusal is HTTP 400 with Feishu's code.

What is UNCONFIRMED and chosen here (docs/feishu.md §18.4): the answer to a repeated uuid (the
first message's, as a success), the code of an unknown open_id (230034 "The receive_id is
invalid"), of another app's open_id (99992361), of a person of another tenant (230013, as
outside the availability scope), of missing or malformed fields (99992402), whether a button's
URL is checked (it is: an absolute http(s) URL, or 230099), and which ``msg_type`` are accepted
(``text``, ``post`` and ``interactive``; any other answers 230001).
"""

import hashlib
import json
import secrets
from collections import deque
from urllib.parse import urlsplit

from .errors import ApiError
from .login_api import open_id_for
from .ratelimit import Throttled

PATH = "/open-apis/im/v1/messages"
RECEIVE_ID_TYPES = ("open_id", "union_id", "user_id", "email", "chat_id")
MSG_TYPES = ("text", "post", "interactive")
MAX_UUID = 50
MAX_TEXT_BYTES = 150 * 1024
MAX_CARD_BYTES = 30 * 1024  # cards and rich text
UUID_WINDOW = 3600.0  # seconds: "the same uuid sends at most one message within an hour"
KEPT_PER_PERSON = 200  # a long-running dev sandbox must not grow forever

FIELD_INVALID = 99992402
CROSS_APP = 99992361
INVALID_PARAM = 230001
NOT_IN_GROUP = 230002
BOT_OFF = 230006
UNAVAILABLE = 230013
TOO_FREQUENT = 230020
TOO_LONG = 230025
RESIGNED = 230029
BAD_RECEIVER = 230034
BAD_CARD = 230099


def _ok(data: dict) -> tuple[int, dict]:
    return 200, {"code": 0, "msg": "success", "data": data}  # "success", as the page shows it


def _refuse(code: int, msg: str) -> ApiError:
    return ApiError(code, msg, status=400)


def _card_error(detail: str) -> ApiError:
    return _refuse(BAD_CARD, f"Failed to create card content, ext=ErrCode: 200621; ErrMsg: {detail}")


# --- the people --------------------------------------------------------------------------
def _app_id(sb, token_app_id: str) -> str:
    return token_app_id or sb.state.app_id


def _person(sb, app_id: str, tenant_key: str, id_type: str, receive_id: str) -> dict:
    """The employee ``receive_id`` names for this app, or the refusal Feishu gives."""
    state = sb.state
    with state.lock:
        employees = list(state.employees)
    if id_type == "chat_id":  # CHOICE: the app is in no group chat of the sandbox
        raise _refuse(NOT_IN_GROUP, "The bot can not be outside the group.")
    if id_type == "open_id":
        found = [e for e in employees if open_id_for(state, app_id, e) == receive_id]
        if not found and any(open_id_for(state, a, e) == receive_id for e in employees for a in _apps(sb)):
            raise _refuse(CROSS_APP, "open_id cross app")
    elif id_type == "email":
        wanted = receive_id.strip().lower()
        found = [
            e
            for e in employees
            if wanted in ((e.get("enterprise_email") or "").lower(), (e.get("email") or "").lower())
        ]
    else:
        found = [e for e in employees if e.get(id_type) == receive_id]
    if not found:
        raise _refuse(BAD_RECEIVER, "The receive_id is invalid.")
    person = found[0]
    if person["tenant_key"] != tenant_key:
        raise _refuse(UNAVAILABLE, "Bot has NO availability to this user.")
    if person.get("left"):
        raise _refuse(RESIGNED, "User has resigned.")
    with state.lock:
        if person["open_id"] in state.im_unavailable:
            raise _refuse(UNAVAILABLE, "Bot has NO availability to this user.")
    return person


def _apps(sb) -> list[str]:
    with sb.state.lock:
        return list(sb.state.login_apps)


# --- the content ---------------------------------------------------------------------------
def _content(msg_type: str, content) -> dict:
    """The content as JSON, once its size and shape are what Feishu takes."""
    if not isinstance(content, str) or not content.strip():
        raise _refuse(FIELD_INVALID, "field validation failed: content must be a JSON string")
    limit = MAX_TEXT_BYTES if msg_type == "text" else MAX_CARD_BYTES
    if len(content.encode("utf-8")) > limit:
        raise _refuse(TOO_LONG, "The length of the message content reaches its limit.")
    try:
        parsed = json.loads(content)
    except ValueError:
        parsed = None
    if msg_type == "interactive":
        if not isinstance(parsed, dict):
            raise _card_error("parse card json err")
        _check_card(parsed)
    elif msg_type == "text":
        if not isinstance(parsed, dict) or not isinstance(parsed.get("text"), str) or not parsed["text"]:
            raise _refuse(
                INVALID_PARAM,
                "Your request contains an invalid request parameter, ext=invalid message content",
            )
    elif not isinstance(parsed, dict) or not any(isinstance(parsed.get(k), dict) for k in ("zh_cn", "en_us")):
        raise _refuse(
            INVALID_PARAM, "Your request contains an invalid request parameter, ext=invalid message content"
        )
    return parsed


def _check_card(card: dict) -> None:
    if card.get("type") == "template":
        data = card.get("data")
        if not isinstance(data, dict) or not data.get("template_id"):
            raise _card_error("template does not exist")
        return
    if card.get("schema") == "2.0":
        elements = (card.get("body") or {}).get("elements") if isinstance(card.get("body"), dict) else None
    else:
        elements = card.get("elements")
        if elements is None and isinstance(card.get("i18n_elements"), dict):
            elements = [e for each in card["i18n_elements"].values() if isinstance(each, list) for e in each]
    if not isinstance(elements, list) or not all(isinstance(e, dict) and e.get("tag") for e in elements):
        raise _card_error("parse card json err")
    for url in _urls(card):
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            raise _card_error(f"invalid url {url!r}")


def _urls(value) -> list:
    if isinstance(value, dict):
        found = [value["url"]] if "url" in value else []
        return found + [u for k, v in value.items() if k != "url" for u in _urls(v)]
    if isinstance(value, list):
        return [u for item in value for u in _urls(item)]
    return []


def card_texts(card: dict) -> dict:
    """What a person reads of a card: its title, its text blocks and its buttons."""
    header = card.get("header") or {}
    title = (header.get("title") or {}).get("content", "") if isinstance(header, dict) else ""
    texts, buttons = [], []
    for element in card.get("elements") or []:
        if element.get("tag") == "div" and isinstance(element.get("text"), dict):
            texts.append(str(element["text"].get("content", "")))
        for action in element.get("actions") or []:
            if action.get("tag") == "button":
                buttons.append(
                    {"text": (action.get("text") or {}).get("content", ""), "url": action.get("url", "")}
                )
    return {"title": title, "texts": texts, "buttons": buttons}


# --- the API ---------------------------------------------------------------------------------
def send(sb, call):
    token = sb.state.token_info(call.headers.get("Authorization", "").partition(" ")[2].strip())
    app_id = _app_id(sb, token.app_id if token else "")
    id_type = call.query.get("receive_id_type")
    if id_type not in RECEIVE_ID_TYPES:
        raise _refuse(FIELD_INVALID, "field validation failed: receive_id_type")
    b = call.body
    receive_id, msg_type, uuid = b.get("receive_id"), b.get("msg_type"), b.get("uuid")
    if not isinstance(receive_id, str) or not receive_id:
        raise _refuse(FIELD_INVALID, "field validation failed: receive_id is required")
    if not isinstance(msg_type, str) or not msg_type:
        raise _refuse(FIELD_INVALID, "field validation failed: msg_type is required")
    if uuid is not None and (not isinstance(uuid, str) or not uuid or len(uuid) > MAX_UUID):
        raise _refuse(FIELD_INVALID, f"field validation failed: uuid is 1 to {MAX_UUID} characters")
    if msg_type not in MSG_TYPES:
        raise _refuse(INVALID_PARAM, "Your request contains an invalid request parameter, ext=msg_type")
    with sb.state.lock:
        if not sb.state.im_bot_enabled:
            raise _refuse(BOT_OFF, "Bot ability is not activated.")
    person = _person(sb, app_id, call.tenant_key, id_type, receive_id)
    parsed = _content(msg_type, b.get("content"))
    now = sb.state.clock.time()
    with sb.state.lock:
        if uuid:
            earlier = sb.state.im_by_uuid.get((app_id, uuid))
            if earlier is not None and now - earlier["time"] < UUID_WINDOW:
                return _ok(answer(earlier))  # sent once already: nothing delivered again
        try:
            sb.limiter.hit("im.message.to_person", app_id, person["open_id"], at=call.arrived)
        except Throttled:
            raise _refuse(TOO_FREQUENT, "This operation triggers the frequency limit.") from None
        message = {
            "message_id": "om_" + secrets.token_hex(16),
            "chat_id": chat_id(app_id, person),
            "app_id": app_id,
            "tenant_key": call.tenant_key,
            "open_id": person["open_id"],
            "name": person["name"],
            "msg_type": msg_type,
            "content": b["content"],
            "card": parsed if msg_type == "interactive" else None,
            "uuid": uuid or "",
            "time": now,
        }
        keep(sb.state, message)
    return _ok(answer(message))


def keep(state, message: dict) -> None:
    """A message delivered (and restored from a state file): its person's, and its uuid's."""
    kept = state.im_messages.setdefault(message["open_id"], deque(maxlen=KEPT_PER_PERSON))
    kept.append(message)
    if message["uuid"]:
        state.im_by_uuid[(message["app_id"], message["uuid"])] = message


def chat_id(app_id: str, person: dict) -> str:
    """The app's one-to-one chat with the person: the same for every message."""
    return "oc_" + hashlib.sha256(f"{app_id}\n{person['open_id']}".encode()).hexdigest()[:32]


def answer(message: dict) -> dict:
    ms = str(int(message["time"] * 1000))
    return {
        "message_id": message["message_id"],
        "msg_type": message["msg_type"],
        "create_time": ms,
        "update_time": ms,
        "deleted": False,
        "updated": False,
        "chat_id": message["chat_id"],
        "sender": {
            "id": message["app_id"],
            "id_type": "app_id",
            "sender_type": "app",
            "tenant_key": message["tenant_key"],
        },
        "body": {"content": message["content"]},
    }


ROUTES = [("POST", PATH, send, {"kind": "openapi", "auth": True, "api": "im.message.create"})]
