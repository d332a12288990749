"""The rollups gain a dimension (the survey channel, `via`): rebuild them whole at the next analytics tick.

Until then every figure is counted from the responses (RollupState empty), so nothing is ever wrong."""

from django.db import migrations


def reset(apps, schema_editor):
    apps.get_model("insights", "DailyCount").objects.all().delete()
    apps.get_model("insights", "RollupState").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("insights", "0004_daily_rollups"),
        ("surveys", "0015_survey_channel_and_shared_links"),
    ]

    operations = [migrations.RunPython(reset, migrations.RunPython.noop)]
