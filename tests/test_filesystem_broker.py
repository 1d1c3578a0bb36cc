"""The embedded broker (``filesystem://``: ./dev run, the tests) never hands a worker a message
still being written: kombu's own wrote the file under its final name, a worker polling the
folder took it empty, and ./dev run stopped (config/filesystem_broker.py)."""

import logging
import threading

from django.conf import settings
from kombu import Connection

from config.celery import app
from config.filesystem_broker import Transport

MESSAGES, SIZE = 3, 4_000_000  # long enough to write that a worker polls the folder meanwhile


def test_a_polling_worker_takes_each_message_whole(tmp_path):
    options = {
        "data_folder_in": str(tmp_path),
        "data_folder_out": str(tmp_path),
        "control_folder": str(tmp_path / "control"),
        "polling_interval": 0,
    }
    taken, failed = [], []

    def worker():
        with Connection(transport=Transport, transport_options=options) as connection:
            queue = connection.SimpleQueue("events")
            while len(taken) < MESSAGES:
                try:
                    message = queue.get(timeout=30)
                except Exception as exc:  # what stopped ./dev run's worker: a JSONDecodeError
                    failed.append(exc)
                    return
                taken.append(len(message.payload["data"]))
                message.ack()

    polling = threading.Thread(target=worker)
    polling.start()
    with Connection(transport=Transport, transport_options=options) as connection:
        queue = connection.SimpleQueue("events")
        for _ in range(MESSAGES):
            queue.put({"data": "x" * SIZE})
    polling.join(60)
    assert failed == [] and taken == [SIZE] * MESSAGES
    assert not list(tmp_path.glob(".*"))  # nothing left half-way


def test_the_settings_use_it_for_a_filesystem_broker_and_kombu_warns_of_no_host(caplog):
    if not settings.CELERY_BROKER_URL.startswith("filesystem://"):
        assert getattr(settings, "CELERY_BROKER_TRANSPORT", None) is None  # Redis, RabbitMQ: kombu's own
        return
    with (
        caplog.at_level(logging.WARNING, logger="kombu.connection"),
        app.connection_for_write() as connection,
    ):
        assert isinstance(connection.transport, Transport)
        connection.info()  # where kombu warned "No hostname was supplied" at every start
    assert not [r for r in caplog.records if "hostname" in r.getMessage()]
