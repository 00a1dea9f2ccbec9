"""The submission page (submit/): its schema, then the page in headless Chromium, served over HTTP from one
port and uploading across origins to moto's S3 server on another, through its CORS rule, with a fake
microphone speaking espeak-ng's words."""

from __future__ import annotations

import base64
import functools
import http.client
import io
import json
import os
import re
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from axe_playwright_python.sync_playwright import Axe
from lxml import html
from PIL import Image
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright
from pydantic import ValidationError

from briefings.config import PublishSettings, load_show
from briefings.invitation import METADATA_NAME, RECORDING_NAME
from briefings.runner import find_ffmpeg
from briefings.submission import Briefing
from briefings.submit_form import submission_schema, upload_address, upload_origins, upload_urls
from briefings.validation import problems_from
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, DESKTOP, REPO, Problems, bundle_text, published_files, run
from tests.s3support import free_port, moto_server

pytestmark = pytest.mark.s3

PHONE = {"width": 360, "height": 740}
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
PREFIX = "podcast"
SLUG = "child-d"
WORDS = "Missed health appointments are information about the child. Listen to the voice of the child, every time."
ENV = {
    "AWS_ACCESS_KEY_ID": "AKIATESTBRIEFINGS0001",
    "AWS_SECRET_ACCESS_KEY": "briefings-test-secret-never-printed",
    "AWS_REGION": "us-east-1",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_MAX_ATTEMPTS": "2",
}


# --- The schema (no browser) ------------------------------------------------------------------------------


def test_the_schema_leaves_out_the_files_and_offers_the_shows_themes() -> None:
    schema = submission_schema(["neglect", "domestic abuse"])
    assert set(schema["properties"]) == {"title", "summary", "review", "author", "key_lessons", "themes", "chapters"}
    assert schema["required"] == ["title", "summary", "review", "author", "key_lessons", "themes"]
    assert schema["properties"]["themes"]["items"] == {"enum": ["neglect", "domestic abuse"]}
    assert (schema["properties"]["key_lessons"]["minItems"], schema["properties"]["key_lessons"]["maxItems"]) == (1, 7)
    review = schema["$defs"]["Review"]["properties"]
    assert review["published"]["format"] == "date-time"
    assert review["report_url"]["allOf"][0]["pattern"] == "^https://"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "<b>Child D</b>"),
        ("title", "Child\u200bD"),
        ("summary", "   "),
        ("review.report_url", "http://westmarsh.example.org/report.pdf"),
        ("review.report_url", "https://user:secret@westmarsh.example.org/report.pdf"),
        ("chapters.start", "later"),
    ],
)
def test_each_rule_of_the_schema_says_what_check_says(field: str, value: str) -> None:
    """The page shows a rule's `x-message`: check's own words for the same value, from the model itself."""
    schema = submission_schema(["neglect"])
    rules = {
        "title": schema["properties"]["title"]["allOf"],
        "summary": schema["properties"]["summary"]["allOf"],
        "review.report_url": schema["$defs"]["Review"]["properties"]["report_url"]["allOf"],
        "chapters.start": [schema["$defs"]["Chapter"]["properties"]["start"]],
    }[field]
    data = json.loads(json.dumps(briefing_data()))
    if field == "chapters.start":
        data["chapters"] = [{"start": value, "title": "Introduction"}]
    elif field.startswith("review."):
        data["review"][field.split(".")[1]] = value
    else:
        data[field] = value
    with pytest.raises(ValidationError) as refused:
        Briefing.model_validate(data, context={"themes": ["neglect"]})
    [problem] = problems_from(Briefing, refused.value, "briefing.json")
    assert [problem.message, problem.fix] in [rule["x-message"] for rule in rules]


