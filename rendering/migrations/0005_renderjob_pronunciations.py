# The workspace's pronunciation lexicon snapshotted on each render job at submit (issue 12).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('rendering', '0004_video_poster'),
    ]

    operations = [
        migrations.AddField(
            model_name='renderjob',
            name='pronunciations',
            field=models.JSONField(blank=True, default=dict),
        ),
    ]
