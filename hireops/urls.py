from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from hireops.core.app_urls import app_urlpatterns
from hireops.events.views import feishu_events

# The admin is the whole site: no "View site" link leading to a 404.
admin.site.site_url = None

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index")),  # the admin is the whole site
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("feishu/events/", feishu_events, name="feishu-events"),
    *app_urlpatterns(),  # each app's own urls.py (public paths such as report links)
]
