"""The answer to a Caf's request: a text and up to 5 files (checked by moncompte.caf_requests.services)."""

from django import forms

from moncompte.caf_requests.services import MAX_FILES, MAX_TEXT, caf_request_max_bytes
from moncompte.identity.documents import max_size_text


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Every file chosen in one ``<input type="file" multiple>`` (empty parts dropped)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(f, initial) for f in files if f]


class AnswerForm(forms.Form):
    text = forms.CharField(
        label="Votre réponse",
        help_text=(
            f"{MAX_TEXT} caractères au plus. N'écrivez pas votre numéro de sécurité sociale ni vos mots de passe."
        ),
        required=False,
        max_length=MAX_TEXT,
        strip=True,
        widget=forms.Textarea,
        error_messages={"max_length": f"Votre réponse est trop longue : {MAX_TEXT} caractères au plus."},
    )
    files = MultipleFileField(
        label="Vos documents",
        required=False,
        allow_empty_file=True,  # refused by the service, with the file's name
        max_length=255,
        error_messages={"max_length": "Le nom d'un fichier est trop long : renommez-le avant de l'envoyer."},
    )

    @property
    def files_help(self) -> str:
        return (
            f"Formats acceptés : PDF, JPEG ou PNG. Taille maximale : {max_size_text(caf_request_max_bytes())} "
            f"par fichier. {MAX_FILES} fichiers au plus."
        )
