"""Django's error reports (the DEBUG page, error mails to ADMINS) without hireops' own secrets."""

import re

from django.views.debug import SafeExceptionReporterFilter


class SecretSettingsFilter(SafeExceptionReporterFilter):
    """Django hides the settings whose names say API, TOKEN, KEY, SECRET, PASS, …; a group
    bot's webhook URL (``ALERT_FEISHU_BOT_URL``) carries its token inside, so it goes too."""

    hidden_settings = re.compile(SafeExceptionReporterFilter.hidden_settings.pattern + "|BOT_URL", re.I)
