#!/usr/bin/env python3
"""Browser tests of `etrust console` in real headless Chromium (Debian's chromium + chromium-driver,
driven by Selenium). Run by EndToEndTests/ConsoleBrowserTests.swift against a console it started
(token mode, loopback) on a home with 100,000+ events. Each check prints one line; any failure
exits 1. Screenshots of every page go to --shots.

  console-test.py --etrust BIN --home HOME --url URL --token-file F --serial S --ca CA --shots DIR
"""
import argparse, json, os, sqlite3, subprocess, sys, tempfile, time, urllib.error, urllib.parse, urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

failures = []


started = time.monotonic()


def check(ok, what):
    print(f"{time.monotonic() - started:6.1f}s " + ("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


def http(url, token=None, method="GET", data=None):
    """(status, body) of one request, without following redirects."""
    req = urllib.request.Request(url, method=method, data=data)
    if token is not None:
        req.add_header("Authorization", "Bearer " + token)
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(req, timeout=30) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def browser():
    o = webdriver.ChromeOptions()
    o.binary_location = "/usr/bin/chromium"
    for a in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1400,1000",
              "--no-first-run", "--disable-background-networking", "--disable-component-update"]:
        o.add_argument(a)
    o.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)


def etrust(args, *rest):
    r = subprocess.run([args.etrust] + list(rest) + ["--home", args.home], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"etrust {' '.join(rest)} failed: {r.stderr}")
    return r.stdout


def chart_points(driver, name):
    """{data-key: data-value} of the bars of the chart named `name`."""
    svgs = driver.find_elements(By.CSS_SELECTOR, f'svg[data-chart="{name}"]')
    if len(svgs) != 1:
        return None
    return {r.get_attribute("data-key"): int(r.get_attribute("data-value")) for r in svgs[0].find_elements(By.CSS_SELECTOR, "rect[data-key]")}


def check_charts(driver, report, where):
    """Every chart is one SVG whose data points equal `audit report --json`."""
    expected = {
        "issued-by-ca": report["issuedByCA"], "issued-by-profile": report["issuedByProfile"],
        "refusals-by-rule": report["refusalsByRule"], "revocations-by-reason": report["revocationsByReason"],
        "per-day": {f"{d}/{k}": v[k] for d, v in report["daily"].items() for k in ("issued", "refused", "revoked")},
        "crls-per-day": {d: v["crls"] for d, v in report["daily"].items()},
    }
    for name, want in expected.items():
        got = chart_points(driver, name)
        check(got == want, f"{where}: chart {name} is one SVG with the report's counts ({got} vs {want})")


def access_control(args, token):
    status, body = http(args.url)
    check(status == 401 and args.serial not in body and "issuing" not in body, f"no token: 401 and no data (got {status})")
    for path in ["/events", f"/certificate/{args.ca}/{args.serial}", f"/certificate/{args.ca}/{args.serial}.pem", "/cas", "/crls", "/verify.js"]:
        status, body = http(args.url.rstrip("/") + path, token="wrong-token-" + "x" * 20)
        check(status == 403 and body.strip() == "forbidden", f"wrong token on {path}: 403 and nothing else (got {status})")
    status, body = http(args.url.rstrip("/") + "/login", method="POST", data=b"token=not-the-token-at-all")
    check(status == 403 and body.strip() == "forbidden", f"wrong token in the login form: 403 (got {status})")
    status, _ = http(args.url.rstrip("/") + "/login", method="POST", data=("token=" + token).encode())
    check(status == 303, f"the right token in the login form: 303 to the overview (got {status})")
    status, _ = http(args.url.rstrip("/") + "/events", token=token, method="DELETE")
    check(status == 405, f"no write method: DELETE is 405 (got {status})")


def counts(db):
    c = sqlite3.connect(db)
    try:
        return (c.execute("SELECT count(*) FROM certificates").fetchone()[0],
                c.execute("SELECT count(*) FROM events WHERE type <> 'console'").fetchone()[0],
                c.execute("SELECT count(*) FROM cas").fetchone()[0])
    finally:
        c.close()