def briefing_data() -> dict[str, Any]:
    """A briefing as the page sends it (plus the recording's name `inbox pull` adds)."""
    return {
        "title": "Child D: the voice nobody heard",
        "summary": "Child D was nine when she told a teacher what happened at home.",
        "review": {
            "type": "serious case review",
            "subject": "Child D",
            "partnership": "Westmarsh Safeguarding Children Partnership",
            "region": "North West",
            "report_url": "https://westmarsh-scp.example.org/reviews/child-d.pdf",
            "published": "2027-01-05T10:00:00+00:00",
        },
        "author": {"name": "Dr Ada Mensah", "role": "Independent lead reviewer"},
        "key_lessons": ["Ask the child, and write down what they say."],
        "themes": ["neglect"],
        "chapters": [],
        "recording": "recording.webm",
    }


def test_uploads_go_to_the_shows_bucket_only() -> None:
    show = load_show(REPO)
    assert upload_urls(show) == upload_origins(show) == []  # published to a folder: the page uploads nowhere
    for settings, urls, origins in (
        # Where boto3 signs a presigned POST for: the bucket's global virtual-hosted address...
        ({"to": "s3://westmarsh/podcast", "region": "eu-west-2"}, ["https://westmarsh.s3.amazonaws.com"], None),
        # ...but for a name with dots (no HTTPS certificate would fit), path-style on the regional host.
        ({"to": "s3://west.marsh/podcast"}, ["https://s3.amazonaws.com/west.marsh"], ["https://s3.amazonaws.com"]),
        (
            {"to": "s3://west.marsh/podcast", "region": "eu-west-2"},
            ["https://s3.eu-west-2.amazonaws.com/west.marsh"],
            ["https://s3.eu-west-2.amazonaws.com"],
        ),
        (  # path-style: another bucket on the same endpoint has the same origin, but not the same address
            {"to": "s3://westmarsh/podcast", "endpoint_url": "https://minio.example.net:443/"},
            ["https://minio.example.net/westmarsh"],
            ["https://minio.example.net"],
        ),
    ):
        changed = show.model_copy(update={"publish": PublishSettings(**settings)})
        assert (upload_urls(changed), upload_origins(changed)) == (urls, origins or urls)
    # Each is what boto3 signs for (offline: signing sends nothing).
    for bucket, region in (("westmarsh", "eu-west-2"), ("west.marsh", "us-east-1"), ("west.marsh", "eu-west-2")):
        client = boto3.client("s3", region_name=region, aws_access_key_id="a", aws_secret_access_key="b")
        settings = PublishSettings(to=f"s3://{bucket}/podcast", region=region)
        signed = client.generate_presigned_post(bucket, "k")["url"]
        assert upload_address(signed) in upload_urls(show.model_copy(update={"publish": settings}))


# --- The page in a browser, uploading to a bucket -----------------------------------------------------------


