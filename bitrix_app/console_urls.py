"""The console's addresses (mounted at /console/): sign-in, the portal list, and per portal the frame's pages."""
from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.decorators.http import require_GET

from . import console_views, pages
from .console import console_page

app_name = "console"

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(
        template_name="console/login.html", redirect_authenticated_user=True, extra_context={"console": True}),
         name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", console_views.portals, name="portals"),
    path("<int:portal_id>/", console_page(require_GET(pages.home)), name="home"),
    path("<int:portal_id>/connect/", console_page(pages.connect), name="connect"),
    path("<int:portal_id>/departments/", console_page(pages.departments), name="departments"),
    path("<int:portal_id>/absence-types/", console_page(pages.absence_types), name="absence_types"),
    path("<int:portal_id>/preview/", console_page(pages.preview), name="preview"),
    path("<int:portal_id>/run/", console_page(pages.run_now), name="run"),
    path("<int:portal_id>/runs/<int:run_id>/confirm/", console_page(pages.confirm), name="confirm"),
    path("<int:portal_id>/progress/", console_page(pages.progress), name="progress"),
    path("<int:portal_id>/journal/", console_page(pages.journal), name="journal"),
    path("<int:portal_id>/requests/", console_page(pages.outbox), name="requests"),
]
