"""Publishing to S3 over the real protocol: moto's server on 127.0.0.1, reached through a recording,
fault-injecting proxy, and read back by plain anonymous HTTP as a podcast app would."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import podcastparser
import pytest
from click.testing import Result
from lxml import etree
from PIL import Image

from briefings.storage import S3Storage
from tests.conftest import REPO, bundle_text, published_files, run, run_json
from tests.s3support import Barrier, Fault, FaultProxy, moto_server, s3_error

PREFIX = "podcast"
CONFLICT = "Error: the bucket changed during this publish; run briefings publish again\n"
NAMESPACES = {
    "podcast": "https://podcastindex.org/namespace/1.0",
    "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
}
KEY_ID, SECRET = "AKIATESTBRIEFINGS0001", "briefings-test-secret-never-printed"


@pytest.fixture(scope="session")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """moto's S3 server on a free port of 127.0.0.1, for the whole session."""
    with moto_server(tmp_path_factory.mktemp("moto") / "moto.log") as endpoint:
        yield endpoint


@pytest.fixture
def proxy(moto: str) -> Iterator[FaultProxy]:
    """A recording, fault-injecting proxy in front of moto."""
    front = FaultProxy(moto)
    yield front
    front.close()


def aws_env(endpoint: str, **extra: str) -> dict[str, str]:
    """Credentials and endpoint as a user would set them, isolated from this machine's AWS files."""
    return {
        "AWS_ACCESS_KEY_ID": KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_MAX_ATTEMPTS": "2",
        **extra,
    }


def client(endpoint: str) -> object:
    """A plain boto3 client for arranging and inspecting the bucket behind the tool's back."""
    return boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y"
    )


def readme_policy(bucket: str) -> str:
    """The bucket policy README.md tells producers to apply, for this bucket and prefix."""
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("### Making the feed public") :]
    block = section[section.index("```json") + len("```json") : section.index("```", section.index("```json") + 7)]
    return block.replace("BUCKET", bucket).replace("PREFIX", PREFIX)


def new_bucket(moto: str, public: bool = True) -> str:
    bucket = f"briefings-{uuid.uuid4().hex[:12]}"
    s3 = client(moto)
    s3.create_bucket(Bucket=bucket)  # type: ignore[attr-defined]
    if public:
        s3.put_bucket_policy(Bucket=bucket, Policy=readme_policy(bucket))  # type: ignore[attr-defined]
    return bucket


@pytest.fixture
def bucket(moto: str) -> str:
    """A fresh bucket with README's public-read policy."""
    return new_bucket(moto)


def point_at(workspace: Path, moto: str, bucket: str) -> Path:
    """Make the workspace ready to go live, as a producer would: base_url the bucket's public (path-style)
    address, the owner's own email address, and the show's own artwork instead of init's placeholder."""
    show = workspace / "show.toml"
    show.write_text(
        show.read_text()
        .replace('base_url = "https://briefings.example.org/"', f'base_url = "{moto}/{bucket}/{PREFIX}/"')
        .replace("briefings@example.org", "briefings@westmarsh.gov.uk")
    )
    Image.new("RGB", (1400, 1400), (30, 90, 60)).save(workspace / "artwork.jpg", quality=85)
    return workspace


@pytest.fixture
def s3ws(workspace: Path, moto: str, bucket: str) -> Path:
    """A private copy of the published example workspace whose base_url is the bucket's address."""
    return point_at(workspace, moto, bucket)


def publish(workspace: Path, endpoint: str, bucket: str, *arguments: str, **env: str) -> tuple[Result, dict]:
    result = run(
        workspace, "publish", "--to", f"s3://{bucket}/{PREFIX}", "--json", *arguments, env=aws_env(endpoint, **env)
    )
    return result, json.loads(result.stdout) if result.stdout.startswith("{") else {}


def fetch(url: str) -> bytes:
    """An anonymous plain-HTTP GET, like a podcast app's (or a browser's, via a static-site front that serves
    `index.html` for a folder address, as README's CloudFront function and S3 website hosting do)."""
    with urllib.request.urlopen(url + "index.html" if url.endswith("/") else url, timeout=10) as response:
        return bytes(response.read())


def keys(moto: str, bucket: str) -> dict[str, dict]:
    """Every object under the prefix, by key relative to it, with its size and ETag."""
    listing = client(moto).list_objects_v2(Bucket=bucket, Prefix=PREFIX + "/")  # type: ignore[attr-defined]
    return {item["Key"][len(PREFIX) + 1 :]: item for item in listing.get("Contents", [])}


def manifest(moto: str, bucket: str) -> dict:
    return json.loads(fetch(f"{moto}/{bucket}/{PREFIX}/.briefings/manifest.json"))


def feed_urls(feed: bytes) -> list[str]:
    """Every URL the feed tells an app to fetch: enclosures, chapters, transcripts, pages, artwork."""
    root = etree.fromstring(feed)
    urls = [element.get("url") for element in root.iter("enclosure")]
    urls += [element.get("url") for element in root.iterfind(".//podcast:chapters", NAMESPACES)]
    urls += [element.get("url") for element in root.iterfind(".//podcast:transcript", NAMESPACES)]
    urls += [element.text for element in root.iterfind(".//item/link")]
    urls += [element.get("href") for element in root.iterfind(".//itunes:image", NAMESPACES)]
    return [url for url in urls if url]


def assert_live_feed_consistent(moto: str, bucket: str) -> list[str]:
    """The live feed and archive page name only objects that exist; returns the feed's episode titles."""
    base = f"{moto}/{bucket}/{PREFIX}/"
    feed = fetch(base + "feed.xml")
    for url in feed_urls(feed):
        assert url.startswith(base), url
        fetch(url)  # raises on 403/404
    index = fetch(base + "index.html").decode()
    for source in re.findall(r'(?:src|href)="((?:media|briefings)/[^"]+)"', index):
        fetch(base + source)
    return [episode["title"] for episode in podcastparser.parse(base + "feed.xml", io.BytesIO(feed))["episodes"]]


def copy_episode(workspace: Path, source: str, slug: str, **changes: str) -> None:
    """Add a briefing reusing another's recording (already in the audio cache: nothing is encoded)."""
    shutil.copytree(workspace / "episodes" / source, workspace / "episodes" / slug)
    briefing = workspace / "episodes" / slug / "briefing.yaml"
    text = briefing.read_text()
    for old, new in changes.items():
        text = text.replace(old, new)
    briefing.write_text(text)


