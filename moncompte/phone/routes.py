"""The telephony API's operations, apart from its schema: also the URL configuration the schema
is generated from (moncompte.phone.schema)."""

from django.urls import path

from moncompte.phone import views

urlpatterns = [
    path("authentications/legacy-code/", views.LegacyAuthenticationView.as_view(), name="authentication_legacy"),
    path("authentications/phone-code/", views.PhoneCodeAuthenticationView.as_view(), name="authentication_code"),
]
