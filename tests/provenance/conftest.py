import pytest


@pytest.fixture(scope="session")
def keys_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("site-keys")


@pytest.fixture(autouse=True)
def _site_keys(settings, keys_dir):
    """Provenance tests sign with their own identity, never the developer's var/keys."""
    settings.SITE_KEYS_DIR = keys_dir
    return keys_dir


@pytest.fixture(scope="session")
def signed_video(tmp_path_factory, keys_dir):
    """A real render of the demo presenter, watermarked with PAYLOAD and signed with keys_dir."""
    from engine.demo import write_demo_assets
    from engine.pipeline import render
    from engine.spec import RenderSpec

    folder = tmp_path_factory.mktemp("signed")
    assets = write_demo_assets(folder / "demo")
    spec = RenderSpec(
        script_text="I am a synthetic presenter. Check this file on the verify page.",
        portrait_path=assets.portrait_path,
        voice_engine="festival",
        voice_sample_paths=[assets.voice_sample_path],
        provenance_id=PAYLOAD,
        provenance={"provenance_id": PAYLOAD, "grant_sha256": "ab" * 32},
        signing_keys_dir=str(keys_dir),
    )
    render(spec, folder / "video.mp4")
    return folder / "video.mp4"


PAYLOAD = "7a11ce5eedc0ffee"