class S3Front:
    """A proxy in front of moto that answers a browser as S3 does: moto's server (with its global CORS off)
    answers a preflight by the bucket's CORS rule but leaves the rule's headers off a POST's answer, which S3
    adds. While `dropping`, it closes the connection of every POST unanswered, as a network that went down does."""

    def __init__(self, upstream: str) -> None:
        host, port = upstream.removeprefix("http://").split(":")
        self.upstream = (host, int(port))
        self.dropping = False
        self.posts: list[str] = []
        front = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _forward(self, method: str, body: bytes, headers: dict[str, str]) -> tuple[int, str, list, bytes]:
                connection = http.client.HTTPConnection(*front.upstream, timeout=60)
                connection.request(method, self.path, body=body, headers=headers)
                response = connection.getresponse()
                answer = (response.status, response.reason, response.getheaders(), response.read())
                connection.close()
                return answer

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {name: value for name, value in self.headers.items() if name.lower() != "connection"}
                if self.command == "POST":
                    front.posts.append(self.path)
                    if front.dropping:
                        self.close_connection = True
                        self.connection.shutdown(socket.SHUT_RDWR)
                        return
                status, reason, answer_headers, data = self._forward(self.command, body, headers)
                origin = self.headers.get("Origin")
                if self.command == "POST" and origin:
                    preflight = {"Origin": origin, "Access-Control-Request-Method": "POST"}
                    allowed = dict(self._forward("OPTIONS", b"", preflight)[2]).get("Access-Control-Allow-Origin")
                    if allowed:
                        answer_headers.append(("Access-Control-Allow-Origin", allowed))
                self.send_response_only(status, reason)
                for name, value in answer_headers:
                    if name.lower() not in ("connection", "transfer-encoding", "content-length", "server", "date"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_OPTIONS = _handle  # noqa: N815

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A spoken sentence (espeak-ng, whose peaks touch full scale, 6 dB down as a good microphone level), 48 kHz
    mono, padded to 8 s: Chromium's fake microphone plays it in a loop."""
    folder = tmp_path_factory.mktemp("speech")
    subprocess.run(["espeak-ng", "-s", "150", "-w", str(folder / "said.wav"), WORDS], check=True)
    wav = folder / "speech.wav"
    subprocess.run(
        [find_ffmpeg(), "-v", "error", "-i", str(folder / "said.wav"), "-af", "volume=-6dB,apad=whole_dur=8",
         "-ar", "48000", "-ac", "1", "-c:a", "pcm_s16le", str(wav)],
        check=True,
    )  # fmt: skip
    return wav


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as started:
        yield started


def with_microphone(playwright: Playwright, sound: Path) -> Browser:
    """Chromium as tests/conftest.py starts it, with a fake microphone that plays `sound` in a loop (and
    lets the page use it without asking)."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=[
            *CHROMIUM_ARGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={sound}",
        ],
    )  # fmt: skip


@pytest.fixture(scope="module")
def browser(playwright: Playwright, speech: Path) -> Iterator[Browser]:
    """Chromium with a fake microphone saying `speech`."""
    launched = with_microphone(playwright, speech)
    yield launched
    launched.close()


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Front]:
    """moto's server with its answer-any-origin CORS off (so the bucket's own rule decides), behind S3Front."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MOTO_DISABLE_GLOBAL_CORS", "1")
        with moto_server(tmp_path_factory.mktemp("moto") / "moto.log") as endpoint:
            front = S3Front(endpoint)
            yield front
            front.close()


@pytest.fixture(scope="module")
def bucket(s3: S3Front) -> str:
    name = "briefings-submit"
    client(s3).create_bucket(Bucket=name)
    return name


def client(s3: S3Front) -> Any:
    return boto3.client(
        "s3", endpoint_url=s3.url, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y"
    )


