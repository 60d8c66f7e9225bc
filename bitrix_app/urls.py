from django.urls import path
from django.views.decorators.http import require_GET

from . import pages, views
from .frame import frame_session_required

app_name = "bitrix_app"
frame_page = frame_session_required  # the console serves the same views (console_urls)

urlpatterns = [
    path("install/", views.install, name="install"),
    path("events/", views.events, name="events"),
    path("app/", views.app_entry, name="app"),
    path("bizproc/", views.bizproc, name="bizproc"),
    path("webhook/<str:key>/", views.webhook, name="webhook"),
    path("app/home/", frame_page(require_GET(pages.home)), name="home"),
    path("app/connect/", frame_page(pages.connect), name="connect"),
    path("app/departments/", frame_page(pages.departments), name="departments"),
    path("app/absence-types/", frame_page(pages.absence_types), name="absence_types"),
    path("app/preview/", frame_page(pages.preview), name="preview"),
    path("app/run/", frame_page(pages.run_now), name="run"),
    path("app/runs/<int:run_id>/confirm/", frame_page(pages.confirm), name="confirm"),
    path("app/progress/", frame_page(pages.progress), name="progress"),
    path("app/journal/", frame_page(pages.journal), name="journal"),
    path("app/requests/", frame_page(pages.outbox), name="requests"),
]
