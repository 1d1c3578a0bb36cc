#!/bin/sh
# The image's entry point: one subcommand per process, the same image for all of them.
#
#   admin     gunicorn config.wsgi on $BIND_HOST:${PORT:-8000}
#   ingest    gunicorn config.ingest (its worker: hireops.events.ingest_worker) on $BIND_HOST:${PORT:-8001}
#   worker    celery worker; WORKER_QUEUES picks the queues (events | celery | bulk | webhooks, comma-separated)
#   beat      celery beat (exactly one in the whole deployment)
#   migrate   refuse a configuration Django's deployment checks call an error, then migrate
#   metrics   manage.py hireops_metrics on $BIND_HOST:${PORT:-9108}
#   listen    manage.py feishu_listen: events over the long connection (FEISHU_EVENT_TRANSPORT
#             long_connection or both), /healthz and /readyz on $BIND_HOST:${PORT:-8002}
#   status    manage.py hireops_status
#   anything else runs as given (a shell, manage.py createsuperuser, ...)
# Arguments after a subcommand go to its program. Every process is exec'd: it replaces this
# shell, so the container's SIGTERM reaches the server itself, which stops gracefully
# (gunicorn finishes requests in flight within GRACEFUL_TIMEOUT; celery finishes its tasks).
# A POSIX sh script rather than Python: no interpreter start before the real one, and exec is
# the whole job. docs/deployment.md describes the variables.
set -eu

cd "$(dirname "$0")/.."  # the application directory: `hireops` is imported from here

# Prometheus multiprocess mode: every process of every container writes its samples into this
# one shared directory. Create it if missing; never empty it, other containers are writing.
if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
  mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
fi

bind_host=${BIND_HOST:-0.0.0.0}
# Options both gunicorn servers share. No access log unless one is asked for
# (`admin --access-logfile -`): its lines are then masked like every other (gunicorn.conf.py:
# query values, secret path segments, mobiles, emails). Each server gets no control socket:
# gunicorn's default path is shared by every server under one user.
gunicorn_opts="--graceful-timeout ${GRACEFUL_TIMEOUT:-30} --no-control-socket --worker-tmp-dir /dev/shm"

if [ $# -eq 0 ]; then
  echo "usage: entrypoint.sh admin|ingest|worker|beat|migrate|metrics|listen|status|COMMAND [ARGS...]" >&2
  exit 2
fi
command=$1
shift

case "$command" in
  admin)
    # shellcheck disable=SC2086  # gunicorn_opts is a list of words
    exec python -m gunicorn config.wsgi --bind "$bind_host:${PORT:-8000}" \
      --workers "${WEB_CONCURRENCY:-2}" --threads "${WEB_THREADS:-4}" $gunicorn_opts "$@"
    ;;
  ingest)
    # uvicorn's protocol under gunicorn's arbiter, with a deadline on each request's arrival
    # (REQUEST_READ_TIMEOUT) and limits on its headers (hireops.events.ingest_worker).
    # shellcheck disable=SC2086
    exec python -m gunicorn config.ingest --worker-class hireops.events.ingest_worker.IngestWorker \
      --bind "$bind_host:${PORT:-8001}" --workers "${INGEST_WORKERS:-2}" $gunicorn_opts "$@"
    ;;
  worker)
    # Without WORKER_QUEUES the worker consumes every queue (as ./dev run's does). Prefork by
    # default: the pool that enforces the tasks' time limits (docs/deployment.md), and one
    # process per slot, so a worker uses every core; the webhooks' worker sets threads.
    if [ -n "${WORKER_QUEUES:-}" ]; then
      set -- --queues "$WORKER_QUEUES" "$@"
    fi
    exec python -m celery -A config worker --loglevel "${LOG_LEVEL:-INFO}" \
      --pool "${WORKER_POOL:-prefork}" --concurrency "${WORKER_CONCURRENCY:-4}" "$@"
    ;;
  beat)
    exec python -m celery -A config beat --loglevel "${LOG_LEVEL:-INFO}" "$@"
    ;;
  migrate)
    # Everything else waits for this one-shot step, so a public SECRET_KEY or a broken app
    # registration stops the deployment before anything serves.
    python manage.py check --deploy --fail-level ERROR
    exec python manage.py migrate --noinput "$@"
    ;;
  metrics)
    exec python manage.py hireops_metrics --bind "$bind_host:${PORT:-9108}" "$@"
    ;;
  listen)
    exec python manage.py feishu_listen --health-bind "$bind_host:${PORT:-8002}" "$@"
    ;;
  status)
    exec python manage.py hireops_status "$@"
    ;;
  *)
    exec "$command" "$@"
    ;;
esac
