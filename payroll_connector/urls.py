from django.urls import path

from . import api

app_name = "payroll_connector"

urlpatterns = [
    path("api/v1/packages", api.packages, name="packages"),
    path("api/v1/packages/<str:package_id>", api.package_status, name="package"),
    path("api/v1/outbox", api.outbox, name="outbox"),
    path("api/v1/outbox/<int:item_id>/ack", api.outbox_ack, name="outbox-ack"),
    path("api/v1/openapi.json", api.openapi, name="openapi"),
    path("api/v1/schema.json", api.schema, name="schema"),
]
