# The app declares its own default_auto_field, so that a project's
# DEFAULT_AUTO_FIELD never asks for a migration of it; a big integer, as the
# event log may hold more rows over its life than an integer counts.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("eventx_signals", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="receiverrun",
            name="id",
            field=models.BigAutoField(
                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
            ),
        ),
    ]
