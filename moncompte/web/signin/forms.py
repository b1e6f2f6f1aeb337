"""The sign-in forms (moncompte.web.signin.views)."""

import re
import unicodedata
from dataclasses import dataclass

from django import forms

from moncompte.web.forms import AccountIdentifierField, CodeForm, PasswordField

# The identifiers of before 9 October 2021: a numéro allocataire (7 digits) and a code (8 digits).
# No NIR (13 or 15 characters) nor provisional identifier (a P and 10 characters) has 7 digits.
_OLD_NUMERO = re.compile(r"[0-9]{7}")
_OLD_CODE = re.compile(r"[0-9]{8}")


def _compact(value: object) -> str:
    """What was typed, without spaces (NFKC: full-width digits and non-breaking spaces too)."""
    if not isinstance(value, str):
        return ""
    return "".join(unicodedata.normalize("NFKC", value[:100]).split())


@dataclass(frozen=True)
class OldIdentifiers:
    """An old numéro allocataire typed as the identifier; whether the password held an old code
    (only that it did: the code itself is never kept)."""

    numero: str
    with_code: bool


class SigninForm(forms.Form):
    identifier = AccountIdentifierField()
    password = PasswordField(
        label="Mot de passe",
        error_messages={"required": "Saisissez votre mot de passe."},
        autocomplete="current-password",
    )

    def old_identifiers(self) -> OldIdentifiers | None:
        """The old identifiers when the identifier typed is a numéro allocataire, else None."""
        if not self.is_bound:
            return None
        numero = _compact(self.data.get("identifier"))
        if not _OLD_NUMERO.fullmatch(numero):
            return None
        return OldIdentifiers(numero=numero, with_code=bool(_OLD_CODE.fullmatch(_compact(self.data.get("password")))))


class UnlockRequestForm(SigninForm):
    """Step 1 of signing in with a code: the same identifiers as the sign-in."""


class UnlockCodeForm(CodeForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].help_text = "Le code à 6 chiffres reçu par courriel ou par SMS"
