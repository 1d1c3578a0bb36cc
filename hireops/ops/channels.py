"""Send one alert to the people who run hireops: by e-mail and to a Feishu group's custom bot.

The alert engine decides what to say, when, and once per incident; this module delivers one
``Alert`` through each configured channel and says per channel whether it went out. Nothing
is retried here: the engine tries again on its next tick.

Why the bot does not go through ``hireops.feishu`` (by the project's rules the only code that talks
to Feishu's OpenAPI): a custom bot's webhook is not an OpenAPI call. It takes no tenant or
app token (the URL's last part is the credential), it has no per-endpoint key in the shared
rate limiter (its limit is per bot, 5/s and 100/min, far above what alerts send), and it
answers in an envelope of its own (``code`` / legacy ``StatusCode``, 19xxx and 9499 codes:
docs/feishu.md §14) that FeishuClient's error mapping and retries do not fit. A
``requests.post`` with short timeouts is the whole client.

The bot URL's token and the signing secret appear in no result, log line or error text;
urllib3's DEBUG line for the request has the token masked. Personal data has no place in an
alert (the engine's job); as a guard, mobiles and emails in the title and lines are masked.
"""

import base64
import dataclasses
import hashlib
import hmac
import json
import logging
import re
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop, ngettext

from hireops.core.messages import Message, joined
from hireops.core.no_answer import COULD_NOT_REACH_BOT, NO_ANSWER_IN_TIME, why
from hireops.core.privacy.masking import mask_personal_text

log = logging.getLogger(__name__)

EMAIL, FEISHU_BOT = "email", "feishu_bot"
# The channels as people read them (a row's error says which channel failed).
NAMES = {EMAIL: gettext_noop("e-mail"), FEISHU_BOT: gettext_noop("Feishu group bot")}
NO_CHANNEL = gettext_noop("no alert channel is configured (ALERT_EMAILS, ALERT_FEISHU_BOT_URL)")
TIMEOUT = (3, 5)  # seconds to connect, to read the answer
# Feishu refuses a body over 20 KB (docs/feishu.md §14.4); room is left for timestamp and sign.
BOT_BODY_BUDGET = 20 * 1024 - 200
HOOK_TOKEN = re.compile(r"(/bot/v2/hook/)[^/\s?\"']+")
SEVERITIES = {
    "critical": gettext_lazy("Critical"),
    "warning": gettext_lazy("Warning"),
    "info": gettext_lazy("Information"),
}


@dataclass(frozen=True)
class Alert:
    title: str
    lines: list[str]
    url: str  # absolute link to the admin page where a person can act
    severity: str  # "critical", "warning" or "info"
    key: str  # identifies the incident


@dataclass(frozen=True)
class ChannelResult:
    channel: str  # EMAIL or FEISHU_BOT
    ok: bool
    # What went wrong, never with a secret in it: a Message, so that a row it is stored on reads
    # in each reader's language (a mail server's own words stay as they were said).
    error: str = ""
    code: int | None = None  # the bot's code when it answered one


def failed(channel: str, error: str) -> Message:
    """``channel`` (EMAIL, FEISHU_BOT) failed with ``error``, as a row stores it."""
    return Message(gettext_noop("%(channel)s: %(error)s"), channel=Message(NAMES[channel]), error=error)


def failures(results: list[ChannelResult]) -> str:
    """What did not go out, channel by channel ("" when everything did), to store on a row
    (a ``MessageField``): it reads in each reader's language."""
    return joined([failed(r.channel, r.error) for r in results if not r.ok])


def configured() -> list[str]:
    """The channels whose settings are filled in, in sending order."""
    return [
        name
        for name, setting in ((EMAIL, settings.ALERT_EMAILS), (FEISHU_BOT, settings.ALERT_FEISHU_BOT_URL))
        if setting
    ]


def send_alert(alert: Alert, channels=None) -> list[ChannelResult]:
    """Send ``alert`` through each configured channel (or only those named in ``channels``).

    Texts are in ``LANGUAGE_CODE``'s language (lazy strings in the alert are rendered in it);
    a channel that is not configured is skipped and has no result.
    """
    wanted = set(configured()) & set(channels or (EMAIL, FEISHU_BOT))
    results = []
    with translation.override(settings.LANGUAGE_CODE):
        alert = _masked(alert)
        if EMAIL in wanted:
            results.append(_send_email(alert))
        if FEISHU_BOT in wanted:
            results.append(_send_to_bot(alert))
    for result in results:
        if result.ok:
            log.info("alert %s sent by %s", alert.key, result.channel)
        else:
            log.warning("alert %s not sent by %s: %s", alert.key, result.channel, result.error)
    return results


def _masked(alert: Alert) -> Alert:
    return dataclasses.replace(
        alert,
        title=mask_personal_text(str(alert.title)),
        lines=[mask_personal_text(str(line)) for line in alert.lines],
        url=str(alert.url),
    )


def _severity(alert: Alert) -> str:
    return str(SEVERITIES.get(alert.severity, alert.severity))


def _without_secrets(text: str) -> str:
    """Text to show or log: the bot's token, its secret and the mail password cut out."""
    secrets = (
        _bot_token(),
        settings.ALERT_FEISHU_BOT_SECRET,
        getattr(settings, "EMAIL_HOST_PASSWORD", ""),
    )
    for secret in secrets:
        if secret and len(secret) >= 6:  # shorter: too likely to be an ordinary word of the text
            text = text.replace(secret, "***")
    return HOOK_TOKEN.sub(r"\1***", text)


