"""The crawl's rules (test_crawl.py) catch what they are for: a check that cannot fail would
let every page pass."""

import pytest
from csp.decorators import csp_exempt
from django.http import HttpResponse
from django.urls import path

from .crawl import OVERFLOWS, READ_TEXT, Crawler, missing_headers, normalised, slug
from .crawl_text import Data, english_runs

ORIGIN = "http://127.0.0.1:8000"

INLINE = '<html lang="en"><body><script>window.ran = true</script><p>A page</p></body></html>'
# A Chinese page with an English label and a list wider than its box (its inline styles need
# the policy off), linking on.
TOO_WIDE = """<html lang="zh-hans"><body><div id="content"><h1>订单 Orders</h1>
<div class="results" style="overflow-x: auto; width: 300px"><table id="result_list"><tr>
<td style="white-space: nowrap">{}</td></tr></table></div><a href="/admin/next/">下一页</a>
</div></body></html>""".format("很长的单元格" * 10)
urlpatterns = [  # pages that break the rules, served by the live server (ROOT_URLCONF)
    path("admin/inline-script/", lambda request: HttpResponse(INLINE)),
    path("admin/no-policy/", csp_exempt()(lambda request: HttpResponse('<html lang="en"><p>A page</p>'))),
    path("admin/too-wide/", csp_exempt()(lambda request: HttpResponse(TOO_WIDE))),
]
DATA = Data(["Acme 科技", "李经理 li@acme.example", "pkg-senior", "Shown under Settings in our portal"])


def test_english_on_a_chinese_page_is_found_ids_codes_names_and_data_are_not():
    text = (
        "Background check 7300675657947577002 | 背调订单 ACME-001 li@acme.example | 导出为 Excel（.xlsx）"
        " | yj****** | hire.eco_account.created_v1 | 高管套餐 (pkg-senior) | Acme 科技 | 2 authenticators"
    )
    assert DATA.english_words(text) == ["Background check", "authenticators"]


def test_an_allowed_name_does_not_excuse_the_words_around_it():
    assert DATA.english_words("导出 Excel 文件") == []
    assert DATA.english_words("Excel export") == ["export"]
    assert DATA.english_words("Lag:") == ["Lag"]  # a colon after a word is no URL


def test_data_excuses_its_own_words_whole_only():
    assert DATA.english_words("Shown under Settings in our portal") == []
    assert DATA.english_words("Settings") == ["Settings"]  # a word of a stored sentence is no excuse
    assert DATA.english_words("Portal settings") == ["Portal settings"]


def test_chinese_on_an_english_page_is_found_unless_it_is_data():
    assert DATA.chinese("Customer: Acme 科技, contact 李经理") == []
    assert DATA.chinese("Failed; 稍后将重试.") == ["稍后将重试"]


def test_english_runs_split_at_ids():
    assert english_runs("Exam 7300 scored") == ["Exam", "scored"]


def test_the_walk_stays_on_the_admin_and_ignores_where_a_link_only_points_back():
    assert normalised(f"{ORIGIN}/admin/x/1/change/?_changelist_filters=a%3D1", ORIGIN) == "/admin/x/1/change/"
    assert normalised(f"{ORIGIN}/admin/x/?b=2&a=1#top", ORIGIN) == "/admin/x/?a=1&b=2"
    assert normalised(f"{ORIGIN}/accounts/2fa/", ORIGIN) == "/accounts/2fa/"
    for never in ("/admin/logout/", "/accounts/logout/", "/feishu/events/", "/admin/jsi18n/"):
        assert normalised(ORIGIN + never, ORIGIN) is None, never
    assert normalised("https://open.feishu.cn/admin/", ORIGIN) is None
    assert slug("/admin/x/?a=1") == "admin-x-a-1"


def test_an_answer_without_a_security_header_is_found():
    every = {"content-security-policy": "default-src 'self'", "referrer-policy": "same-origin"}
    every["permissions-policy"] = "camera=()"
    assert missing_headers(every) == []
    assert missing_headers({**every, "referrer-policy": ""}) == ["referrer-policy"]
    assert missing_headers({}) == ["content-security-policy", "referrer-policy", "permissions-policy"]


@pytest.mark.browser
def test_a_table_wider_than_its_box_and_hidden_text_are_told_apart(page):
    page.set_viewport_size({"width": 800, "height": 600})
    page.set_content(
        """<html lang="zh-hans"><body><div id="content">
        <div class="results" style="overflow-x: auto; width: 300px">
          <table id="result_list"><tr><td style="white-space: nowrap">{}</td></tr></table>
        </div>
        <table id="fits"><tr><td>短</td></tr></table>
        <p>可见 Visible</p><p style="display: none">Hidden</p><code>code_words</code>
        <select><option lang="en">English</option></select>
        <input type="submit" value="Save">
        </div></body></html>""".format("很长的单元格" * 10)
    )
    (problem, size), *others = page.evaluate(OVERFLOWS)
    assert problem == "table#result_list is wider than its container div.results" and not others
    assert size.endswith("more than 300 px")
    text = page.evaluate(READ_TEXT)
    assert "可见 Visible" in text and "Save" in text
    assert not {"Hidden", "code_words", "English"} & set(text)


@pytest.mark.browser
@pytest.mark.django_db
def test_an_error_status_and_the_console_error_it_logs_are_written_down(page, live_server, tmp_path):
    crawler = Crawler(page, live_server.url, "en", Data([]), tmp_path)
    assert crawler._visit("/no-such-page/") == []  # a 404 page links nowhere the walk goes
    found = {(f.kind, f.detail.split(":")[0]) for f in crawler.walk.findings}
    assert ("status", "answers 404") in found
    assert ("console", "Failed to load resource") in found
    assert (tmp_path / "no-such-page.png").exists()


@pytest.mark.browser
@pytest.mark.django_db
def test_a_script_the_policy_refuses_and_a_page_without_the_policy_are_written_down(
    page, live_server, tmp_path, settings
):
    settings.ROOT_URLCONF = __name__
    crawler = Crawler(page, live_server.url, "en", Data([]), tmp_path)
    crawler._visit("/admin/inline-script/")
    crawler._visit("/admin/no-policy/")
    found = {(f.url, f.kind): f.detail for f in crawler.walk.findings}
    assert set(found) == {
        ("/admin/inline-script/", "policy"),  # the page's securitypolicyviolation event
        ("/admin/inline-script/", "console"),  # and the line Chromium logs for it
        ("/admin/no-policy/", "headers"),
    }, found
    assert found["/admin/inline-script/", "policy"].startswith("enforce script-src-elem: inline")
    assert "Content Security Policy" in found["/admin/inline-script/", "console"]
    assert found["/admin/no-policy/", "headers"] == "no content-security-policy"
    assert page.evaluate("window.ran") is None


@pytest.mark.browser
@pytest.mark.django_db
def test_a_visit_writes_down_a_list_too_wide_and_english_on_a_chinese_page(
    page, live_server, tmp_path, settings
):
    settings.ROOT_URLCONF = __name__
    crawler = Crawler(page, live_server.url, "zh", Data([]), tmp_path)
    assert crawler._visit("/admin/too-wide/") == [f"{live_server.url}/admin/next/"]
    found = {(f.kind, f.detail) for f in crawler.walk.findings}
    assert found == {
        ("headers", "no content-security-policy"),
        ("overflow", "table#result_list is wider than its container div.results"),
        ("english", "'Orders'"),
    }, found
    assert "订单 Orders" in (tmp_path / "admin-too-wide.txt").read_text()
    assert (tmp_path / "admin-too-wide.png").exists()
