"""The telephony platform API, /api/phone/v1/ (docs/telephony.md)."""

from django.urls import path  # noqa: F401

app_name = "phone"

urlpatterns: list = []
