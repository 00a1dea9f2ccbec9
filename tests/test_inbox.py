"""Authors submitting from a browser: invitations (presigned POSTs to exact keys), the inbox, `inbox pull`.

Uploads go as a browser sends them (multipart/form-data POSTs) through tests/s3support's proxy, which checks
each POST policy as S3 does, since moto's server does not.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from briefings.runner import find_ffmpeg
from tests.conftest import REPO, run
from tests.s3support import FaultProxy, PostPolicy
from tests.test_s3 import PREFIX, SECRET, aws_env, bucket, client, moto, point_at, proxy  # noqa: F401

SLUG = "child-d"
TITLE = "Child D: the quiet girl at the back of the class"


def briefing() -> dict[str, Any]:
    """What the submission page sends: the example's child-a briefing, renamed, without file names."""
    data = yaml.safe_load((REPO / "episodes" / "child-a" / "briefing.yaml").read_text())
    data["title"] = TITLE
    data["review"]["published"] = data["review"]["published"].isoformat()
    data["review"]["subject"] = "Child D"
    for name in ("recording", "transcript", "chapters"):
        data.pop(name, None)
    return data


def invite(workspace: Path, endpoint: str, bucket: str, *options: str, slug: str = SLUG) -> dict[str, Any]:  # noqa: F811
    """`briefings invite`, as a producer runs it; the payload its link carries in the fragment."""
    result = run(workspace, "invite", slug, "--to", f"s3://{bucket}/{PREFIX}", *options, env=aws_env(endpoint))
    assert result.exit_code == 0, result.output
    url = result.stdout.splitlines()[-1]
    assert url.startswith(f"{endpoint}/{bucket}/{PREFIX}/submit/#"), url
    fragment = url.split("#", 1)[1]
    return dict(json.loads(base64.urlsafe_b64decode(fragment + "=" * (-len(fragment) % 4))))


def post(upload: dict[str, Any], data: bytes, content_type: str, **changed: str) -> requests.Response:
    """POST one file as the page does: the signed fields, the Content-Type, then the file, last."""
    fields = {**upload["fields"], **({"Content-Type": content_type} if "Content-Type" not in upload["fields"] else {})}
    return requests.post(upload["url"], data=fields | changed, files={"file": ("blob", data)}, timeout=30)


def submit(payload: dict[str, Any], recording: bytes, metadata: dict[str, Any], audio_type: str = "audio/ogg") -> None:
    """Upload a recording, then its metadata, as the submission page does; both must be accepted."""
    assert post(payload["recording"], recording, audio_type).status_code == 204
    assert post(payload["metadata"], json.dumps(metadata).encode(), "application/json").status_code == 204


def through(proxy: FaultProxy, payload: dict[str, Any], moto: str) -> dict[str, Any]:  # noqa: F811
    """The payload with its uploads sent through the policy-checking proxy instead of straight to moto."""
    for part in ("recording", "metadata"):
        payload[part]["url"] = payload[part]["url"].replace(moto, proxy.url)
    return payload


def speech(tmp_path: Path, name: str, *encoding: str, pipe: bool = False) -> bytes:
    """The example's spoken recording, re-encoded by ffmpeg as a browser would record it."""
    source = REPO / "episodes" / "child-a" / "recording.opus"
    target = tmp_path / name
    command = [find_ffmpeg(), "-v", "error", "-y", "-i", str(source), "-vn", *encoding]
    if pipe:  # written to a pipe, as MediaRecorder streams it: the muxer cannot go back to write a duration
        with target.open("wb") as output:
            subprocess.run([*command, "pipe:1"], stdout=output, check=True)
    else:
        subprocess.run([*command, str(target)], check=True)
    return target.read_bytes()


@pytest.fixture
def inviting(workspace: Path, moto: str, bucket: str, proxy: FaultProxy) -> Path:  # noqa: F811
    """The published example, going live at the bucket (show.toml's `to`, which the submission page uploads
    to), with the proxy checking POST policies as S3 does."""
    proxy.policies = PostPolicy(SECRET)
    show = point_at(workspace, moto, bucket) / "show.toml"
    show.write_text(show.read_text().replace('to = "feed"', f'to = "s3://{bucket}/{PREFIX}"\nendpoint_url = "{moto}"'))
    return workspace


