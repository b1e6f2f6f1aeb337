"""Forms of the procedure pages that are no procedure's step (moncompte.web.procedures.views):
the attestation of the summary and the choices of the conflict page. The steps' forms are the
procedure types' (moncompte.procedures.types)."""

from django import forms

ATTESTATION_LABEL = "Je certifie sur l'honneur l'exactitude des informations"
KEEP_SAVED, KEEP_MINE = "enregistree", "saisie"


class SubmitForm(forms.Form):
    # Not required here: whether the request may be sent without it is the engine's rule
    # (procedure_submit refuses it, with its message on this field).
    attestation = forms.BooleanField(label=ATTESTATION_LABEL, required=False)


class ConflictForm(forms.Form):
    """One choice per field saved meanwhile from another device with another value: the saved
    value or the one this page sent. Nothing is chosen beforehand."""

    def __init__(self, *args, rows: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        for row in rows:
            self.fields[choice_name(row["name"])] = forms.ChoiceField(
                label=row["label"],
                choices=[
                    (KEEP_SAVED, f"Garder la valeur enregistrée : {row['theirs']}"),
                    (KEEP_MINE, f"Garder ma saisie : {row['mine']}"),
                ],
                widget=forms.RadioSelect,
                error_messages={
                    "required": f"Choisissez la valeur à garder pour « {row['label']} ».",
                    "invalid_choice": "Choix non valide.",
                },
            )

    def kept(self, name: str) -> str:
        return self.cleaned_data[choice_name(name)]


def choice_name(name: str) -> str:
    return f"garder-{name}"
