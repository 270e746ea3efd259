"""The floor the redirect is measured against: the least a Flask endpoint that records a
click can do, one Redis write and a 302, on the same server setup."""

from __future__ import annotations

import os

import redis
from flask import Flask, redirect

app = Flask(__name__)
connection = redis.Redis.from_url(os.environ["REDIS_URL"])


@app.get("/f/<token>")
def follow(token: str):
    connection.xadd("bench:floor", {"t": token})
    return redirect("https://www.example.com/stories/1?utm_source=linkedin", 302)