def test_invitation_signs_one_exact_key_each_with_sigv4_and_expires_with_it(
    inviting: Path,
    moto: str,  # noqa: F811
    bucket: str,  # noqa: F811
) -> None:
    payload = invite(inviting, moto, bucket, "--expires", "3d", "--max-mb", "20", "--review-type", "SCR")
    # The producer's fields as briefing.yaml would read them: the page shows "serious case review".
    assert payload["slug"] == SLUG and payload["fixed"] == {"review.type": "serious case review"}
    folder = f"{PREFIX}-inbox/{SLUG}/"
    for part, name, type_condition, most in (
        ("recording", "recording", ["starts-with", "$Content-Type", "audio/"], 20 * 1024 * 1024),
        ("metadata", "briefing.json", ["eq", "$Content-Type", "application/json"], 256 * 1024),
    ):
        fields = payload[part]["fields"]
        policy = json.loads(base64.b64decode(fields["policy"]))
        key = fields["key"]
        assert key.startswith(folder) and key.endswith(f"/{name}") and "${filename}" not in key
        assert {"key": key} in policy["conditions"] and {"bucket": bucket} in policy["conditions"]
        assert not any(isinstance(c, list) and c[1] == "$key" for c in policy["conditions"])  # no starts-with
        assert type_condition in policy["conditions"]
        assert ["content-length-range", 1, most] in policy["conditions"]
        assert fields["x-amz-algorithm"] == "AWS4-HMAC-SHA256" and "signature" not in fields  # SigV4, not V2
        assert policy["expiration"][:16] == payload["expires"][:16]
    expires = datetime.fromisoformat(payload["expires"])
    assert 3 * 86400 - 120 < (expires - datetime.now(expires.tzinfo)).total_seconds() <= 3 * 86400
    listed = run(inviting, "invite", "--list", "--json", "--to", f"s3://{bucket}/{PREFIX}", env=aws_env(moto))
    (item,) = json.loads(listed.stdout)
    assert item["slug"] == SLUG and item["status"] == "active" and "policy" not in listed.stdout


def test_invite_refuses_what_cannot_work_in_one_line(inviting: Path, moto: str, bucket: str) -> None:  # noqa: F811
    to = ["--to", f"s3://{bucket}/{PREFIX}"]
    env = aws_env(moto)
    for arguments, code, message in (
        (["--expires", "8d", *to], 2, "--expires 8d: longer than 7 days, which S3 signatures (SigV4) cannot outlive"),
        (["--published", "next week", *to], 2, "--published 'next week': is not a valid date and time (fix: "),
        (["--max-mb", "0", *to], 2, "--max-mb 0: out of range"),
        (["--to", str(inviting / "feed")], 1, "authors upload straight into a bucket, and this is a folder"),
        (["--to", f"s3://{bucket}"], 1, "the inbox must sit beside the show's prefix"),
        (["--to", f"s3://other-{bucket}/{PREFIX}"], 1, "the submission page uploads only to the bucket in show.toml"),
    ):
        result = run(inviting, "invite", SLUG, *arguments, env=env)
        assert result.exit_code == code, result.output
        assert result.output.startswith("Error: ") and message in result.output, result.output
        assert len(result.output.splitlines()) == 1 and "Traceback" not in result.output
    r2 = run(inviting, "invite", SLUG, *to, env=aws_env("https://0123abcd.r2.cloudflarestorage.com"))
    assert r2.exit_code == 1 and "Cloudflare R2 does not accept browser uploads with a POST policy" in r2.output
    assert run(inviting, "invite", "Child D", *to, env=env).exit_code == 2


