from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "moncompte.accounts"
    label = "accounts"

    def ready(self):
        from django.contrib.auth.models import update_last_login
        from django.contrib.auth.signals import user_logged_in

        # Sign-ins are recorded in the journal and the sessions list; last_login would be one
        # more write on every sign-in for nothing.
        user_logged_in.disconnect(update_last_login, dispatch_uid="update_last_login")
