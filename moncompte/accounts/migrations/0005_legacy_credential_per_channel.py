"""The old code is retired per channel: the former ``retired_at`` (set at the web's first
connection) becomes ``retired_on_web_at``, its values kept; the phone gets its own field."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_legacy_code_attempt"),
    ]

    operations = [
        migrations.RenameField(model_name="legacycredential", old_name="retired_at", new_name="retired_on_web_at"),
        migrations.AlterField(
            model_name="legacycredential",
            name="retired_on_web_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="retiré sur le site le"),
        ),
        migrations.AddField(
            model_name="legacycredential",
            name="retired_on_phone_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="retiré au téléphone le"),
        ),
    ]
