"""A process's start without the cyclic garbage collector walking it again and again.

Starting Django here imports about 1,500 modules and makes some 215,000 objects the collector
tracks, all living as long as the process. CPython's collector runs a full pass each time the
long-lived objects grow by a quarter, so a start walked them all several times:
``django.setup()`` took 1.01 s of CPU so, 0.83 s with the collector paused (means of 10
interleaved starts, 2 cores, probe 225 ms). Every process pays it: the servers' workers,
Celery's worker and beat, the listener, each ``manage.py`` command.

So the collector waits (``pause``) from the moment the composition root is imported until
every app is ready (``resume``, from the last installed app, ``config.startup.apps``); then
what the start made is moved out of its sight for good (``gc.freeze``), so that later passes
walk only what the process makes afterwards, and the collector runs as before. The few
thousand objects the start left as garbage (3,425 here) stay with the frozen ones, once per
process and never more: collecting them first would cost one more full pass, 0.2 s. A
process that imports the composition root and never loads the apps still collects: ``pause``
only raises the thresholds, so that the passes are rare rather than gone.
"""

import gc

# While paused: a young pass every million allocations, an older one after a thousand of those:
# none in a start, still some in a process that imported the composition root and went no
# further.
PAUSED_THRESHOLDS = (1_000_000, 1_000, 1_000)
_running: tuple[int, int, int] | None = None  # the thresholds to go back to


def pause() -> None:
    global _running
    if _running is None:
        _running = gc.get_threshold()
        gc.set_threshold(*PAUSED_THRESHOLDS)


def resume() -> None:
    global _running
    if _running is not None:
        gc.freeze()
        gc.set_threshold(*_running)
        _running = None
