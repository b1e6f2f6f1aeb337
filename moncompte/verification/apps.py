from django.apps import AppConfig


class VerificationConfig(AppConfig):
    name = "moncompte.verification"
    label = "verification"
    verbose_name = "Codes de validation"
