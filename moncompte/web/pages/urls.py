from django.urls import path

from moncompte.web.pages import views

urlpatterns = [
    path("aide/", views.help_view, name="help"),
    path("accessibilite/", views.accessibility_view, name="accessibility"),
    path("mentions-legales/", views.legal_notice_view, name="legal_notice"),
    path("donnees-personnelles/", views.personal_data_view, name="personal_data"),
    path("cookies/", views.cookies_view, name="cookies"),
    path("plan-du-site/", views.sitemap_view, name="sitemap"),
]
