from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path


def health(request):
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("bitrix/", include("bitrix_app.urls")),
    path("console/", include("bitrix_app.console_urls")),
    path("admin/", admin.site.urls),
    path("payroll/", include("payroll_connector.urls")),
    path("health/", health, name="health"),
]
