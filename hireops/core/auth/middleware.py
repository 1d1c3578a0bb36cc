"""Django's ``AuthenticationMiddleware``, with the user's answers about permissions kept for
the request.

An admin page asks ``has_perm`` and ``has_module_perms`` over a hundred times (the sidebar
asks each of some fifty admins for its module and four permissions, then come the
second-factor middleware, each button and each action), and Django answers every question by
loading each authentication backend anew (``auth.get_backends()``) before reading the
permissions the backend already keeps on the user object for the request
(``hireops.core.auth.backends``). Here the first answer to each question is kept on that same user object,
for that same lifetime: a permission granted or revoked mid-request counts from the next
request, as it already did. Questions about one object (``obj=``) are asked every time.
"""

from django.contrib.auth import middleware
from django.utils.functional import SimpleLazyObject


class AuthenticationMiddleware(middleware.AuthenticationMiddleware):
    def process_request(self, request):
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: remembering_permissions(middleware.get_user(request)))


def remembering_permissions(user):
    """``user``, whose ``has_perm``, ``has_perms`` (through ``has_perm``) and
    ``has_module_perms`` each ask the backends once per question."""
    if not user.is_authenticated:
        return user
    perms, modules = {}, {}
    has_perm, has_module_perms = user.has_perm, user.has_module_perms

    def remembered_has_perm(perm, obj=None):
        if obj is not None:
            return has_perm(perm, obj)
        if perm not in perms:
            perms[perm] = has_perm(perm)
        return perms[perm]

    def remembered_has_module_perms(app_label):
        if app_label not in modules:
            modules[app_label] = has_module_perms(app_label)
        return modules[app_label]

    user.has_perm, user.has_module_perms = remembered_has_perm, remembered_has_module_perms
    return user
