#!/usr/bin/env python3
"""The peer of mcfparse in `cargo xtask bench runtime`: MCF documents parsed the way the
original Python pipeline did it, with `json.loads` and BeautifulSoup.

It reads the documents `mcfbench prepare` wrote (manifest.json + one file per document) and
pulls the same fields mcfparse puts into a post: for API JSON (search items, job details) the
uuid, title, employer, salary, lists, dates, location and the description HTML as text; for a
rendered job page the schema.org JSON-LD block, the canonical URL's uuid, the
`data-testid="job-details-info-*"` fields and the skills, with BeautifulSoup.

    parse_python.py --docs DIR [--seconds 1.0] [--runs 5] [--parser lxml|html.parser]
    parse_python.py --docs DIR --check                      # uuid/title/company per document

`--parser` is BeautifulSoup's tree builder: `lxml` (libxml2, C; the default when lxml is
importable) or `html.parser` (Python's own, what `BeautifulSoup(html)` uses without lxml).
The benchmark measures both.

The timing protocol is mcfbench's: every document once (check and warm-up), then per run and
kind, passes over that kind's documents until the time budget has elapsed.
"""

import argparse
import json
import re
import sys
import time

import bs4
from bs4 import BeautifulSoup

try:
    import lxml  # noqa: F401  (only to know whether BeautifulSoup can use it)

    PARSER = "lxml"
except ImportError:
    PARSER = "html.parser"
PARSERS = ["lxml", "html.parser"]

KINDS = ["search_item", "job_detail", "job_page"]
UUID_IN_URL = re.compile(r"([0-9a-f]{32})(?:[/?#]|$)")
MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]


def collapse(text):
    return " ".join(text.split())


def html_text(html):
    """Description HTML -> text, one block per line."""
    if not html:
        return None
    text = BeautifulSoup(html, PARSER).get_text("\n", strip=True)
    return text or None


def names(job, key, inner):
    out = []
    for item in job.get(key) or []:
        name = item.get(inner) if isinstance(item, dict) else None
        if isinstance(name, str) and name.strip():
            out.append(collapse(name))
    return out


def day(value):
    return value[:10] if isinstance(value, str) and value else None


def parse_api(raw):
    job = json.loads(raw)
    meta = job.get("metadata") or {}
    hidden = bool(meta.get("isHideHiringEmployerName"))
    posted = job.get("postedCompany") or {}
    hiring = job.get("hiringCompany") or {}
    if hiring.get("name") and not hidden:
        company, uen = hiring["name"], hiring.get("uen")
        posted_by = posted.get("name") if posted.get("name") != hiring["name"] else None
    else:
        company, uen, posted_by = posted.get("name"), posted.get("uen"), None
    if not company:
        raise ValueError("no company")
    salary = job.get("salary") or {}
    districts, regions = [], []
    for district in (job.get("address") or {}).get("districts") or []:
        if district.get("location"):
            districts.append(collapse(district["location"]))
        region = district.get("region")
        if region and collapse(region) not in regions:
            regions.append(collapse(region))
    status = job.get("status") or {}
    return {
        "uuid": job["uuid"].lower(),
        "job_post_id": meta.get("jobPostId"),
        "title": collapse(job["title"]),
        "company_name": collapse(company),
        "company_uen": uen,
        "posted_by_name": posted_by,
        "salary_min": salary.get("minimum"),
        "salary_max": salary.get("maximum"),
        "salary_type": (salary.get("type") or {}).get("salaryType"),
        "hide_salary": meta.get("isHideSalary"),
        "employment_types": names(job, "employmentTypes", "employmentType"),
        "position_levels": names(job, "positionLevels", "position"),
        "categories": names(job, "categories", "category"),
        "skills": names(job, "skills", "skill"),
        "min_years_experience": job.get("minimumYearsExperience"),
        "vacancies": job.get("numberOfVacancies"),
        "posted_date": day(meta.get("newPostingDate")),
        "original_posted_date": day(meta.get("originalPostingDate")),
        "expiry_date": day(meta.get("expiryDate")),
        "updated_at": meta.get("updatedAt"),
        "applications": meta.get("totalNumberJobApplication"),
        "views": meta.get("totalNumberOfView"),
        "districts": districts,
        "regions": regions,
        "description": html_text(job.get("description")),
        "url": meta.get("jobDetailsUrl"),
        "status": status.get("jobStatus"),
        "status_code": status.get("id"),
    }


def job_posting(soup):
    for script in soup.find_all("script", type="application/ld+json"):
        try:
            value = json.loads(script.get_text())
        except ValueError:
            continue
        stack = [value]
        while stack:
            item = stack.pop(0)
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                kind = item.get("@type")
                if kind == "JobPosting" or (isinstance(kind, list) and "JobPosting" in kind):
                    return item
                if "@graph" in item:
                    stack.append(item["@graph"])
    return {}


def testid(soup, name):
    element = soup.find(attrs={"data-testid": name})
    if element is None:
        return None
    return collapse(element.get_text()) or None


def testid_list(soup, name):
    text = testid(soup, name)
    return [collapse(part.rstrip(".")) for part in text.split(",")] if text else []


