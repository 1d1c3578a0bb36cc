"""Django admin's own strings that Django 5.2's Chinese catalogue lacks.

Django looks a message up in every catalogue, ours (LOCALE_PATHS) first, so the strings
marked here for makemessages are translated in locale/zh_Hans like ours; without them the
Chinese admin shows them in English (the app list's column headings a screen reader reads on
every page, the user form's note, the error prefix). Nothing imports this module. Keep it in
step with Django's templates when upgrading (the browser crawl, tests/browser/test_crawl.py,
finds what is missing).

The admin's scripts take their strings from the ``djangojs`` catalogue instead: those Django
lacks are in locale/zh_Hans/LC_MESSAGES/djangojs.po, kept by hand.
"""

from django.utils.translation import gettext_noop

DJANGO_STRINGS = (
    gettext_noop("Model name"),  # admin/app_list.html, visually hidden headings
    gettext_noop("Add link"),
    gettext_noop("Change or view list link"),
    gettext_noop("Error:"),  # before each form error, for screen readers
    gettext_noop("After you’ve created a user, you’ll be able to edit more user options."),
    gettext_noop("Forgotten your login credentials?"),
    gettext_noop("In case you’ve forgotten, you are:"),  # the password-reset mail
)
