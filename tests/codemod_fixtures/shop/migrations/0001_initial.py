from django.db import migrations
from django.dispatch import Signal

backfilled = Signal()


class Migration(migrations.Migration):
    dependencies = []
    operations = []