class QuietFiles(SimpleHTTPRequestHandler):
    """Static files, as a bucket or CDN serves the site, logging nothing."""

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site(
    published: Path, tmp_path_factory: pytest.TempPathFactory, s3: S3Front, bucket: str
) -> Iterator[tuple[Path, str]]:
    """The example show, its base_url this server's address and its `[publish] to` the bucket, published to a
    folder served over HTTP on 127.0.0.1 (another port than the bucket's: another origin); the bucket set up
    with `briefings setup-bucket --apply`. Yields the workspace and the site's address."""
    workspace = tmp_path_factory.mktemp("submit") / "workspace"
    shutil.copytree(published, workspace, symlinks=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    show = workspace / "show.toml"
    show.write_text(
        show.read_text()
        .replace('base_url = "https://briefings.example.org/"', f'base_url = "{base}"')
        .replace("briefings@example.org", "briefings@westmarsh.gov.uk")
        .replace('to = "feed"', f'to = "s3://{bucket}/{PREFIX}"\nendpoint_url = "{s3.url}"')
    )
    Image.new("RGB", (1400, 1400), (30, 90, 60)).save(workspace / "artwork.jpg", quality=85)
    folder = workspace / "site"
    result = run(workspace, "publish", "--to", str(folder))
    assert result.exit_code == 0, result.output
    result = run(workspace, "setup-bucket", "--apply", env=ENV)
    assert result.exit_code == 0, result.output
    server = ThreadingHTTPServer(("127.0.0.1", port), functools.partial(QuietFiles, directory=str(folder)))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield workspace, base
    server.shutdown()
    server.server_close()


def invite(workspace: Path, *options: str) -> str:
    """`briefings invite` as the producer runs it: the link is the last line."""
    result = run(workspace, "invite", SLUG, *options, env=ENV)
    assert result.exit_code == 0, result.output
    return result.stdout.strip().splitlines()[-1]


def uploads(s3: S3Front, bucket: str) -> dict[str, bytes]:
    """What the inbox holds, by the name of the file under the invitation's folder."""
    s3client = client(s3)
    found = s3client.list_objects_v2(Bucket=bucket, Prefix=f"{PREFIX}-inbox/").get("Contents", [])
    return {
        item["Key"].rsplit("/", 1)[1]: s3client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
        for item in found
    }


@pytest.fixture
def inbox(s3: S3Front, bucket: str) -> Iterator[None]:
    """An empty inbox before the test, and after it."""

    def empty() -> None:
        s3client = client(s3)
        for item in s3client.list_objects_v2(Bucket=bucket, Prefix=f"{PREFIX}-inbox/").get("Contents", []):
            s3client.delete_object(Bucket=bucket, Key=item["Key"])

    empty()
    yield
    empty()


def fill_in(page: Page) -> None:
    """Answer every question by its label, as an author would."""
    page.get_by_label("Title", exact=True).fill("Child D: the voice nobody heard")
    page.get_by_label("Summary").fill("Child D was nine when she told a teacher what happened at home.")
    page.get_by_label("Who the review is about").fill("Child D")
    page.get_by_label("Safeguarding partnership").fill("Westmarsh Safeguarding Children Partnership")
    page.get_by_label("Region").fill("North West")
    page.get_by_label("Link to the full report").fill("https://westmarsh-scp.example.org/reviews/child-d.pdf")
    page.get_by_label("Your name").fill("Dr Ada Mensah")
    page.get_by_label("Your role").fill("Independent lead reviewer")
    page.get_by_label("Key lesson 1").fill("Ask the child, and write down what they say.")
    page.get_by_role("button", name="Add a key lesson").click()
    page.get_by_label("Key lesson 2").fill("Share what you know the same day.")
    page.get_by_label("Neglect").check()
    page.get_by_label("Voice of the child").check()
    page.get_by_role("button", name="Add a chapter").click()
    page.get_by_label("Chapter 1 starts at (minutes:seconds)").fill("0:00")
    page.get_by_label("Chapter 1 title").fill("Introduction")


def record(page: Page, seconds: float = 4) -> None:
    page.get_by_role("button", name="Start recording").click()
    expect(page.get_by_role("button", name="Stop recording")).to_be_focused()
    page.wait_for_timeout(seconds * 1000)
    expect(page.locator("#level-warning")).to_have_text("Recording. Press Stop recording when you have finished.")
    page.get_by_role("button", name="Stop recording").click()
    expect(page.locator("#recording-about")).to_contain_text("recording.")


@pytest.mark.parametrize(
    ("sound", "warning"),
    [
        ("anoisesrc=amplitude=0.003:color=pink", "Very quiet: we can hardly hear you."),
        ("sine=frequency=220,volume=8", "Too loud: your voice is distorting."),
    ],
)
def test_a_very_quiet_or_clipping_microphone_is_said_plainly(
    playwright: Playwright, site: tuple[Path, str], tmp_path: Path, sound: str, warning: str
) -> None:
    wav = tmp_path / "microphone.wav"
    subprocess.run(
        [find_ffmpeg(), "-v", "error", "-f", "lavfi", "-i", sound, "-t", "8", "-ar", "48000", "-ac", "1", str(wav)],
        check=True,
    )
    workspace, _ = site
    launched = with_microphone(playwright, wav)
    page = launched.new_page()
    page.goto(invite(workspace))
    page.get_by_role("button", name="Start recording").click()
    expect(page.locator("#level-warning")).to_contain_text(warning, timeout=8000)
    page.get_by_role("button", name="Stop recording").click()
    launched.close()


def decoded_seconds(data: bytes, folder: Path) -> float:
    """The length of an uploaded recording as ffmpeg decodes it (nothing trusts its name or type)."""
    path = folder / "upload"
    path.write_bytes(data)
    process = subprocess.run(
        [find_ffmpeg(), "-hide_banner", "-i", str(path), "-f", "null", "-"], capture_output=True, text=True, check=True
    )
    time = process.stderr.rsplit("time=", 1)[1].split()[0]
    hours, minutes, rest = time.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(rest)


def assert_briefing(data: bytes, published: str) -> Briefing:
    metadata = json.loads(data)
    assert metadata["review"]["published"] == published
    assert "recording" not in metadata
    return Briefing.model_validate(
        {**metadata, "recording": "recording"}, context={"themes": ["neglect", "voice of the child"]}
    )


def test_the_page_is_published_for_search_engines_to_leave_alone(site: tuple[Path, str], s3: S3Front) -> None:
    workspace, _ = site
    files = published_files(workspace / "site")
    assert {"submit/index.html", "submit/submit.js", "submit/schema.json"} <= set(files)
    document = html.fromstring(files["submit/index.html"])
    assert document.xpath('//meta[@name="robots"]/@content') == ["noindex, nofollow"]
    assert document.xpath('//meta[@name="referrer"]/@content') == ["no-referrer"]
    [policy] = document.xpath('//meta[@http-equiv="Content-Security-Policy"]/@content')
    assert policy == (
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self'; "
        f"media-src 'self' blob:; connect-src 'self' {s3.url}; base-uri 'none'; form-action 'none'"
    )
    # In no feed, no other page, and not in the archive's search.
    listings = [key for key in files if key.endswith((".html", ".xml", ".opml")) or key == "catalogue.json"]
    assert not [key for key in listings if b"submit/" in files[key] and not key.startswith("submit/")]
    assert "submit" not in bundle_text(files)
    schema = json.loads(files["submit/schema.json"])
    assert schema == submission_schema(load_show(workspace).themes)


def test_an_author_records_fills_in_and_sends_and_both_files_reach_the_inbox(
    page: Page, site: tuple[Path, str], s3: S3Front, bucket: str, inbox: None, tmp_path: Path
) -> None:
    workspace, base = site
    link = invite(workspace, "--published", "2027-01-05T10:00:00+00:00", "--review-type", "serious case review")
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(link)
    expect(page.get_by_role("heading", name="Submit a briefing")).to_be_visible()
    # The producer's fields are shown, not asked (once the script has read the invitation).
    expect(page.locator("#fixed")).to_be_visible()
    assert page.locator("#fixed").inner_text().split("\n") == [
        "Review type", "Serious case review", "When the review is published", "5 January 2027 at 10:00",
    ]  # fmt: skip
    expect(page.get_by_label("Review type")).to_be_hidden()
    fill_in(page)
    record(page)
    about = page.locator("#recording-about").inner_text()
    assert re.match(r"recording\.(m4a|webm|ogg), \d+ KB, [3-6] seconds\. It is shorter than 30 seconds", about), about
    page.get_by_role("button", name="Send to the producer").click()
    expect(page.get_by_role("heading", name="Briefing received")).to_be_focused()
    expect(page.get_by_text("Received: the producer will be in touch.")).to_be_visible()
    found = uploads(s3, bucket)
    assert set(found) == {RECORDING_NAME, METADATA_NAME}
    briefing = assert_briefing(found[METADATA_NAME], "2027-01-05T10:00:00+00:00")
    assert briefing.key_lessons == ["Ask the child, and write down what they say.", "Share what you know the same day."]
    assert briefing.themes == ["neglect", "voice of the child"]
    assert [(chapter.start, chapter.title) for chapter in briefing.chapters] == [(0.0, "Introduction")]
    assert 3 <= decoded_seconds(found[RECORDING_NAME], tmp_path) <= 6
    # Nothing but the site and the bucket was asked for anything.
    origins = {f"{parts.scheme}://{parts.netloc}" for parts in map(urlsplit, requested) if parts.scheme != "blob"}
    assert origins == {base.rstrip("/"), s3.url}
    # Opened again, the link says it is done rather than asking again.
    page.reload()
    expect(page.get_by_text("Received: the producer will be in touch.")).to_be_visible()


def test_an_author_chooses_a_file_instead(
    page: Page, site: tuple[Path, str], s3: S3Front, bucket: str, inbox: None, speech: Path, tmp_path: Path
) -> None:
    workspace, _ = site
    link = invite(workspace)
    # An .mp4 is video/mp4 to the browser: the page sends it as audio/mp4, the only kind the POST policy takes.
    mp4 = tmp_path / "briefing.mp4"
    spoken = REPO / "episodes" / "child-a" / "recording.opus"  # a briefing's length, which check asks for
    subprocess.run([find_ffmpeg(), "-v", "error", "-i", str(spoken), "-c:a", "aac", str(mp4)], check=True)
    page.goto(link)
    fill_in(page)
    page.get_by_label("Review type").select_option("serious case review")
    page.get_by_label("Date", exact=True).fill("2026-02-01")
    page.get_by_label("Time", exact=True).fill("09:30")
    page.get_by_label("Or choose a recording file").set_input_files(mp4)
    expect(page.locator("#recording-about")).to_contain_text("briefing.mp4")
    expect(page.locator("#recording-about")).to_contain_text("48 seconds")
    page.get_by_role("button", name="Send to the producer").click()
    expect(page.get_by_role("heading", name="Briefing received")).to_be_visible()
    found = uploads(s3, bucket)
    assert found[RECORDING_NAME] == mp4.read_bytes()
    assert_briefing(found[METADATA_NAME], "2026-02-01T09:30:00+00:00")  # the browser's zone is UTC here
    head = client(s3).head_object(Bucket=bucket, Key=f"{PREFIX}-inbox/{SLUG}/{link_id(s3, bucket)}/{RECORDING_NAME}")
    assert head["ContentType"] == "audio/mp4"
    # The producer's side: pulled, checked and published like any briefing.
    try:
        pulled = run(workspace, "inbox", "pull", env=ENV)
        assert pulled.exit_code == 0, pulled.output
        assert f"episodes/{SLUG}: pulled from the inbox" in pulled.output.replace(f"{workspace}/", "")
        assert run(workspace, "check", SLUG).exit_code == 0
        out = tmp_path / "out"
        published = run(workspace, "publish", "--to", str(out))
        assert published.exit_code == 0, published.output
        assert "Child D: the voice nobody heard" in (out / "feed.xml").read_text()
    finally:
        shutil.rmtree(workspace / "episodes" / SLUG, ignore_errors=True)


def link_id(s3: S3Front, bucket: str) -> str:
    [key] = [
        item["Key"] for item in client(s3).list_objects_v2(Bucket=bucket, Prefix=f"{PREFIX}-inbox/")["Contents"]
        if item["Key"].endswith(RECORDING_NAME)
    ]  # fmt: skip
    return key.split("/")[2]


def test_a_bad_date_and_a_missing_lesson_are_explained_beside_their_fields(
    page: Page, site: tuple[Path, str], s3: S3Front
) -> None:
    workspace, _ = site
    page.goto(invite(workspace))
    fill_in(page)
    page.get_by_label("Review type").select_option("serious case review")
    page.get_by_label("Date", exact=True).fill("1960-03-12")
    page.get_by_label("Key lesson 1").fill("")
    page.get_by_label("Key lesson 2").fill(" ")
    page.get_by_label("Title", exact=True).fill("Child D <b>the voice</b>")
    posts = len(s3.posts)
    page.get_by_role("button", name="Send to the producer").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expected = [
        "Title contains HTML markup: write plain text; the archive and feed format it.",
        "Publication date is in the year 1960: give the date the review was published, e.g. 2026-03-12T10:00:00+00:00.",
        "Key lessons is empty: add at least one.",
        "Your recording is missing: record it on this page, or choose a file.",
    ]
    assert summary.get_by_role("link").all_inner_texts() == expected
    # Each beside its field, and read with it.
    for label, sentence in (("Title", expected[0]), ("Date", expected[1]), ("Key lesson 1", expected[2])):
        field = page.get_by_label(label, exact=True)
        expect(field).to_have_attribute("aria-invalid", "true")
        expect(field).to_have_accessible_description(re.compile(re.escape(sentence)))
    summary.get_by_role("link", name=expected[1]).click()
    expect(page.get_by_label("Date", exact=True)).to_be_focused()
    assert len(s3.posts) == posts  # nothing was sent
    # The same words as `briefings check` for the same value.
    data = briefing_data() | {"key_lessons": []}
    data["review"] = data["review"] | {"published": "1960-03-12T10:00:00+00:00"}
    with pytest.raises(ValidationError) as refused:
        Briefing.model_validate(data)
    said = {(problem.field, problem.message, problem.fix) for problem in problems_from(Briefing, refused.value, "x")}
    assert ("review.published", "is in the year 1960", expected[1].split(": ", 1)[1].rstrip(".")) in said
    assert ("key_lessons", "is empty", "add at least one item, each on its own line starting with `- `") in said


def test_an_interrupted_upload_is_kept_across_a_reload_and_retried(
    browser: Browser, site: tuple[Path, str], s3: S3Front, bucket: str, inbox: None, speech: Path
) -> None:
    workspace, _ = site
    link = invite(workspace)
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(link)
    fill_in(page)
    page.get_by_label("Review type").select_option("national review")
    page.get_by_label("Date", exact=True).fill("2027-02-01")
    page.get_by_label("Or choose a recording file").set_input_files(speech)
    s3.dropping = True  # the network goes down: the recording's POST is never answered
    page.get_by_role("button", name="Send to the producer").click()
    expect(page.locator("#upload-status")).to_contain_text("Sending stopped before it finished")
    expect(page.get_by_role("button", name="Retry")).to_be_focused()
    assert uploads(s3, bucket) == {}
    s3.dropping = False
    # The page is closed and opened again: the answers and the recording come back from IndexedDB.
    page.close()
    page = context.new_page()
    page.goto(link)
    expect(page.locator("#restored")).to_contain_text("Your last upload did not finish")
    expect(page.get_by_label("Title", exact=True)).to_have_value("Child D: the voice nobody heard")
    expect(page.get_by_label("Key lesson 2")).to_have_value("Share what you know the same day.")
    expect(page.locator("#recording-about")).to_contain_text("speech.wav")
    page.get_by_role("button", name="Retry").click()
    expect(page.get_by_role("heading", name="Briefing received")).to_be_visible()
    found = uploads(s3, bucket)
    assert found[RECORDING_NAME] == speech.read_bytes()
    assert_briefing(found[METADATA_NAME], "2027-02-01T10:00:00+00:00")
    context.close()


@pytest.mark.parametrize(
    ("fragment", "says"),
    [
        ("", "opens from the link in their message"),
        ("#not-an-invitation", "incomplete or damaged"),
    ],
)
def test_a_missing_or_damaged_link_says_so_plainly(
    page: Page, site: tuple[Path, str], fragment: str, says: str
) -> None:
    _, base = site
    page.goto(base + "submit/" + fragment)
    expect(page.get_by_role("alert")).to_contain_text(says)
    expect(page.locator("#submission")).to_be_hidden()


def payload(link: str) -> dict[str, Any]:
    """The invitation in a link's fragment."""
    encoded = link.split("#")[1]
    return json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))


