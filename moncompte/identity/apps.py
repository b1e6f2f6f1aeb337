from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "moncompte.identity"
    label = "identity"
