"""Simplified Chinese and English: the catalogue is complete and current, the admin follows the browser,
the language can be switched, and the default comes from LANGUAGE_CODE."""

import gettext as pygettext
import io
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client, override_settings
from django.utils import translation

ROOT = Path(__file__).resolve().parent.parent
LOCALE_DIR = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES"
PO_FILE = LOCALE_DIR / "django.po"
MO_FILE = LOCALE_DIR / "django.mo"
# What `makemessages` is run without: never our translated code.
NOT_SCANNED = {".venv", "var", "tests", "bench", "locale", "node_modules", "__pycache__"}


# --- a small .po reader (no extra dependency) -----------------------------------------------------


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False
    line: int = 0

    @property
    def key(self) -> tuple:
        return (self.msgctxt, self.msgid, self.msgid_plural)


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def _unquote(text: str) -> str:
    """A .po string's text: its quotes off, its escapes read (an unknown one is a KeyError).
    Not ``ast.literal_eval``: Python 3.11.7's AST counters are shared between threads, and a
    server thread formatting a traceback at the same moment made it raise SystemError."""
    body = text.strip()
    assert len(body) >= 2 and body[0] == body[-1] == '"', text
    return re.sub(r"\\(.)", lambda m: _ESCAPES[m.group(1)], body[1:-1])


def read_po(path: Path) -> list[Entry]:
    """Entries of a .po file in order; obsolete (#~) entries are marked, the header is included."""
    entries: list[Entry] = []
    current: Entry | None = None
    target: tuple[str, int | None] | None = None  # which field continuation lines extend

    def finish():
        nonlocal current, target
        if current is not None:
            entries.append(current)
        current, target = None, None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        obsolete = line.startswith("#~")
        if obsolete:
            line = line[2:].strip()
            if line.startswith("|"):  # previous msgid of an obsolete fuzzy entry
                continue
        if not line:
            finish()
            continue
        if line.startswith("#"):
            if current is not None and target is not None:
                finish()  # a comment after msgstr starts the next entry
            current = current or Entry(line=number)
            if line.startswith("#,"):
                current.flags.update(f.strip() for f in line[2:].split(",") if f.strip())
            continue
        if current is None or (target is not None and target[0] == "msgstr" and line.startswith("msgid")):
            finish()
            current = Entry(line=number)
        current.obsolete = current.obsolete or obsolete
        match = re.match(r"^(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])?\s+(\".*\")$", line)
        if match:
            name, index, text = match.group(1), match.group(2), _unquote(match.group(3))
            if name == "msgstr":
                index = int(index or 0)
                while len(current.msgstr) <= index:
                    current.msgstr.append("")
                current.msgstr[index] = text
                target = ("msgstr", index)
            else:
                setattr(current, name, text)
                target = (name, None)
        elif line.startswith('"') and target is not None:
            name, index = target
            if name == "msgstr":
                current.msgstr[index] += _unquote(line)
            else:
                setattr(current, name, getattr(current, name) + _unquote(line))
        else:
            raise AssertionError(f"{path}:{number}: cannot parse {raw!r}")
    finish()
    return entries


def active(entries: list[Entry]) -> list[Entry]:
    """Real messages: no header, no obsolete ones."""
    return [e for e in entries if not e.obsolete and e.msgid != ""]


def header(entries: list[Entry]) -> dict[str, str]:
    head = next(e for e in entries if e.msgid == "" and not e.obsolete)
    return dict(
        (k.strip(), v.strip())
        for k, v in (ln.split(":", 1) for ln in head.msgstr[0].splitlines() if ":" in ln)
    )


PLACEHOLDER = re.compile(r"%\([^)]+\)[sdifr]|\{[a-z_][a-z0-9_]*\}|<[^>]+>")


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def describe(e: Entry) -> str:
    return f"django.po:{e.line}: {e.msgid!r}"


# --- (a) the catalogue is complete --------------------------------------------------------------


def test_catalogue_has_chinese_plural_rule():
    head = header(read_po(PO_FILE))
    assert head["Plural-Forms"].replace(" ", "") == "nplurals=1;plural=0;"
    assert head["Content-Type"] == "text/plain; charset=UTF-8"


def test_every_message_is_translated_and_none_is_fuzzy():
    entries = read_po(PO_FILE)
    head_entry = next(e for e in entries if e.msgid == "")
    assert "fuzzy" not in head_entry.flags, "the header is still marked fuzzy"
    messages = active(entries)
    assert len(messages) > 200, "the catalogue looks empty: was makemessages run?"
    fuzzy = [describe(e) for e in messages if "fuzzy" in e.flags]
    untranslated = [describe(e) for e in messages if not e.msgstr or not all(s.strip() for s in e.msgstr)]
    assert not fuzzy, "fuzzy entries (check the guess, then drop the flag):\n" + "\n".join(fuzzy)
    assert not untranslated, "untranslated entries:\n" + "\n".join(untranslated)