def test_first_publish_matches_the_folder_layout_with_headers_and_public_bytes(
    s3ws: Path, moto: str, bucket: str, proxy: FaultProxy
) -> None:
    result, summary = publish(s3ws, proxy.url, bucket)
    assert result.exit_code == 0, result.output
    assert "Warning" not in result.stderr
    assert summary["public_check"] == "ok"
    assert summary["encoded"] == 0
    # The same build to a folder gives exactly the same keys: one layout, two backends.
    folder = run(s3ws, "publish", "--to", str(s3ws / "folder"))
    assert folder.exit_code == 0, folder.output
    local = {
        path.relative_to(s3ws / "folder").as_posix(): path for path in (s3ws / "folder").rglob("*") if path.is_file()
    }
    remote = keys(moto, bucket)
    assert set(remote) == set(local)
    s3 = client(moto)
    base = f"{moto}/{bucket}/{PREFIX}/"
    for key in remote:
        head = s3.head_object(Bucket=bucket, Key=f"{PREFIX}/{key}")  # type: ignore[attr-defined]
        if key.startswith("media/"):
            assert head["ContentType"] == "audio/mpeg"
            assert head["CacheControl"] == "public, max-age=31536000, immutable"
        elif key == "feed.xml":
            assert head["ContentType"] == "application/rss+xml; charset=utf-8"
            assert head["CacheControl"] == "public, max-age=300"
        elif key.endswith(".html"):
            assert head["ContentType"] == "text/html; charset=utf-8"
        elif key.endswith(".vtt"):
            assert head["ContentType"] == "text/vtt; charset=utf-8"
        if key != ".briefings/manifest.json":
            # An independent client (plain anonymous HTTP) sees the very bytes that were built.
            assert hashlib.sha256(fetch(base + key)).hexdigest() == hashlib.sha256(local[key].read_bytes()).hexdigest()
    assert manifest(moto, bucket)["objects"].keys() == set(remote) - {".briefings/manifest.json"}
    titles = assert_live_feed_consistent(moto, bucket)
    assert sorted(titles) == ["Child A: the baby nobody saw", "Child B: the voice of the child in a violent home"]
    # Podcast apps seek with Range requests: the store answers 206 with just those bytes.
    media = next(key for key in remote if key.startswith("media/"))
    ranged = urllib.request.Request(base + media, headers={"Range": "bytes=0-99"})
    with urllib.request.urlopen(ranged, timeout=10) as response:
        assert response.status == 206 and response.read() == local[media].read_bytes()[:100]
    # The first manifest write was a create-only conditional write, every later one conditional on the ETag.
    manifest_puts = [seen for seen in proxy.writes() if seen.path.endswith(".briefings/manifest.json")]
    assert manifest_puts[0].headers.get("if-none-match") == "*"
    assert all(seen.headers.get("if-match", "").startswith('"') for seen in manifest_puts[1:])


def test_republish_with_nothing_changed_makes_zero_write_requests(
    s3ws: Path, moto: str, bucket: str, proxy: FaultProxy
) -> None:
    assert publish(s3ws, proxy.url, bucket)[0].exit_code == 0
    proxy.reset()
    result, summary = publish(s3ws, proxy.url, bucket)
    assert result.exit_code == 0, result.output
    assert proxy.writes() == []
    assert summary["write_requests"] == 0 and summary["written"] == [] and summary["deleted"] == []
    # The plan reads the manifest, the private staff state beside the prefix (subscribers added or revoked
    # change the private feeds) and one listing: no HEAD per object.
    assert sorted(seen.method for seen in proxy.seen) == ["GET", "GET", "GET"]
    assert any(f"/{PREFIX}-private/staff.json" in seen.path for seen in proxy.seen)
    assert any("list-type=2" in seen.path for seen in proxy.seen)
    # That run knew from its local record that nothing changed; without the record it builds and
    # compares everything, and still writes nothing.
    (s3ws / ".briefings" / "published.json").unlink()
    proxy.reset()
    result, summary = publish(s3ws, proxy.url, bucket)
    assert result.exit_code == 0, result.output
    assert proxy.writes() == [] and summary["unchanged"] == len(manifest(moto, bucket)["objects"])
    assert sorted(seen.method for seen in proxy.seen) == ["GET", "GET", "GET"]


def test_changed_recording_replaces_exactly_one_media_object(
    s3ws: Path, moto: str, bucket: str, proxy: FaultProxy
) -> None:
    assert publish(s3ws, proxy.url, bucket)[0].exit_code == 0
    old_media = {key for key in keys(moto, bucket) if key.startswith("media/child-a-")}
    # A new recording for child A (child B's, already encoded: the cache keys on content).
    shutil.copy(s3ws / "episodes" / "child-b" / "recording.flac", s3ws / "episodes" / "child-a" / "recording.flac")
    briefing = s3ws / "episodes" / "child-a" / "briefing.yaml"
    briefing.write_text(briefing.read_text().replace("recording: recording.opus", "recording: recording.flac"))
    proxy.reset()
    result, summary = publish(s3ws, proxy.url, bucket)
    assert result.exit_code == 0, result.output
    media_puts = [seen.path for seen in proxy.writes() if seen.method == "PUT" and f"/{PREFIX}/media/" in seen.path]
    assert len(media_puts) == 1 and "/media/child-a-" in media_puts[0]
    # The search's parts are named by their content, like the media: child A's record (its audio's
    # address) is a new file beside child B's unchanged one, with the index parts that name it.
    search = [key for key in summary["upload"] if key.startswith("pagefind/")]
    assert len([key for key in search if key.startswith("pagefind/record/")]) == 1
    assert [key for key in summary["deleted"] if not key.startswith("pagefind/")] == sorted(old_media)
    assert [key for key in summary["upload"] if not key.startswith("pagefind/")] == [
        media_puts[0].split(f"/{PREFIX}/")[1]
    ]
    remaining = keys(moto, bucket)
    assert not old_media & set(remaining)
    assert assert_live_feed_consistent(moto, bucket)


def test_guids_never_change_on_metadata_edits_or_a_new_show_id(s3ws: Path, moto: str, bucket: str) -> None:
    assert publish(s3ws, moto, bucket)[0].exit_code == 0
    base = f"{moto}/{bucket}/{PREFIX}/"

    def guids() -> dict[str, str]:
        episodes = podcastparser.parse(base + "feed.xml", io.BytesIO(fetch(base + "feed.xml")))["episodes"]
        return {episode["link"].split("/")[-2]: episode["guid"] for episode in episodes}

    before = guids()
    briefing = s3ws / "episodes" / "child-a" / "briefing.yaml"
    briefing.write_text(briefing.read_text().replace("the baby nobody saw", "the baby no one saw"))
    show = s3ws / "show.toml"
    show.write_text(re.sub(r'^id = ".*"$', f'id = "{uuid.uuid4()}"', show.read_text(), flags=re.M))
    result, summary = publish(s3ws, moto, bucket)
    assert result.exit_code == 0, result.output
    assert any(key.startswith("media/child-a-") for key in summary["upload"])  # re-tagged audio, new key
    assert guids() == before
    assert {slug: record["guid"] for slug, record in manifest(moto, bucket)["episodes"].items()} == before


