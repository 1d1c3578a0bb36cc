"""The schedules (django-celery-beat's periodic tasks) as staff use them.

The apps declare their schedules in code (hireops.core.schedules.registry): what each runs, with which
arguments, and who manages it. Here staff switch a schedule on and off, change its timing
(an interval, or a crontab) and run it now, each only for the schedules they manage; nobody
adds or deletes one, or chooses a task, its arguments or its routing. "Run now" sends the
task the code declares with the code's arguments, whatever the row says. Every switch, timing
change and run is in the change history.

The interval and crontab rows behind a timing are made from the schedule's own page and
shared, never edited (editing one would retime every schedule using it, another role's too):
they have no admin of their own.
"""

from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.contrib.admin.utils import display_for_value
from django.core.exceptions import ValidationError
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django_celery_beat import admin as beat_admin  # noqa: F401  (registers beat's admins first)
from django_celery_beat import models as beat_models
from django_celery_beat import validators
from django_celery_beat.models import PeriodicTask

from ..schedules import registry as schedules
from ..schedules.registry import CRONTAB_FIELDS, declared, may_manage

INTERVAL, CRONTAB = "interval", "crontab"
PERIODS = [
    (beat_models.DAYS, _("days")),
    (beat_models.HOURS, _("hours")),
    (beat_models.MINUTES, _("minutes")),
    (beat_models.SECONDS, _("seconds")),
]
CRONTAB_VALIDATORS = {
    "minute": validators.minute_validator,
    "hour": validators.hour_validator,
    "day_of_month": validators.day_of_month_validator,
    "month_of_year": validators.month_of_year_validator,
    "day_of_week": validators.day_of_week_validator,
}


def _crontab_field(label, help_text=""):
    return forms.CharField(label=label, required=False, max_length=64, help_text=help_text)


