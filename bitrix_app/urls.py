from django.urls import path

from . import views

app_name = "bitrix_app"

urlpatterns = [
    path("install/", views.install, name="install"),
    path("events/", views.events, name="events"),
    path("app/", views.app_entry, name="app"),
    path("bizproc/", views.bizproc, name="bizproc"),
    path("webhook/<str:key>/", views.webhook, name="webhook"),
    path("app/home/", views.home, name="home"),
]