def test_dry_run_prints_the_plan_and_makes_no_write_request(
    s3ws: Path, moto: str, bucket: str, proxy: FaultProxy
) -> None:
    assert publish(s3ws, moto, bucket)[0].exit_code == 0
    copy_episode(s3ws, "child-a", "child-z", **{"2026-03-12T10:00:00+00:00": "2099-01-01T09:00:00+00:00"})
    briefing = s3ws / "episodes" / "child-b" / "briefing.yaml"
    briefing.write_text(briefing.read_text().replace("Child B: the voice", "Child B: the voice (revised)"))
    before = {key: item["ETag"] for key, item in keys(moto, bucket).items()}
    proxy.reset()
    result = run(s3ws, "publish", "--to", f"s3://{bucket}/{PREFIX}", "--dry-run", env=aws_env(proxy.url))
    assert result.exit_code == 0, result.output
    assert proxy.writes() == []
    assert {key: item["ETag"] for key, item in keys(moto, bucket).items()} == before
    lines = result.stdout.splitlines()
    assert lines[0] == f"Plan for s3://{bucket}/{PREFIX}/ (dry run: nothing is written):"
    new_media = next(line for line in lines if line.startswith("  upload    media/child-b-"))
    old_media = next(key for key in before if key.startswith("media/child-b-"))
    assert f"  delete    {old_media}" in lines
    assert "  replace   feed.xml" in lines and "  replace   briefings/child-b/index.html" in lines
    assert new_media.split()[-1] not in before
    assert re.search(r"^  unchanged \d+ file\(s\)$", result.stdout, re.M)
    assert "Embargoed until 2099-01-01T09:00:00+00:00: child-z" in lines
    assert "child-z" not in "".join(line for line in lines if line.startswith("  "))


def test_embargoed_briefing_reaches_the_bucket_only_at_its_time(
    s3ws: Path, moto: str, bucket: str, travel: Callable[[str], None]
) -> None:
    copy_episode(
        s3ws, "child-a", "child-z",
        **{"2026-03-12T10:00:00+00:00": "2099-01-01T09:00:00+00:00", "Child A: the baby nobody saw": "Child Z: embargoed"},
    )  # fmt: skip
    result, summary = publish(s3ws, moto, bucket)
    assert result.exit_code == 0, result.output
    assert summary["embargoed"] == {"child-z": "2099-01-01T09:00:00+00:00"}
    base = f"{moto}/{bucket}/{PREFIX}/"
    for key in keys(moto, bucket):
        assert "child-z" not in key
        assert b"Child Z" not in fetch(base + key) and b"child-z" not in fetch(base + key), key
    status = run(s3ws, "status", "--to", f"s3://{bucket}/{PREFIX}", env=aws_env(moto))
    assert status.exit_code == 0, status.output
    assert re.search(r"^child-z\s+embargoed until 2099-01-01T09:00:00\+00:00$", status.stdout, re.M)
    assert re.search(r"^child-a\s+published\s+since \d{4}-", status.stdout, re.M)
    assert status.stdout.endswith(f"Subscribe: {base}feed.xml\n")

    travel("2099-01-01T09:00:00+00:00")
    released, summary = publish(s3ws, moto, bucket)
    assert released.exit_code == 0, released.output
    assert "child-z" in summary["episodes"]
    assert "Child Z: embargoed" in assert_live_feed_consistent(moto, bucket)
    assert manifest(moto, bucket)["episodes"]["child-z"]["first_published"] == "2099-01-01T09:00:00+00:00"


SEARCH_RECORDS = "pagefind/record/"  # a file per briefing in the search (what a result shows)


def test_withdraw_removes_everywhere_in_order_stays_withdrawn_and_can_be_undone(
    s3ws: Path, moto: str, bucket: str, proxy: FaultProxy
) -> None:
    assert publish(s3ws, moto, bucket)[0].exit_code == 0
    client(moto).put_object(Bucket=bucket, Key=f"{PREFIX}/notes/not-ours.txt", Body=b"keep me")  # type: ignore[attr-defined]
    guid = manifest(moto, bucket)["episodes"]["child-a"]["guid"]
    first_published = manifest(moto, bucket)["episodes"]["child-a"]["first_published"]
    owned = [key for key in keys(moto, bucket) if "child-a" in key]
    proxy.reset()
    result = run(s3ws, "withdraw", "child-a", "--to", f"s3://{bucket}/{PREFIX}", env=aws_env(proxy.url))
    assert result.exit_code == 0, result.output
    assert f"Withdrew child-a from s3://{bucket}/{PREFIX}/: feed and pages rewritten, " in result.stdout
    assert result.stdout.rstrip().endswith("To publish it again: briefings withdraw --undo child-a")
    remaining = keys(moto, bucket)
    assert not [key for key in remaining if "child-a" in key]
    assert "notes/not-ours.txt" in remaining  # never delete what the manifest does not own
    assert assert_live_feed_consistent(moto, bucket) == ["Child B: the voice of the child in a violent home"]
    # Order: the feed and pages stop naming the briefing before any of its files is deleted; manifest last.
    writes = [(seen.method, seen.path.split(f"/{PREFIX}/")[1].split("?")[0]) for seen in proxy.writes()]
    feed_at = writes.index(("PUT", "feed.xml"))
    index_at = writes.index(("PUT", "index.html"))
    deletes = [number for number, (method, _) in enumerate(writes) if method == "DELETE"]
    deleted = sorted(key for method, key in writes if method == "DELETE")
    # Besides its own files, the search's parts that listed it (named by content, not by briefing) go.
    assert [key for key in deleted if not key.startswith("pagefind/")] == sorted(owned)
    records = [key for key in remaining if key.startswith(SEARCH_RECORDS)]
    assert len(records) == 1 and b"Child B" in fetch(f"{moto}/{bucket}/{PREFIX}/{records[0]}")
    assert max(feed_at, index_at) < min(deletes)
    assert writes[-1] == ("PUT", ".briefings/manifest.json")
    record = manifest(moto, bucket)["withdrawn"]["child-a"]
    assert record["by"] == "briefings withdraw" and record["guid"] == guid

    # The folder is still there, but the next publish does not bring it back: not a single write.
    proxy.reset()
    again, summary = publish(s3ws, proxy.url, bucket)
    assert again.exit_code == 0, again.output
    assert proxy.writes() == [] and summary["withdrawn"] == ["child-a"]
    status = run(s3ws, "status", "--to", f"s3://{bucket}/{PREFIX}", env=aws_env(moto))
    assert re.search(
        r"^child-a\s+withdrawn\s+by `briefings withdraw` at .*; undo: briefings withdraw --undo child-a$",
        status.stdout,
        re.M,
    )

    undo = run(s3ws, "withdraw", "--undo", "child-a", "--to", f"s3://{bucket}/{PREFIX}", env=aws_env(moto))
    assert undo.exit_code == 0, undo.output
    assert "Child A: the baby nobody saw" in assert_live_feed_consistent(moto, bucket)
    assert manifest(moto, bucket)["episodes"]["child-a"]["guid"] == guid
    assert manifest(moto, bucket)["episodes"]["child-a"]["first_published"] == first_published
    assert "child-a" not in manifest(moto, bucket)["withdrawn"]


