from django.apps import AppConfig


class TelephonyConfig(AppConfig):
    name = "moncompte.telephony"
    label = "telephony"
    verbose_name = "Téléphonie"