class TimingForm(forms.ModelForm):
    """A schedule's page: enabled, and its timing. The interval or crontab row is looked up
    (or added) on save; the row's other fields are not in the form, so a request that posts
    them changes nothing."""

    kind = forms.ChoiceField(
        label=_("timing"),
        choices=[(INTERVAL, _("at an interval")), (CRONTAB, _("at set times (crontab)"))],
        widget=forms.RadioSelect,
    )
    every = forms.IntegerField(label=_("every"), min_value=1, required=False)
    period = forms.ChoiceField(label=_("period"), choices=PERIODS, required=False)
    minute = _crontab_field(
        _("minute"),
        _(
            'Crontab fields: "*" for any, lists and ranges ("0,30", "1-5", "*/15"); weekdays 0-6 '
            "from Sunday. Times are in the project's time zone (TIME_ZONE)."
        ),
    )
    hour = _crontab_field(_("hour"))
    day_of_month = _crontab_field(_("day of the month"))
    month_of_year = _crontab_field(_("month"))
    day_of_week = _crontab_field(_("day of the week"))

    class Meta:
        model = PeriodicTask
        fields = ["enabled"]
        # django-celery-beat's own help names its columns ("Set to False…"); ours says what it does.
        help_texts = {"enabled": _("A schedule switched off does not run until it is switched on again.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        row = self.instance
        interval, crontab = (row.interval, row.crontab) if row.pk else (None, None)
        self.initial.update(
            kind=CRONTAB if crontab else INTERVAL,
            every=interval.every if interval else None,
            period=interval.period if interval else beat_models.MINUTES,
            **{name: getattr(crontab, name) if crontab else "*" for name in CRONTAB_FIELDS},
        )

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if data.get("kind") == INTERVAL:
            for name in ("every", "period"):
                if not data.get(name):
                    self.add_error(name, _("Needed for a schedule at an interval."))
        elif data.get("kind") == CRONTAB:
            for name, validator in CRONTAB_VALIDATORS.items():
                value = (data.get(name) or "").strip()
                try:
                    if not value:
                        raise ValidationError(_('Needed for a crontab; "*" for any.'))
                    validator(value)
                except (ValidationError, ValueError):
                    self.add_error(name, _("Not a crontab value: %(value)s") % {"value": value or "—"})
                data[name] = value
        return data

    def save(self, commit=True):
        data, row = self.cleaned_data, self.instance
        if data["kind"] == INTERVAL:
            row.interval, row.crontab = schedules.interval_row(data["every"], data["period"]), None
        else:
            crontab = schedules.crontab_row(**{name: data[name] for name in CRONTAB_FIELDS})
            row.interval, row.crontab = None, crontab
        return super().save(commit)


READ_ONLY = ("title", "runs", "owner")
HISTORY = ("last_run", "total_run_count")


class ScheduleAdmin(admin.ModelAdmin):
    form = TimingForm
    list_display = ("title", "enabled", "timing", "owner", "last_run_at")
    list_filter = ("enabled",)
    list_select_related = ("interval", "crontab")
    search_fields = ("name",)
    ordering = ("name",)
    actions = ["enable_tasks", "disable_tasks", "toggle_tasks", "run_tasks"]

    # --- who sees and changes what (hireops.core.schedules.registry) ------------------------------

    def get_queryset(self, request):
        names = schedules.visible_names(request.user)
        rows = super().get_queryset(request)
        return rows if names is None else rows.filter(name__in=names)

    def has_module_permission(self, request):
        return schedules.may_view_any(request.user)

    def has_view_permission(self, request, obj=None):
        return schedules.may_view_any(request.user) if obj is None else schedules.may_view(request.user, obj)

    def has_change_permission(self, request, obj=None):
        return schedules.may_manage_any(request.user) if obj is None else may_manage(request.user, obj)

    def has_add_permission(self, request):
        return False  # schedules come from the code

    def has_delete_permission(self, request, obj=None):
        """Only a row no app declares (beat never runs it), by whoever may delete rows."""
        may = request.user.has_perm("django_celery_beat.delete_periodictask")
        return may and (obj is None or declared(obj.name) is None)

    def save_model(self, request, obj, form, change):
        # The page's columns only: beat writes last_run_at and the run count meanwhile.
        fields = ["enabled", "interval", "crontab", "date_changed"]
        obj.save(update_fields=fields if obj.enabled else [*fields, "last_run_at"])
        if form.has_changed():
            schedules.note_change(obj, request.user)  # a hand on what the schedule prepares

    # --- the page --------------------------------------------------------------------------

    def get_fieldsets(self, request, obj=None):
        if obj is not None and may_manage(request.user, obj):
            timing: tuple[str | tuple[str, ...], ...] = ("kind", ("every", "period"), CRONTAB_FIELDS)
        else:
            timing = ("timing",)
        return [
            (None, {"fields": (*READ_ONLY, "enabled")}),
            (_("Timing"), {"fields": timing}),
            (_("Runs so far"), {"fields": HISTORY}),
        ]

    def get_readonly_fields(self, request, obj=None):
        return (*READ_ONLY, "timing", *HISTORY)

    @admin.display(description=_("name"), ordering="name")
    def title(self, row):
        return gettext(row.name)  # declared names are msgids

    @admin.display(description=_("last run"))
    def last_run(self, row):
        """Beat's column without beat's help ("Reset to None if enabled is set to False")."""
        return display_for_value(row.last_run_at, self.get_empty_value_display())

    @admin.display(description=_("runs"))
    def runs(self, row):
        schedule = declared(row.name)
        if schedule is None:
            return format_html("<code>{}</code> {} {}", row.task, row.args, row.kwargs)
        args, kwargs = list(schedule.args) or "", schedule.kwargs or ""
        return format_html("<code>{}</code> {} {}", schedule.task, args, kwargs)

    @admin.display(description=_("managed by"))
    def owner(self, row):
        schedule = declared(row.name)
        if schedule is None:
            return _("no app declares it: never run")
        if schedule.managed_with == schedules.MANAGE_ALL:
            return _("the platform (superusers)")
        return apps.get_app_config(schedule.app_label).verbose_name

    @admin.display(description=_("timing"))
    def timing(self, row):
        if row.crontab:
            crontab = row.crontab
            fields = " ".join(getattr(crontab, name) for name in CRONTAB_FIELDS)
            return format_html("<code>{}</code> ({})", fields, crontab.timezone)
        return str(row.interval) if row.interval else "—"

    # --- list actions ----------------------------------------------------------------------

    def _managed(self, request, queryset) -> list:
        """The selected rows the user manages; the others are refused, by name."""
        rows = list(queryset.select_related(None))
        refused = [gettext(r.name) for r in rows if not may_manage(request.user, r)]
        if refused:
            self.message_user(
                request, _("Not yours to change: %(names)s") % {"names": ", ".join(refused)}, messages.ERROR
            )
        return [r for r in rows if may_manage(request.user, r)]

    def _switch(self, request, queryset, to: bool | None) -> None:
        """Enable (True), disable (False) or toggle (None), recording each change."""
        changed = 0
        for row in self._managed(request, queryset):
            enabled = (not row.enabled) if to is None else to
            changed += schedules.switch(row, enabled, request.user)
        done = ngettext("%d schedule changed.", "%d schedules changed.", changed) % changed
        self.message_user(request, done)

    @admin.action(description=_("Enable selected schedules"), permissions=["change"])
    def enable_tasks(self, request, queryset):
        self._switch(request, queryset, True)

    @admin.action(description=_("Disable selected schedules"), permissions=["change"])
    def disable_tasks(self, request, queryset):
        self._switch(request, queryset, False)

    @admin.action(description=_("Switch selected schedules on or off"), permissions=["change"])
    def toggle_tasks(self, request, queryset):
        self._switch(request, queryset, None)

    @admin.action(description=_("Run selected schedules now"), permissions=["change"])
    def run_tasks(self, request, queryset):
        """The code's task with the code's arguments: a row's own task and arguments are
        never sent (a row no app declares is not run)."""
        run = 0
        for row in self._managed(request, queryset):
            schedule = declared(row.name)
            if schedule is None:
                refused = _("%(name)s: no app declares this schedule; it is not run from here.")
                self.message_user(request, refused % {"name": row.name}, messages.ERROR)
                continue
            schedules.run_now(row, schedule, request.user)
            run += 1
        done = ngettext("%d schedule sent to run.", "%d schedules sent to run.", run) % run
        self.message_user(request, done)


admin.site.unregister(PeriodicTask)
admin.site.register(PeriodicTask, ScheduleAdmin)
# Timings are chosen on a schedule's page; clocked (one-off) and solar schedules are not used.
for kind in (
    beat_models.IntervalSchedule,
    beat_models.CrontabSchedule,
    beat_models.ClockedSchedule,
    beat_models.SolarSchedule,
):
    admin.site.unregister(kind)
