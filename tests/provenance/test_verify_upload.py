"""What verify_upload makes of the visitor's file before it is probed: the size limit (its own,
behind the view's), and the name the report shows."""

from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from provenance.services import (
    MAX_NAME_CHARS,
    VerificationRefused,
    upload_name,
    verify_upload,
)

MB = 1024 * 1024


def test_a_file_over_the_limit_is_refused_with_the_limit_in_whole_mb(settings):
    settings.VERIFY_MAX_BYTES = 2 * MB
    with pytest.raises(VerificationRefused) as refused:
        verify_upload(SimpleUploadedFile("big.mp4", b"\0" * (2 * MB + 1)))
    assert str(refused.value) == "The file is larger than 2 MB."


def test_a_file_of_exactly_the_limit_is_read_not_refused_for_its_size(settings):
    settings.VERIFY_MAX_BYTES = 2 * MB
    with pytest.raises(VerificationRefused) as refused:
        verify_upload(SimpleUploadedFile("junk.mp4", b"junk" * (MB // 2)))
    assert "larger than" not in str(refused.value)  # refused as unreadable, after probing


@pytest.mark.parametrize(
    "given, shown",
    [
        ("clip.mp4", "clip.mp4"),
        ("../../secret/clip.mp4", "clip.mp4"),  # never a folder of the visitor's
        ("", "The upload"),
        (None, "The upload"),
        ("   ", "The upload"),
        ("a" * MAX_NAME_CHARS, "a" * MAX_NAME_CHARS),  # as long as allowed: kept whole
        ("b" * (MAX_NAME_CHARS + 1), "b" * (MAX_NAME_CHARS - 1) + "…"),
    ],
)
def test_the_report_names_the_file_as_given_without_folders_and_cut_to_length(given, shown):
    # The name as a client may send it: Django's own uploads strip folders, other callers may not.
    upload = SimpleNamespace(name=given)
    assert upload_name(upload) == shown
    assert len(upload_name(upload)) <= MAX_NAME_CHARS