def test_withdraw_after_date_takes_a_briefing_down_at_the_first_publish_after_it(
    s3ws: Path, moto: str, bucket: str, travel: Callable[[str], None]
) -> None:
    briefing = s3ws / "episodes" / "child-b" / "briefing.yaml"
    briefing.write_text(briefing.read_text() + "withdraw_after: 2028-06-30\n")
    travel("2028-06-29T12:00:00+00:00")
    assert publish(s3ws, moto, bucket)[0].exit_code == 0
    assert any("child-b" in key for key in keys(moto, bucket))
    travel("2028-06-30T00:00:00+00:00")
    result, summary = publish(s3ws, moto, bucket)
    assert result.exit_code == 0, result.output
    assert summary["withdrawn_now"] == ["child-b"]
    assert not [key for key in keys(moto, bucket) if "child-b" in key]
    assert assert_live_feed_consistent(moto, bucket) == ["Child A: the baby nobody saw"]
    assert manifest(moto, bucket)["withdrawn"]["child-b"]["by"] == "withdraw_after"
    status = run(
        s3ws, "status", "--to", f"s3://{bucket}/{PREFIX}", env=aws_env(moto, BRIEFINGS_NOW="2028-07-01T00:00:00+00:00")
    )
    assert re.search(
        r"^child-b\s+withdrawn\s+after its withdraw_after date at 2028-06-30T00:00:00\+00:00$", status.stdout, re.M
    )


def test_local_status_shows_every_state(workspace: Path) -> None:
    copy_episode(workspace, "child-a", "child-c")  # ready, never published
    copy_episode(workspace, "child-a", "child-d", **{"2026-03-12T10:00:00+00:00": "2099-01-01T09:00:00+00:00"})
    copy_episode(workspace, "child-a", "child-e", **{'title: "Child A': 'titel: "Child A'})
    briefing = workspace / "episodes" / "child-b" / "briefing.yaml"
    briefing.write_text(briefing.read_text().replace("Child B: the voice", "Child B: the voices"))
    result = run(workspace, "status")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert re.fullmatch(r"child-a  published {31}since \d{4}-\d\d-\d\dT[\d:]+\+00:00", lines[0])
    assert lines[1:] == [
        "child-b  changed since publish                   the next publish updates it",
        "child-c  draft                                   due since 2026-03-12T10:00:00+00:00, not published: is the schedule running?",
        "child-d  embargoed until 2099-01-01T09:00:00+00:00",
        "child-e  invalid                                 1 error(s): run briefings check child-e",
        "Subscribe: https://briefings.example.org/feed.xml",
    ]
    # For monitoring: a briefing past its release time and not published fails the check, until it is published.
    assert run(workspace, "status", "--check").exit_code == 1
    assert run_json(workspace, "status", "--check")[1]["due"] == ["child-c"]
    assert run(workspace, "publish").exit_code == 1  # child-e is refused; child-c goes out
    assert run(workspace, "status", "--check").exit_code == 0


def test_concurrent_publishes_detect_the_conflict_and_lose_no_episode(
    tmp_path: Path, published: Path, moto: str, bucket: str, proxy: FaultProxy
) -> None:
    # Two producers, each with a workspace holding one new briefing the other lacks.
    producers = []
    for slug in ("child-c", "child-d"):
        workspace = tmp_path / slug
        shutil.copytree(published, workspace, symlinks=True)
        point_at(workspace, moto, bucket)
        copy_episode(workspace, "child-a", slug, **{"Child A: the baby nobody saw": f"{slug}: new briefing"})
        show = workspace / "show.toml"  # the destination from show.toml [publish], as a producer sets it
        show.write_text(show.read_text().replace('to = "feed"', f'to = "s3://{bucket}/{PREFIX}"'))
        producers.append(workspace)
    # Both read the (absent) manifest before either writes: a real race, made certain.
    proxy.barriers.append(Barrier("GET", r"/\.briefings/manifest\.json", parties=2))
    environment = {**os.environ, **aws_env(proxy.url)}
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "briefings", "-q", "-C", str(workspace), "publish"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environment,
        )
        for workspace in producers
    ]
    outputs = [process.communicate(timeout=120) for process in processes]
    outcomes = [(process.returncode, out, err) for process, (out, err) in zip(processes, outputs, strict=True)]
    codes = sorted(code for code, _, _ in outcomes)
    assert codes == [0, 1], outcomes
    loser = next(number for number, (code, _, _) in enumerate(outcomes) if code == 1)
    winner = 1 - loser
    assert outcomes[loser][2] == CONFLICT
    winner_slug, loser_slug = ("child-c", "child-d")[winner], ("child-c", "child-d")[loser]
    titles = assert_live_feed_consistent(moto, bucket)
    assert f"{winner_slug}: new briefing" in titles and f"{loser_slug}: new briefing" not in titles
    assert not [key for key in keys(moto, bucket) if loser_slug in key]  # the loser wrote nothing at all

    # Running again, the loser publishes its briefing and keeps the winner's live as published, instead of
    # taking it down for lack of its folder.
    again = run(producers[loser], "publish", env=aws_env(moto))
    assert again.exit_code == 0, again.output
    assert f"episodes/{winner_slug}: not published from this workspace now" in again.stderr
    titles = assert_live_feed_consistent(moto, bucket)
    assert {"child-c: new briefing", "child-d: new briefing"} <= set(titles) and len(titles) == 4
    shutil.copytree(producers[winner] / "episodes" / winner_slug, producers[loser] / "episodes" / winner_slug)
    final = run(producers[loser], "publish", env=aws_env(moto))
    assert final.exit_code == 0, final.output
    titles = assert_live_feed_consistent(moto, bucket)
    assert {"child-c: new briefing", "child-d: new briefing"} <= set(titles) and len(titles) == 4


FAULTS = [
    pytest.param(Fault("PUT", r"/media/child-b-", "drop"), id="connection-dropped-on-new-media"),
    pytest.param(Fault("PUT", r"/feed\.xml", 503), id="503-on-the-feed"),
    pytest.param(Fault("PUT", r"/briefings/child-b/index\.html", 500), id="500-on-a-page"),
    pytest.param(Fault("DELETE", r"/media/child-b-", "drop"), id="dropped-delete-of-old-media"),
    pytest.param(Fault("PUT", r"/\.briefings/manifest\.json", 500, times=0), id="500-on-every-manifest-write"),
]


