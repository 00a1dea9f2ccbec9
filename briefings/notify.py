"""Email staff lists of each briefing the minute a publish makes it public: one email per briefing, never twice.

A briefing made public is queued in the workspace's outbox (one file per message), then sent, then
recorded at the destination (`.briefings/announced.json`, written conditionally like the manifest), then
taken out of the outbox. A send that fails stays queued for the next publish; a crash between sending and
recording sends that one message again, never loses it.
"""

from __future__ import annotations

import email.policy
import json
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, make_msgid, parseaddr
from html import escape
from pathlib import Path
from typing import Any

from briefings.config import STATE_DIR, EmailSettings, Show, state_name
from briefings.episode import Episode
from briefings.errors import BriefingsError, ConflictError, StorageError
from briefings.layout import FEED_KEY
from briefings.progress import Reporter
from briefings.storage import Storage
from briefings.subscribe import subscribe_page_key

ANNOUNCED_KEY = ".briefings/announced.json"
ANNOUNCED_TYPE = "application/json"
ANNOUNCED_CACHE = "no-store"
SMTP_TIMEOUT = 30
# RFC 6409: 587 is message submission; the login goes only over TLS or to this machine.
USER, PASSWORD = "BRIEFINGS_SMTP_USER", "BRIEFINGS_SMTP_PASSWORD"


def outbox(workspace: Path, destination: str) -> Path:
    """Where messages for `destination` wait until sent and recorded (a folder per destination)."""
    return workspace / STATE_DIR / "outbox" / state_name(destination)


def due(released: Sequence[Episode], settings: EmailSettings, moment: datetime) -> list[Episode]:
    """The briefings to announce: made public now, and published at most `max_age_days` ago (a show's back
    catalogue, on its first publish, is not news)."""
    oldest = moment - timedelta(days=settings.max_age_days)
    return [episode for episode in released if episode.briefing.review.published >= oldest]


def message(show: Show, episode: Episode, settings: EmailSettings, moment: datetime) -> EmailMessage:
    """The announcement of one briefing, as plain text and HTML."""
    briefing, review = episode.briefing, episode.briefing.review
    page, report = show.url + episode.page_key, str(review.report_url)
    subscribe = show.url + subscribe_page_key().removesuffix("index.html")
    published = f"{review.published.day} {review.published:%B %Y}"
    about = f"{review.type.value}, {review.partnership}, published {published}"
    lessons = briefing.key_lessons
    footer = (
        f"Sent by {show.title} ({show.author}) to {', '.join(settings.to)} when a briefing is published, so that "
        "practitioners hear of each review from their own partnership first."
    )
    plain = "\n".join(
        [
            briefing.title,
            about,
            "",
            briefing.summary,
            "",
            "Key lessons for all professionals:",
            *(f"{number}. {lesson}" for number, lesson in enumerate(lessons, 1)),
            "",
            f"Listen: {page}",
            f"The full report: {report}",
            f"Every briefing in your podcast app: {subscribe} (or the feed {show.url + FEED_KEY})",
            "",
            "-- ",
            footer,
        ]
    )
    items = "".join(f"<li>{escape(lesson)}</li>" for lesson in lessons)
    html = (
        f'<!DOCTYPE html><html lang="{escape(show.language)}"><body>'
        f"<h1>{escape(briefing.title)}</h1><p>{escape(about)}</p><p>{escape(briefing.summary)}</p>"
        f"<h2>Key lessons for all professionals</h2><ol>{items}</ol>"
        f'<p><a href="{escape(page)}">Listen to the briefing</a> &middot; <a href="{escape(report)}">Read the full '
        f'report</a> &middot; <a href="{escape(subscribe)}">Get every briefing in your podcast app</a></p>'
        f"<hr><p><small>{escape(footer)}</small></p></body></html>"
    )
    mail = EmailMessage(policy=email.policy.SMTP)
    mail["Subject"] = f"New briefing: {briefing.title}"
    mail["From"] = settings.sender
    mail["To"] = ", ".join(settings.to)
    mail["Date"] = format_datetime(moment)
    mail["Message-ID"] = make_msgid(domain=parseaddr(settings.sender)[1].rpartition("@")[2])
    mail["X-Briefing"] = episode.slug
    mail.set_content(plain)
    mail.add_alternative(html, subtype="html")
    return mail


def read_announced(storage: Storage) -> tuple[dict[str, Any], str | None]:
    """What the destination records as announced (slug -> when), and the record's version tag."""
    data, tag = storage.read_tagged(ANNOUNCED_KEY)
    try:
        announced = json.loads(data)["announced"] if data is not None else {}
    except (ValueError, KeyError, TypeError):
        announced = {}
    return (announced if isinstance(announced, dict) else {}), tag


