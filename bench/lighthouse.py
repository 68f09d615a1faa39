"""Lighthouse's accessibility and best-practices scores of the pages people work through daily.

Runs Lighthouse 12 (`npx --yes lighthouse@12`: Lighthouse 13 needs Node 22) with Debian's
Chromium against a server already running with the demo data, logged in as a demo user (in
a Chromium profile logged in through the login page, see `browser_profile`), on the calendar
(month, week, agenda), the approval queue, the crisis list, a publication page, the editor,
coverage and activity (a central reviewer); the partner's home and proposal form
(`--email partner.fit@example.org`); the login page (`--email anonymous`); in each UI
language, mobile and desktop; prints a table
of scores. Never part of the test suite: it takes minutes.

    DATABASE_URL=sqlite:////tmp/demo.db DJANGO_DEBUG=1 python manage.py seed_demo --password demo-pass-2026
    DATABASE_URL=sqlite:////tmp/demo.db DJANGO_DEBUG=1 python manage.py runserver 127.0.0.1:8000 --noreload
    python bench/lighthouse.py --url http://127.0.0.1:8000 --password demo-pass-2026

A score under 100 lists the audits that failed, so that the figure can be acted on.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

CHROME_PATH = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
LIGHTHOUSE = ["npx", "--yes", "lighthouse@12"]
CATEGORIES = ("accessibility", "best-practices")
LANGUAGES = ("nl", "fr", "en")
FORM_FACTORS = ("mobile", "desktop")

#: Chromium as in the browser tests: headless, no sandbox (root in a container), and no
#: lookups of Google hosts, so that the run never leaves the machine.
CHROME_FLAGS = " ".join(
    [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--host-resolver-rules='MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1'",
    ]
)


@dataclass
class Session:
    """A logged-in demo user: the cookies a browser would send."""

    base_url: str
    jar: http.cookiejar.CookieJar = field(default_factory=http.cookiejar.CookieJar)
    #: Nobody logged in: the login page, in the language the browser asks for.
    anonymous: bool = False

    def __post_init__(self) -> None:
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str) -> str:
        with self.opener.open(self.base_url + path, timeout=60) as response:
            return response.read().decode()

    def post(self, path: str, data: dict[str, str]) -> str:
        data = {"csrfmiddlewaretoken": self.cookie("csrftoken"), **data}
        # The scheme is checked in log_in: http(s) only.
        request = urllib.request.Request(  # noqa: S310
            self.base_url + path,
            data=urllib.parse.urlencode(data).encode(),
            headers={"Referer": self.base_url + path},
        )
        with self.opener.open(request, timeout=60) as response:
            return response.read().decode()

    def cookie(self, name: str) -> str:
        for cookie in self.jar:
            if cookie.name == name:
                return cookie.value or ""
        return ""

    def header(self) -> str:
        return "; ".join(f"{cookie.name}={cookie.value}" for cookie in self.jar)


def log_in(base_url: str, email: str, password: str) -> Session:
    if not base_url.startswith(("http://", "https://")):
        sys.exit(f"--url must be an http(s) address, not {base_url}")
    session = Session(base_url.rstrip("/"))
    session.get("/accounts/login/")
    session.post("/accounts/login/", {"login": email, "password": password})
    if not session.cookie("sessionid"):
        sys.exit(f"Could not log in as {email} at {base_url}: is the demo loaded with that password?")
    return session


def choose_language(session: Session, language: str) -> None:
    """As the language switcher does: saved on the user and in the language cookie."""
    session.post("/i18n/setlang/", {"language": language, "next": "/"})


def pages(session: Session, email: str) -> dict[str, str]:
    """The pages measured for this user, with a publication the user may open."""
    if session.anonymous:
        return {"login": "/accounts/login/"}
    if email.startswith("partner."):
        return {"partner home": "/", "proposal form": "/proposals/new/"}
    agenda = session.get("/calendar/?view=agenda")
    found = re.search(r'href="(/publications/\d+/)"', agenda)
    chosen = {
        "calendar month": "/calendar/?view=month",
        "calendar week": "/calendar/?view=week",
        "calendar agenda": "/calendar/?view=agenda",
        "approvals": "/approvals/",
        "crisis": "/crisis/",
    }
    if found:
        chosen["publication"] = found.group(1)
    chosen["editor"] = "/publications/new/?post=be-cg-istanbul"
    chosen["coverage"] = "/network/coverage/"
    chosen["activity"] = "/network/activity/"
    return chosen


@dataclass
class Score:
    page: str
    language: str
    form_factor: str
    scores: dict[str, int | None]
    failed: dict[str, list[str]]


def browser_profile(base_url: str, email: str, password: str) -> str:
    """A Chromium profile logged in as `email`, "Remember me" ticked so that the session
    cookie is kept on disk. Lighthouse opens the pages with it: the requests a page makes
    as it loads (the editor's live preview and check, by HTMX) then carry the session as a
    browser's do, which a cookie passed in `--extra-headers` does not (they answered 401)."""
    from playwright.sync_api import sync_playwright

    directory = tempfile.mkdtemp(prefix="lighthouse-profile-")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            directory, executable_path=CHROME_PATH, headless=True
        )
        page = context.new_page()
        page.goto(base_url + "/accounts/login/")
        page.fill('input[name="login"]', email)
        page.fill('input[name="password"]', password)
        page.check('input[name="remember"]')
        with page.expect_navigation():
            page.press('input[name="password"]', "Enter")
        context.close()
    return directory


