"""The peer of bench/longconn.py: the official SDK's long-connection client, unmodified.

    APP_ID=… APP_SECRET=… DOMAIN=http://127.0.0.1:PORT .venv/bin/python bench/sdk_ws_client.py

``lark_oapi.ws.Client`` from the installed lark-oapi package, constructed as its README does,
with a handler that does nothing for the event the benchmark pushes (``app_ticket``, schema
1.0): the SDK acknowledges each event as soon as the handler returns, storing nothing. Its
``start()`` blocks for good on a module-level loop, so it runs in its own process until killed.
Credentials come from the environment, not argv (``ps`` shows argv).
"""

import os

import lark_oapi as lark


def do_nothing(data) -> None:
    pass


def main() -> None:
    handler = (
        lark.EventDispatcherHandler.builder("", "")
        .register_p1_customized_event("app_ticket", do_nothing)
        .build()
    )
    client = lark.ws.Client(
        os.environ["APP_ID"],
        os.environ["APP_SECRET"],
        event_handler=handler,
        domain=os.environ["DOMAIN"],
        log_level=lark.LogLevel.WARNING,  # as the listener runs in the benchmark
    )
    client.start()


if __name__ == "__main__":
    main()
