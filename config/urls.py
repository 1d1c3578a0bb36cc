from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from hireops.api.served import api
from hireops.core.web.app_urls import app_urlpatterns
from hireops.events.views import feishu_events
from hireops.signin.forms import AdminLoginForm
from hireops.signin.views import set_language

# The admin is the whole site: no "View site" link leading to a 404.
admin.site.site_url = None
admin.site.login_form = AdminLoginForm  # PASSWORD_LOGIN: the password for break-glass superusers only
admin.site.login_template = "signin/admin_login.html"  # the password form and "Sign in with Feishu"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index")),  # the admin is the whole site
    path("admin/", admin.site.urls),
    # Django's language switch (django.conf.urls.i18n's one page), noting the signed-in user's
    # choice for the messages they get in Feishu.
    path("i18n/setlang/", set_language, name="set_language"),
    path("accounts/", include("hireops.signin.urls")),  # with the allauth pages hireops uses
    path("api/v1/", api.urls),  # the partners' REST API (docs/api.md)
    path("feishu/events/", feishu_events, name="feishu-events"),
    *app_urlpatterns(),  # each app's own urls.py (public paths such as report links)
]
