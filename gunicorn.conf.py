"""gunicorn reads this file from its working directory: the Procfile's servers (admin and
ingest) and any other ``gunicorn`` started from the repository's root.

With ``LOG_FORMAT=json`` (the environment, or .env as settings.py reads it) gunicorn's own
lines are JSON too, like the application's. Otherwise gunicorn keeps its own format.
"""

import os
from pathlib import Path

import environ

environ.Env.read_env(Path(__file__).with_name(".env"), overwrite=False)

if os.environ.get("LOG_FORMAT", "plain") == "json":
    logger_class = "hireops.core.logs.gunicorn.JsonLogger"