def _bot_token() -> str:
    return urlsplit(settings.ALERT_FEISHU_BOT_URL).path.rstrip("/").rpartition("/")[2]


# --- e-mail ---------------------------------------------------------------------------
def _send_email(alert: Alert) -> ChannelResult:
    subject = " ".join(f"{settings.EMAIL_SUBJECT_PREFIX}[{_severity(alert)}] {alert.title}".split())
    body = "\n".join(
        [alert.title, "", *alert.lines, "", _("Open in the admin: %(url)s") % {"url": alert.url}]
    )
    message = EmailMessage(
        subject,
        body,
        settings.DEFAULT_FROM_EMAIL,
        list(settings.ALERT_EMAILS),
        headers={"X-Hireops-Alert": alert.key},
    )
    try:
        message.send()
    except Exception as exc:  # whatever the mail server does is this channel's result, not a crash
        error = mask_personal_text(_without_secrets(f"{type(exc).__name__}: {exc}"))
        return ChannelResult(EMAIL, False, error)
    return ChannelResult(EMAIL, True)


# --- Feishu group bot -----------------------------------------------------------------
def bot_sign(timestamp: str, secret: str) -> str:
    """Feishu's bot signature: the key is ``timestamp + "\\n" + secret``, the message empty."""
    key = f"{timestamp}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def bot_message(alert: Alert) -> dict:
    """A ``post`` (rich text): keywords a group may require are checked in its title and texts.
    Lines are dropped from the end, and counted, until the body fits Feishu's size limit."""
    locale = "zh_cn" if translation.get_language().startswith("zh") else "en_us"
    parts = urlsplit(alert.url)
    if parts.scheme in ("http", "https") and parts.netloc:
        link = [[{"tag": "a", "text": _("Open in the admin"), "href": alert.url}]]
    else:  # Feishu refuses a message whose link is not a full URL: show it as text
        link = [[{"tag": "text", "text": alert.url}]] if alert.url else []
    lines, dropped = list(alert.lines), 0
    while True:
        paragraphs = [[{"tag": "text", "text": line}] for line in lines]
        if dropped:
            more = ngettext("… and %(count)d more line", "… and %(count)d more lines", dropped)
            paragraphs.append([{"tag": "text", "text": more % {"count": dropped}}])
        title = f"[{_severity(alert)}] {alert.title}"
        body = {
            "msg_type": "post",
            "content": {"post": {locale: {"title": title, "content": paragraphs + link}}},
        }
        if not lines or len(_encoded(body)) <= BOT_BODY_BUDGET:
            return body
        lines.pop()
        dropped += 1


def _encoded(body: dict) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode()  # UTF-8: a third of \\u escapes' size


def _send_to_bot(alert: Alert) -> ChannelResult:
    body = bot_message(alert)
    secret = settings.ALERT_FEISHU_BOT_SECRET
    if secret:
        timestamp = str(int(time.time()))
        body = {"timestamp": timestamp, "sign": bot_sign(timestamp, secret), **body}
    try:
        resp = requests.post(
            settings.ALERT_FEISHU_BOT_URL,
            data=_encoded(body),
            headers={"Content-Type": "application/json; charset=utf-8"},
            timeout=TIMEOUT,
            allow_redirects=False,
        )
    except requests.Timeout:
        # Never str(exc): requests' messages carry the URL, and with it the token.
        return ChannelResult(FEISHU_BOT, False, Message(NO_ANSWER_IN_TIME))
    except requests.RequestException as exc:
        error = Message(COULD_NOT_REACH_BOT, why=Message(why(exc)))
        return ChannelResult(FEISHU_BOT, False, error)
    return _bot_outcome(resp)


def _bot_outcome(resp: requests.Response) -> ChannelResult:
    """Success is a 2xx answer whose ``code`` (and legacy ``StatusCode``) is 0; anything else
    fails with the status, and Feishu's code and msg when it gave them."""
    try:
        answer = resp.json()
    except ValueError:
        answer = None
    codes = [answer.get(k) for k in ("code", "StatusCode")] if isinstance(answer, dict) else []
    codes = [c for c in codes if isinstance(c, int) and not isinstance(c, bool)]
    if not codes:
        error = Message(gettext_noop("HTTP %(status)s, not an answer from Feishu"), status=resp.status_code)
        return ChannelResult(FEISHU_BOT, False, error)
    code = next((c for c in codes if c != 0), 0)
    if code == 0 and 200 <= resp.status_code < 300:
        return ChannelResult(FEISHU_BOT, True)
    msg = _without_secrets(str(answer.get("msg") or answer.get("StatusMessage") or ""))
    error = Message(
        gettext_noop("HTTP %(status)s, code %(code)s: %(msg)s"), status=resp.status_code, code=code, msg=msg
    )
    return ChannelResult(FEISHU_BOT, False, error, code)


class _HookTokenFilter(logging.Filter):
    """urllib3 logs each request line at DEBUG, and a bot's URL path is its token."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/hook/" in message or (_bot_token() and _bot_token() in message):
            record.msg, record.args = _without_secrets(message), ()
        return True


logging.getLogger("urllib3.connectionpool").addFilter(_HookTokenFilter())
