"""Custom bot webhooks (自定义机器人): ``POST /open-apis/bot/v2/hook/<token>`` (docs/feishu.md §14).

A bot is made through the control API with the security settings a group's owner picks
(a signing secret, keywords, an IP allow-list); every message it accepts is kept, newest
last, for tests and people to read back. Checks run in this order (Feishu does not say
which comes first: UNCONFIRMED, §14.6): token, size, JSON, IP, rate limit, signature, shape,
keywords. Answers: HTTP 200 with a 19xxx code for the security checks and the unknown
token, HTTP 400 with 9499 for a bad or oversized body and for the rate limit.
"""

import base64
import hashlib
import hmac
import ipaddress
import json
import re
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .ratelimit import Throttled
from .state import ApiError

HOOK_PATH = "/open-apis/bot/v2/hook/"
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{1,128}")
MAX_BODY = 20 * 1024  # "the request body cannot exceed 20 KB" (§14.4)
SIGN_WINDOW = 3600  # seconds either side of Feishu's clock (§14.3)
MAX_SETTINGS = 10  # keywords, and allow-list entries, per bot (§14.3)
MAX_MESSAGES = 1000  # kept per bot: a long-running dev sandbox must not grow forever
OK_BODY = {"StatusCode": 0, "StatusMessage": "success", "code": 0, "data": {}, "msg": "success"}
TOO_MANY_BODY: dict[str, Any] = {"code": 9499, "msg": "too many request", "data": {}}
# Where a node's visible text is: keywords are looked for there and never in links (§14.3).
TEXT_KEYS = ("text", "title", "content")
POST_TAGS = ("text", "a", "at", "img")


@dataclass
class Bot:
    token: str
    secret: str = ""
    keywords: tuple = ()
    ip_allowlist: tuple = ()
    messages: deque = field(default_factory=lambda: deque(maxlen=MAX_MESSAGES))

    def as_dict(self) -> dict:
        return {
            "token": self.token,
            "secret": self.secret,
            "keywords": list(self.keywords),
            "ip_allowlist": list(self.ip_allowlist),
            "path": HOOK_PATH + self.token,
            "messages": len(self.messages),
        }


def sign(timestamp, secret: str) -> str:
    """Feishu's bot signature: the key is ``timestamp + "\\n" + secret``, the message empty."""
    key = f"{timestamp}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def bad_request() -> ApiError:
    return ApiError(9499, "Bad Request")


# --- the webhook ------------------------------------------------------------------------
def hook(sb, call):
    with sb.state.lock:
        bot = sb.state.bots.get(call.params["token"])
    if bot is None:  # shape and HTTP 200 from third-party reports (UNCONFIRMED)
        raise ApiError(19001, "param invalid: incoming webhook access token invalid", status=200)
    if len(call.raw) > MAX_BODY:
        # The guide names the 20 KB limit among the causes of 9499 Bad Request; a 2021 report
        # shows 19036 "exceeds the size limit of 30KB" (UNCONFIRMED which one Feishu answers now).
        raise ApiError(9499, "Bad Request", status=400)
    try:
        body = json.loads(call.raw)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ApiError(9499, "Bad Request", status=400)
    if bot.ip_allowlist and not _allowed(call.client, bot.ip_allowlist):
        raise ApiError(19022, "Ip Not Allowed", status=200)
    try:
        sb.limiter.hit("bot.hook", "custom_bot", bot.token)
    except Throttled:  # HTTP 400 + 9499 as reported in 2023; the docs name 11232 (UNCONFIRMED)
        raise ApiError(TOO_MANY_BODY["code"], TOO_MANY_BODY["msg"], status=400) from None
    if bot.secret and not _signed(body, bot.secret, sb.state.clock.time()):
        raise ApiError(
            19021, "sign match fail or timestamp is not within one hour from current time", status=200
        )
    texts = _texts_of(body)
    if bot.keywords and not any(k in t for k in bot.keywords for t in texts):
        raise ApiError(19024, "Key Words Not Found", status=200)
    message = {k: body[k] for k in ("msg_type", "content", "card") if k in body}
    message.update(time=sb.state.clock.time(), texts=texts, signed="sign" in body)
    with sb.state.lock:
        bot.messages.append(message)
    return 200, dict(OK_BODY)


def _allowed(client: str, allowlist) -> bool:
    address = ipaddress.ip_address(client)
    return any(address in _network(entry) for entry in allowlist)


def _network(entry: str):
    """``1.2.3.4``, ``1.2.3.*`` or ``1.2.3.0/24``, as the group settings accept them."""
    stars = entry.count("*")
    if stars:
        entry = entry.replace("*", "0") + f"/{32 - 8 * stars}"
    return ipaddress.ip_network(entry, strict=False)


def _signed(body: dict, secret: str, now: float) -> bool:
    # The docs send the timestamp as a string of seconds; an integer is accepted too and a
    # missing sign or timestamp fails like a wrong one (both UNCONFIRMED).
    timestamp, given = body.get("timestamp"), body.get("sign")
    if isinstance(timestamp, bool) or not isinstance(given, str):
        return False
    if not (isinstance(timestamp, int) or (isinstance(timestamp, str) and timestamp.isdigit())):
        return False
    if abs(now - int(timestamp)) > SIGN_WINDOW:
        return False
    return hmac.compare_digest(sign(timestamp, secret), given)


