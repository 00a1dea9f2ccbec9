"""The one HTTP client: requests, saying who is asking and why, with a timeout on every call."""

from __future__ import annotations

import requests

from briefings import __version__


def session(purpose: str) -> requests.Session:
    """A session whose User-Agent names briefings, its version and `purpose` (e.g. "public check")."""
    client = requests.Session()
    client.headers["User-Agent"] = f"briefings/{__version__} ({purpose})"
    return client


def reason(error: requests.RequestException, timeout: float) -> str:
    """Why a request failed, in words for a producer."""
    if isinstance(error, requests.Timeout):
        return f"no answer within {timeout:g} seconds"
    if isinstance(error, requests.ConnectionError):
        return "connection failed"
    return type(error).__name__
