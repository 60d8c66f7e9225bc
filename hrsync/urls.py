from django.http import JsonResponse
from django.urls import include, path


def health(request):
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("bitrix/", include("bitrix_app.urls")),
    path("payroll/", include("payroll_connector.urls")),
    path("health/", health, name="health"),
]
