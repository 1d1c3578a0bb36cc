"""Celery beat's scheduler (``CELERY_BEAT_SCHEDULER``): django-celery-beat's, running only the
schedules the apps declare (hireops.core.schedules.registry), each with its declared task and
arguments. The rows give the timing and whether a schedule is enabled; what a row says it
runs never reaches a worker, so a row changed behind the admin's back (or left by an earlier
release) runs nothing it was not declared to run.
"""

from django_celery_beat.schedulers import DatabaseScheduler, ModelEntry

from .registry import declared, schedules


class DeclaredEntry(ModelEntry):
    def __init__(self, model, app=None):
        super().__init__(model, app)
        schedule = declared(model.name)
        if schedule is not None:
            self.task, self.args, self.kwargs = schedule.task, list(schedule.args), dict(schedule.kwargs)
            self.options = {"headers": {"periodic_task_name": model.name}}  # routed as the task is


class DeclaredScheduler(DatabaseScheduler):
    Entry = DeclaredEntry

    def enabled_models_qs(self):
        return super().enabled_models_qs().filter(name__in=[s.name for s in schedules()])

    def install_default_entries(self, data):
        """Not celery.backend_cleanup: hireops keeps no task results (CELERY_TASK_IGNORE_RESULT)."""
