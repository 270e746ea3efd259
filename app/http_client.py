"""Posting to other servers (chat channels, webhook endpoints): plain HTTPS with the
standard library, a timeout, and no redirect followed (an address admins gave must not
lead the server elsewhere)."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import NamedTuple

TIMEOUT = 10  # seconds the other side has to answer


class Answer(NamedTuple):
    status: int | None  # None: nobody answered (refused, timed out, no such host)
    retry_after: str | None  # the answer's Retry-After header, as given
    words: str  # what happened, for the admins' lists


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the 3xx stays an answer: nothing is sent anywhere else


_opener = urllib.request.build_opener(_NoRedirects)


def post(url: str, body: bytes, headers: dict[str, str] | None = None) -> Answer:
    """POST a JSON ``body`` to ``url`` and say how it was answered."""
    request = urllib.request.Request(  # noqa: S310 - addresses are checked when given
        url,
        data=body,
        headers={"Content-Type": "application/json", "User-Agent": "Chorus", **(headers or {})},
        method="POST",
    )
    try:
        with _opener.open(request, timeout=TIMEOUT) as answer:
            return Answer(answer.status, None, f"{answer.status} {answer.reason}")
    except urllib.error.HTTPError as refused:
        detail = refused.read(200).decode(errors="replace").strip()
        words = f"{refused.code} {refused.reason}" + (f": {detail}" if detail else "")
        return Answer(refused.code, refused.headers.get("Retry-After"), words)
    except (urllib.error.URLError, OSError) as lost:
        return Answer(None, None, str(getattr(lost, "reason", lost)) or type(lost).__name__)
