"""Form of the "my data" page (moncompte.web.own_data_views): reporting an error."""

from django import forms

from moncompte.identity.models import RectificationField, RectificationRequest
from moncompte.identity.own_data import rectification_message_problem


class RectificationForm(forms.Form):
    field = forms.ChoiceField(
        label="Donnée qui contient l'erreur",
        choices=[("", "Choisissez une donnée"), *RectificationField.choices],
        error_messages={
            "required": "Choisissez la donnée qui contient l'erreur.",
            "invalid_choice": "Choisissez la donnée qui contient l'erreur dans la liste.",
        },
    )
    message = forms.CharField(
        label="Votre message",
        help_text=(
            "Indiquez ce qui est inexact et la valeur exacte. "
            f"{RectificationRequest.MESSAGE_MAX_LENGTH} caractères au plus."
        ),
        max_length=RectificationRequest.MESSAGE_MAX_LENGTH,
        error_messages={
            "required": "Décrivez l'erreur que vous avez constatée.",
            "max_length": (
                f"Votre message doit faire au plus {RectificationRequest.MESSAGE_MAX_LENGTH} caractères "
                "(il en fait %(show_value)d)."
            ),
        },
        widget=forms.Textarea(attrs={"rows": 6}),
    )

    def clean_message(self):
        message = self.cleaned_data["message"]
        problem = rectification_message_problem(message)
        if problem:
            raise forms.ValidationError(problem, code="invalid_message")
        return message
