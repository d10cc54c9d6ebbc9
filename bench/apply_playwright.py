"""The apply benchmark's peer: the original's flow (ORIGINAL.md, "Login and apply") written the
way the original did it, with Playwright for Python, against the same fake MCF website and the
same Chromium binary as `mcfapply` (Playwright's own browser downloads cannot be fetched here,
so `executable_path` names Debian's).

Per job: the home page, then the job's page; `button#job-details-apply-button` (5 tries of 5 s);
the resume card whose `a.resume-link` holds the CV version, its radio, the save button; the
review's submit button (a dry run stops there). No record is written: this is the browser work
only, which is what the comparison is about.

    python apply_playwright.py --site URL --chromium PATH --jobs FILE [--submit]

FILE is a JSON list of {"uuid", "url", "cv_version"}. Prints one JSON object: the browser's
start-up seconds, and per job its outcome and seconds.
"""

import argparse
import json
import sys
import time
from urllib.parse import urlparse

from playwright.sync_api import sync_playwright


def on_site(url, site):
    parts = urlparse(url)
    path = parts.path + ("?" + parts.query if parts.query else "")
    return site.rstrip("/") + path


def apply_one(page, site, job, submit):
    if not job.get("uuid") or not job.get("url") or not job.get("cv_version"):
        return "91_invalid_input"
    try:
        page.goto(site.rstrip("/") + "/", wait_until="load")
        response = page.goto(on_site(job["url"], site), wait_until="load")
        if response is None or response.status >= 400:
            return "05_post_unavailable"
    except Exception:
        return "05_post_unavailable"
    if "/login" in page.url:
        return "09_session_expired"
    clicked = False
    for _ in range(5):
        button = page.locator("button#job-details-apply-button")
        try:
            button.wait_for(timeout=5000)
        except Exception:
            continue
        if button.is_enabled():
            button.click()
            page.wait_for_load_state("load")
            clicked = True
            break
        text = (page.locator('p[data-testid="job-apply-error"]').text_content() or "").lower()
        if "already" in text or "applied" in text:
            return "01_applied"
        if "closed" in text or "no longer" in text:
            return "07_post_closed"
        time.sleep(5)
    if not clicked:
        return "04_unable_to_apply"
    try:
        cards = page.locator('div[data-testid="resume-card"]')
        cards.first.wait_for(timeout=5000)
        chosen = None
        for i in range(cards.count()):
            link = cards.nth(i).locator("a.resume-link").text_content() or ""
            if job["cv_version"].lower() in link.lower():
                chosen = cards.nth(i)
                break
        if chosen is None:
            return "06_cv_not_found"
        chosen.locator('input[type="radio"]').click()
        page.locator("button#application-details-save-button").click()
        page.wait_for_load_state("load")
    except Exception:
        return "03_cv_selector_error"
    try:
        submit_button = page.locator("button#job-application-review__submit-button")
        submit_button.wait_for(timeout=5000)
    except Exception:
        return "02_questionnaire"
    if not submit:
        return "dry_run_ok"
    submit_button.click()
    page.wait_for_load_state("load")
    return "01_applied"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--site", required=True)
    ap.add_argument("--chromium", required=True)
    ap.add_argument("--jobs", required=True)
    ap.add_argument("--cookie", default="MCF_SESSION=fixture-session")
    ap.add_argument("--submit", action="store_true")
    args = ap.parse_args()
    jobs = json.load(open(args.jobs))
    name, _, value = args.cookie.partition("=")
    host = urlparse(args.site).hostname
    out = {"jobs": []}
    started = time.perf_counter()
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=args.chromium,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        context = browser.new_context(viewport={"width": 1280, "height": 1600})
        context.add_cookies([{"name": name, "value": value, "domain": host, "path": "/"}])
        page = context.new_page()
        out["startup_seconds"] = time.perf_counter() - started
        for job in jobs:
            t = time.perf_counter()
            outcome = apply_one(page, args.site, job, args.submit)
            out["jobs"].append({"uuid": job.get("uuid"), "outcome": outcome, "seconds": time.perf_counter() - t})
        browser.close()
    out["seconds"] = time.perf_counter() - started
    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    main()
