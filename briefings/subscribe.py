"""What a subscribe page offers: a link that opens each common podcast app on a feed, and its QR code (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import segno
from markupsafe import Markup

from briefings.config import url_slug


def subscribe_page_key(theme: str | None = None) -> str:
    """Where the subscribe page of the main feed (or of a theme's feed) is published."""
    return "subscribe/index.html" if theme is None else f"subscribe/{url_slug(theme)}/index.html"


@dataclass(frozen=True)
class AppLink:
    """A link that opens a podcast app ready to subscribe to a feed."""

    app: str
    href: str


def app_links(feed_url: str, title: str) -> list[AppLink]:
    """One-tap links to subscribe to `feed_url` in the common podcast apps, then in whichever app handles podcast://."""
    # The schemes that take the address without its `https://` need it whole otherwise: a browser turns
    # `pktc://subscribe/https://host/...` into `https//host`. Each is the app's own documented link:
    bare = feed_url.split("://", 1)[1]
    whole = quote(feed_url, safe="")
    return [
        # Apple Podcasts opens podcasts:// addresses (the https one with its scheme replaced).
        AppLink("Apple Podcasts", f"podcasts://{bare}"),
        # https://support.pocketcasts.com/knowledge-base/linking-to-my-show/
        AppLink("Pocket Casts", f"pktc://subscribe/{bare}"),
        # https://antennapod.org/documentation/podcasters-hosters/add-on-antennapod: an https link, so a
        # phone without AntennaPod opens a page offering to install it instead of doing nothing.
        AppLink("AntennaPod", f"https://antennapod.org/deeplink/subscribe?url={whole}&title={quote(title, safe='')}"),
        # https://overcast.fm/podcasterinfo
        AppLink("Overcast", f"overcast://x-callback-url/add?url={whole}"),
        AppLink("Podcast Addict", f"podcastaddict://{bare}"),
        AppLink("Castro", f"castros://subscribe/{bare}"),
        # The generic scheme most other apps register (Podlove's subscribe button offers it as "other app").
        AppLink("Another podcast app", f"podcast://{bare}"),
    ]


def qr_code(url: str, label: str) -> Markup:
    """`url` as a QR code in inline SVG (no image request, so the pages' CSP stays `img-src 'self'`)."""
    # Error correction M (15%) survives a phone camera's glare off a screen; the 4-module quiet zone is
    # what ISO/IEC 18004 asks for around the symbol.
    svg = segno.make(url, error="m", micro=False).svg_inline(
        scale=1, border=4, dark="#0b0c0c", light="#ffffff", omitsize=True, svgclass="qr-code", lineclass=None
    )
    return Markup(svg.replace("<svg ", Markup('<svg role="img" aria-label="{}" ').format(label), 1))