def test_the_proxy_refuses_uploads_as_s3_would(
    inviting: Path,
    moto: str,  # noqa: F811
    bucket: str,  # noqa: F811
    proxy: FaultProxy,  # noqa: F811
    tmp_path: Path,
) -> None:
    payload = through(proxy, invite(inviting, moto, bucket, "--max-mb", "1"), moto)
    recording = payload["recording"]
    other_key = recording["fields"]["key"].replace(SLUG, "child-z")
    for response, status, code in (
        (post(recording, b"<html><script>alert(1)</script></html>", "text/html"), 403, "AccessDenied"),
        (post(recording, b"x" * (1024 * 1024 + 1), "audio/ogg"), 400, "EntityTooLarge"),
        (post(recording, b"abc", "audio/ogg", key=other_key), 403, "AccessDenied"),
        (post(recording, b"abc", "audio/ogg", acl="public-read"), 403, "AccessDenied"),  # a field the policy lacks
        (post(payload["metadata"], b"{}", "text/html", **{"Content-Type": "text/html"}), 403, "AccessDenied"),
    ):
        assert response.status_code == status and f"<Code>{code}</Code>" in response.text, response.text
    proxy.policies = PostPolicy(SECRET, ahead=8 * 86400)  # a week and a day later
    expired = post(recording, b"abc", "audio/ogg")
    assert expired.status_code == 403 and "Policy expired" in expired.text
    proxy.policies = PostPolicy("not-the-secret")
    assert post(recording, b"abc", "audio/ogg").status_code == 403
    inbox = client(moto).list_objects_v2(Bucket=bucket, Prefix=f"{PREFIX}-inbox/")  # type: ignore[attr-defined]
    assert inbox.get("KeyCount", 0) == 0


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "audio_type", "encoding", "pipe", "extension"),
    [
        # Safari records fragmented MP4 with AAC; Chrome and Firefox WebM or Ogg with Opus. Chrome's WebM
        # has no duration in its header: that must not read as a recording cut short.
        ("safari.mp4", "audio/mp4", ["-c:a", "aac", "-movflags", "frag_keyframe+empty_moov+default_base_moof", "-f", "mp4"], True, ".m4a"),
        ("chrome.webm", "audio/webm;codecs=opus", ["-c:a", "libopus", "-f", "webm"], True, ".webm"),
        ("firefox.ogg", "audio/ogg;codecs=opus", ["-c:a", "libopus", "-f", "ogg"], False, ".ogg"),
    ],
)  # fmt: skip
def test_a_browser_recording_is_pulled_checked_and_published(
    inviting: Path,
    moto: str,  # noqa: F811
    bucket: str,  # noqa: F811
    proxy: FaultProxy,  # noqa: F811
    tmp_path: Path,
    name: str,
    audio_type: str,
    encoding: list[str],
    pipe: bool,
    extension: str,
) -> None:
    env = aws_env(moto)
    to = ["--to", f"s3://{bucket}/{PREFIX}"]
    payload = through(proxy, invite(inviting, moto, bucket, "--review-type", "serious case review"), moto)
    metadata = briefing() | {"recording": "../../show.toml"}  # a file name the page never sends is ignored
    submit(payload, speech(tmp_path, name, *encoding, pipe=pipe), metadata, audio_type)
    listed = run(inviting, "inbox", "--json", *to, env=env)
    (item,) = json.loads(listed.stdout)
    assert item["slug"] == SLUG and item["complete"] is True and item["size"] > 10_000
    pulled = run(inviting, "inbox", "pull", *to, env=env)
    assert pulled.exit_code == 0, pulled.output
    folder = inviting / "episodes" / SLUG
    assert f"episodes/{SLUG}: pulled from the inbox" in pulled.output.replace(str(inviting) + "/", "")
    assert "cut short" not in pulled.output and "error" not in pulled.output.lower()
    written = yaml.safe_load((folder / "briefing.yaml").read_text())
    assert written["title"] == TITLE and written["recording"] == f"recording{extension}"
    assert written["review"]["type"] == "serious case review"  # the producer's, not the author's, value
    assert (folder / f"recording{extension}").stat().st_size > 10_000
    assert run(inviting, "inbox", "--json", *to, env=env).stdout.strip() == "[]"
    assert run(inviting, "check", SLUG).exit_code == 0
    if extension == ".webm":  # one publish is enough to show the pulled briefing goes out like any other
        published = run(inviting, "publish", *to, env=env)
        assert published.exit_code == 0, published.output
        feed = client(moto).get_object(Bucket=bucket, Key=f"{PREFIX}/feed.xml")["Body"].read()  # type: ignore[attr-defined]
        assert TITLE.encode() in feed


