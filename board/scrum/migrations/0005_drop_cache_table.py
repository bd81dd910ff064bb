"""The cache table held the throttles' request counts; they are rows of ``limits`` now."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("scrum", "0004_backlog_lock")]

    operations = [
        migrations.RunSQL("DROP TABLE IF EXISTS watercooler_cache", migrations.RunSQL.noop)
    ]