def test_plural_entries_have_exactly_one_form():
    wrong = [describe(e) for e in active(read_po(PO_FILE)) if e.msgid_plural and len(e.msgstr) != 1]
    assert not wrong, "Chinese has one plural form (msgstr[0] only):\n" + "\n".join(wrong)


def test_translations_keep_placeholders_and_markup():
    wrong = []
    for e in active(read_po(PO_FILE)):
        wanted = placeholders(e.msgid)
        wrong += [f"{describe(e)} → {s!r}" for s in e.msgstr if placeholders(s) != wanted]
    assert not wrong, "placeholders or HTML differ from the English:\n" + "\n".join(wrong)


def test_compiled_catalogue_matches_the_po():
    """The .mo Django loads is compiled from the current .po (run compilemessages after editing)."""
    assert MO_FILE.exists(), "locale/zh_Hans/LC_MESSAGES/django.mo is missing: run compilemessages"
    with MO_FILE.open("rb") as fh:
        mo = pygettext.GNUTranslations(fh)
    stale = []
    for e in active(read_po(PO_FILE)):
        msgid = f"{e.msgctxt}\x04{e.msgid}" if e.msgctxt is not None else e.msgid
        got = mo.ngettext(msgid, e.msgid_plural, 1) if e.msgid_plural else mo.gettext(msgid)
        if got != e.msgstr[0]:
            stale.append(describe(e))
    assert not stale, "django.mo is older than django.po: run compilemessages\n" + "\n".join(stale)


# --- (b) the catalogue is in step with the code ---------------------------------------------------