def run_lighthouse(url: str, profile: str | None, form_factor: str, language: str) -> dict:
    # The profile's cookies are read as Playwright's Chromium wrote them (basic password store).
    flags = f"{CHROME_FLAGS} --password-store=basic --use-mock-keychain --user-data-dir={profile}"
    command = [
        *LIGHTHOUSE,
        url,
        "--quiet",
        "--output=json",
        "--output-path=stdout",
        f"--only-categories={','.join(CATEGORIES)}",
        f"--chrome-flags={flags if profile else CHROME_FLAGS}",
        f"--extra-headers={json.dumps({'Accept-Language': language})}",
    ]
    if profile:
        command.append("--disable-storage-reset")
    if form_factor == "desktop":
        command.append("--preset=desktop")
    env = {**os.environ, "CHROME_PATH": CHROME_PATH}
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300, check=False)  # noqa: S603
    if result.returncode != 0 or not result.stdout.strip():
        raise RuntimeError(f"Lighthouse failed on {url}: {result.stderr[-2000:]}")
    return json.loads(result.stdout)


def score_of(report: dict, page: str, language: str, form_factor: str) -> Score:
    scores: dict[str, int | None] = {}
    failed: dict[str, list[str]] = {}
    for category in CATEGORIES:
        entry = report["categories"][category]
        scores[category] = None if entry["score"] is None else round(entry["score"] * 100)
        failed[category] = sorted(
            ref["id"]
            for ref in entry["auditRefs"]
            if ref.get("weight", 0) > 0 and (report["audits"][ref["id"]].get("score") or 0) < 1
        )
    return Score(page, language, form_factor, scores, failed)


def table(results: list[Score]) -> str:
    header = ["page", "language", "form", "accessibility", "best practices", "failed audits"]
    rows = [
        [
            r.page,
            r.language,
            r.form_factor,
            str(r.scores["accessibility"]),
            str(r.scores["best-practices"]),
            ", ".join(sorted({audit for audits in r.failed.values() for audit in audits})) or "-",
        ]
        for r in results
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [" | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]
    rule = "-+-".join("-" * width for width in widths)
    return "\n".join([" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)), rule, *lines])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the running demo server")
    parser.add_argument(
        "--email",
        default="central.reviewer@example.org",
        help="whose pages: a central reviewer's, a partner's (partner.fit@example.org), "
        "or 'anonymous' for the login page",
    )
    parser.add_argument("--password", default="demo-pass-2026")
    parser.add_argument("--languages", default=",".join(LANGUAGES))
    parser.add_argument("--forms", default=",".join(FORM_FACTORS), help="mobile, desktop or both")
    parser.add_argument("--pages", default="", help="a subset, comma-separated (e.g. 'approvals,crisis')")
    args = parser.parse_args()
    if not shutil.which("npx"):
        sys.exit("npx not found: Lighthouse needs Node 20 or later.")
    if not os.path.exists(CHROME_PATH):
        sys.exit(f"No Chromium at {CHROME_PATH}: set CHROME_PATH.")
    profile = None
    if args.email == "anonymous":
        session = Session(args.url.rstrip("/"), anonymous=True)
    else:
        session = log_in(args.url, args.email, args.password)
        profile = browser_profile(session.base_url, args.email, args.password)
    chosen = pages(session, args.email)
    if args.pages:
        wanted = {name.strip() for name in args.pages.split(",")}
        chosen = {name: path for name, path in chosen.items() if name in wanted}
    results: list[Score] = []
    for language in args.languages.split(","):
        if not session.anonymous:
            choose_language(session, language)
        for name, path in chosen.items():
            for form_factor in args.forms.split(","):
                report = run_lighthouse(session.base_url + path, profile, form_factor, language)
                landed = str(report.get("finalDisplayedUrl", ""))
                if "/accounts/login/" in landed and not path.startswith("/accounts/login/"):
                    sys.exit(f"{path} sent Lighthouse to the login page: the profile is not logged in.")
                result = score_of(report, name, language, form_factor)
                results.append(result)
                accessibility, practices = result.scores["accessibility"], result.scores["best-practices"]
                print(
                    f"{name:16} {language} {form_factor:8} a11y {accessibility}  best practices {practices}",
                    file=sys.stderr,
                    flush=True,
                )
    print(table(results))


if __name__ == "__main__":
    main()
