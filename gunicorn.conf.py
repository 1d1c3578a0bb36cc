"""gunicorn reads this file from its working directory: the Procfile's servers (admin and
ingest) and any other ``gunicorn`` started from the repository's root.

gunicorn's own lines, access lines included, are masked like every other line of hireops
(query values, secret path segments, mobiles, emails, tokens: ``hireops.core.privacy.scrubbing``).
With ``LOG_FORMAT=json`` (the environment, or .env as the settings read it) they are JSON too,
like the application's; otherwise they keep gunicorn's own format.
"""

import os
from pathlib import Path

import environ

environ.Env.read_env(Path(__file__).with_name(".env"), overwrite=False)

if os.environ.get("LOG_FORMAT", "plain") == "json":
    logger_class = "hireops.core.logs.gunicorn.JsonLogger"
else:
    logger_class = "hireops.core.logs.gunicorn.RedactingLogger"

# The admin's and the API's server (config.wsgi): gunicorn's threaded worker, answering what
# gunicorn refuses itself (a request line or header section too large: 414, 431) as problem
# details, as every other error of the API (hireops/api/web_worker.py). The ingest server names
# its own worker class (-k), which takes precedence over this one.
worker_class = "hireops.api.web_worker.WebWorker"

# gunicorn's largest request line (its default is 4,094). The longest one a partner can
# legitimately send, every path and query parameter of an operation at the longest its
# document allows, percent-encoded, is computed from the OpenAPI document by
# tests/api/test_hostile_input.py, which fails once it no longer fits (docs/deployment.md,
# "Request limits"). Headers keep gunicorn's limits: 100 fields of at most 8,190 bytes.
limit_request_line = 8190


def post_worker_init(worker):
    """Each worker of either server, its application loaded: the webhook's missing secrets in
    its log (both servers answer /feishu/events/). Here rather than when config.wsgi or
    config.ingest is imported, where no setting may be read (tests/test_settings_read_at_use.py)."""
    from hireops.events.checks import warn_servers

    warn_servers()
