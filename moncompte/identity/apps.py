from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "moncompte.identity"
    label = "identity"

    def ready(self):
        from moncompte.identity import checks  # noqa: F401  (registers the key check)