@pytest.mark.parametrize("fault", FAULTS)
def test_a_publish_failing_anywhere_leaves_a_working_feed_and_the_next_run_converges(
    s3ws: Path, moto: str, bucket: str, proxy: FaultProxy, fault: Fault
) -> None:
    client(moto).put_object(Bucket=bucket, Key=f"{PREFIX}/media/not-ours.mp3", Body=b"keep")  # type: ignore[attr-defined]
    assert publish(s3ws, moto, bucket)[0].exit_code == 0
    briefing = s3ws / "episodes" / "child-b" / "briefing.yaml"
    briefing.write_text(briefing.read_text().replace("Child B: the voice", "Child B: the revised voice"))
    proxy.faults.append(fault)
    failed, _ = publish(s3ws, proxy.url, bucket)
    assert failed.exit_code == 1, failed.output
    assert fault.hits >= 2  # standard retry mode tried again before giving up
    errors = [line for line in failed.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and failed.stderr.splitlines()[-1] == errors[0], failed.stderr
    assert "Traceback" not in failed.output
    titles = assert_live_feed_consistent(moto, bucket)
    assert len(titles) == 2

    proxy.reset()
    fixed, _ = publish(s3ws, proxy.url, bucket)
    assert fixed.exit_code == 0, fixed.output
    assert "Child B: the revised voice of the child in a violent home" in assert_live_feed_consistent(moto, bucket)
    owned = set(manifest(moto, bucket)["objects"])
    assert set(keys(moto, bucket)) == owned | {".briefings/manifest.json", "media/not-ours.mp3"}
    proxy.reset()
    assert publish(s3ws, proxy.url, bucket)[0].exit_code == 0
    assert proxy.writes() == []


def test_a_transient_503_is_retried_and_the_publish_succeeds(
    s3ws: Path, moto: str, bucket: str, proxy: FaultProxy
) -> None:
    fault = Fault("PUT", r"/feed\.xml", 503, times=1)
    proxy.faults.append(fault)
    result, _ = publish(s3ws, proxy.url, bucket)
    assert result.exit_code == 0, result.output
    assert fault.hits == 1
    assert len(assert_live_feed_consistent(moto, bucket)) == 2


def test_a_killed_publish_leaves_the_old_feed_and_the_next_run_completes(
    s3ws: Path, moto: str, bucket: str, proxy: FaultProxy
) -> None:
    assert publish(s3ws, moto, bucket)[0].exit_code == 0
    briefing = s3ws / "episodes" / "child-a" / "briefing.yaml"
    briefing.write_text(briefing.read_text().replace("the baby nobody saw", "the baby nobody heard"))
    proxy.faults.append(Fault("PUT", r"/index\.html", "hang"))
    process = subprocess.Popen(
        [sys.executable, "-m", "briefings", "-q", "-C", str(s3ws), "publish", "--to", f"s3://{bucket}/{PREFIX}"],
        env={**os.environ, **aws_env(proxy.url)}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    assert proxy.hanging.wait(60)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert manifest(moto, bucket)["publishing"]["pid"] == process.pid  # its claim is still there
    assert "Child A: the baby nobody saw" in assert_live_feed_consistent(moto, bucket)
    proxy.release.set()
    proxy.reset()
    result, _ = publish(s3ws, proxy.url, bucket)  # same host, claimant dead: no need to wait for the lease
    assert result.exit_code == 0, result.output
    assert "Child A: the baby nobody heard" in assert_live_feed_consistent(moto, bucket)
    assert "publishing" not in manifest(moto, bucket)


def test_a_publish_in_progress_elsewhere_is_not_overrun(s3ws: Path, moto: str, bucket: str) -> None:
    assert publish(s3ws, moto, bucket)[0].exit_code == 0
    state = manifest(moto, bucket)
    state["publishing"] = {
        "host": "producer-laptop",
        "pid": 4242,
        "started": "2026-11-26T10:00:00+00:00",
        "expires": "2999-01-01T00:00:00+00:00",
    }
    client(moto).put_object(Bucket=bucket, Key=f"{PREFIX}/.briefings/manifest.json", Body=json.dumps(state).encode())  # type: ignore[attr-defined]
    briefing = s3ws / "episodes" / "child-a" / "briefing.yaml"
    briefing.write_text(briefing.read_text().replace("the baby nobody saw", "the baby nobody heard"))
    result, _ = publish(s3ws, moto, bucket)
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: s3://{bucket}/{PREFIX}/: another publish is in progress (host producer-laptop, process 4242, started "
        "2026-11-26T10:00:00+00:00) (fix: run briefings publish again when it has finished; if it was interrupted, "
        "its claim lapses at 2999-01-01T00:00:00+00:00)\n"
    )


def test_a_lapsed_claim_from_another_machine_does_not_block(s3ws: Path, moto: str, bucket: str) -> None:
    assert publish(s3ws, moto, bucket)[0].exit_code == 0
    state = manifest(moto, bucket)
    state["publishing"] = {
        "host": "producer-laptop",
        "pid": 4242,
        "started": "2026-01-01T10:00:00+00:00",
        "expires": "2026-01-01T10:30:00+00:00",
    }
    client(moto).put_object(Bucket=bucket, Key=f"{PREFIX}/.briefings/manifest.json", Body=json.dumps(state).encode())  # type: ignore[attr-defined]
    briefing = s3ws / "episodes" / "child-a" / "briefing.yaml"
    briefing.write_text(briefing.read_text().replace("the baby nobody saw", "the baby nobody heard"))
    result, _ = publish(s3ws, moto, bucket)
    assert result.exit_code == 0, result.output
    assert "publishing" not in manifest(moto, bucket)
    assert "Child A: the baby nobody heard" in assert_live_feed_consistent(moto, bucket)


def test_a_long_publish_renews_its_claim() -> None:
    from datetime import UTC, datetime, timedelta

    from briefings.config import load_show
    from briefings.layout import Build, Output
    from briefings.publish import Manifest, apply, plan

    class Recording:
        """A storage that only records what is written."""

        def __init__(self) -> None:
            self.manifests: list[dict] = []
            self.objects: list[str] = []

        def describe(self) -> str:
            return "memory/"

        def write(self, key: str, source: object, content_type: str, cache_control: str) -> None:
            self.objects.append(key)

        def write_if(self, key: str, data: bytes, content_type: str, cache_control: str, tag: str | None) -> str:
            self.manifests.append(json.loads(data))
            return f"v{len(self.manifests)}"

    outputs = tuple(Output(f"media/file-{number}.mp3", REPO / "show.toml", "0" * 64, 1, 0) for number in range(4))
    build = Build(load_show(REPO), (), outputs, (), (), (), 0)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    ticks = iter(start + timedelta(minutes=11 * number) for number in range(100))
    storage = Recording()
    apply(plan(build, Manifest(), {}, start), storage, clock=lambda: next(ticks), concurrency=1)  # type: ignore[arg-type]
    claims = [document["publishing"] for document in storage.manifests if "publishing" in document]
    # Claimed once, renewed as the lease ran down (every 10 minutes of a 30-minute lease), then released.
    assert len(claims) >= 4 and len({claim["expires"] for claim in claims}) == len(claims)
    assert "publishing" not in storage.manifests[-1] and sorted(storage.objects) == [o.key for o in outputs]


def test_a_published_briefing_now_refused_stays_live_as_last_published(workspace: Path) -> None:
    # An author's typo must not take a published briefing down, nor hold back the others (an embargo
    # lifting at the same publish must still go out).
    feed = workspace / "feed" / "feed.xml"
    before = feed.read_bytes()
    media = sorted(path.name for path in (workspace / "feed" / "media").iterdir())
    # Its page and the search keep its transcript, read back from the destination.
    pages = [workspace / "feed" / "briefings/child-b/index.html"]
    pages_before = [page.read_bytes() for page in pages]
    search_before = {
        key: data for key, data in published_files(workspace / "feed").items() if key.startswith("pagefind/")
    }
    assert b"Child B" in pages_before[0] and "lesson" in bundle_text(search_before, "index/")  # of its transcript
    briefing = workspace / "episodes" / "child-b" / "briefing.yaml"
    briefing.write_text(briefing.read_text().replace("summary:", "sumary:"))
    result = run(workspace, "-q", "publish")
    assert result.exit_code == 1
    assert (
        f"warning: {workspace / 'episodes' / 'child-b'}: not published from this workspace now, so its last "
        "published version stays live (fix: correct the problems above and publish again, or take it down with "
        "`briefings withdraw child-b`)"
    ) in result.stderr.splitlines()
    assert feed.read_bytes() == before
    assert sorted(path.name for path in (workspace / "feed" / "media").iterdir()) == media
    assert [page.read_bytes() for page in pages] == pages_before
    search_after = {
        key: data for key, data in published_files(workspace / "feed").items() if key.startswith("pagefind/")
    }
    assert search_after == search_before


def test_clear_one_line_errors(s3ws: Path, moto: str, bucket: str, proxy: FaultProxy) -> None:
    destination = f"s3://{bucket}/{PREFIX}"
    no_keys = {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}
    cases = [
        (aws_env(moto, **no_keys), destination, f"Error: {destination}/: no credentials found (fix: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, run `aws configure`, or give --profile NAME)\n", 1),
        (aws_env(moto), "s3://no-such-bucket-here/podcast", "Error: s3://no-such-bucket-here: no such bucket (fix: create it, or check the bucket name, --region and --endpoint-url)\n", 1),
        (aws_env("http://127.0.0.1:9"), destination, "Error: http://127.0.0.1:9: cannot reach the storage endpoint (EndpointConnectionError) (fix: check the network and --endpoint-url, then run the command again: it picks up where this one stopped)\n", 1),
        (aws_env(moto, AWS_PROFILE="nobody"), destination, "Error: AWS_PROFILE=nobody: no such profile in the AWS config files (fix: add it with `aws configure --profile nobody`, or give another)\n", 1),
        (aws_env(moto), "s3://Bad_Bucket/x", "Error: s3://Bad_Bucket/x: `Bad_Bucket` is not a bucket name (fix: give s3://BUCKET/PREFIX, with 3 to 63 lowercase letters, digits, dots or hyphens in the bucket name)\n", 2),
        (aws_env(moto, AWS_SECRET_ACCESS_KEY=""), destination, "Error: AWS credentials: AWS_SECRET_ACCESS_KEY is missing (fix: set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither and give --profile NAME)\n", 1),
        (aws_env("not a url"), destination, "Error: AWS_ENDPOINT_URL=not a url: not an http(s) URL (fix: e.g. https://minio.example.org:9000)\n", 1),
        (aws_env(moto, AWS_MAX_ATTEMPTS="lots"), destination, "Error: AWS_MAX_ATTEMPTS=lots: not a whole number of attempts (fix: e.g. 5, or unset it)\n", 1),
        (aws_env(moto, AWS_REGION="not a region!"), destination, "Error: AWS_REGION=not a region!: not a region name (fix: e.g. eu-west-2; us-east-1 suits most S3-compatible stores)\n", 1),
        (aws_env(f"http://AK:{SECRET}@127.0.0.1:9"), destination, "Error: AWS_ENDPOINT_URL=http://***@127.0.0.1:9: has a user name or password in it, which S3 does not use (fix: remove them; credentials come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, ~/.aws or --profile)\n", 1),
    ]  # fmt: skip
    for env, to, message, code in cases:
        result = run(s3ws, "-q", "publish", "--to", to, env=env)
        assert (result.exit_code, result.stderr) == (code, message)
    flags = [
        (["--region", "not a region!"], "Error: --region not a region!: not a region name (fix: e.g. eu-west-2; us-east-1 suits most S3-compatible stores)\n"),
        (["--endpoint-url", f"http://AK:{SECRET}@127.0.0.1:9"], "Error: --endpoint-url http://***@127.0.0.1:9: has a user name or password in it, which S3 does not use (fix: remove them; credentials come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, ~/.aws or --profile)\n"),
        (["--endpoint-url", "http://127.0.0.1:port"], "Error: --endpoint-url http://127.0.0.1:port: not an http(s) URL (fix: e.g. https://minio.example.org:9000)\n"),
    ]  # fmt: skip
    for arguments, message in flags:
        result = run(s3ws, "-q", "status", "--to", destination, *arguments, env=aws_env(moto))
        assert (result.exit_code, result.stderr) == (2, message)
    # A bad show.toml is bad input (1); only a bad flag is a usage error (2).
    show = s3ws / "show.toml"
    show.write_text(show.read_text().replace('to = "feed"', 'to = "s3://A_B/x"'))
    result = run(s3ws, "-q", "publish", env=aws_env(moto))
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: show.toml: to: s3://A_B/x: `A_B` is not a bucket name (fix: give s3://BUCKET/PREFIX, with 3 to 63 lowercase letters, digits, dots or hyphens in the bucket name)\n",
    )
    show.write_text(show.read_text().replace('to = "s3://A_B/x"', 'to = "feed"'))
    # Answers only a real store gives (AWS's error documents), injected at the network edge.
    for code, message, status, expected in [
        ("AccessDenied", "Access Denied", 403, f"Error: {destination}/.briefings/manifest.json: access denied (fix: the credentials' policy must allow s3:ListBucket, s3:GetObject, s3:PutObject and s3:DeleteObject on arn:aws:s3:::{bucket}/*; with --acl public-read also s3:PutObjectAcl)\n"),
        ("RequestTimeTooSkewed", "The difference between the request time and the current time is too large.", 403, f"Error: {destination}/.briefings/manifest.json: the store refused the request because this computer's clock is wrong (fix: set the clock right, e.g. `sudo timedatectl set-ntp true`, then run the command again)\n"),
    ]:  # fmt: skip
        proxy.reset()
        proxy.faults.append(s3_error(code, message, status))
        result = run(s3ws, "-q", "publish", "--to", destination, env=aws_env(proxy.url))
        assert (result.exit_code, result.stderr) == (1, expected)
    assert not keys(moto, bucket)


