import pytest


@pytest.fixture(autouse=True)
def own_cache(settings):
    """A fresh in-memory cache per test: the signup counters of other runs and tests never count."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "t"}
    }
    from django.core.cache import cache

    cache.clear()
