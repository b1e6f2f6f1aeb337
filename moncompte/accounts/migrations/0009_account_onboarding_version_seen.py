"""The first-connection screens (issue 9): the version last shown to each account. Existing
accounts start at 0, so everyone sees the screens once at their next sign-in."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0008_throttle_counter"),
    ]

    operations = [
        migrations.AddField(
            model_name="account",
            name="onboarding_version_seen",
            field=models.PositiveSmallIntegerField(default=0, verbose_name="présentation vue (version)"),
        ),
    ]
