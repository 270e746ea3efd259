"""Pictures of each role's main pages, from the demo company, at desktop and phone
widths, for the README. Run from the repository root (``make screenshots``):

    python -m tools.screenshots

A throwaway instance: a temporary SQLite file and media folder, and the embedded Redis in
a temporary folder (or REDIS_URL's database, which must be empty and is emptied again
afterwards), loaded with ``flask seed-demo`` as ``make run`` does, served on a free local
port and read by the system's Chromium. Each person signs in through a sign-in link.
The pictures in docs/screenshots/ are replaced.
"""

from __future__ import annotations

import argparse
import base64
import io
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, redirect_stderr
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask
from flask_migrate import upgrade
from playwright.sync_api import sync_playwright
from redis import Redis
from werkzeug.serving import WSGIRequestHandler, make_server

from app import create_app
from app.extensions import db
from app.redis_server import ensure_embedded_redis, stop_embedded_redis
from app.services.people import find_employee_by_email
from app.services.sign_in import sign_in_url

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"

# Who is who in the demo. The employee and the team lead take part and have a history;
# the newcomer (Lukas, the README's first ten minutes) has not opted in yet.
PEOPLE = {
    "newcomer": "lukas.richter@nordlicht.example",
    "employee": "isabel.garcia@nordlicht.example",
    "team-lead": "katrin.vogel@nordlicht.example",
    "hr": "sabine.meyer@nordlicht.example",
    "admin": "lena.hoffmann@nordlicht.example",
}

# A day of last month: the demo's five weeks of history fill it, where this month may
# have begun yesterday.
LAST_MONTH = (date.today().replace(day=1) - timedelta(days=1)).isoformat()

# (role, path, name): docs/screenshots/<role>-<name>-<width>.webp, at every width below.
PAGES = [
    ("newcomer", "/guidelines", "guidelines"),
    ("employee", "/", "home"),
    ("employee", "/feed", "feed"),
    ("employee", "/me/shares", "shares"),
    ("employee", "/me/points", "points"),
    ("employee", "/leaderboards", "leaderboards"),
    ("employee", "/rewards", "rewards"),
    ("employee", "/badges", "badges"),
    ("employee", "/lessons", "lessons"),
    ("employee", "/inbox", "inbox"),
    ("employee", "/inbox/settings", "what-reaches-me"),
    ("employee", "/me", "profile"),
    ("team-lead", "/", "home"),
    ("team-lead", "/challenges", "challenges"),
    ("team-lead", "/challenges/new", "new-challenge"),
    ("team-lead", "/team/analytics", "team-analytics"),
    ("hr", "/content", "content"),
    ("hr", "/rules", "scoring-rules"),
    ("hr", "/referrals", "referrals"),
    ("hr", "/rewards/manage", "reward-catalogue"),
    ("hr", "/redemptions", "redemptions"),
    ("hr", "/hr/badges", "badge-editor"),
    ("hr", "/people", "people"),
    ("hr", "/analytics", "analytics"),
    ("hr", f"/analytics?show=network&start={LAST_MONTH}", "analytics-networks"),
    ("hr", f"/analytics?show=matrix&start={LAST_MONTH}", "analytics-interests-by-tag"),
    ("admin", "/admin/settings", "settings"),
    ("admin", "/admin/points", "points-and-boards"),
    ("admin", "/admin/mail", "mail"),
    ("admin", "/admin/webhooks", "webhooks"),
    ("admin", "/admin/audit", "audit-log"),
]

# Browser context options per width, and the tallest picture taken of a longer page.
WIDTHS = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}
TALLEST = {"desktop": 1000, "phone": 1400}
# Lossy WebP at this quality: about 60 % of Chromium's PNG, the text still crisp.
WEBP_QUALITY = 0.9

# The README's grid of the pictures, written between these lines: thumbnails, each a link
# to its picture, a page's desktop picture with its phone one beside it, three a row.
README = ROOT / "README.md"
GRID_START = "<!-- The grid below is written by make screenshots from tools/screenshots.py. -->"
GRID_END = "<!-- End of the grid. -->"
GRID_COLUMNS = 3
THUMBNAIL_WIDTHS = {"desktop": 180, "phone": 50}

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]