def test_pull_refuses_hostile_uploads_one_line_each_and_keeps_going(
    inviting: Path,
    moto: str,  # noqa: F811
    bucket: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    env = aws_env(moto)
    to = ["--to", f"s3://{bucket}/{PREFIX}"]
    voice = speech(tmp_path, "voice.ogg", "-c:a", "libopus", "-t", "40")
    cases = {
        "child-e": (b"<html><script>alert(1)</script></html>", b"{}"),  # a page, not a recording
        "child-f": (voice, b'["not", "an", "object"]'),
        "child-g": (voice, b'{"title": '),  # cut short
        "child-h": (voice, b'{"title": ' + b"[" * 500 + b"]" * 500 + b"}"),  # JSON reads it; YAML could not write it
        # Past the policy's 256 KB, as a store that does not enforce it (moto here) would keep it.
        "child-j": (voice, b'{"title": "' + b"x" * 300_000 + b'"}'),
    }
    for slug, (recording, metadata) in cases.items():
        payload = invite(inviting, moto, bucket, slug=slug)
        assert post(payload["recording"], recording, "audio/ogg").status_code == 204
        assert post(payload["metadata"], metadata, "application/json").status_code == 204
    good = invite(inviting, moto, bucket, slug="child-i")
    # What is the producer's to decide (audience, withdraw_after...) is not the page's to send.
    mistaken = briefing() | {"title": "Child I: a briefing with one mistake", "key_lessons": [], "audience": "staff"}
    submit(good, voice, mistaken)
    pulled = run(inviting, "inbox", "pull", *to, env=env)
    assert pulled.exit_code == 1
    lines = pulled.output.splitlines()
    assert "Traceback" not in pulled.output
    refused = ["child-e", "child-f", "child-g", "child-h", "child-j"]
    assert [line.split(":")[0] for line in lines if "not pulled" in line] == refused
    assert any("child-e" in line and "recording: not audio that ffmpeg can decode" in line for line in lines)
    assert any("child-f" in line and "briefing.json: not the page's JSON" in line for line in lines)
    # The one that was a briefing is pulled, with check's own words about its mistake.
    assert any("child-i/briefing.yaml" in line and "key_lessons" in line and "fix:" in line for line in lines), lines
    assert any("child-h" in line and "nested more than 20 levels deep" in line for line in lines)
    assert any("child-j" in line and "briefing.json: larger than 262144 bytes" in line for line in lines)
    assert sorted(path.name for path in (inviting / "episodes").iterdir()) == ["child-a", "child-b", "child-i"]
    assert "audience" not in yaml.safe_load((inviting / "episodes" / "child-i" / "briefing.yaml").read_text())
    left = json.loads(run(inviting, "inbox", "--json", *to, env=env).stdout)
    assert sorted(item["slug"] for item in left) == refused


def test_revoked_invitations_are_ignored_and_nothing_is_overwritten_without_force(
    inviting: Path,
    moto: str,  # noqa: F811
    bucket: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    env = aws_env(moto)
    to = ["--to", f"s3://{bucket}/{PREFIX}"]
    voice = speech(tmp_path, "voice.ogg", "-c:a", "libopus", "-t", "40")
    # Sent again, the recording first: until its briefing follows, the upload is not complete.
    again = invite(inviting, moto, bucket, slug="child-s")
    submit(again, voice, briefing())
    time.sleep(1.1)  # S3's times are to the second
    assert post(again["recording"], voice, "audio/ogg").status_code == 204
    (resent,) = [
        item for item in json.loads(run(inviting, "inbox", "--json", *to, env=env).stdout) if item["slug"] == "child-s"
    ]
    assert resent["complete"] is False
    submit(invite(inviting, moto, bucket, slug="child-r"), voice, briefing())
    revoked = run(inviting, "invite", "child-r", "--revoke", *to, env=env)
    assert revoked.exit_code == 0 and "Revoked 1 invitation(s) for child-r" in revoked.output
    assert "invitation revoked: ignored" in run(inviting, "inbox", *to, env=env).output
    ignored = run(inviting, "inbox", "pull", "child-r", *to, env=env)
    assert ignored.exit_code == 1 and "child-r: not pulled: its invitation is revoked" in ignored.output
    assert not (inviting / "episodes" / "child-r").exists()
    # An upload for a briefing that already exists replaces it only with --force, and keeps the old folder.
    original = (inviting / "episodes" / "child-a" / "briefing.yaml").read_text()
    submit(invite(inviting, moto, bucket, slug="child-a"), voice, briefing())
    refused = run(inviting, "inbox", "pull", "child-a", *to, env=env)
    assert refused.exit_code == 1 and "episodes/child-a already exists (fix: give --force" in refused.output
    assert (inviting / "episodes" / "child-a" / "briefing.yaml").read_text() == original
    forced = run(inviting, "inbox", "pull", "child-a", "--force", *to, env=env)
    assert forced.exit_code == 0, forced.output
    assert TITLE in (inviting / "episodes" / "child-a" / "briefing.yaml").read_text()
    (kept,) = (inviting / ".briefings" / "replaced").iterdir()
    assert (kept / "briefing.yaml").read_text() == original and (kept / "recording.opus").is_file()
    shutil.rmtree(kept)


def test_setup_bucket_prints_then_sets_only_what_the_page_needs(inviting: Path, moto: str, bucket: str) -> None:  # noqa: F811
    env = aws_env(moto)
    to = ["--to", f"s3://{bucket}/{PREFIX}"]
    s3 = client(moto)
    s3.put_bucket_cors(  # type: ignore[attr-defined]
        Bucket=bucket,
        CORSConfiguration={"CORSRules": [{"ID": "theirs", "AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]},
    )
    shown = run(inviting, "setup-bucket", *to, env=env)
    assert shown.exit_code == 0 and "Nothing changed: run again with --apply" in shown.output
    rules = json.loads(shown.output[: shown.output.rindex("}") + 1])
    assert rules["cors_rule"]["AllowedOrigins"] == [moto] and rules["cors_rule"]["AllowedMethods"] == ["POST"]
    assert rules["lifecycle_rule"]["Filter"] == {"Prefix": f"{PREFIX}-inbox/"}
    assert rules["lifecycle_rule"]["Expiration"] == {"Days": 30}
    assert len(s3.get_bucket_cors(Bucket=bucket)["CORSRules"]) == 1  # type: ignore[attr-defined]
    for _ in range(2):  # applying twice replaces our rules, never duplicates them
        assert run(inviting, "setup-bucket", "--apply", *to, env=env).exit_code == 0
    cors = s3.get_bucket_cors(Bucket=bucket)["CORSRules"]  # type: ignore[attr-defined]
    assert sorted(rule["ID"] for rule in cors) == ["briefings-submit", "theirs"]
    (lifecycle,) = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]  # type: ignore[attr-defined]
    assert lifecycle["ID"] == "briefings-inbox" and lifecycle["Expiration"] == {"Days": 30}


def test_invite_warns_that_temporary_credentials_make_links_that_die_with_them(
    inviting: Path,
    moto: str,  # noqa: F811
    bucket: str,  # noqa: F811
) -> None:
    to = ["--to", f"s3://{bucket}/{PREFIX}"]
    lasting = run(inviting, "invite", SLUG, *to, env=aws_env(moto))
    assert lasting.exit_code == 0 and lasting.stderr == ""
    session = run(inviting, "invite", SLUG, *to, env=aws_env(moto, AWS_SESSION_TOKEN="FwoGZXIvYXdzEXAMPLE"))
    assert session.exit_code == 0 and "/submit/#" in session.stdout.splitlines()[-1]
    assert session.stderr.startswith("warning: signed with temporary credentials") and "FwoGZXIv" not in session.output
