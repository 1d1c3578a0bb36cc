"""Periodic tasks (django-celery-beat) as staff use them.

django-celery-beat's list actions (enable, disable, toggle, run) ask for no permission, so
anyone who may view the schedules, auditors included, could switch the balance pull off; and
they update rows without logging. Here they need the change permission and are recorded in
the change history.
"""

from django.contrib import admin
from django.utils.translation import gettext_noop
from django_celery_beat import admin as beat_admin  # registers PeriodicTaskAdmin first
from django_celery_beat import models as beat_models
from django_celery_beat.models import PeriodicTask

from .. import audit

# Change-history messages (hireops.core.audit), translated when read.
ENABLED = gettext_noop("Schedule enabled.")
DISABLED = gettext_noop("Schedule disabled.")
RUN = gettext_noop("Run now requested.")

Base = beat_admin.PeriodicTaskAdmin


def _recording_states(base_action):
    """``base_action`` (enable, disable, toggle) for users with the change permission, with
    each selected schedule's new state recorded. The selection is taken first: a list
    filtered on "enabled" no longer holds it afterwards."""

    @admin.action(description=base_action.short_description, permissions=["change"])
    def action(self, request, queryset):
        pks = list(queryset.values_list("pk", flat=True))
        base_action(self, request, queryset)
        for task in PeriodicTask.objects.filter(pk__in=pks):
            audit.record(request.user, [task], ENABLED if task.enabled else DISABLED)

    action.__name__ = base_action.__name__
    return action


class ScheduleAdmin(Base):
    enable_tasks = _recording_states(Base.enable_tasks)
    disable_tasks = _recording_states(Base.disable_tasks)
    toggle_tasks = _recording_states(Base.toggle_tasks)

    @admin.action(description=Base.run_tasks.short_description, permissions=["change"])
    def run_tasks(self, request, queryset):
        super().run_tasks(request, queryset)
        tasks = list(queryset)
        if all(self.celery_app.tasks.get(t.task) for t in tasks):  # otherwise none was sent
            audit.record(request.user, tasks, RUN)


admin.site.unregister(PeriodicTask)
admin.site.register(PeriodicTask, ScheduleAdmin)


class OutOfTheNavigation:
    """A schedule kind that is picked and added from a periodic task's own page (its "+"
    and pencil buttons need the admin registered), not a list of its own in the navigation."""

    def has_module_permission(self, request):
        return False


for kind in (beat_models.IntervalSchedule, beat_models.CrontabSchedule):
    base = type(admin.site.get_model_admin(kind))
    admin.site.unregister(kind)
    admin.site.register(kind, type(f"Hidden{base.__name__}", (OutOfTheNavigation, base), {}))
# Clocked (one-off) and solar schedules are not used by hireops: not offered at all.
admin.site.unregister(beat_models.ClockedSchedule)
admin.site.unregister(beat_models.SolarSchedule)
