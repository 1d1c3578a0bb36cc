"""The project's rule for admin actions, decided once for every admin the site registers.

Django offers an action to whoever passes its ``permissions`` (none given: whoever opens the
list). An action that changes a row or calls Feishu needs a permission beyond "view" (change,
or a specific one: publish, withdraw, push, …) and leaves what it did in the change history
(hireops.core.audit, written by the service it calls). An action offered with the view
permission must change nothing: it says so with ``@read_only_action`` (exports, reports).
``manage.py check`` refuses to start when an action of any registered admin, a library's
included, is neither (hireops.E035); the test suite runs each one as every role over HTTP
(tests/test_actions.py).
"""

from django.apps import apps
from django.contrib import admin
from django.core.checks import Error, Tags, register

READ_ONLY = "hireops_read_only"


def read_only_action(*, description):
    """``@read_only_action(description=_("Export selected as CSV"))``: an action that changes
    no row and calls nothing, offered to whoever may view the list."""

    def decorate(func):
        func = admin.action(description=description, permissions=["view"])(func)
        setattr(func, READ_ONLY, True)
        return func

    return decorate


def is_read_only(func) -> bool:
    return getattr(func, READ_ONLY, False)


def gates(func) -> set[str]:
    """The permissions beyond "view" that an action asks for."""
    return set(getattr(func, "allowed_permissions", ())) - {"view"}


def offenders(site=admin.site) -> list[str]:
    """Every action of every registered admin that is neither read-only nor gated."""
    found = []
    for model in apps.get_models():
        if not site.is_registered(model):
            continue
        # Every action the admin has, before any permission filters it: what get_actions(request)
        # starts from, with no request to ask (docs/internals.md).
        for func, name, _description in site.get_model_admin(model)._get_base_actions():
            if is_read_only(func):
                if set(func.allowed_permissions) != {"view"}:
                    found.append(f"{model._meta.label}: {name} is read-only but asks for more than view")
            elif not gates(func):
                found.append(f"{model._meta.label}: {name} changes things with no permission beyond view")
    return found


@register(Tags.admin)
def actions_follow_the_house_rule(app_configs, **kwargs):
    return [
        Error(
            offender,
            hint="Give it a permission beyond view (@admin.action(permissions=[...])) and change through a "
            "service that records what it does (hireops.core.audit), or mark it @read_only_action if it "
            "changes nothing.",
            id="hireops.E035",
        )
        for offender in offenders()
    ]
