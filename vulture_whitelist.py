"""Names vulture reports as unused that are used, by a caller it cannot see (./dev lint runs it;
pyproject.toml, ``[tool.vulture]``). vulture counts a name as used wherever it is read, so each
line below reads one; the comment says who uses it. A name belongs here only when the code
cannot do without it: remove what nothing uses instead.
"""


class _Names:
    """``_.name`` reads ``name``: vulture parses this file, which nothing imports."""

    def __getattr__(self, name: str) -> "_Names":
        return self


_ = _Names()

USED = (
    # Modules an app's ready() imports for what they register (a trend metric, its charts):
    # orders/apps.py, referrals/apps.py.
    _.turnaround,
    _.leaver_trends,
    # Django calls every system check with app_configs= (and databases=) by keyword; a check that
    # looks at the whole project ignores them (hireops/*/checks.py, hireops/core/admin/actions.py).
    _.app_configs,
    # A handler given to signal.signal() (or Celery's platforms.signals) is called with the signal's
    # number and the frame; a handler that only stops ignores the number (config/celery.py,
    # sandbox/management/commands/feishu_sandbox.py).
    _.signum,
    # Django's middleware calls process_view(request, view_func, view_args, view_kwargs); the second
    # factor's middleware decides on the URL's name alone (hireops/signin/middleware.py).
    _.view_func,
    _.view_args,
    _.view_kwargs,
    # ninja calls these overrides with path_params= by keyword: the one document ignores them
    # (hireops/api/site.py, get_openapi_schema), and so does the body reader of JSON or a form
    # (hireops/api/bodies.py, get_request_data).
    _.path_params,
    # logging calls Formatter.formatTime(record, datefmt): the JSON logs' time is always ISO 8601 in
    # UTC (hireops/core/logs/formatting.py).
    _.datefmt,
    # The report link's URL ends with the file's name, for the browser to save it under; the view
    # finds the file by its signed token (orders/reports.py, report_download; orders/urls.py).
    _.filename,
    # Imported for the type checker and named in a quoted annotation, which vulture does not read
    # (hireops/webhooks/endpoints.py, Reach.of_person).
    _.AbstractBaseUser,
    _.AnonymousUser,
)
