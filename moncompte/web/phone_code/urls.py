from django.urls import path

from moncompte.web.phone_code import views

urlpatterns = [
    path("mon-compte/code-telephone/", views.phone_code_view, name="phone_code"),
]
