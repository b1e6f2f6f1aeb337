"""Fields and forms that several features' pages share; each feature's own are in its package."""

from django import forms

from moncompte.core.forms import BoundDateParts, DateParts, DatePartsMixin  # noqa: F401  (shared by the pages)
from moncompte.identity.identifiers import IdentifierError, parse_identifier
from moncompte.identity.normalise import birth_date_problem


class IdentifierField(forms.CharField):
    """A NIR or provisional identifier, parsed; the error says in French what is wrong."""

    def clean(self, value):
        value = super().clean(value)
        try:
            return parse_identifier(value)
        except IdentifierError as error:
            raise forms.ValidationError(error.message, code="invalid_identifier") from None


class SpacedDigitsMixin:
    """People type spaces in numbers ("123 45 67", "75 011"): the fields named in ``digit_fields``
    lose them before they are validated, and are shown again without them."""

    digit_fields: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.is_bound:
            data = self.data.copy()
            for name in self.digit_fields:
                data[name] = "".join(self.data.get(name, "").split())
            self.data = data


class AccountIdentifierField(IdentifierField):
    """The identifier of an account as the person types it to sign in or to reset the password."""

    def __init__(self, **kwargs):
        defaults = {
            "label": "Numéro de sécurité sociale ou identifiant provisoire",
            # The example belongs to nobody: its month, 45, is no possible month (identity.identifiers).
            "help_text": "13 chiffres, suivis ou non de la clé de 2 chiffres. Exemple : 1 23 45 67 890 123 45",
            "max_length": 40,
            "error_messages": {
                "required": "Saisissez votre numéro de sécurité sociale ou votre identifiant provisoire."
            },
            "widget": forms.TextInput(
                attrs={"autocomplete": "username", "spellcheck": "false", "autocapitalize": "none"}
            ),
        }
        super().__init__(**{**defaults, **kwargs})


class NirField(IdentifierField):
    """The NIR a person types to prove who they are, as on their carte Vitale."""

    def __init__(self, **kwargs):
        defaults = {
            "help_text": (
                "13 chiffres, suivis ou non de la clé de 2 chiffres, tel qu'il figure sur votre carte Vitale"
            ),
            "max_length": 40,
            "error_messages": {"required": "Saisissez votre numéro de sécurité sociale."},
            "widget": forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "none"}),
        }
        super().__init__(**{**defaults, **kwargs})


class PasswordField(forms.CharField):
    """A password as typed: kept as is (spaces count), and bounded so that no one makes the hasher
    work on megabytes."""

    def __init__(self, *, autocomplete: str | None = None, **kwargs):
        attrs = {"autocomplete": autocomplete} if autocomplete else {}
        super().__init__(max_length=1024, strip=False, widget=forms.PasswordInput(attrs=attrs), **kwargs)


class NewPasswordForm(forms.Form):
    password = PasswordField(label="Nouveau mot de passe", error_messages={"required": "Choisissez un mot de passe."})
    password_confirm = PasswordField(
        label="Confirmez le mot de passe",
        error_messages={"required": "Saisissez à nouveau le mot de passe."},
        autocomplete="new-password",
    )

    def __init__(self, *args, person=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.person = person

    def password_problems(self, password: str):
        """What the policy says of this password for this person (subclasses know them otherwise)."""
        from moncompte.accounts.passwords import password_problems

        return password_problems(password, person=self.person)

    def clean_password(self):
        password = self.cleaned_data["password"]
        problems = self.password_problems(password)
        if problems:
            raise forms.ValidationError([p.message for p in problems])
        return password

    def clean(self):
        data = super().clean()
        if data.get("password") and self.data.get("password_confirm") != self.data.get("password"):
            self.add_error("password_confirm", "Les deux mots de passe ne sont pas identiques.")
        return data


class ContactChoiceForm(forms.Form):
    """Which contact to validate: an email address or a mobile number."""

    missing_email = "Saisissez votre adresse électronique."
    missing_phone = "Saisissez votre numéro de téléphone mobile."

    channel = forms.ChoiceField(
        label="Comment souhaitez-vous recevoir votre code ?",
        choices=[("email", "Par courriel"), ("phone", "Par SMS sur mon téléphone mobile")],
        initial="email",
        widget=forms.RadioSelect,
        error_messages={"required": "Choisissez comment recevoir votre code."},
    )
    email = forms.CharField(
        label="Adresse électronique",
        help_text="Format attendu : nom@domaine.fr",
        required=False,
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
    )
    phone = forms.CharField(
        label="Numéro de téléphone mobile",
        help_text="Exemples : 06 12 34 56 78, 0690 12 34 56 ou +262 692 12 34 56",
        required=False,
        max_length=30,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )

    def clean(self):
        from moncompte.verification.contacts import normalize_email, parse_mobile

        data = super().clean()
        channel = data.get("channel")
        if channel == "email":
            if not data.get("email"):
                self.add_error("email", self.missing_email)
            else:
                try:
                    data["destination"] = normalize_email(data["email"])
                except ValueError as error:
                    self.add_error("email", str(error))
        elif channel == "phone":
            if not data.get("phone"):
                self.add_error("phone", self.missing_phone)
            else:
                try:
                    data["destination"] = parse_mobile(data["phone"])
                except ValueError as error:
                    self.add_error("phone", str(error))
        return data


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code reçu",
        help_text="6 chiffres",
        max_length=20,
        error_messages={"required": "Saisissez le code reçu."},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


BIRTH_DATE = DateParts(
    key="birth_date",
    prefix="birth",
    legend="Date de naissance",
    the_date="la date de naissance",
    the_year="L'année de naissance",
    example="14 12 1984",
    html_id="date-naissance",
    birth=True,
    problem=birth_date_problem,
    required="Saisissez votre date de naissance : jour, mois et année.",
)
