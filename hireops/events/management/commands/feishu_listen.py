"""``python manage.py feishu_listen``: receive Feishu's events over the long connection.

One process per app (Feishu allows 50 connections per app and gives each event to one of
them, so a second process on another host is a hot standby, not a duplicate). SIGTERM or
Ctrl-C stops it cleanly: no new events are read, the ones in hand are stored and
acknowledged, and the process exits.
"""

import asyncio
import os
import signal
import socket

from django.conf import settings
from django.core.management.base import CommandError

from hireops.core.management.base import HireopsCommand
from hireops.events import listener


class Command(HireopsCommand):
    help = "Receive Feishu's events over the long connection (self-built apps, no public URL needed)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--health-bind",
            default=None,
            help="host:port answering /healthz and /readyz; default: settings.FEISHU_LISTEN_HEALTH_BIND",
        )

    def handle(self, *args, health_bind=None, **options):
        transport = settings.FEISHU_EVENT_TRANSPORT
        if transport not in ("long_connection", "both"):
            raise CommandError(
                f"FEISHU_EVENT_TRANSPORT={transport}: set it to long_connection or both to use the "
                "long connection (and choose 使用长连接接收事件 in the app's event settings)."
            )
        if settings.FEISHU_APP_TYPE == "store":
            raise CommandError(
                "Feishu offers the long connection to self-built apps only; a store app uses the webhook."
            )
        if not (settings.FEISHU_APP_ID and settings.FEISHU_APP_SECRET):
            raise CommandError("FEISHU_APP_ID and FEISHU_APP_SECRET are needed to open the long connection.")
        bind = health_bind or settings.FEISHU_LISTEN_HEALTH_BIND
        name = f"listen@{socket.gethostname()}:{os.getpid()}"
        self.stdout.write(
            f"Listening to Feishu's events over the long connection ({settings.FEISHU_BASE_URL}, "
            f"app {settings.FEISHU_APP_ID}); health on http://{bind}/readyz. Ctrl-C stops."
        )
        asyncio.run(self._main(bind, name))
        self.stdout.write("Stopped: every event in hand was stored and acknowledged.")

    @staticmethod
    async def _main(bind: str, name: str) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await listener.serve(stop, health_bind=bind, name=name)