def test_credentials_are_never_printed_even_verbose(s3ws: Path, moto: str, bucket: str) -> None:
    environment = {**os.environ, **aws_env(moto, AWS_SESSION_TOKEN="session-token-never-printed")}
    process = subprocess.run(
        [sys.executable, "-m", "briefings", "-v", "-C", str(s3ws), "publish", "--to", f"s3://{bucket}/{PREFIX}"],
        capture_output=True, text=True, env=environment, timeout=120,
    )  # fmt: skip
    assert process.returncode == 0, process.stderr
    assert "[1/" in process.stderr  # -v really is verbose
    for secret in (KEY_ID, SECRET, "session-token-never-printed", "Signature=", "Credential="):
        assert secret not in process.stdout + process.stderr


def test_private_bucket_gets_a_warning_and_acl_public_read_fixes_it(workspace: Path, moto: str) -> None:
    bucket = new_bucket(moto, public=False)
    point_at(workspace, moto, bucket)
    result, summary = publish(workspace, moto, bucket)
    assert result.exit_code == 0, result.output
    url = f"{moto}/{bucket}/{PREFIX}/feed.xml"
    assert result.stderr.splitlines()[-1] == (
        f"Warning: {url}: podcast apps cannot read the feed (HTTP 403 FORBIDDEN) (fix: make the bucket readable by "
        "anyone (README, section 'Making the feed public'), or publish with --acl public-read on stores that use ACLs)"
    )
    with pytest.raises(urllib.error.HTTPError):
        fetch(url)
    # With ACLs every object is uploaded public-read; replacing what exists means a fresh bucket here.
    bucket = new_bucket(moto, public=False)
    point_at(workspace, moto, bucket)
    show = workspace / "show.toml"
    show.write_text(re.sub(r'base_url = ".*"', f'base_url = "{moto}/{bucket}/{PREFIX}/"', show.read_text()))
    result, summary = publish(workspace, moto, bucket, "--acl", "public-read")
    assert result.exit_code == 0, result.output
    assert summary["public_check"] == "ok" and "Warning" not in result.stderr
    assert len(assert_live_feed_consistent(moto, bucket)) == 2


