"""Announcements by email: a real SMTP server on 127.0.0.1 (aiosmtpd) with STARTTLS on a certificate from a test
CA (trustme) and a login; every message read back with the standard library's email parser."""

from __future__ import annotations

import email
import email.policy
import shutil
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any, ClassVar

import pytest
import trustme
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from briefings import Reporter, Workspace
from briefings.notify import ANNOUNCED_KEY
from tests.conftest import run

USER, PASSWORD = "producer", "s3cret-pass-word"
RELEASE = datetime.fromisoformat("2027-01-10T09:00:00+00:00")


@dataclass
class Mailbox:
    """What the test SMTP server received, and whether it accepts mail now."""

    messages: list[EmailMessage] = field(default_factory=list)
    refuse: bool = False

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        if self.refuse:
            return "451 try again later"
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))  # type: ignore[arg-type]
        return "250 OK"


def login(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and data.login == USER.encode() and data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)  # not handled: the server answers 535 itself


@pytest.fixture
def mailbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Mailbox, int]]:
    """An SMTP server that requires STARTTLS and a login, trusted through SSL_CERT_FILE as a real CA would be."""
    authority = trustme.CA()
    certificate = authority.issue_cert("localhost", "127.0.0.1")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate.configure_cert(context)
    authority.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    box = Mailbox()
    controller = Controller(
        box, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
        authenticator=login, auth_require_tls=True,
    )  # fmt: skip
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


def configure(workspace: Path, port: int, max_age_days: int = 7) -> None:
    with (workspace / "show.toml").open("a", encoding="utf-8") as show:
        show.write(
            f'\n[notify.email]\nsmtp_host = "localhost"\nsmtp_port = {port}\n'
            'from = "Westmarsh Practice Briefings <briefings@westmarsh.example.org>"\n'
            'to = ["all-practitioners@westmarsh.example.org", "health-visitors@westmarsh.example.org"]\n'
            f"max_age_days = {max_age_days}\n"
        )