def _texts_of(body: dict) -> list[str]:
    """The message's visible texts, or 9499 when its shape is not one Feishu documents."""
    msg_type, content = body.get("msg_type"), body.get("content")
    if msg_type == "interactive":
        card = body.get("card")
        if not isinstance(card, dict) or not _is_card(card):
            raise bad_request()
        return _collect(card)  # keywords inside cards: every text value counts (UNCONFIRMED)
    if not isinstance(content, dict):
        raise bad_request()
    if msg_type == "text":
        if not _nonempty(content.get("text")):
            raise bad_request()
        return [content["text"]]
    if msg_type == "post":
        return _post_texts(content.get("post"))
    if msg_type == "image" and _nonempty(content.get("image_key")):
        return []
    if msg_type == "share_chat" and _nonempty(content.get("share_chat_id")):
        return []
    raise bad_request()


def _is_card(card: dict) -> bool:
    if card.get("type") == "template":
        return isinstance(card.get("data"), dict) and _nonempty(card["data"].get("template_id"))
    if card.get("schema") == "2.0":
        return isinstance(card.get("body"), dict)
    return isinstance(card.get("elements"), list) or isinstance(card.get("i18n_elements"), dict)


def _post_texts(post) -> list[str]:
    # At least one of zh_cn / en_us, each {title?, content: [[node, ...], ...]}.
    if not isinstance(post, dict) or not any(k in post for k in ("zh_cn", "en_us")):
        raise bad_request()
    texts = []
    for lang in post.values():
        paragraphs = lang.get("content") if isinstance(lang, dict) else None
        if not isinstance(paragraphs, list) or not all(isinstance(p, list) for p in paragraphs):
            raise bad_request()
        if lang.get("title") is not None and not isinstance(lang["title"], str):
            raise bad_request()
        texts += [lang["title"]] if lang.get("title") else []
        for node in (n for p in paragraphs for n in p):
            texts += _node_texts(node)
    return texts


def _node_texts(node) -> list[str]:
    tag = node.get("tag") if isinstance(node, dict) else None
    if tag not in POST_TAGS:
        raise bad_request()
    if tag == "text" and isinstance(node.get("text"), str):
        return [node["text"]]
    if tag == "a" and isinstance(node.get("text"), str) and _valid_href(node.get("href")):
        return [node["text"]]  # "an invalid href makes the send fail"
    if tag == "at" and _nonempty(node.get("user_id")):
        return []
    if tag == "img" and _nonempty(node.get("image_key")):
        return []
    raise bad_request()


def _valid_href(href) -> bool:
    if not isinstance(href, str):
        return False
    parts = urlsplit(href)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _collect(value) -> list[str]:
    if isinstance(value, dict):
        found = []
        for key, item in value.items():
            if isinstance(item, str):
                found += [item] if key in TEXT_KEYS and item else []
            else:
                found += _collect(item)
        return found
    if isinstance(value, list):
        return [text for item in value for text in _collect(item)]
    return []


def _nonempty(value) -> bool:
    return isinstance(value, str) and bool(value.strip())


# --- control API: bots and what they received ----------------------------------------
def create_bot(sb, call):
    b = call.body
    token = b.get("token") or str(uuid.uuid4())
    if not isinstance(token, str) or not TOKEN_RE.fullmatch(token):
        raise ValueError("token: 1 to 128 letters, digits, '-' or '_'")
    secret = b.get("secret") or ""
    if not isinstance(secret, str):
        raise ValueError("secret must be a string")
    keywords = _setting_list(b.get("keywords"), "keywords")
    allowlist = _setting_list(b.get("ip_allowlist"), "ip_allowlist")
    for entry in allowlist:
        _network(entry)  # a ValueError names the bad entry
    bot = Bot(token, secret, tuple(keywords), tuple(allowlist))
    with sb.state.lock:
        sb.state.bots[token] = bot  # the same token again: a new bot, nothing received yet
        return bot.as_dict()


def _setting_list(value, name: str) -> list[str]:
    value = value or []
    if not isinstance(value, list) or not all(_nonempty(v) for v in value):
        raise ValueError(f"{name} must be a list of non-empty strings")
    if len(value) > MAX_SETTINGS:
        raise ValueError(f"{name}: at most {MAX_SETTINGS}, as in Feishu's group settings")
    return value


def list_bots(sb, call):
    with sb.state.lock:
        return [bot.as_dict() for bot in sb.state.bots.values()]


def bot_messages(sb, call):
    with sb.state.lock:
        bot = sb.state.bots.get(call.params["token"])
        if bot is None:
            raise ValueError(f"no bot with token {call.params['token']!r}")
        return list(bot.messages)


ROUTES = [("POST", HOOK_PATH + r"(?P<token>[^/]+)", hook, {"kind": "bot"})]
CONTROL_ROUTES = [
    ("POST", "/_sandbox/bots", create_bot, {"kind": "control"}),
    ("GET", "/_sandbox/bots", list_bots, {"kind": "control"}),
    ("GET", r"/_sandbox/bots/(?P<token>[^/]+)/messages", bot_messages, {"kind": "control"}),
]
