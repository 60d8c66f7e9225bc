"""The Celery application: workers and beat read their settings from Django's (prefix CELERY_)."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hrsync.settings")

app = Celery("hrsync")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
