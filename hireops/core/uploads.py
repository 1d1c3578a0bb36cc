"""Text files staff upload (CSV imports): read as Excel in China saves them."""

from django.utils.translation import gettext as _


class UnreadableFile(ValueError):
    pass


def decode_text(raw: bytes) -> str:
    """UTF-8 (with or without Excel's BOM), else GB18030, which Excel in China often uses."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile(_("The file is neither UTF-8 nor GB18030 text."))