# A PNG (base64) in, the same picture as WebP (a data: URL) out, by the browser's encoder.
TO_WEBP = """async ([png, quality]) => {
  const picture = new Image();
  picture.src = "data:image/png;base64," + png;
  await picture.decode();
  const canvas = document.createElement("canvas");
  canvas.width = picture.naturalWidth;
  canvas.height = picture.naturalHeight;
  canvas.getContext("2d", { alpha: false }).drawImage(picture, 0, 0);
  return canvas.toDataURL("image/webp", quality);
}"""


def file_name(role: str, name: str, width: str) -> str:
    return f"{role}-{name}-{width}.webp"


def capture(
    browser,
    base_url: str,
    link_for: Callable[[str], str],
    out: Path,
    pages: Iterable[tuple[str, str, str]] = PAGES,
    widths: dict[str, dict] = WIDTHS,
) -> list[Path]:
    """Sign each role in once through ``link_for(role)``, then take each of their
    pages at every width into ``out``. A page that does not answer 200 where it was
    asked (an error, a redirect to sign-in or elsewhere) stops it. Returns the files."""
    out.mkdir(parents=True, exist_ok=True)
    by_role: dict[str, list[tuple[str, str]]] = {}
    for role, path, name in pages:
        by_role.setdefault(role, []).append((path, name))
    encoder = browser.new_page()  # about:blank: no page's security policy in the way
    written = []
    try:
        for role, role_pages in by_role.items():
            cookies = _signed_in(browser, base_url, link_for(role))
            for width, options in widths.items():
                context = browser.new_context(
                    base_url=base_url,
                    storage_state=cookies,
                    reduced_motion="reduce",
                    timezone_id="Europe/Berlin",
                    locale="en-GB",
                    **options,
                )
                context.set_default_timeout(15_000)
                try:
                    page = context.new_page()
                    for path, name in role_pages:
                        png = _take(page, path, TALLEST.get(width))
                        target = out / file_name(role, name, width)
                        target.write_bytes(_webp(encoder, png))
                        written.append(target)
                finally:
                    context.close()
    finally:
        encoder.context.close()
    return written


def _signed_in(browser, base_url: str, link: str) -> dict:
    """The cookies of a session signed in through ``link``, as its page asks: a click."""
    context = browser.new_context(base_url=base_url)
    try:
        page = context.new_page()
        page.goto(link)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda url: "/sign-in" not in url)
        page.wait_for_load_state("networkidle")  # the welcome message shown, not kept
        return context.storage_state()
    finally:
        context.close()


def _take(page, path: str, tallest: int | None) -> bytes:
    answer = page.goto(path, wait_until="networkidle")
    reached = urlsplit(page.url).path
    if answer is None or answer.status != 200 or reached != urlsplit(path).path:
        status = answer.status if answer is not None else "no answer"
        raise RuntimeError(f"{path} answered {status} at {reached}: not a page to show")
    page.evaluate("document.fonts.ready.then(() => true)")
    height = page.evaluate("document.documentElement.scrollHeight")
    clip = {"x": 0, "y": 0, "width": page.viewport_size["width"], "height": height}
    if tallest:
        clip["height"] = min(height, tallest)
    return page.screenshot(full_page=True, clip=clip, animations="disabled", caret="hide")


def _webp(encoder, png: bytes) -> bytes:
    url = encoder.evaluate(TO_WEBP, [base64.b64encode(png).decode(), WEBP_QUALITY])
    header, _, data = url.partition(",")
    if header != "data:image/webp;base64":
        raise RuntimeError(f"the browser made {header}, not WebP")
    return base64.b64decode(data)


def readme_grid(pages: Iterable[tuple[str, str, str]] = PAGES) -> str:
    """The README's grid of ``pages``, with the lines that mark it."""
    cells = []
    for role, _, name in pages:
        label = f"{role}: {name}".replace("-", " ")
        pictures = " ".join(
            f'<a href="{_shown(role, name, width)}"><img src="{_shown(role, name, width)}" '
            f'width="{THUMBNAIL_WIDTHS[width]}" align="top" alt="{label}, {width}"></a>'
            for width in WIDTHS
        )
        cells.append(f'<td valign="top">{pictures}<br>{label}</td>')
    rows = [
        "\n".join(["<tr>", *cells[start : start + GRID_COLUMNS], "</tr>"])
        for start in range(0, len(cells), GRID_COLUMNS)
    ]
    return "\n".join([GRID_START, "<table>", *rows, "</table>", GRID_END])


