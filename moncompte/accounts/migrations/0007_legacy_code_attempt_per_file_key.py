"""Old-code attempts counted on a keyed hash of (Caf, numéro), whether or not the file exists.

Issue 8: the attempts were rows of the file's credential, so an unknown numéro was never counted
(it kept answering "incorrect" where a known one answered "too many codes": an existence oracle)
and the per-file hard cap let strangers lock the allocataire out. The attempts now carry
``file_key`` (the file's keyed hash), ``client_key`` (the client's), the channel and the outcome
(right, wrong, refused). Existing rows keep counting: their ``file_key`` is computed here from
their credential's file, as ``moncompte.accounts.legacy.legacy_file_key`` does (written out, so
that this migration does not change if that function does). Reversing maps them back to their
credential (the rows of unknown numéros, which have none, are dropped).
"""

import hashlib
import hmac

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def _file_key(caf_code: str, numero: str) -> str:
    value = f"file|{caf_code}|{numero}"
    return hmac.new(settings.MONCOMPTE_LEGACY_CODE_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()


def forwards(apps, schema_editor):
    Attempt = apps.get_model("accounts", "LegacyCodeAttempt")
    for attempt in Attempt.objects.select_related("credential__dossier__caf").iterator():
        dossier = attempt.credential.dossier
        attempt.file_key = _file_key(dossier.caf.code, dossier.numero)
        attempt.outcome = "right" if attempt.succeeded else "wrong"
        attempt.channel = "web"
        attempt.save(update_fields=["file_key", "outcome", "channel"])


def backwards(apps, schema_editor):
    Attempt = apps.get_model("accounts", "LegacyCodeAttempt")
    Credential = apps.get_model("accounts", "LegacyCredential")
    by_key = {
        _file_key(credential.dossier.caf.code, credential.dossier.numero): credential.pk
        for credential in Credential.objects.select_related("dossier__caf").iterator()
    }
    for attempt in Attempt.objects.iterator():
        credential_id = by_key.get(attempt.file_key)
        if credential_id is None or attempt.outcome == "refused":
            attempt.delete()
            continue
        attempt.credential_id = credential_id
        attempt.succeeded = attempt.outcome == "right"
        attempt.save(update_fields=["credential", "succeeded"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_account_contact_validated_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="legacycodeattempt",
            name="file_key",
            field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="legacycodeattempt",
            name="client_key",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name="legacycodeattempt",
            name="channel",
            field=models.CharField(
                choices=[
                    ("web", "Site internet"),
                    ("api", "Application mobile"),
                    ("counter", "Accueil en Caf"),
                    ("phone", "Téléphone"),
                    ("system", "Traitement automatique"),
                ],
                default="web",
                max_length=8,
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="legacycodeattempt",
            name="outcome",
            field=models.CharField(
                choices=[
                    ("right", "Code exact"),
                    ("wrong", "Code erroné ou dossier inconnu"),
                    ("refused", "Essai refusé avant vérification"),
                ],
                default="wrong",
                max_length=8,
            ),
            preserve_default=False,
        ),
        # Nullable while the rows are converted, in either direction.
        migrations.AlterField(
            model_name="legacycodeattempt",
            name="credential",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="attempts",
                to="accounts.legacycredential",
            ),
        ),
        migrations.AlterField(
            model_name="legacycodeattempt",
            name="succeeded",
            field=models.BooleanField(null=True),
        ),
        migrations.RunPython(forwards, backwards),
        migrations.RemoveIndex(
            model_name="legacycodeattempt",
            name="accounts_le_credent_b4179b_idx",
        ),
        migrations.RemoveField(
            model_name="legacycodeattempt",
            name="credential",
        ),
        migrations.RemoveField(
            model_name="legacycodeattempt",
            name="succeeded",
        ),
        migrations.AlterField(
            model_name="legacycodeattempt",
            name="at",
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.AddIndex(
            model_name="legacycodeattempt",
            index=models.Index(fields=["file_key", "at"], name="accounts_legacy_attempt_file"),
        ),
    ]
