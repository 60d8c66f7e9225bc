from django.urls import path

from . import views
from .frame import frame_session_required
from .pages import PAGES

app_name = "bitrix_app"

urlpatterns = [
    path("install/", views.install, name="install"),
    path("events/", views.events, name="events"),
    path("app/", views.app_entry, name="app"),
    path("bizproc/", views.bizproc, name="bizproc"),
    path("webhook/<str:key>/", views.webhook, name="webhook"),
    # The pages inside the portal's frame; the console serves the same views (console_urls).
    *(path(f"app/{route}", frame_session_required(view), name=name) for route, view, name in PAGES),
]
