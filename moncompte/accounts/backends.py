from django.contrib.auth.backends import ModelBackend


class AccountBackend(ModelBackend):
    """Loads the signed-in account for each request.

    Credentials are checked by moncompte.accounts.signin (identifier parsing, throttling, no
    enumeration), never by ``authenticate()``: this backend authenticates nobody by itself.
    The session of an inactive account loads no one: it is signed out at its next request, however
    the account was deactivated (moncompte.accounts.services.account_deactivate also ends them all).
    """

    def authenticate(self, request, **credentials):
        return None

    def get_user(self, user_id):
        from moncompte.accounts.models import Account

        try:
            account = Account.objects.select_related("person").get(pk=user_id)
        except Account.DoesNotExist:
            return None
        return account if account.is_active else None
