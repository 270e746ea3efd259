"""One transaction per request, ended in one place.

Services flush as they go and never commit; views never commit either. When a view's
answer is ready, the request's transaction ends here:

- a write (POST, PUT, PATCH, DELETE) answered below 400 commits;
- everything else rolls back: a refusal (4xx) or an error (5xx) changes nothing, and a
  read (GET, HEAD, OPTIONS) never writes, whatever it may have flushed.

A view that raised still gets here (Flask answers with an error handler first, then runs
the after-request hooks with that answer), and the session is removed when the app
context ends, which rolls back whatever is left. Side effects outside the database
(Redis caches, queued jobs that read what the request wrote) wait for the commit with
``extensions.after_commit``. If the commit itself fails, the exception reaches Flask's
error handling like a view's and the answer is a 500.

The fast paths (``app.fast_paths``) do not write and have no hooks. Jobs and CLI
commands are not requests: each commits itself, where its work ends.
"""

from __future__ import annotations

from flask import Flask, Response, request

from app.extensions import db

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def end_transaction(response: Response) -> Response:
    if request.method not in READ_METHODS and response.status_code < 400:
        db.session.commit()
    else:
        db.session.rollback()
    return response


def init_app(app: Flask) -> None:
    # Registered after the request log's hook, so it runs before it (Flask runs them in
    # reverse): a commit that fails is logged with the 500 it becomes.
    app.after_request(end_transaction)
