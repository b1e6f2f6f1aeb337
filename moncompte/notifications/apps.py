from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "moncompte.notifications"
    label = "notifications"
    verbose_name = "Messages (courriels et SMS)"
