# syntax=docker/dockerfile:1
# hireops: one image for every process (admin, ingest, worker, beat, migrate, metrics, status);
# docker/entrypoint.sh picks the process from the command. compose.yaml builds and runs it;
# docs/deployment.md explains the deployment. No secret is baked in: every setting comes
# from the environment at run time.

# --- build: the virtualenv, from the hashed lock and nothing else ---------------------------
FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
# No pip or setuptools inside the virtualenv: the base image's pip installs into it.
RUN python -m venv --without-pip /opt/venv
COPY requirements.txt /tmp/requirements.txt
# Every file must be the one the lock names (--require-hashes). Wheels only: every locked
# package has one for Linux (x86-64 and arm64), so no compiler is needed here either; a
# dependency that ever needs building fails the build here instead of dragging gcc along.
RUN pip --python /opt/venv/bin/python install --require-hashes --only-binary=:all: \
        -r /tmp/requirements.txt

# --- runtime: Python, the virtualenv and the code; no build tools, no pip cache -------------
FROM python:3.11-slim-bookworm AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=config.settings \
    HIREOPS_VAR_DIR=/var/lib/hireops \
    STATIC_ROOT=/app/static \
    PROMETHEUS_MULTIPROC_DIR=/var/run/hireops/metrics
# A fixed numeric user, so volumes can be prepared for it and Kubernetes' runAsNonRoot can
# check it. It owns only what a process writes: report files and the shared metrics folder.
RUN groupadd --system --gid 10001 hireops \
    && useradd --system --uid 10001 --gid hireops --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin hireops \
    && mkdir -p /var/lib/hireops /var/run/hireops/metrics \
    && chown -R hireops:hireops /var/lib/hireops /var/run/hireops
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY . /app
# The admin's static files under content-hashed names (WhiteNoise serves them), and the code
# compiled once so no process compiles it at start. Settings' embedded defaults suffice here;
# their scratch files go to a folder removed in the same step.
RUN HIREOPS_VAR_DIR=/tmp/build-var python manage.py collectstatic --noinput -v 0 \
    && rm -rf /tmp/build-var \
    && python -m compileall -q /app
USER 10001:10001
EXPOSE 8000 8001 9108
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["admin"]