def attacks(args, token, db):
    before = counts(db)
    base = args.url.rstrip("/")
    for path in ["/../../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/certificate/..%2f..%2f..%2fetc%2fpasswd/1",
                 "/certificate/issuing/..%2F..%2Fetrust.db", "/verify.js/../../etrust.yaml", "/..%5c..%5cetc%5cpasswd"]:
        status, body = http(base + path, token=token)
        check(status in (400, 404) and "root:" not in body and "SQLite" not in body and "passphrase" not in body,
              f"path traversal {path}: {status}, nothing leaked")
    q = urllib.parse.quote
    for query, want in [("ca=" + q("issuing' OR '1'='1"), 0), ("profile=" + q("x' OR 1=1 --"), 0),
                        ("ca=" + q("issuing'; DROP TABLE events; --"), 0)]:
        status, body = http(base + "/events?" + query, token=token)
        rows = body.count('class="event"')
        check(status == 200 and rows == want, f"SQL injection in a filter ({query}): {status}, {rows} rows")
    for query in ["serial=" + q("1' OR 1=1 --"), "type=" + q("issue' UNION SELECT payload FROM events --"), "before=" + q("1 OR 1=1")]:
        status, body = http(base + "/events?" + query, token=token)
        check(status == 400 and body.count('class="event"') == 0, f"SQL injection refused as bad input ({query}): {status}")
    check(counts(db) == before, f"the attacks changed nothing in the database {counts(db)} == {before}")
    r = subprocess.run([args.etrust, "audit", "verify", "--home", args.home], capture_output=True, text=True)
    check("verifies" in r.stdout or "are not covered by any signed checkpoint" in r.stdout,
          f"the log's entries are intact after the attacks (the console's own visits wait for the next checkpoint): {r.stdout.strip()}")


def login(driver, args, token):
    driver.get(args.url)
    driver.save_screenshot(os.path.join(args.shots, "0-login.png"))
    driver.find_element(By.ID, "token").send_keys(token)
    driver.find_element(By.ID, "sign-in").click()
    WebDriverWait(driver, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, "svg[data-chart]"))


def overview(driver, args, report):
    check_charts(driver, report, "overview")
    v = driver.find_element(By.ID, "verification")
    check(v.get_attribute("data-verifies") == "true" and int(v.get_attribute("data-pending")) > 0,
          f"overview: the log verifies up to its newest checkpoint, the console's visits pending: {v.text}")
    driver.save_screenshot(os.path.join(args.shots, "1-overview.png"))


def events(driver, args, total):
    driver.get(args.url.rstrip("/") + "/events")
    rows = driver.find_elements(By.CSS_SELECTOR, "tr.event")
    first = [int(r.get_attribute("data-index")) for r in rows]
    check(len(first) == 50 and first == sorted(first, reverse=True), f"events: a first page of 50, newest first")
    driver.find_element(By.ID, "older").click()
    second = [int(r.get_attribute("data-index")) for r in driver.find_elements(By.CSS_SELECTOR, "tr.event")]
    check(len(second) == 50 and second[0] == first[-1] - 1, "events: the next page continues where the first ended (keyset)")
    driver.get(args.url.rstrip("/") + "/events")
    box = driver.find_element(By.ID, "filter-serial")
    box.send_keys(args.serial)
    started = time.monotonic()
    driver.find_element(By.ID, "apply").click()
    WebDriverWait(driver, 10, poll_frequency=0.01).until(lambda d: "serial=" in d.current_url and d.find_elements(By.ID, "query-time"))
    elapsed = time.monotonic() - started
    found = [r.get_attribute("data-serial") for r in driver.find_elements(By.CSS_SELECTOR, "tr.event")]
    check(total >= 100_000 and found and all(s == args.serial for s in found) and elapsed < 1.0,
          f"events: the filter finds serial {args.serial} among {total} events in {elapsed * 1000:.0f} ms ({len(found)} event(s))")
    driver.save_screenshot(os.path.join(args.shots, "2-events-filtered.png"))


def proof_result(driver):
    WebDriverWait(driver, 30).until(lambda d: d.find_element(By.ID, "proof-result").get_attribute("data-done") == "true")
    return driver.find_element(By.ID, "proof-result").text


