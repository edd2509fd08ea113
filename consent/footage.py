"""Footage for a footage avatar, recorded by the subject on their own link once they signed: a
passage to read aloud that covers the sounds of English, so the avatar's renders can find a mouth
for every sound in the subject's own footage. The footage is likeness data of the grant: encrypted
under its key, in the ledger with its hash, and erased with the consent's other biometric files.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from consent import ledger
from consent.ledger import Event
from consent.models import ConsentError, ConsentGrant
from consent.services import Evidence, keep_take

FOOTAGE_SUFFIXES = (".webm", ".mp4", ".mov", ".mkv")

# Written for this purpose: every English vowel and consonant, in several neighbours each, with
# pauses the avatar's loop can turn at. Read at a calm pace it takes about a minute and a half.
PASSAGE = (
    "Hello, and thank you for watching. This is my own voice, and this is my own face. "
    "I am reading a short passage so that the studio can learn how my mouth moves when I talk. "
    "The quick brown fox jumps over the lazy dog, while a thin child watches the ship sail "
    "through the harbour. Judge each zebra's joy by how loudly it sings: oh boy, what a view! "
    "Five wise owls hid beneath a huge pine, chewing cheese and thick bread. "
    "Should the rough yellow van reach the church by noon, we will share the vision of that "
    "pleasure with the young crew. "
    "Please say yes if you agree, no if you don't, and maybe when you are not sure. "
    "Birds, boats, cups, pots, keys, goats, gulls, feathers, thorns, measures and rhythms: each "
    "one sounds a little different. "
    "Now I pause, look at the camera, and smile. "
    "Then I keep reading, calmly and naturally: March, April, May, June; one, two, three, four, "
    "five, six, seven, eight, nine, ten. Thank you."
)


def attach_footage(grant: ConsentGrant, upload, evidence: Evidence) -> ConsentGrant:
    """Check uploaded footage (size, length, one face looking at the camera, no cuts, light)
    and keep it with the grant. Nothing is saved when a check fails and the error says what to
    fix; a new take replaces the earlier one only once it is stored."""
    from engine.face.footage import check_footage

    if not grant.may_record_footage:
        raise ConsentError(
            "Footage can only be recorded for a signed consent that is still in force."
        )
    if upload.size == 0:
        raise ConsentError("The footage is empty; record it again.")
    if upload.size > settings.MAX_FOOTAGE_BYTES:
        raise ConsentError(
            f"The footage is {upload.size / 1e6:.0f} MB; the limit is "
            f"{settings.MAX_FOOTAGE_BYTES / 1e6:.0f} MB. Record a shorter take."
        )

    def screen(path):
        return check_footage(
            str(path),
            min_seconds=settings.FOOTAGE_MIN_SECONDS,
            max_seconds=settings.FOOTAGE_MAX_SECONDS,
        )

    def record(locked, stored_name, sha256, report, replaced):
        locked.attach_footage(stored_name, sha256=sha256, at=timezone.now())
        ledger.append(
            Event.FOOTAGE_RECORDED,
            grant=locked,
            footage_sha256=sha256,
            footage_seconds=round(report.seconds, 2),
            replaced=replaced,
            **evidence.as_payload(),
        )

    return keep_take(
        grant, upload, field="footage", suffixes=FOOTAGE_SUFFIXES, screen=screen, record=record
    )
