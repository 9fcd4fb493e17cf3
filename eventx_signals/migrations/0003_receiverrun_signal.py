# "event" meant several things; the column holds the dotted path of a signal,
# or the name of a named event.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("eventx_signals", "0002_receiverrun_big_primary_key"),
    ]

    operations = [
        migrations.RenameField(model_name="receiverrun", old_name="event", new_name="signal"),
        migrations.AlterField(
            model_name="receiverrun",
            name="signal",
            field=models.CharField(db_index=True, max_length=255, verbose_name="signal or event"),
        ),
    ]