def test_checksum_calculation_follows_the_users_setting(s3ws: Path, bucket: str, proxy: FaultProxy) -> None:
    assert publish(s3ws, proxy.url, bucket)[0].exit_code == 0
    assert all("x-amz-sdk-checksum-algorithm" in seen.headers for seen in proxy.writes() if seen.method == "PUT")
    briefing = s3ws / "episodes" / "child-a" / "briefing.yaml"
    briefing.write_text(briefing.read_text().replace("the baby nobody saw", "the baby nobody heard"))
    proxy.reset()
    result, _ = publish(s3ws, proxy.url, bucket, AWS_REQUEST_CHECKSUM_CALCULATION="when_required")
    assert result.exit_code == 0, result.output
    puts = [seen for seen in proxy.writes() if seen.method == "PUT"]
    assert puts and not [seen for seen in puts if any(name.startswith("x-amz-checksum-") for name in seen.headers)]


def test_large_files_go_up_in_parts_with_progress(tmp_path: Path, moto: str, bucket: str, proxy: FaultProxy) -> None:
    large = tmp_path / "long-briefing.mp3"
    large.write_bytes(os.urandom(11 * 1024 * 1024 + 17))
    reported: list[tuple[str, int, int]] = []

    class Bar:
        def __init__(self, key: str, size: int) -> None:
            self.key, self.size = key, size

        def __enter__(self) -> object:
            return lambda amount: reported.append((self.key, self.size, amount))

        def __exit__(self, *_: object) -> None:
            pass

    s3 = boto3.client(
        "s3", endpoint_url=proxy.url, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y"
    )
    storage = S3Storage(s3, bucket, PREFIX, multipart_threshold=5 * 1024 * 1024, transfer_progress=Bar)
    storage.write("media/long-briefing-0123abcd.mp3", large, "audio/mpeg", "public, max-age=31536000, immutable")
    paths = [seen.path for seen in proxy.writes()]
    assert any(path.endswith("?uploads") for path in paths)
    assert sum(1 for path in paths if "partNumber=" in path) == 3
    head = client(proxy.url).head_object(Bucket=bucket, Key=f"{PREFIX}/media/long-briefing-0123abcd.mp3")  # type: ignore[attr-defined]
    assert head["ContentType"] == "audio/mpeg" and head["ETag"].endswith('-3"')
    assert sum(amount for _, _, amount in reported) == large.stat().st_size
    assert {key for key, _, _ in reported} == {"media/long-briefing-0123abcd.mp3"}
    downloaded = fetch(f"{proxy.url}/{bucket}/{PREFIX}/media/long-briefing-0123abcd.mp3")
    assert hashlib.sha256(downloaded).hexdigest() == hashlib.sha256(large.read_bytes()).hexdigest()


def test_manifest_conflict_on_a_folder_destination_too(workspace: Path) -> None:
    # Two runs that planned against the same manifest: the second write is refused, not silently applied.
    from briefings.errors import ConflictError
    from briefings.storage import LocalStorage

    storage = LocalStorage(workspace / "feed")
    data, tag = storage.read_tagged(".briefings/manifest.json")
    assert data is not None
    storage.write_if(".briefings/manifest.json", data + b" ", "application/json", "no-store", tag)
    with pytest.raises(ConflictError):
        storage.write_if(".briefings/manifest.json", data, "application/json", "no-store", tag)


MANIFEST_PUT = r"/\.briefings/manifest\.json"


def published_then_renamed(s3ws: Path, moto: str, bucket: str, tmp_path: Path) -> Path:
    """Publish, copy the workspace for a second producer, then rename child-b's title; the copy's path.

    The renamed title replaces the media, so the next publish writes the manifest three times (the claim,
    before the deletes, final)."""
    other = tmp_path / "second-producer"
    shutil.copytree(s3ws, other, symlinks=True)
    assert publish(s3ws, moto, bucket)[0].exit_code == 0
    briefing = s3ws / "episodes" / "child-b" / "briefing.yaml"
    briefing.write_text(briefing.read_text().replace("Child B: the voice", "Child B: the revised voice"))
    return other


@pytest.mark.parametrize("lost", [0, 1, 2], ids=["claim", "before-deletes", "final"])
def test_a_lost_answer_to_a_manifest_write_is_recognised_and_leaves_no_claim(
    s3ws: Path, moto: str, bucket: str, proxy: FaultProxy, tmp_path: Path, lost: int
) -> None:
    other = published_then_renamed(s3ws, moto, bucket, tmp_path)
    # The store carries out manifest write number `lost`, and its answer never arrives.
    fault = Fault("PUT", MANIFEST_PUT, "lose", times=1, skip=lost)
    proxy.faults.append(fault)
    result, summary = publish(s3ws, proxy.url, bucket)
    assert fault.hits == 1
    assert result.exit_code == 0, result.output
    assert summary["deleted"] and "Error" not in result.stderr
    state = manifest(moto, bucket)
    assert "publishing" not in state and "child-b" in state["episodes"]
    assert "Child B: the revised voice of the child in a violent home" in assert_live_feed_consistent(moto, bucket)
    # Another producer is not locked out.
    second = run(other, "publish", "--to", f"s3://{bucket}/{PREFIX}", env=aws_env(moto))
    assert second.exit_code == 0, second.output
    assert "another publish is in progress" not in second.stderr


def test_three_503s_on_the_final_manifest_write_fail_the_publish_and_release_the_claim(
    s3ws: Path, moto: str, bucket: str, proxy: FaultProxy, tmp_path: Path
) -> None:
    other = published_then_renamed(s3ws, moto, bucket, tmp_path)
    proxy.faults.append(Fault("PUT", MANIFEST_PUT, 503, times=3, skip=2))
    result, _ = publish(s3ws, proxy.url, bucket, AWS_MAX_ATTEMPTS="3")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"Error: s3://{bucket}/{PREFIX}/.briefings/manifest.json: the store refused the request (503: Service "
        "Unavailable) (fix: run the command again; if it persists, check the store's status)"
    )
    assert "publishing" not in manifest(moto, bucket)  # the claim was released once the store answered
    second = run(other, "publish", "--to", f"s3://{bucket}/{PREFIX}", env=aws_env(moto))
    assert second.exit_code == 0, second.output


