"""Ways people write personal data, and what of each must never reach a reader who may not see
it; and strings that look like it and are not, which must stay readable.

A spelling's ``hidden`` parts are what its masked form leaves out (a mobile's middle digits
with the three before them, an address's local part, an ID's birth date): ``leaks`` looks for
them in a page, a file, a log or an API answer read as NFKC (a full-width digit counts as its
digit) with the spaces and dashes between digits taken out, so a value shown in full in any
width or grouping is found. Each is at least 7 characters: a random token on a page (a CSRF
token) does not hold one by chance.
"""

import html
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass


@dataclass(frozen=True)
class Spelling:
    text: str
    hidden: tuple[str, ...]
    masked: str  # what mask_personal_text makes of it (what a log or a masked text shows)


SPELLINGS = (
    Spelling("139 2468 1357", ("1392468",), "139 **** 1357"),
    Spelling("139-3579-2460", ("1393579",), "139-****-2460"),
    Spelling("+86 13946805791", ("1394680",), "+86 139****5791"),
    Spelling("+8613957316842", ("1395731",), "+86139****6842"),
    Spelling("0086 139 7193 8264", ("1397193",), "0086 139 **** 8264"),
    Spelling("１３９７５３１８６４２", ("1397531",), "１３９****８６４２"),
    Spelling("13916273849", ("1391627",), "139****3849"),
    Spelling("zhou.ba＠corp.example", ("zhou.ba",), "z***＠corp.example"),
    Spelling("li.si.personal@corp.example", ("li.si.personal",), "l***@corp.example"),
    Spelling("110101199003074512", ("19900307",), "110***********4512"),
    Spelling("11010519851231002X", ("19851231",), "110***********002X"),
    Spelling("１１０１０２１９７７０６１５４５２３", ("19770615",), "１１０***********４５２３"),
    Spelling("110101900307451", ("01900307",), "110********7451"),  # a first-generation ID
    Spelling("110105 851231 002", ("01058512",), "110*** *****1 002"),
    Spelling("+44 20 7946 0958", ("2079460",), "+44 2* **** 0958"),
)
SECRETS = tuple(part for spelling in SPELLINGS for part in spelling.hidden)

# Not personal, and often next to it in a log line or a text: each stays as it is.
NOT_PERSONAL = (
    "7123456789012345678",  # a Feishu id (an order's, a talent's): 19 digits
    "6931286400470354183",
    "1391234567812345678",  # 19 digits that begin like a mobile
    "ou_7d8a6e6df7621556ce0d21922b676706",  # an open id
    "on_94a1ee5551019f18cd73d9f111898cf2",  # a union id
    "od-4e6ac4d14bcd5071a37a39de902c7141",  # a department id
    "cli_a1b2c3d4e5f60718",  # an app id
    "202403151045120A0B0C0D0E0F101112",  # an X-Tt-Logid
    "13,912,345.67",  # an amount
    "¥13,912,345.67",
    "2024-03-15",
    "2024-03-15 13:45:12",
    "2024-03-15T13:45:12.123+08:00",
    "1710481512",  # seconds
    "1710481512123",  # milliseconds
    "1603977298000000",  # microseconds
    "20240315134512",  # a stamp
    "139123456789012345",  # 18 digits with no birth date in them: no ID
    "order 13912345678901",  # 14 digits
    "139123456789012",  # 15 digits with no birth date in them: no ID
    "v1.39.12345678",
    "bgc_1391",
    "exam_13912",
)


def readable(content) -> str:
    """What a reader of ``content`` sees, as text: a page's HTML unescaped, a CSV, the cells of
    an .xlsx (its XML, unzipped), a log; NFKC-normalised."""
    if isinstance(content, bytes):
        if content.startswith(b"PK"):  # an .xlsx: its cells live in zipped XML
            with zipfile.ZipFile(io.BytesIO(content)) as book:
                content = "".join(book.read(n).decode() for n in book.namelist() if n.endswith(".xml"))
        else:
            content = content.decode("utf-8-sig")
    return unicodedata.normalize("NFKC", html.unescape(content))


_BETWEEN_DIGITS = re.compile(r"(?<=[0-9])[ -]+(?=[0-9])")


def leaks(content, secrets=SECRETS) -> list[str]:
    """The hidden parts of personal data ``content`` shows (digits read across spaces and dashes)."""
    text = readable(content)
    text += "\n" + _BETWEEN_DIGITS.sub("", text)
    return [secret for secret in secrets if secret in text]
