"""Staff-only briefings (`audience: staff`): never in a public file, yet still the producer's to check."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from tests.conftest import run, run_json
from tests.test_s3 import PREFIX, bucket, client, moto, point_at, publish  # noqa: F401 (fixtures)

STAFF_SLUG = "rapid-review-q7"
STAFF_TITLE = "Quillwort review: the lodger upstairs"
# Words that appear nowhere in the example show, one from each part of the staff-only briefing.
NEEDLES = (
    STAFF_SLUG,
    "quillwort",
    "zephyrine",  # summary
    "lanternfish",  # key lessons
    "obsidianpelican",  # transcript
    "tangerineabacus",  # chapter title
)


def add_staff_briefing(workspace: Path, slug: str = STAFF_SLUG) -> None:
    """child-a's recording as a staff-only briefing with words found nowhere else."""
    folder = workspace / "episodes" / slug
    shutil.copytree(workspace / "episodes" / "child-a", folder)
    data = yaml.safe_load((folder / "briefing.yaml").read_text())
    data["title"] = STAFF_TITLE
    data["summary"] = "A rapid review held back to protect a family: the zephyrine household was never visited."
    data["key_lessons"] = ["Ask who else lives in the house, lanternfish or not."]
    data["chapters"][1]["title"] = "The tangerineabacus moment"
    data["audience"] = "staff"
    (folder / "briefing.yaml").write_text(yaml.safe_dump(data))
    transcript = folder / "transcript.vtt"
    transcript.write_text(
        transcript.read_text().replace("Child A: the baby nobody saw.", "The obsidianpelican speaks.")
    )


def leaks(files: dict[str, bytes]) -> list[str]:
    """Each needle found in a file's name or bytes (case-insensitive), as `name: needle`."""
    found = []
    for name, data in files.items():
        text = name.lower().encode() + b"\n" + data.lower()
        found += [f"{name}: {needle}" for needle in NEEDLES if needle.encode() in text]
    return found


def folder_files(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in root.rglob("*") if path.is_file()}


@pytest.fixture
def staff_workspace(workspace: Path) -> Path:
    add_staff_briefing(workspace)
    return workspace


def test_staff_only_briefing_is_in_no_published_file(staff_workspace: Path) -> None:
    result, summary = run_json(staff_workspace, "publish")
    assert result.exit_code == 0, result.output
    assert STAFF_SLUG not in summary["episodes"]
    files = folder_files(staff_workspace / "feed")
    assert "feed.xml" in files and ".briefings/manifest.json" in files and "catalogue.json" in files
    # The public briefings are still there: the check below is not vacuous.
    assert b"Child A: the baby nobody saw" in files["feed.xml"]
    assert leaks(files) == []


def test_status_and_check_still_report_the_staff_briefing(staff_workspace: Path) -> None:
    assert run(staff_workspace, "publish").exit_code == 0
    result = run(staff_workspace, "check", STAFF_SLUG)
    assert result.exit_code == 0, result.output
    result, status = run_json(staff_workspace, "status")
    (item,) = [item for item in status["briefings"] if item["slug"] == STAFF_SLUG]
    assert item["detail"].startswith("staff only")
    assert STAFF_SLUG not in status["due"]
    assert run(staff_workspace, "status", "--check").exit_code == 0


def test_a_public_briefing_made_staff_only_leaves_the_public_feeds(workspace: Path) -> None:
    briefing = workspace / "episodes" / "child-b" / "briefing.yaml"
    briefing.write_text(briefing.read_text() + "audience: staff\n")
    result, summary = run_json(workspace, "publish")
    assert result.exit_code == 0, result.output
    assert summary["withdrawn_now"] == ["child-b"]
    assert b"Child B" not in (workspace / "feed" / "feed.xml").read_bytes()
    assert not list((workspace / "feed" / "media").glob("child-b-*"))
    # Public again: back in the feed with its GUID.
    briefing.write_text(briefing.read_text().replace("audience: staff\n", ""))
    result, summary = run_json(workspace, "publish")
    assert result.exit_code == 0, result.output
    assert "child-b" in summary["episodes"]


def test_an_unknown_audience_names_the_field_and_the_choices(workspace: Path) -> None:
    briefing = workspace / "episodes" / "child-b" / "briefing.yaml"
    briefing.write_text(briefing.read_text() + "audience: staf\n")
    result = run(workspace, "check", "child-b")
    assert result.exit_code == 1
    assert "audience" in result.output and "'public'" in result.output and "'staff'" in result.output


def bucket_files(moto: str, bucket: str) -> dict[str, bytes]:  # noqa: F811
    """Every object in the bucket (not only under the prefix), by key, with its bytes."""
    s3 = client(moto)
    listing = s3.list_objects_v2(Bucket=bucket)  # type: ignore[attr-defined]
    return {
        item["Key"]: s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()  # type: ignore[attr-defined]
        for item in listing.get("Contents", [])
    }


def test_staff_only_briefing_is_in_no_object_of_the_bucket(staff_workspace: Path, moto: str, bucket: str) -> None:  # noqa: F811
    point_at(staff_workspace, moto, bucket)
    result, _ = publish(staff_workspace, moto, bucket)
    assert result.exit_code == 0, result.output
    files = bucket_files(moto, bucket)
    assert f"{PREFIX}/feed.xml" in files and b"Child A: the baby nobody saw" in files[f"{PREFIX}/feed.xml"]
    assert leaks(files) == []
