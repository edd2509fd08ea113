"""Each neural voice engine reads its weights from its own setting."""

from rendering.services import voice_weights_dir


def test_chatterbox_reads_its_own_weights_setting(settings):
    settings.XTTS_WEIGHTS_DIR, settings.VOICE_CHATTERBOX_WEIGHTS_DIR = "/w/xtts", "/w/chatterbox"
    settings.VOICE_ENGINE = "chatterbox"
    assert voice_weights_dir() == "/w/chatterbox"
    settings.VOICE_ENGINE = "xtts"
    assert voice_weights_dir() == "/w/xtts"
