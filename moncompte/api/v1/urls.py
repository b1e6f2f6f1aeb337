"""/api/v1/: one module per resource (me, file, delegation, procedures, caf_requests, sessions)."""

from django.urls import path  # noqa: F401

app_name = "api_v1"

urlpatterns: list = [
    # API-V1-URLS (each resource's URLs go here)
]
