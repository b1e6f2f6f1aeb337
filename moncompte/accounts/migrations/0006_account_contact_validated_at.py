from django.db import migrations, models
from django.db.models import Min


def backfill(apps, schema_editor):
    """Accounts that already have a validated contact are usable from its validation."""
    Account = apps.get_model("accounts", "Account")
    Contact = apps.get_model("accounts", "Contact")
    firsts = (
        Contact.objects.filter(verified_at__isnull=False)
        .values("account_id")
        .annotate(first=Min("verified_at"))
        .order_by("account_id")
    )
    for row in firsts.iterator():
        Account.objects.filter(pk=row["account_id"]).update(contact_validated_at=row["first"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_legacy_credential_per_channel"),
    ]

    operations = [
        migrations.AddField(
            model_name="account",
            name="contact_validated_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
