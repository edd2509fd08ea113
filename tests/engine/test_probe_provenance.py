"""A whole render carries all three labels, and `probe` (and the CLI) reports them."""

import json
import subprocess
import sys

import pytest

from engine.pipeline import render
from engine.probe import probe
from engine.spec import RenderSpec

PROVENANCE_ID = "5eed0000c0ffee42"


@pytest.fixture(scope="module")
def signed_render(tmp_path_factory):
    from engine.demo import write_demo_assets

    folder = tmp_path_factory.mktemp("prov")
    assets = write_demo_assets(folder / "demo")
    spec = RenderSpec(
        script_text="This presenter is synthetic. The file says so three ways.",
        portrait_path=assets.portrait_path,
        voice_engine="festival",
        voice_sample_paths=[assets.voice_sample_path],
        provenance_id=PROVENANCE_ID,
        provenance={"grant_sha256": "cd" * 32},
        signing_keys_dir=str(folder / "keys"),
    )
    result = render(spec, folder / "video.mp4")
    return folder, result


def test_a_render_is_signed_and_reports_its_provenance_id(signed_render):
    _, result = signed_render
    assert result.c2pa_signed and result.provenance_id == PROVENANCE_ID
    assert result.audio_watermark == PROVENANCE_ID[:8]


def test_probe_reports_a_trusted_manifest_and_both_watermarks(signed_render):
    folder, _ = signed_render
    info = probe(folder / "video.mp4", trust_anchor_pem=(folder / "keys/root.pem").read_bytes())
    assert info["c2pa"]["valid"] and info["c2pa"]["trusted"]
    assert info["c2pa"]["provenance"]["provenance_id"] == PROVENANCE_ID
    marks = info["watermark"]
    assert marks["video"]["payload"] == PROVENANCE_ID and marks["video"]["confidence"] > 0.3
    assert marks["audio"]["payload"] == PROVENANCE_ID[:8] and marks["agree"] is True
    assert info["visible_label"]["found"]


def test_stripped_and_reencoded_files_still_name_their_provenance_id(signed_render, tmp_path):
    folder, _ = signed_render
    out = tmp_path / "stripped.mp4"
    subprocess.run(
        [
            "ffmpeg",
            "-y",
            "-v",
            "error",
            "-i",
            str(folder / "video.mp4"),
            "-map_metadata",
            "-1",
            "-c:v",
            "libx264",
            "-crf",
            "28",
            "-c:a",
            "aac",
            "-b:a",
            "64k",
            str(out),
        ],
        check=True,
    )
    info = probe(out)
    assert info["c2pa"]["present"] is False and info["synthetic"] is False
    assert info["watermark"]["provenance_id"] == PROVENANCE_ID


def test_the_cli_probe_prints_the_same(signed_render):
    folder, _ = signed_render
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "engine",
            "probe",
            str(folder / "video.mp4"),
            "--trust-anchor",
            str(folder / "keys/root.pem"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    info = json.loads(proc.stdout)
    assert info["c2pa"]["trusted"] and info["watermark"]["provenance_id"] == PROVENANCE_ID