def testid_number(soup, name):
    text = testid(soup, name)
    match = re.search(r"\d[\d,]*", text or "")
    return int(match.group().replace(",", "")) if match else None


def page_date(text):
    words = (text or "").split()
    for d, m, y in zip(words, words[1:], words[2:]):
        if d.isdigit() and m[:3].lower() in MONTHS and y.rstrip(",.").isdigit():
            return "%04d-%02d-%02d" % (int(y.rstrip(",.")), MONTHS.index(m[:3].lower()) + 1, int(d))
    return None


def parse_page(raw):
    soup = BeautifulSoup(raw, PARSER)
    ld = job_posting(soup)
    title = collapse(ld.get("title") or "") or testid(soup, "job-details-info-job-title")
    company = collapse((ld.get("hiringOrganization") or {}).get("name") or "")
    if not company:
        info = soup.find(attrs={"data-cy": "JobDetails__job-info"}) or soup
        hire = info.find(attrs={"data-testid": "company-hire-info"})
        company = collapse(hire.get_text()) if hire else None
    url = None
    canonical = soup.find("link", rel="canonical")
    og = soup.find("meta", property="og:url")
    for candidate in (canonical and canonical.get("href"), og and og.get("content")):
        if candidate and UUID_IN_URL.search(candidate.strip()):
            url = candidate.strip()
            break
    if not (title and company and url):
        raise ValueError("job page without title, company or job URL")
    salary = (ld.get("baseSalary") or {}).get("value") or {}
    skills = ld.get("skills")
    if isinstance(skills, str):
        skills = [collapse(s) for s in skills.split(",")]
    if not skills:
        skills = [collapse(label.get_text()) for label in soup.select("#skills-needed label")]
    description = html_text(ld.get("description"))
    if description is None:
        element = soup.find(id="description-content")
        description = element.get_text("\n", strip=True) if element else None
    return {
        "uuid": UUID_IN_URL.search(url).group(1),
        "job_post_id": testid(soup, "job-details-info-job-post-id"),
        "title": title,
        "company_name": company,
        "salary_min": salary.get("minValue"),
        "salary_max": salary.get("maxValue"),
        "salary_type": salary.get("unitText"),
        "employment_types": testid_list(soup, "job-details-info-employment-type"),
        "position_levels": testid_list(soup, "job-details-info-seniority"),
        "categories": testid_list(soup, "job-details-info-job-categories"),
        "skills": skills,
        "min_years_experience": testid_number(soup, "job-details-info-min-experience"),
        "posted_date": day(ld.get("datePosted")) or page_date(testid(soup, "job-details-info-last-posted-date")),
        "expiry_date": day(ld.get("validThrough")) or page_date(testid(soup, "job-details-info-job-expiry-date")),
        "applications": testid_number(soup, "job-details-info-num-of-applications"),
        "regions": testid_list(soup, "job-details-info-location-span"),
        "description": description,
        "url": url,
    }


def parse(kind, raw):
    return parse_page(raw.decode("utf-8", "replace")) if kind == "job_page" else parse_api(raw)


def load(folder):
    with open(f"{folder}/manifest.json") as f:
        manifest = json.load(f)
    docs = []
    for entry in manifest:
        with open(f"{folder}/{entry['file']}", "rb") as f:
            docs.append((entry, f.read()))
    return docs


def throughput(docs, budget, runs):
    for entry, raw in docs:
        parse(entry["kind"], raw)
    by_kind = {kind: [raw for entry, raw in docs if entry["kind"] == kind] for kind in KINDS}
    report = {
        "implementation": f"Python {sys.version.split()[0]}, json + BeautifulSoup {bs4.__version__} ({PARSER})",
        "set": {kind: len(by_kind[kind]) for kind in KINDS},
        "runs": [],
    }
    for _ in range(runs):
        run = {}
        for kind in KINDS:
            documents = by_kind[kind]
            if not documents:
                continue
            started = time.perf_counter()
            parsed = 0
            while True:
                for raw in documents:
                    parse(kind, raw)
                    parsed += 1
                if time.perf_counter() - started >= budget:
                    break
            run[kind] = {"docs": parsed, "seconds": time.perf_counter() - started}
        report["runs"].append(run)
    return report


def main():
    global PARSER
    args = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    args.add_argument("--docs", required=True, help="the folder `mcfbench prepare` wrote")
    args.add_argument("--seconds", type=float, default=1.0, help="time budget per kind and run")
    args.add_argument("--runs", type=int, default=5)
    args.add_argument("--check", action="store_true", help="print uuid, title and company per document")
    args.add_argument("--parser", choices=PARSERS, default=PARSER, help="BeautifulSoup's tree builder")
    opts = args.parse_args()
    PARSER = opts.parser
    docs = load(opts.docs)
    if opts.check:
        for entry, raw in docs:
            post = parse(entry["kind"], raw)
            fields = {k: post[k] for k in ("uuid", "title", "company_name")}
            print(json.dumps({"file": entry["file"], **fields}))
    else:
        print(json.dumps(throughput(docs, opts.seconds, opts.runs)))


if __name__ == "__main__":
    main()