def forged(link: str, change: dict[str, Any]) -> str:
    """`link` with some of its invitation's fields changed, as someone might forge it."""
    encoded = json.dumps(payload(link) | change).encode()
    return link.split("#")[0] + "#" + base64.urlsafe_b64encode(encoded).decode().rstrip("=")


def test_an_expired_or_forged_link_uploads_nothing(page: Page, site: tuple[Path, str]) -> None:
    workspace, _ = site
    link = invite(workspace)
    page.goto(forged(link, {"expires": (datetime.now(UTC) - timedelta(hours=1)).isoformat()}))
    expect(page.get_by_role("alert")).to_contain_text("This link expired on")
    # A link naming another bucket would send the author's recording there: the page refuses it.
    recording = payload(link)["recording"]
    for elsewhere in ("https://attacker.example.net/", recording["url"] + "-attacker"):  # a bucket beside the show's
        page.goto(forged(link, {"recording": recording | {"url": elsewhere}}))
        page.reload()
        expect(page.get_by_role("alert")).to_contain_text("does not belong to this site")


def test_the_page_meets_wcag_22_aa_and_fits_a_phone(page: Page, site: tuple[Path, str], tmp_path: Path) -> None:
    workspace, _ = site
    page.goto(invite(workspace, "--partnership", "Westmarsh Safeguarding Children Partnership"))
    axe = Axe()
    for viewport in (DESKTOP, PHONE):
        page.set_viewport_size(viewport)
        expect(page.get_by_label("Title", exact=True)).to_be_visible()
        results = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_22_AA}})
        assert results.violations_count == 0, (viewport, results.generate_report())
        assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"]
    # With its errors showing, too.
    page.get_by_role("button", name="Send to the producer").click()
    expect(page.locator("#error-summary")).to_be_focused()
    results = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_22_AA}})
    assert results.violations_count == 0, results.generate_report()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]


