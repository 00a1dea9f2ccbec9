"""A fixed show and fixed episodes for rendering feeds without audio: the inputs of the golden feeds."""

from __future__ import annotations

from typing import Any

from briefings.config import Show
from briefings.episode import Episode, episode_guid
from briefings.submission import Briefing

SHOW = Show.model_validate(
    {
        "id": "0f6e6d1a-3c1e-4a53-9d7b-5b0c9e7b2a10",
        "title": "Westmarsh Practice Briefings",
        "description": "Briefings for everyone who works with children & families in Westmarsh.",
        "author": "Westmarsh editorial team",
        "owner": {"name": "Briefings team", "email": "briefings@westmarsh.example.org"},
        "copyright": "\u00a9 Westmarsh Safeguarding Children Partnership",
        "base_url": "https://podcast.westmarsh.example.org/briefings/",
        "themes": ["neglect", "domestic abuse", "voice of the child", "exploitation"],
        # Two, so the golden main feed shows the cut: the oldest briefing is only in the theme feeds.
        "feeds": {"main_feed_items": 2},
    }
)
ARTWORK_KEY = "artwork-0a1b2c3d.jpg"


def briefing(show: Show = SHOW, **fields: Any) -> Briefing:
    """A valid briefing, with `fields` replacing the defaults (validated as briefing.yaml would be)."""
    data: dict[str, Any] = {
        "title": "Child A: the baby nobody saw",
        "summary": "Child A was seven months old when she was admitted to hospital.",
        "review": {
            "type": "LCSPR",
            "subject": "Child A",
            "partnership": "Westmarsh Safeguarding Children Partnership",
            "region": "North West",
            "report_url": "https://westmarsh.example.org/reviews/child-a.pdf",
            "published": "2026-03-12T10:00:00+00:00",
        },
        "author": {"name": "Dr Helen Okafor", "role": "Independent lead reviewer"},
        "key_lessons": ["Missed appointments are information about the child."],
        "themes": ["neglect"],
        "recording": "recording.opus",
    }
    data.update(fields)
    return Briefing.model_validate(data, context={"themes": show.themes})


def episode(slug: str, item: Briefing, size: int, seconds: float, show: Show = SHOW, **keys: Any) -> Episode:
    """A published episode of `item` with made-up (fixed) file facts."""
    return Episode(
        slug=slug,
        guid=episode_guid(show.id, slug),
        briefing=item,
        media_key=f"media/{slug}-{size:08x}.mp3",
        media_size=size,
        duration=seconds,
        page_key=f"briefings/{slug}/index.html",
        **keys,
    )


def golden_episodes() -> list[Episode]:
    """Three briefings over two review types and four themes, with every optional part somewhere."""
    child_a = briefing(
        episode=1,
        key_lessons=[
            "Missed health appointments are information about the child, not just about the parent.",
            "Record every adult who lives in the home by name.",
        ],
        themes=["neglect"],
        chapters=[
            {"start": "00:00", "title": "Introduction"},
            {"start": "00:23.5", "title": "Missed appointments"},
            {"start": "00:32", "title": "Who lives in the home?"},
        ],
        transcript="transcript.vtt",
    )
    child_b = briefing(
        title="Child B: the voice of the child in a violent home",
        summary="Child B told his teacher he was scared to go home. His words were recorded, not acted on.",
        review={
            "type": "serious case review",
            "subject": "Child B",
            "partnership": "Northvale Safeguarding Children Board",
            "region": "Yorkshire and the Humber",
            "report_url": "https://northvale.example.org/scr/child-b.pdf",
            "published": "2026-06-04T09:30:00+01:00",
        },
        author={"name": "Sam Whitfield", "role": "Independent reviewer"},
        key_lessons=["When a child tells you they are scared, act on it the same day."],
        themes=["domestic abuse", "voice of the child"],
        chapters=[{"start": "00:00", "title": "Introduction"}, {"start": "00:30", "title": "Act on what you hear"}],
        transcript="transcript.srt",
        explicit=True,
    )
    child_c = briefing(
        title="Zo\u00eb: exploitation that looked like friendship",
        summary="Zo\u00eb, 15, met older \u201cfriends\u201d at a caf\u00e9 & was exploited \u2014 agencies saw parts of it.",
        review={
            "type": "LCSPR",
            "subject": "Zo\u00eb",
            "partnership": "Westmarsh Safeguarding Children Partnership",
            "region": "North West",
            "report_url": "https://westmarsh.example.org/reviews/zoe.pdf",
            "published": "2026-09-01T08:00:00+00:00",
        },
        author={"name": "Ana\u00efs Dupont", "role": "Lead reviewer"},
        key_lessons=["Ask who a child's new friends are, and how old.", "Share worries about exploitation early."],
        themes=["neglect", "exploitation"],
    )
    return [
        episode(
            "child-a",
            child_a,
            652_847,
            47.8,
            chapters_key="briefings/child-a/chapters.json",
            transcript_key="briefings/child-a/transcript.vtt",
            transcript_type="text/vtt",
            transcript_html_key="briefings/child-a/transcript.html",
        ),
        episode(
            "child-b",
            child_b,
            593_562,
            43.2,
            chapters_key="briefings/child-b/chapters.json",
            transcript_key="briefings/child-b/transcript.srt",
            transcript_type="application/x-subrip",
            transcript_html_key="briefings/child-b/transcript.html",
        ),
        episode("child-c", child_c, 1_204_111, 95.0),
    ]
