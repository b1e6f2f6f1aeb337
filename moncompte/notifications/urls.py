from django.urls import path

from moncompte.notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.dev_messages_view, name="dev_messages"),
]
