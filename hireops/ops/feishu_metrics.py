"""The Feishu client's reports (hireops.feishu.hooks) as Prometheus metrics and pressure
gauges: plugged in at start-up, so the client imports nothing of ops."""

from hireops.feishu import hooks

from . import metrics, pressure


def _call_finished(endpoint, status, code, seconds) -> None:
    metrics.feishu_calls.labels(
        endpoint, str(status or "none"), str(code if code is not None else "none")
    ).inc()
    metrics.feishu_seconds.labels(endpoint).observe(seconds)


def _limiter_waited(endpoint, seconds) -> None:
    if seconds > 0:
        pressure.note_rate_limit_wait(seconds)
    metrics.limiter_wait.labels(endpoint).observe(seconds)


def _rate_limited(endpoint) -> None:
    metrics.feishu_rate_limited.labels(endpoint).inc()
    pressure.note_rate_limited()


def _token_refreshed(kind) -> None:
    metrics.token_refreshes.labels(kind).inc()


def _reconnected() -> None:
    metrics.longconn_reconnects.inc()


def connect() -> None:
    hooks.on("call_finished", _call_finished)
    hooks.on("limiter_waited", _limiter_waited)
    hooks.on("rate_limited", _rate_limited)
    hooks.on("token_refreshed", _token_refreshed)
    hooks.on("reconnected", _reconnected)
