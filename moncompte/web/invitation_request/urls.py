from django.urls import path

from moncompte.web.invitation_request import views

urlpatterns = [
    path("demander-une-invitation/", views.invitation_request_view, name="invitation_request"),
]
