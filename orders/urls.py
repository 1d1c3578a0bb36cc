"""Public paths of the vendor orders (mounted by config.urls with every app's ``urls.py``)."""

from django.urls import path

from .reports import report_download

urlpatterns = [
    path("orders/reports/<secret:token>/<str:filename>", report_download, name="order-report"),
]
