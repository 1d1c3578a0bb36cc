from django.urls import path
from django.views.generic import RedirectView

from . import views

urlpatterns = [
    # The admin's login page is the one sign-in page (password, django-axes, and the Feishu
    # button); allauth's own password page would bypass both rules.
    path("login/", RedirectView.as_view(pattern_name="admin:login", query_string=True)),
    path("feishu/invitation/<secret:token>/", views.invitation, name="signin_invitation"),
    path("second-factor/", views.enrol, name="signin_enrol"),
]
