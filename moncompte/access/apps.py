from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "moncompte.access"
    label = "access"