def test_a_failed_read_in_the_check_after_publishing_says_so(
    s3ws: Path, moto: str, bucket: str, proxy: FaultProxy
) -> None:
    proxy.faults.append(Fault("GET", rf"/{PREFIX}/feed\.xml", 503))
    result, _ = publish(s3ws, proxy.url, bucket)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"Error: s3://{bucket}/{PREFIX}/: published, but the published files could not be read back to check them: "
        f"s3://{bucket}/{PREFIX}/feed.xml: the store refused the request (503: Service Unavailable) (fix: run the "
        "command again; if it persists, check the store's status)"
    )
    assert "invalid" not in result.stderr
    assert len(assert_live_feed_consistent(moto, bucket)) == 2


def test_validate_says_a_file_is_not_publicly_readable(workspace: Path, moto: str) -> None:
    bucket = new_bucket(moto, public=False)
    point_at(workspace, moto, bucket)
    assert publish(workspace, moto, bucket)[0].exit_code == 0
    feed = f"{moto}/{bucket}/{PREFIX}/feed.xml"
    fix = "(fix: make it readable by anyone: apply the bucket policy in README, section 'Making the feed public')"
    private = run(workspace, "validate", feed)
    assert (private.exit_code, private.stderr.splitlines()[-1]) == (
        1,
        f"Error: {feed}: answers GET with HTTP 403: the file is not publicly readable {fix}",
    )
    client(moto).put_object_acl(Bucket=bucket, Key=f"{PREFIX}/feed.xml", ACL="public-read")  # type: ignore[attr-defined]
    media = run(workspace, "validate", feed)
    assert media.exit_code == 1
    enclosures = [line for line in media.stderr.splitlines() if " enclosure: " in line]
    assert len(enclosures) == 2, media.stderr
    for line in enclosures:
        assert line.endswith(f"answers HEAD with HTTP 403: the file is not publicly readable {fix}"), line


def new_distribution(moto: str, bucket: str) -> str:
    """A CloudFront distribution in front of the bucket, in moto's CloudFront."""
    cloudfront = boto3.client(
        "cloudfront", endpoint_url=moto, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y"
    )
    origin = {
        "Id": "bucket",
        "DomainName": f"{bucket}.s3.amazonaws.com",
        "S3OriginConfig": {"OriginAccessIdentity": ""},
    }
    config = {
        "CallerReference": uuid.uuid4().hex,
        "Comment": "briefings",
        "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [origin]},
        "DefaultCacheBehavior": {"TargetOriginId": "bucket", "ViewerProtocolPolicy": "https-only", "MinTTL": 0},
    }
    return str(cloudfront.create_distribution(DistributionConfig=config)["Distribution"]["Id"])


def test_withdraw_and_publish_invalidate_the_cdn_copies_of_what_changed(s3ws: Path, moto: str, bucket: str) -> None:
    distribution = new_distribution(moto, bucket)
    cloudfront = boto3.client(
        "cloudfront", endpoint_url=moto, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y"
    )
    first, summary = publish(s3ws, moto, bucket, "--invalidate-cdn", distribution)
    assert first.exit_code == 0, first.output
    assert "cdn_invalidation" not in summary  # a first publish replaces nothing a CDN could hold
    media = [key for key in keys(moto, bucket) if key.startswith("media/child-a-")]
    destination = f"s3://{bucket}/{PREFIX}"
    result = run(s3ws, "withdraw", "child-a", "--to", destination, "--invalidate-cdn", distribution, env=aws_env(moto))
    assert result.exit_code == 0, result.output
    line = result.stdout.splitlines()[-1]
    assert re.fullmatch(rf"CDN: {distribution} drops its copies of \d+ path\(s\) \(invalidation \w+\)", line), line
    invalidation = line.rsplit(" ", 1)[1].rstrip(")")
    batch = cloudfront.get_invalidation(DistributionId=distribution, Id=invalidation)["Invalidation"]
    paths = batch["InvalidationBatch"]["Paths"]["Items"]
    base = f"/{bucket}/{PREFIX}/"  # base_url's path: the CDN serves the bucket's objects there
    assert {base + key for key in media} <= set(paths)
    assert {base + "feed.xml", base + "index.html", base} <= set(paths)
    assert not any("child-b" in path and "media" in path for path in paths)

    # A wrong ID: the withdrawal is done, and the message says how to finish the takedown.
    undo = run(
        s3ws, "withdraw", "--undo", "child-a", "--to", destination, "--invalidate-cdn", "ENOSUCH", env=aws_env(moto)
    )
    assert undo.exit_code == 1
    assert undo.stderr.splitlines()[-1] == (
        "Error: --invalidate-cdn ENOSUCH: CloudFront refused the invalidation (NoSuchDistribution); the publish "
        "itself is done (fix: give the distribution's ID as the CloudFront console lists it, e.g. E2QWRUHAPOMQZL, "
        f"then run aws cloudfront create-invalidation --distribution-id ENOSUCH --paths '{base}*')"
    )
    assert "Child A: the baby nobody saw" in assert_live_feed_consistent(moto, bucket)


def test_a_live_publish_refuses_what_init_left_to_replace(tmp_path: Path, moto: str, bucket: str) -> None:
    workspace = tmp_path / "new"
    assert run(tmp_path, "init", str(workspace)).exit_code == 0
    shutil.copytree(REPO / "episodes", workspace / "episodes", dirs_exist_ok=True)
    expected = (
        "Error: show.toml: base_url: https://briefings.example.org/ is an example address, not where the feed is "
        "served (fix: set it to the public address of the bucket or CDN, ending in /)\n"
        "Error: show.toml: owner.email: briefings@example.org is an example address, so directories cannot reach "
        "you (fix: give the team's address)\n"
        f"Error: {workspace}/artwork.jpg: is the placeholder `briefings init` drew (fix: replace it with the show's "
        "artwork, a square RGB JPEG or PNG of 1400 to 3000 pixels)\n"
    )
    for destination in (f"s3://{bucket}/{PREFIX}", str(tmp_path / "elsewhere")):
        result = run(workspace, "-q", "publish", "--to", destination, env=aws_env(moto))
        assert (result.exit_code, result.stdout, result.stderr) == (1, "", expected), destination
    assert not keys(moto, bucket) and not (tmp_path / "elsewhere").exists()
    check = run(workspace, "check")
    assert check.stderr == "".join("warning: " + line.removeprefix("Error: ") + "\n" for line in expected.splitlines())
    # The workspace's own folder is a preview: allowed (the bundled example publishes there).
    assert run(workspace, "-q", "publish").exit_code == 0
    # Each is refused on its own; with all three replaced, the publish goes ahead.
    point_at(workspace, moto, bucket)
    show = workspace / "show.toml"
    show.write_text(show.read_text().replace("briefings@westmarsh.gov.uk", "team@Example.COM"))
    alone = run(workspace, "-q", "publish", "--to", f"s3://{bucket}/{PREFIX}", env=aws_env(moto))
    assert (alone.exit_code, alone.stderr) == (
        1,
        "Error: show.toml: owner.email: team@Example.COM is an example address, so directories cannot reach you "
        "(fix: give the team's address)\n",
    )
    show.write_text(show.read_text().replace("team@Example.COM", "briefings@westmarsh.gov.uk"))
    live = run(workspace, "-q", "publish", "--to", f"s3://{bucket}/{PREFIX}", env=aws_env(moto))
    assert live.exit_code == 0, live.output