def _copy_sources(dest: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", ".*", "*.pyc", "*.mo", "*.po")
    for item in ROOT.iterdir():
        if item.name in NOT_SCANNED or item.name.startswith("."):
            continue
        if item.is_dir():
            shutil.copytree(item, dest / item.name, ignore=ignore)
        elif item.suffix in {".py", ".html", ".txt"}:
            shutil.copy2(item, dest / item.name)


@pytest.mark.skipif(
    shutil.which("xgettext") is None, reason="GNU gettext is not installed (apt-get install gettext)"
)
@pytest.mark.processes
def test_catalogue_has_every_marked_string_and_nothing_stale(tmp_path, monkeypatch):
    """makemessages on a copy of the sources finds exactly the messages of locale/zh_Hans."""
    _copy_sources(tmp_path)
    (tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    with override_settings(LOCALE_PATHS=[]):  # write into tmp_path/locale, never the repository
        call_command("makemessages", locale=["zh_Hans"], domain="django", verbosity=0, stdout=io.StringIO())
    fresh = {e.key: e for e in active(read_po(tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))}
    ours = {e.key for e in active(read_po(PO_FILE))}
    missing = sorted(repr(k[1]) for k in fresh.keys() - ours)
    stale = sorted(repr(k[1]) for k in ours - fresh.keys())
    hint = "rerun makemessages (see tests/test_i18n.py), translate, then compilemessages"
    assert not missing, f"strings in the code but not in django.po ({hint}):\n" + "\n".join(missing)
    assert not stale, f"strings in django.po no longer in the code ({hint}):\n" + "\n".join(stale)


# --- representative strings of each app ----------------------------------------------------------

SAMPLES = {
    "Vendor accounts and bindings": "服务商账号与绑定",
    "Referral reward accounts": "内推奖励账户",
    "Feishu events": "飞书事件",
    "Needs review": "待审核",
    "eco-account bindings": "生态账号绑定",
    "referral accounts": "内推账户",
    "Withdraw full balance…": "全额提现…",
    "Reprocess selected failed or ignored events": "重新处理所选的失败或已忽略事件",
    "No employee in Feishu has this mobile number or email.": "飞书中没有使用该手机号或邮箱的员工。",
    "hireops · Feishu Hire back office": "hireops · 飞书招聘后台",
    "Background jobs": "后台任务",
}


@pytest.mark.parametrize(("english", "chinese"), SAMPLES.items())
def test_representative_strings_translate(english, chinese):
    with translation.override("zh-hans"):
        assert translation.gettext(english) == chinese
    with translation.override("en"):
        assert translation.gettext(english) == english


def test_plural_messages_use_the_single_chinese_form():
    singular, plural = "%(n)d event queued for reprocessing.", "%(n)d events queued for reprocessing."
    with translation.override("zh-hans"):
        for n in (1, 2, 5):
            assert (
                translation.ngettext(singular, plural, n) % {"n": n} == f"已将 {n} 个事件加入重新处理队列。"
            )
    with translation.override("en"):
        assert translation.ngettext(singular, plural, 1) % {"n": 1} == "1 event queued for reprocessing."
        assert translation.ngettext(singular, plural, 2) % {"n": 2} == "2 events queued for reprocessing."


def test_feishu_error_explanations_follow_the_language():
    from hireops.feishu import FeishuError
    from hireops.feishu_calls.failures import BY_API, PLATFORM, explain

    exc = FeishuError(1002551, "user not found", http_status=200, endpoint="hire.referral_account.create")
    texts = [*PLATFORM.values(), *(text for codes in BY_API.values() for text in codes.values())]
    with translation.override("zh-hans"):
        assert all(re.search(r"[\u4e00-\u9fff]", translation.gettext(text)) for text in texts)
        assert explain(exc) == "飞书中没有使用该手机号或邮箱的员工。（Feishu 1002551: user not found）"
    with translation.override("en"):
        english = "No employee in Feishu has this mobile number or email."
        assert explain(exc) == f"{english} (Feishu 1002551: user not found)"


# --- (c) the admin follows the browser, (d) the switcher, (e) the login page ---------------------

ZH_APP, EN_APP = "服务商账号与绑定", "Vendor accounts and bindings"


def page(client: Client, url: str, **headers) -> str:
    response = client.get(url, **headers)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


@pytest.mark.django_db
def test_admin_index_follows_accept_language(admin_client):
    zh = page(admin_client, "/admin/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9,en;q=0.8")
    assert '<html lang="zh-hans"' in zh
    for text in (ZH_APP, "内推奖励账户", "飞书事件", "生态账号绑定", "内推账户", "hireops · 飞书招聘后台"):
        assert text in zh
    assert EN_APP not in zh

    en = page(admin_client, "/admin/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert '<html lang="en"' in en
    for text in (EN_APP, "Referral reward accounts", "Feishu events", "Eco-account bindings"):
        assert text in en
    assert ZH_APP not in en


@pytest.mark.django_db
def test_changelists_follow_accept_language(admin_client):
    from bindings.models import BindingStatus, EcoAccountBinding
    from referrals.models import AccountStatus, ReferralAccount

    # Actions only show on a changelist with rows.
    EcoAccountBinding.objects.create(
        app_id="cli_x", tenant_key="t1", account_id="eco-1", scope=1, status=BindingStatus.NEEDS_REVIEW
    )
    ReferralAccount.objects.create(name="张三", email="zhang@example.com", status=AccountStatus.DEACTIVATED)
    url = "/admin/bindings/ecoaccountbinding/"
    zh = page(admin_client, url, HTTP_ACCEPT_LANGUAGE="zh-CN")
    for text in ("待审核", "已绑定", "已拒绝", "重新匹配", "绑定到客户…", "招聘类型"):
        assert text in zh, text
    en = page(admin_client, url, HTTP_ACCEPT_LANGUAGE="en")
    for text in ("Needs review", "Bound", "Rejected", "Re-run matching", "Bind to a customer…"):
        assert text in en, text
    assert "待审核" not in en

    url = "/admin/referrals/referralaccount/"
    zh = page(admin_client, url, HTTP_ACCEPT_LANGUAGE="zh-Hans-CN")
    for text in ("全额提现…", "立即从飞书拉取余额", "导入 CSV", "已停用", "注册失败"):
        assert text in zh, text
    en = page(admin_client, url, HTTP_ACCEPT_LANGUAGE="en-GB")
    for text in ("Withdraw full balance…", "Pull balance from Feishu now", "Import CSV", "Deactivated"):
        assert text in en, text


@pytest.mark.django_db
def test_login_protection_screens_are_chinese_too(admin_client):
    """django-axes ships no Chinese; our catalogue carries its strings (hireops/core/auth/axes_app.py)."""
    from axes.models import AccessAttempt

    AccessAttempt.objects.create(username="someone", ip_address="127.0.0.1", failures_since_start=1)
    zh = page(admin_client, "/admin/axes/accessattempt/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    for text in ("登录保护", "登录尝试", "IP 地址", "用户名"):
        assert text in zh, text
    en = page(admin_client, "/admin/axes/accessattempt/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Login protection" in en and "IP Address" in en


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("default", "html_lang", "expected"), [("zh-hans", "zh-hans", ZH_APP), ("en", "en", EN_APP)]
)
def test_default_language_is_language_code(admin_client, default, html_lang, expected):
    """Without a cookie or a usable Accept-Language the admin speaks LANGUAGE_CODE."""
    with override_settings(LANGUAGE_CODE=default):
        for headers in ({}, {"HTTP_ACCEPT_LANGUAGE": "fr-FR,fr;q=0.9"}):
            html = page(admin_client, "/admin/", **headers)
            assert f'<html lang="{html_lang}"' in html
            assert expected in html


@pytest.mark.django_db
def test_switching_language_sticks_for_the_next_pages(admin_client):
    response = admin_client.post("/i18n/setlang/", {"language": "en", "next": "/admin/"})
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert response.cookies["django_language"].value == "en"
    # The choice beats the browser's preference on the next pages.
    en = page(admin_client, "/admin/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert EN_APP in en and ZH_APP not in en
    assert 'value="en" lang="en" selected' in en

    response = admin_client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/admin/"})
    assert response.cookies["django_language"].value == "zh-hans"
    zh = page(admin_client, "/admin/", HTTP_ACCEPT_LANGUAGE="en")
    assert ZH_APP in zh and EN_APP not in zh
    assert 'value="zh-hans" lang="zh-hans" selected' in zh


@pytest.mark.django_db
def test_switching_to_an_unknown_language_changes_nothing(admin_client):
    response = admin_client.post("/i18n/setlang/", {"language": "xx", "next": "/admin/"})
    assert response.status_code == 302
    assert "django_language" not in response.cookies


def _assert_switcher(html: str, next_url: str) -> None:
    form = re.search(r'<form id="language-switcher".*?</form>', html, re.S)
    assert form, "language switcher missing"
    form = form.group(0)
    assert 'action="/i18n/setlang/"' in form and 'method="post"' in form
    assert 'name="csrfmiddlewaretoken"' in form
    assert f'name="next" value="{next_url}"' in form
    assert '<select id="language-switcher-select" name="language"' in form
    assert 'value="zh-hans"' in form and "简体中文" in form
    assert 'value="en"' in form and "English" in form
    # Sent on a change by our own file: the Content-Security-Policy runs no onchange="".
    assert "onchange" not in form
    assert re.search(r'<script src="[^"]*/hireops/language_switcher(\.\w+)?\.js" defer>', html)
    assert '<noscript><button type="submit">' in form


@pytest.mark.django_db
def test_language_switcher_on_the_login_page(client):
    html = page(client, "/admin/login/?next=/admin/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    _assert_switcher(html, "/admin/login/?next=/admin/")
    assert "切换语言" in html and "hireops · 飞书招聘后台" in html
    html = page(client, "/admin/login/", HTTP_ACCEPT_LANGUAGE="en")
    _assert_switcher(html, "/admin/login/")
    assert "Switch language" in html and "hireops · Feishu Hire back office" in html


@pytest.mark.django_db
def test_language_switcher_on_admin_pages(admin_client):
    _assert_switcher(page(admin_client, "/admin/"), "/admin/")
    url = "/admin/referrals/referralaccount/?status=active"
    _assert_switcher(page(admin_client, url), url.replace("&", "&amp;"))


@pytest.mark.django_db
def test_switching_from_the_login_page(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/admin/login/?next=/admin/"})
    assert response["Location"] == "/admin/login/?next=/admin/"
    html = page(client, "/admin/login/?next=/admin/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert '<html lang="en"' in html and "Log in" in html


ADMIN_DIR = Path(__import__("django.contrib.admin", fromlist=["_"]).__file__).parent
_TEMPLATE_MESSAGE = re.compile(r"""\{% (?:translate|trans) (['"])(.+?)\1""")
_SCRIPT_MESSAGE = re.compile(r"""\bgettext\((['"])(.+?)(?<!\\)\1\)""")


def _untranslated(msgids, catalogue) -> list[str]:
    return sorted(m for m in msgids if catalogue.gettext(m) == m)


def test_the_admins_own_words_are_chinese_too():
    """Django 5.2's Chinese catalogue lacks some of its admin templates' strings; ours carries
    them (hireops/core/admin/django_strings.py), so no page of the Chinese admin shows them in English."""
    from django.utils.translation.trans_real import translation as catalogue_for

    templates = (ADMIN_DIR / "templates").rglob("*.html")
    msgids = {m[1] for t in templates for m in _TEMPLATE_MESSAGE.findall(t.read_text())}
    assert "Model name" in msgids  # the pattern still finds Django's strings
    assert not _untranslated(msgids, catalogue_for("zh-hans"))


def test_the_admins_scripts_are_chinese_too():
    """The permission and group pickers and the list's warnings take their words from the
    djangojs catalogue, where Django 5.2's Chinese lacks the newer ones: ours has them."""
    from django.utils.translation.trans_real import DjangoTranslation

    scripts = (ADMIN_DIR / "static" / "admin" / "js").rglob("*.js")
    msgids = {m[1].replace("\\'", "'") for s in scripts for m in _SCRIPT_MESSAGE.findall(s.read_text())}
    assert "Choose all %s" in msgids
    assert not _untranslated(msgids, DjangoTranslation("zh-hans", domain="djangojs"))
