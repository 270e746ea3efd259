"""Chorus without its fast paths, for the benchmarks' lane or no lane comparison.

Board reads take their Flask routes. Tracked links have no route of their own (the
fast path is the only way in), so here a plain Flask view answers them with the fast
path's own ``answer``: the difference measured is Flask's request machinery alone.
Served by gunicorn as ``no_lane:app`` from this directory.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Response, request

from app import create_app
from app.extensions import limiter
from app.web.redirect import ROUTE, TrackedLinks

app = create_app({"FAST_LANES": False})
tracked_links = TrackedLinks(app)


@limiter.exempt
def follow(token: str) -> Response:
    answer = tracked_links.answer(request.environ)
    return Response(answer.body, status=int(answer.status[:3]), headers=answer.headers)


app.add_url_rule(ROUTE, "follow", follow, methods=["GET"])
