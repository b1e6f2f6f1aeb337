"""Forms of the assisted first connection (moncompte.web.assisted.views)."""

from django import forms

from moncompte.accounts.assisted import MALFORMED, handoff_code_canonical


class HandoffCodeField(forms.CharField):
    """The code the agent's screen shows, as typed; cleaned to its canonical form, or refused by
    its shape (nothing counted, nothing looked up)."""

    def __init__(self, **kwargs):
        defaults = {
            "label": "Code donné par l'agent d'accueil",
            "help_text": "8 lettres et chiffres, sous la forme XXXX-XXXX",
            "max_length": 40,
            "error_messages": {"required": "Saisissez le code affiché sur l'écran de l'agent d'accueil."},
            "widget": forms.TextInput(
                attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
            ),
        }
        super().__init__(**{**defaults, **kwargs})

    def clean(self, value):
        value = super().clean(value)
        canonical = handoff_code_canonical(value)
        if canonical is None:
            raise forms.ValidationError(MALFORMED, code="malformed")
        return canonical


class HandoffCodeForm(forms.Form):
    code = HandoffCodeField()
