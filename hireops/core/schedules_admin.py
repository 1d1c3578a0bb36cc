"""Periodic tasks (django-celery-beat) as staff use them.

django-celery-beat's list actions (enable, disable, toggle, run) ask for no permission, so
anyone who may view the schedules, auditors included, could switch the balance pull off; and
they update rows without logging. Here they need the change permission and are recorded in
the change history.
"""

from django.contrib import admin
from django.utils.translation import gettext_noop
from django_celery_beat import admin as beat_admin  # registers PeriodicTaskAdmin first
from django_celery_beat.models import PeriodicTask

from . import audit

# Change-history messages (hireops.core.audit), translated when read.
ENABLED = gettext_noop("Schedule enabled.")
DISABLED = gettext_noop("Schedule disabled.")
RUN = gettext_noop("Run now requested.")

Base = beat_admin.PeriodicTaskAdmin


class ScheduleAdmin(Base):
    def _record_states(self, request, pks):
        for task in PeriodicTask.objects.filter(pk__in=pks):
            audit.record(request.user, [task], ENABLED if task.enabled else DISABLED)

    # The selection is taken first: a list filtered on "enabled" no longer holds it afterwards.
    @admin.action(description=Base.enable_tasks.short_description, permissions=["change"])
    def enable_tasks(self, request, queryset):
        pks = list(queryset.values_list("pk", flat=True))
        super().enable_tasks(request, queryset)
        self._record_states(request, pks)

    @admin.action(description=Base.disable_tasks.short_description, permissions=["change"])
    def disable_tasks(self, request, queryset):
        pks = list(queryset.values_list("pk", flat=True))
        super().disable_tasks(request, queryset)
        self._record_states(request, pks)

    @admin.action(description=Base.toggle_tasks.short_description, permissions=["change"])
    def toggle_tasks(self, request, queryset):
        pks = list(queryset.values_list("pk", flat=True))
        super().toggle_tasks(request, queryset)
        self._record_states(request, pks)

    @admin.action(description=Base.run_tasks.short_description, permissions=["change"])
    def run_tasks(self, request, queryset):
        super().run_tasks(request, queryset)
        tasks = list(queryset)
        if all(self.celery_app.tasks.get(t.task) for t in tasks):  # otherwise none was sent
            audit.record(request.user, tasks, RUN)


admin.site.unregister(PeriodicTask)
admin.site.register(PeriodicTask, ScheduleAdmin)
