"""Behind a reverse proxy the consent evidence names the subject's address, not the proxy's."""

import pytest
from django.urls import reverse

from consent.models import LedgerEntry


@pytest.mark.django_db
def test_the_consent_ledger_records_the_subject_behind_the_proxy(settings, client, invite):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    grant, token = invite()
    client.get(
        reverse("consent:link_home", args=[token]),
        REMOTE_ADDR="10.0.0.5",
        HTTP_X_FORWARDED_FOR="198.51.100.23",
    )
    viewed = LedgerEntry.objects.filter(grant_id=grant.pk, event="viewed").get()
    assert viewed.payload["ip"] == "198.51.100.23"
