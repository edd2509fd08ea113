import hashlib

from django.db import migrations


def add_standard_document(apps, schema_editor):
    from consent.documents import STANDARD_BODY, STANDARD_SLUG, STANDARD_TITLE

    ConsentDocument = apps.get_model("consent", "ConsentDocument")
    ConsentDocument.objects.get_or_create(
        workspace=None,
        slug=STANDARD_SLUG,
        version=1,
        defaults={
            "title": STANDARD_TITLE,
            "body": STANDARD_BODY,
            "sha256": hashlib.sha256(STANDARD_BODY.encode("utf-8")).hexdigest(),
        },
    )


class Migration(migrations.Migration):
    dependencies = [("consent", "0001_initial")]
    operations = [migrations.RunPython(add_standard_document, migrations.RunPython.noop)]
