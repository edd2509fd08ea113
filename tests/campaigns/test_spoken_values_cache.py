"""A campaign's recipients' values spoken by the avatar (its personal segments) are kept in a
segment cache namespace of the campaign's own, so that recipients who share a value (a company)
share its segment; they leave the cache when every variant is rendered, when the campaign is
cancelled and when it is erased, whatever else the cache keeps."""

from pathlib import Path

import pytest

from campaigns import receivers, retention, services
from campaigns.models import Recipient
from engine.segment_cache import segment_key
from rendering.segment_cache import avatar_namespace, personal_namespace, site_segment_cache
from tests.campaigns.variants import make_campaign, queued_variant, rendered_variant

pytestmark = pytest.mark.django_db

ROWS = ({"first_name": "Ada", "company": "Acme"}, {"first_name": "Bo", "company": "Acme"})


def _keep_segments(campaign, tmp_path: Path) -> dict[str, str]:
    """One personal and one shared segment of the campaign's avatar in the site's cache."""
    cache = site_segment_cache()
    keys = {
        "personal": segment_key(
            personal_namespace(campaign.avatar_id, campaign.part_of), text="at Acme"
        ),
        "shared": segment_key(avatar_namespace(campaign.avatar_id), text="See you soon."),
    }
    for name, key in keys.items():
        folder = tmp_path / name
        folder.mkdir()
        (folder / "speech.wav").write_bytes(name.encode())
        cache.store(key, folder)
    return keys


def _kept(keys: dict[str, str], tmp_path: Path) -> dict[str, bool]:
    cache = site_segment_cache()
    return {name: cache.fetch(key, tmp_path / f"out-{name}") for name, key in keys.items()}


@pytest.fixture
def campaign(make_avatar):
    return make_campaign(make_avatar, rows=ROWS)


def test_the_values_stay_while_a_variant_is_to_render_and_go_after_the_last(
    campaign, tmp_path, django_capture_on_commit_callbacks
):
    first, second = campaign.recipients.order_by("line")
    keys = _keep_segments(campaign, tmp_path)
    rendered_variant(first, tmp_path)
    queued_variant(second, "Hi Bo")
    with django_capture_on_commit_callbacks(execute=True):
        receivers._forget_values_once_all_rendered(first.pk)
    assert _kept(keys, tmp_path) == {"personal": True, "shared": True}
    Recipient.objects.get(pk=second.pk).job.delete()
    rendered_variant(Recipient.objects.get(pk=second.pk), tmp_path)
    with django_capture_on_commit_callbacks(execute=True):
        receivers._forget_values_once_all_rendered(second.pk)
    assert _kept(keys, tmp_path) == {"personal": False, "shared": True}


def test_cancelling_forgets_the_values_after_commit(
    campaign, tmp_path, django_capture_on_commit_callbacks
):
    keys = _keep_segments(campaign, tmp_path)
    with django_capture_on_commit_callbacks() as callbacks:
        services.cancel(campaign)
    assert _kept(keys, tmp_path) == {"personal": True, "shared": True}  # not before the commit
    for callback in callbacks:
        callback()
    assert _kept(keys, tmp_path) == {"personal": False, "shared": True}


def test_erasing_the_campaign_forgets_the_values(
    campaign, tmp_path, django_capture_on_commit_callbacks
):
    keys = _keep_segments(campaign, tmp_path)
    with django_capture_on_commit_callbacks(execute=True):
        retention.erase(campaign)
    assert _kept(keys, tmp_path) == {"personal": False, "shared": True}
