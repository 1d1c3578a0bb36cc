from django.contrib import admin
from django.urls import path

from hireops.events.views import feishu_events

urlpatterns = [
    path("admin/", admin.site.urls),
    path("feishu/events/", feishu_events, name="feishu-events"),
]
