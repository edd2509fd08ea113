# A random share token per video (issue 19, part 7): added empty, filled row by row, then unique.

import secrets

from django.db import migrations, models

import rendering.models


def fill_share_tokens(apps, schema_editor):
    Video = apps.get_model("rendering", "Video")
    for video in Video.objects.filter(share_token__isnull=True).only("pk"):
        Video.objects.filter(pk=video.pk).update(share_token=secrets.token_urlsafe(32))


class Migration(migrations.Migration):
    dependencies = [
        ("rendering", "0006_renderjob_timeline"),
    ]

    operations = [
        migrations.AddField(
            model_name="video",
            name="share_token",
            field=models.CharField(editable=False, max_length=64, null=True),
        ),
        migrations.RunPython(fill_share_tokens, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="video",
            name="share_token",
            field=models.CharField(
                default=rendering.models.new_share_token,
                editable=False,
                max_length=64,
                unique=True,
            ),
        ),
    ]
