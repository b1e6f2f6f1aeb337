from django import forms

SHOW = "affichage"
SMS = "sms"


class PhoneCodeForm(forms.Form):
    """Which button was pressed: show the code on the page, or send it by SMS."""

    envoi = forms.ChoiceField(choices=[(SHOW, "Afficher un code"), (SMS, "Recevoir le code par SMS")])
