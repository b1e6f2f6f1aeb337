"""Forms of the FranceConnect pages: the optional password of an account created through it."""

from moncompte.web.forms import NewPasswordForm, PasswordField


class OptionalPasswordForm(NewPasswordForm):
    """A first password, chosen or not (the page has a "Continuer sans mot de passe" button)."""

    password = PasswordField(label="Mot de passe", error_messages={"required": "Choisissez un mot de passe."})
