from django.urls import path

from . import pages, views

app_name = "bitrix_app"

urlpatterns = [
    path("install/", views.install, name="install"),
    path("events/", views.events, name="events"),
    path("app/", views.app_entry, name="app"),
    path("bizproc/", views.bizproc, name="bizproc"),
    path("webhook/<str:key>/", views.webhook, name="webhook"),
    path("app/home/", views.home, name="home"),
    path("app/connect/", pages.connect, name="connect"),
    path("app/departments/", pages.departments, name="departments"),
    path("app/absence-types/", pages.absence_types, name="absence_types"),
    path("app/preview/", pages.preview, name="preview"),
    path("app/run/", pages.run_now, name="run"),
    path("app/runs/<int:run_id>/confirm/", pages.confirm, name="confirm"),
    path("app/progress/", pages.progress, name="progress"),
    path("app/journal/", pages.journal, name="journal"),
    path("app/requests/", pages.outbox, name="requests"),
]