def _shown(role: str, name: str, width: str) -> str:
    return (OUT / file_name(role, name, width)).relative_to(ROOT).as_posix()


def write_readme_grid(readme: Path = README) -> None:
    text = readme.read_text(encoding="utf-8")
    before, start, rest = text.partition(GRID_START)
    _, end, after = rest.partition(GRID_END)
    if not (start and end):
        raise RuntimeError(f"{readme.name} has no grid of pictures: its marking lines are gone")
    readme.write_text(before + readme_grid() + after, encoding="utf-8")


# The throwaway instance.


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:  # the app logs what goes wrong
        pass


@contextmanager
def served(app: Flask) -> Iterator[str]:
    """The app on a free local port, from a thread; its links point there."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    base_url = f"http://127.0.0.1:{server.server_port}"
    app.config["BASE_URL"] = base_url
    thread = threading.Thread(target=server.serve_forever, name="screenshots", daemon=True)
    thread.start()
    try:
        yield base_url
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


def sign_in_link(app: Flask, role: str) -> str:
    """A fresh single-use sign-in link for the demo's person of ``role``."""
    with app.app_context():
        employee = find_employee_by_email(PEOPLE[role])
        if employee is None:
            raise RuntimeError(f"the demo has nobody with the address {PEOPLE[role]}")
        return sign_in_url(employee)


@contextmanager
def demo_instance(folder: Path) -> Iterator[Flask]:
    """The app on a new SQLite file in ``folder``, migrated and loaded with the demo."""
    given = os.environ.get("REDIS_URL")
    if given and Redis.from_url(given).dbsize():
        raise RuntimeError("REDIS_URL names a Redis database that holds keys: give an empty one")
    redis_url = given or ensure_embedded_redis(folder / "redis")
    try:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'chorus.db'}",
                "REDIS_URL": redis_url,
                "MEDIA_FOLDER": str(folder / "media"),
                "MAIL_BACKEND": "memory",
                "LOG_LEVEL": "WARNING",
                # Every person signs in from this one address within a minute or so.
                "SIGN_IN_RATE_LIMIT": "60 per minute",
            }
        )
        try:
            _load_demo(app)
            yield app
        finally:
            with app.app_context():
                db.engine.dispose()
    finally:
        if given:
            Redis.from_url(given).flushdb()
        else:
            stop_embedded_redis(folder / "redis")


def _load_demo(app: Flask) -> None:
    migrations = io.StringIO()  # a line per migration: shown only when one fails
    try:
        with redirect_stderr(migrations), app.app_context():
            upgrade()
    except Exception:
        sys.stderr.write(migrations.getvalue())
        raise
    seeded = app.test_cli_runner().invoke(args=["seed-demo", "--no-links"])
    if seeded.exit_code != 0:
        raise RuntimeError(f"flask seed-demo failed:\n{seeded.output}") from seeded.exception


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help="where the pictures go")
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} is missing: install Chromium (apt-get install chromium)")
        return 1
    started = time.monotonic()
    # The temporary folder's path is short enough for the embedded Redis's unix socket.
    with (
        tempfile.TemporaryDirectory(prefix="chorus-shots-") as folder,
        demo_instance(Path(folder)) as app,
        served(app) as base_url,
        sync_playwright() as playwright,
    ):
        print(f"Demo loaded in {time.monotonic() - started:.0f} s; taking the pictures")
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            taken = capture(
                browser, base_url, lambda role: sign_in_link(app, role), Path(folder, "new")
            )
        finally:
            browser.close()
        # Only a complete set replaces the old one.
        args.out.mkdir(parents=True, exist_ok=True)
        for old in args.out.glob("*.webp"):
            old.unlink()
        written = [Path(shutil.move(picture, args.out / picture.name)) for picture in taken]
    if args.out == OUT:
        write_readme_grid()
    size = sum(path.stat().st_size for path in written)
    print(
        f"{len(written)} pictures, {size / 1e6:.1f} MB, in {args.out} "
        f"({time.monotonic() - started:.0f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