def record(storage: Storage, slug: str, moment: datetime) -> None:
    """Add `slug` to the destination's record of announced briefings (another run's entries kept)."""
    for _ in range(5):
        announced, tag = read_announced(storage)
        announced[slug] = moment.isoformat()
        data = json.dumps({"version": 1, "announced": announced}, indent=1, sort_keys=True).encode()
        try:
            storage.write_if(ANNOUNCED_KEY, data, ANNOUNCED_TYPE, ANNOUNCED_CACHE, tag)
            return
        except ConflictError:
            continue  # another publish recorded one at the same moment: read theirs and add ours again
    raise StorageError(f"{storage.describe()}{ANNOUNCED_KEY}: kept changing while it was written (fix: publish again)")


def announce(
    workspace: Path,
    destination: str,
    show: Show,
    storage: Storage,
    released: Sequence[Episode],
    moment: datetime,
    env: Mapping[str, str],
    reporter: Reporter,
) -> list[str]:
    """Queue the announcement of each briefing in `released` that is due, then send every queued one not
    yet recorded as announced at `storage`; the slugs sent. Failures are warnings: the message stays queued."""
    settings = show.notify.email
    if settings is None:
        return []
    folder = outbox(workspace, destination)
    for episode in due(released, settings, moment):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{episode.slug}.eml").write_bytes(message(show, episode, settings, moment).as_bytes())
    queued = sorted(folder.glob("*.eml")) if folder.is_dir() else []
    if not queued:
        return []
    announced, _ = read_announced(storage)
    sent: list[str] = []
    try:
        with _connection(settings, env) as smtp:
            for path in queued:
                slug = path.stem
                if slug not in announced:
                    smtp.send_message(BytesParser(policy=email.policy.SMTP).parsebytes(path.read_bytes()))
                    record(storage, slug, moment)
                    sent.append(slug)
                path.unlink()
    except (OSError, smtplib.SMTPException, ssl.SSLError) as error:
        reporter.problem(
            f"warning: email to {', '.join(settings.to)} via {settings.smtp_host}:{settings.smtp_port}: not sent "
            f"({_reason(error)}); {len(queued) - len(sent)} announcement(s) wait for the next publish (fix: check "
            f"[notify.email] in show.toml and {USER}/{PASSWORD}; `briefings notify --test` tries the server)"
        )
    return sent


def _connection(settings: EmailSettings, env: Mapping[str, str]) -> smtplib.SMTP:
    """An open SMTP session: STARTTLS with the system's certificate checks, then the login if one is set."""
    smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT)
    try:
        smtp.ehlo()
        if settings.starttls:
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if env.get(USER):
            smtp.login(env[USER], env.get(PASSWORD, ""))
    except BaseException:
        smtp.close()
        raise
    return smtp


def _reason(error: BaseException) -> str:
    """What went wrong, in one line, without anything the server echoed back of the login."""
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return f"the server refused the login ({error.smtp_code})"
    if isinstance(error, smtplib.SMTPResponseException):
        return f"the server answered {error.smtp_code}"
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return "the server does not offer STARTTLS"
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"its certificate is not trusted: {error.verify_message}"
    return str(error) or type(error).__name__


def send_test(show: Show, recipients: Sequence[str], moment: datetime, env: Mapping[str, str]) -> list[str]:
    """Send a message that says only that email from this show arrives, to `recipients` (default: the lists
    announcements go to); whom it went to. A one-line BriefingsError if it cannot be sent."""
    settings = show.notify.email
    if settings is None:
        raise BriefingsError("show.toml: [notify.email]: not set (fix: add the section, as the README shows)")
    to = list(recipients or settings.to)
    mail = EmailMessage(policy=email.policy.SMTP)
    mail["Subject"] = f"Test: {show.title}"
    mail["From"] = settings.sender
    mail["To"] = ", ".join(to)
    mail["Date"] = format_datetime(moment)
    mail["Message-ID"] = make_msgid(domain=parseaddr(settings.sender)[1].rpartition("@")[2])
    mail.set_content(f"A test from {show.title}: each new briefing will be announced to this address.")
    try:
        with _connection(settings, env) as smtp:
            smtp.send_message(mail)
        return to
    except (OSError, smtplib.SMTPException, ssl.SSLError) as error:
        raise BriefingsError(
            f"{settings.smtp_host}:{settings.smtp_port}: not sent ({_reason(error)}) (fix: check [notify.email] in "
            f"show.toml and {USER}/{PASSWORD})"
        ) from None
