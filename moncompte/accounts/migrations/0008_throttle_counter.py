"""Throttling counters in the database (issue 8, point 1): a Redis outage, restart or eviction
no longer gives anyone fresh attempts. Counters start empty: the ones in the cache are left to
lapse (at most a day of waits forgotten, once, at the deployment)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_legacy_code_attempt_per_file_key"),
    ]

    operations = [
        migrations.CreateModel(
            name="ThrottleCounter",
            fields=[
                ("key", models.CharField(max_length=150, primary_key=True, serialize=False)),
                ("failures", models.PositiveIntegerField()),
                ("last_failure_at", models.DateTimeField()),
                ("expires_at", models.DateTimeField(db_index=True)),
            ],
            options={
                "verbose_name": "compteur de tentatives",
            },
        ),
    ]
