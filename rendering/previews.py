"""Words alone in an avatar's voice (a campaign's names before launch), made in the request:
a few words take about a second, and the speech lands in the segment cache that renders use."""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.conf import settings

from consent import services as consent_services
from core.files import copy_to_local
from engine.errors import EngineError
from engine.preview import speak_alone
from rendering.segment_cache import site_segment_cache
from rendering.services import RenderRefused, voice_weights_dir

MAX_PREVIEW_CHARACTERS = 200


def spoken_preview(avatar, *, text: str, lexicon: dict[str, str], decision, mark_id: int, why: str):
    """WAV bytes of ``text`` in the avatar's voice. ``decision``: the consent policy's answer
    for this use, asked by the caller (it knows what the words are part of); a refusal raises
    RenderRefused. Every answer goes into the consent ledger, without the words (``why`` says
    what the preview was for)."""
    consent_services.record_render_decision(
        avatar.grant, decision, job_id=None, stage="voice preview", purpose=why
    )
    if not decision:
        raise RenderRefused(decision.reason)
    if not text.strip() or len(text) > MAX_PREVIEW_CHARACTERS:
        raise RenderRefused(f"A preview says 1 to {MAX_PREVIEW_CHARACTERS} characters.")
    avatar.ensure_voice_profile()
    with tempfile.TemporaryDirectory(prefix="likeness-preview-") as tmp:
        folder = Path(tmp)
        sample = copy_to_local(avatar.voice_sample, folder, "voice")
        profile = copy_to_local(avatar.voice_profile, folder, "voice-profile")
        out = folder / "preview.wav"
        try:
            speak_alone(
                text,
                out,
                voice_engine=settings.VOICE_ENGINE,
                sample_paths=[str(sample)],
                profile_path=str(profile),
                lexicon=lexicon,
                mark_id=mark_id,
                weights_dir=voice_weights_dir(),
                device=settings.XTTS_DEVICE,
                cache=site_segment_cache(),
                namespace=f"avatar-{avatar.pk}",  # erased with the avatar's biometric data
            )
        except EngineError as error:
            raise RenderRefused(str(error)) from error
        return out.read_bytes()
