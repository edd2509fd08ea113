from django.db import migrations, models


def frames_carry_their_own_id(apps, schema_editor):
    """Every record made before lineages: its frames carry its own id."""
    ProvenanceRecord = apps.get_model("provenance", "ProvenanceRecord")
    ProvenanceRecord.objects.filter(frame_mark_id="").update(frame_mark_id=models.F("payload_id"))


class Migration(migrations.Migration):
    dependencies = [
        ("provenance", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="provenancerecord",
            name="frame_mark_id",
            field=models.CharField(db_index=True, default="", max_length=16),
            preserve_default=False,
        ),
        migrations.RunPython(frames_carry_their_own_id, migrations.RunPython.noop),
    ]