def test_keyboard_alone_fills_in_records_and_sends(page: Page, site: tuple[Path, str], inbox: None) -> None:
    workspace, _ = site
    page.goto(invite(workspace, "--review-type", "national review", "--published", "2027-01-05T10:00:00+00:00"))
    page.get_by_label("Title", exact=True).focus()
    reached = []
    for _ in range(60):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("() => document.activeElement.id || document.activeElement.textContent"))
    for wanted in (
        "summary",
        "review-report-url",
        "add-lesson",
        "theme-1",
        "add-chapter",
        "record",
        "recording-file",
        "send",
    ):
        assert wanted in reached, (wanted, reached)
    page.get_by_label("Title", exact=True).focus()
    page.keyboard.press("Enter")  # submits the form, as any form does: the errors show, focus on their summary
    expect(page.locator("#error-summary")).to_be_focused()


def test_screenshots_at_desktop_and_phone_widths(page: Page, site: tuple[Path, str], tmp_path: Path) -> None:
    workspace, _ = site
    page.goto(invite(workspace, "--review-type", "serious case review", "--published", "2027-01-05T10:00:00+00:00"))
    fill_in(page)
    record(page, seconds=2)
    shots = []
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        shot = tmp_path / f"submit-{name}.png"
        page.screenshot(path=shot, full_page=True)
        shots.append(shot)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"]
    page.get_by_label("Key lesson 1").fill("")
    page.get_by_label("Key lesson 2").fill("")
    page.get_by_role("button", name="Send to the producer").click()
    page.screenshot(path=tmp_path / "submit-phone-errors.png", full_page=True)
    for shot in shots:
        assert Image.open(io.BytesIO(shot.read_bytes())).width in (DESKTOP["width"], PHONE["width"])
    print(f"screenshots in {tmp_path}")


def test_no_console_errors(page: Page, site: tuple[Path, str], problems: Problems) -> None:
    workspace, _ = site
    page.goto(invite(workspace))
    expect(page.get_by_label("Title", exact=True)).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert list(problems) == []