def add_briefing(workspace: Path, slug: str, published: datetime, title: str) -> None:
    """A new briefing with child-a's recording and transcript."""
    folder = workspace / "episodes" / slug
    shutil.copytree(workspace / "episodes" / "child-a", folder)
    data = yaml.safe_load((folder / "briefing.yaml").read_text())
    data["title"] = title
    data["review"]["published"] = published.isoformat()
    (folder / "briefing.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))


ENV = {"BRIEFINGS_SMTP_USER": USER, "BRIEFINGS_SMTP_PASSWORD": PASSWORD}


def at(workspace: Path, moment: datetime, env: dict[str, str] = ENV) -> Workspace:
    return Workspace(workspace, now=moment, env=env)


def test_each_briefing_is_announced_once_when_its_embargo_lifts(
    workspace: Path, tmp_path: Path, mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    configure(workspace, port)
    add_briefing(workspace, "child-z", RELEASE, "Child Z: missed signs & a late referral")
    # Under embargo: nothing is sent, and a dry run after the release time says what would be.
    assert at(workspace, RELEASE - timedelta(hours=1)).publish().summary["emailed"] == []
    assert at(workspace, RELEASE).publish(dry_run=True).summary["would_email"] == ["child-z"]
    assert box.messages == []

    done = at(workspace, RELEASE + timedelta(minutes=1)).publish()
    assert done.summary["emailed"] == ["child-z"]
    [message] = box.messages
    assert message["Subject"] == "New briefing: Child Z: missed signs & a late referral"
    assert message["From"] == "Westmarsh Practice Briefings <briefings@westmarsh.example.org>"
    assert message["To"].addresses[1].addr_spec == "health-visitors@westmarsh.example.org"
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    lessons = yaml.safe_load((workspace / "episodes" / "child-z" / "briefing.yaml").read_text())["key_lessons"]
    page = "https://briefings.example.org/briefings/child-z/index.html"
    for lesson in lessons:
        assert lesson in plain
    assert f"Listen: {page}" in plain and "https://briefings.example.org/subscribe/" in plain
    assert f'href="{page}"' in html and "<h1>Child Z: missed signs &amp; a late referral</h1>" in html
    assert "Sent by Safeguarding Practice Briefings (" in plain and "their own partnership first" in plain

    # Never twice: nothing changed; an edit; a withdrawal and its undo; another workspace on the same destination.
    at(workspace, RELEASE + timedelta(minutes=2)).publish()
    briefing = workspace / "episodes" / "child-z" / "briefing.yaml"
    briefing.write_text(briefing.read_text().replace("Child Z:", "Child Z (corrected):"))
    at(workspace, RELEASE + timedelta(minutes=3)).publish()
    at(workspace, RELEASE + timedelta(minutes=4)).withdraw("child-z")
    assert at(workspace, RELEASE + timedelta(minutes=5)).withdraw("child-z", undo=True).released
    other = tmp_path / "other"
    shutil.copytree(workspace, other, ignore=shutil.ignore_patterns(".briefings"))
    # The same destination: the first workspace's folder, as publish.to.
    text = (other / "show.toml").read_text().replace('to = "feed"', f'to = "{workspace / "feed"}"')
    (other / "show.toml").write_text(text)
    add_briefing(other, "child-y", RELEASE + timedelta(days=1), "Child Y")
    at(other, RELEASE + timedelta(days=1, minutes=1)).publish()
    assert [item["Subject"] for item in box.messages] == [
        "New briefing: Child Z: missed signs & a late referral",
        "New briefing: Child Y",
    ]
    announced = (workspace / "feed" / ANNOUNCED_KEY).read_text()
    assert '"child-z"' in announced and '"child-y"' in announced


def test_a_back_catalogue_is_not_announced(workspace: Path, mailbox: tuple[Mailbox, int]) -> None:
    box, port = mailbox
    configure(workspace, port, max_age_days=7)
    add_briefing(workspace, "child-old", RELEASE - timedelta(days=30), "Child Old")
    add_briefing(workspace, "child-new", RELEASE - timedelta(days=6), "Child New")
    assert at(workspace, RELEASE).publish().summary["emailed"] == ["child-new"]
    assert [item["Subject"] for item in box.messages] == ["New briefing: Child New"]


def test_a_failed_send_is_a_warning_and_the_next_publish_retries(workspace: Path, mailbox: tuple[Mailbox, int]) -> None:
    box, port = mailbox
    configure(workspace, port)
    add_briefing(workspace, "child-z", RELEASE, "Child Z")

    class Warnings(Reporter):
        lines: ClassVar[list[str]] = []

        def problem(self, line: str) -> None:
            self.lines.append(line)

    box.refuse = True
    done = Workspace(workspace, now=RELEASE + timedelta(minutes=1), reporter=Warnings(), env=ENV).publish()
    warnings = Warnings.lines
    assert not done.refused and done.summary["emailed"] == []
    assert "child-z" in done.summary["episodes"]  # published all the same
    [warning] = [line for line in warnings if "email" in line]
    assert "not sent (the server answered 451); 1 announcement(s) wait for the next publish" in warning
    assert PASSWORD not in warning

    box.refuse = False
    again = at(workspace, RELEASE + timedelta(minutes=2)).publish()
    assert again.skipped and again.summary["emailed"] == ["child-z"]  # nothing else changed: only the retry
    assert at(workspace, RELEASE + timedelta(minutes=3)).publish().summary["emailed"] == []
    assert [item["Subject"] for item in box.messages] == ["New briefing: Child Z"]


def test_a_wrong_login_is_said_without_the_password(workspace: Path, mailbox: tuple[Mailbox, int]) -> None:
    _, port = mailbox
    configure(workspace, port)
    result = run(workspace, "notify", "--test", env={**ENV, "BRIEFINGS_SMTP_PASSWORD": "wrong-one"})
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: localhost:{port}: not sent (the server refused the login (535))")
    assert "wrong-one" not in result.output


def test_notify_test_sends_one_message(workspace: Path, mailbox: tuple[Mailbox, int]) -> None:
    box, port = mailbox
    configure(workspace, port)
    result = run(workspace, "notify", "--test", "--to", "me@westmarsh.example.org", env=ENV)
    assert result.exit_code == 0, result.output
    assert result.stdout == "Sent a test email to me@westmarsh.example.org.\n"
    [message] = box.messages
    assert message["To"] == "me@westmarsh.example.org" and message["Subject"].startswith("Test: ")


@pytest.mark.parametrize(
    ("setting", "problem"),
    [
        ("starttls = false", "sends mail in the clear to smtp.westmarsh.example.org"),
        ('to = ["not an address"]', "'not an address' is not an email address"),
        ('to = ["a@example.org\\r\\nBcc: x@example.org"]', "is not an email address"),
    ],
)
def test_bad_email_settings_are_one_line_each(workspace: Path, setting: str, problem: str) -> None:
    lines = {
        "smtp_host": 'smtp_host = "smtp.westmarsh.example.org"',
        "from": 'from = "briefings@westmarsh.example.org"',
        "to": 'to = ["all@westmarsh.example.org"]',
    }
    key = setting.split(" ")[0]
    lines[key] = setting
    with (workspace / "show.toml").open("a", encoding="utf-8") as show:
        show.write("\n[notify.email]\n" + "\n".join(lines.values()) + "\n")
    result = run(workspace, "check")
    assert result.exit_code == 1
    assert problem in result.stderr and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1
