"""What a page says in the wrong language: English words on a Chinese page, Chinese on an
English one, with what the database holds (names, codes, Feishu's data) allowed in both.

Pure text rules, so tests/browser/test_crawl_rules.py can prove them without a browser.
"""

import json
import re
from collections.abc import Iterable

from django.apps import apps
from django.db import models
from django.utils import translation

from hireops.core.messages import MessageField

# A token with a digit, or one of _ @ # / : . inside it, is an id, a code, an email, a URL,
# an event type, a version: "7300675657947577002", "ACME-001", "li@acme.example",
# "hire.eco_account.created_v1", "X1"; so is a masked value ("yj******") and a file's
# extension (".xlsx"). Never a word a translator forgot.
_ID_CHARS = r"[A-Za-z0-9_.@/:#+%=?&~*-]"
ID_LIKE = re.compile(
    rf"{_ID_CHARS}*(?:\d|[_@#](?=\w)|[/:](?=[\w/])|\*\*){_ID_CHARS}*"
    r"|[A-Za-z0-9]+(?:\.[A-Za-z0-9]+)+|(?<![\w.])\.[A-Za-z0-9]+"
)
WORD = r"[A-Za-z]+(?:['’-][A-Za-z]+)*"
# English words in a row (one label, one sentence): "Background check", "2 authenticators".
ENGLISH_RUN = re.compile(rf"{WORD}(?:[ \t]+{WORD})*")
# Han characters and the Chinese punctuation around them ("落后：", "，").
CJK_RUN = re.compile(
    r"[\u2e80-\u2fff\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]+"
)

# English a Chinese page may show, as whole words. Kept short: each is a name or a code a
# Chinese user reads as it is, the way Chinese software and Feishu's own Chinese pages write it.
ALLOWED_ENGLISH = [
    "hireops",  # the product's name, in the site title
    "Celery",  # the task queue the operations pages name ("Celery 工作进程")
    "Excel",  # file formats
    "CSV",
    "PDF",
    "JSON",
    "TOTP",  # the authenticator standards allauth's pages name
    "WebAuthn",
    "ID",  # "账号 ID", as Feishu's Chinese pages write it
    "API",
    "URL",
    "IP",
    "HTTP",
    "GET",
    "POST",
    "User Agent",  # request headers, by their names
    "HTTP Accept",
    "X-Tt-Logid",
    "cron",  # the Unix scheduler and its format, which the schedules' pages name
    "crontab",
    "challenge",  # the field of Feishu's URL check request, as Feishu's Chinese docs name it
    "Encrypt Key",  # the fields of Feishu's developer console, named as its Chinese pages name them
    "Verification Token",
    "Control",  # keys and systems, in Django's own Chinese ("按住 Control 键，或者 Mac 上的 Command 键")
    "Command",
    "Mac",
    "LDAP",
    "Webhook",  # as Feishu's own Chinese pages write it ("自定义机器人 Webhook 地址")
    "Standard Webhooks",  # the specification partners' webhooks follow, by its name
    "UUID",  # the idempotency key of a message to Feishu, as Feishu's Chinese docs name it
]
# Chinese an English page may show: Feishu's own names for the two usages of an account,
# given beside the English ("Experienced hire (社招)") so staff find them in Feishu's Chinese UI.
ALLOWED_CHINESE = {"社招", "校招"}
_ALLOWED = re.compile(
    r"(?<![\w'’-])(?:"
    + "|".join(sorted(map(re.escape, ALLOWED_ENGLISH), key=len, reverse=True))
    + r")(?![\w'’-])"
)
# Fields whose text the system wrote, in whatever language was active then, or made from the
# code (roles, permissions): not data, so never an excuse for English on a Chinese page.
SYSTEM_TEXT = {
    ("admin", "LogEntry", "object_repr"),
    ("admin", "LogEntry", "change_message"),
    ("auth", "Permission", "name"),
    ("auth", "Group", "name"),  # the roles of hireops.core.auth.roles
    ("ops", "ProcessHeartbeat", "state"),
}
# (An incident's title is data: kept as it was alerted, in LANGUAGE_CODE; hireops.ops.models.)


def english_runs(text: str) -> list[str]:
    """The runs of English words in ``text``, ids and codes left out."""
    return ENGLISH_RUN.findall(ID_LIKE.sub(" | ", text))


def _english_parts(text: str) -> list[str]:
    """The runs of English words, split where an allowed name stands: "导出 Excel 文件" has
    none, "Excel export" has "export"."""
    parts = (" ".join(part.split()) for run in english_runs(text) for part in _ALLOWED.split(run))
    return [part for part in parts if part]


def cjk_runs(text: str) -> list[str]:
    return CJK_RUN.findall(text)


class Data:
    """The text the database holds: what people typed and Feishu sent. A page may show it in
    either language; the rules below allow it and nothing else."""

    def __init__(self, texts: Iterable[str]):
        self.texts = [t for t in texts if t]
        self._english = {part for t in self.texts for part in _english_parts(t)}
        self._all = "\n".join(self.texts)

    def has_english(self, part: str) -> bool:
        """``part`` is English some stored text has, whole: "Exam" is not excused by a field
        named "Exam organisation"."""
        return part in self._english

    def has_cjk(self, run: str) -> bool:
        return run in self._all

    def english_words(self, text: str) -> list[str]:
        """The English in ``text`` that is neither data nor allowed: what a Chinese page must not show."""
        return [part for part in _english_parts(text) if not self.has_english(part)]

    def chinese(self, text: str) -> list[str]:
        """The Chinese in ``text`` that is not data: what an English page must not show."""
        return [run for run in cjk_runs(text) if run not in ALLOWED_CHINESE and not self.has_cjk(run)]


def stored_texts() -> list[str]:
    """Every text value in the database that is data: text fields without choices (a choice
    is shown by its translated label), neither a stored message (translated when read) nor a
    system snapshot (SYSTEM_TEXT), nor a message id the catalogue translates (a schedule's
    or a role's name); JSON values (Feishu's payloads), not their keys."""
    texts: list[str] = []
    for model in apps.get_models():
        fields = [
            f.name
            for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField | models.JSONField)
            and not f.choices
            and not isinstance(f, MessageField)
            and (model._meta.app_label, model.__name__, f.name) not in SYSTEM_TEXT
        ]
        if not fields:
            continue
        for row in model._default_manager.values_list(*fields):
            for value in row:
                texts.extend(_leaves(value))
    with translation.override("zh-hans"):
        return [t for t in texts if translation.gettext(t) == t]


def _leaves(value) -> list[str]:
    if isinstance(value, str):
        if value[:1] in "[{":
            try:
                return _leaves(json.loads(value))
            except ValueError:
                pass
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _leaves(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _leaves(v)]
    return []
