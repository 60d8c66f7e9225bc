from django.contrib import admin
from django.urls import include, path

from .views import health_view, metrics_view

urlpatterns = [
    path("bitrix/", include("bitrix_app.urls")),
    path("console/", include("bitrix_app.console_urls")),
    path("admin/", admin.site.urls),
    path("payroll/", include("payroll_connector.urls")),
    path("health/", health_view, name="health"),
    path("metrics", metrics_view, name="metrics"),
]
