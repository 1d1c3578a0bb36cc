"""gunicorn reads this file from its working directory: the Procfile's servers (admin and
ingest) and any other ``gunicorn`` started from the repository's root.

gunicorn's own lines, access lines included, are masked like every other line of hireops
(query values, secret path segments, mobiles, emails, tokens: ``hireops.core.scrubbing``).
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
