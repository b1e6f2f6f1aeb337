"""The telephony platform API, /api/phone/v1/ (docs/telephony.md)."""

from django.contrib.auth.decorators import login_not_required
from django.urls import include, path

from moncompte.phone.schema import PhoneSchemaView

app_name = "phone"

urlpatterns: list = [
    path("", include("moncompte.phone.routes")),
    # Public, like the REST API's: the contract holds no secret.
    path("schema/", login_not_required(PhoneSchemaView.as_view()), name="schema"),
]
