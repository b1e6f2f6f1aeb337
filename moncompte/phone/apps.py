from django.apps import AppConfig


class PhoneConfig(AppConfig):
    name = "moncompte.phone"
    label = "phone"
    verbose_name = "API de la plateforme téléphonique"
