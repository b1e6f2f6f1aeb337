from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "moncompte.accounts"
    label = "accounts"
