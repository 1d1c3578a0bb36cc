from django.contrib import admin
from django.urls import include, path

from hireops.events.views import feishu_events

# The admin is the whole site: no "View site" link leading to a 404.
admin.site.site_url = None

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("feishu/events/", feishu_events, name="feishu-events"),
]