def certificate(driver, args, db):
    page = args.url.rstrip("/") + f"/certificate/{args.ca}/{args.serial}"
    driver.get(page)
    check(driver.find_element(By.ID, "field-serial").text == args.serial, "certificate: the decoded serial is the page's")
    check("not pinned" in proof_result(driver) or "no audit key pinned" in proof_result(driver),
          "certificate: without a pinned key the browser does not claim a verified proof")
    vkey = open(os.path.join(args.home, "pub/audit/audit.vkey")).read().strip()   # the key the auditor keeps
    driver.find_element(By.ID, "audit-key").send_keys(vkey)
    driver.find_element(By.ID, "pin-key").click()
    WebDriverWait(driver, 30).until(lambda d: d.find_element(By.ID, "pinned-key").text == vkey)
    result = proof_result(driver)
    check(result.startswith("proof verified"), f"certificate: the browser verified the proof and the signature: {result}")
    driver.save_screenshot(os.path.join(args.shots, "3-certificate-verified.png"))
    driver.refresh()
    check(proof_result(driver).startswith("proof verified"), "certificate: the pinned key survives a reload (localStorage)")
    # Tamper with the issuance row in the database: the same page now fails in the browser.
    c = sqlite3.connect(db)
    old = c.execute("SELECT payload FROM events WHERE type = 'issue' AND serial = ?", (args.serial,)).fetchone()[0]
    c.execute("UPDATE events SET payload = ? WHERE type = 'issue' AND serial = ?", (old.replace('"requester":"', '"requester":"x'), args.serial))
    c.commit()
    driver.get(page)
    result = proof_result(driver)
    check(result.startswith("proof NOT verified"), f"certificate: after tampering the browser says so: {result}")
    driver.save_screenshot(os.path.join(args.shots, "4-certificate-tampered.png"))
    c.execute("UPDATE events SET payload = ? WHERE type = 'issue' AND serial = ?", (old, args.serial))
    c.commit()
    c.close()
    driver.get(page)
    check(proof_result(driver).startswith("proof verified"), "certificate: restored, verified again")
    status, body = http(page + ".pem", token=args.token)
    check(status == 200 and body.startswith("-----BEGIN CERTIFICATE-----"), "certificate: PEM download")


def other_pages(driver, args):
    driver.get(args.url.rstrip("/") + "/cas")
    check(len(driver.find_elements(By.CSS_SELECTOR, "#tree svg")) == 1 and "root" in driver.find_element(By.ID, "ca-table").text,
          "CAs: the table and the tree (SVG)")
    driver.save_screenshot(os.path.join(args.shots, "5-cas.png"))
    driver.get(args.url.rstrip("/") + "/crls")
    check("issuing" in driver.find_element(By.ID, "crl-table").text, "CRLs: the newest CRL of the issuing CA")
    driver.save_screenshot(os.path.join(args.shots, "6-crls.png"))


def report_offline(driver, args, report):
    """The HTML report opens in Chromium with no network request, and its numbers are the JSON's."""
    out = os.path.join(tempfile.mkdtemp(prefix="etrust-report-"), "report.html")
    etrust(args, "audit", "report", "--format", "html", "--out", out)
    driver.get_log("performance")   # drop what came before
    driver.get("file://" + out)
    urls = set()
    for entry in driver.get_log("performance"):
        m = json.loads(entry["message"])["message"]
        if m["method"] == "Network.requestWillBeSent":
            urls.add(m["params"]["request"]["url"])
    check(urls == {"file://" + out}, f"report: no network request when opened ({sorted(urls)})")
    check_charts(driver, report, "report")
    driver.save_screenshot(os.path.join(args.shots, "7-report.png"))


def main():
    p = argparse.ArgumentParser()
    for a in ["etrust", "home", "url", "token-file", "serial", "ca", "shots"]:
        p.add_argument("--" + a, required=True)
    args = p.parse_args()
    args.token = open(args.token_file).read().strip()
    os.makedirs(args.shots, exist_ok=True)
    db = os.path.join(args.home, "etrust.db")
    report = json.loads(etrust(args, "audit", "report", "--json"))
    access_control(args, args.token)
    driver = browser()
    try:
        login(driver, args, args.token)
        overview(driver, args, report)
        events(driver, args, sqlite3.connect(db).execute("SELECT count(*) FROM events").fetchone()[0])
        certificate(driver, args, db)
        other_pages(driver, args)
        report_offline(driver, args, report)
    finally:
        driver.quit()
    attacks(args, args.token, db)
    print(f"{len(failures)} failed" if failures else "all console browser checks passed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
