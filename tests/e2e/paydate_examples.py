"""The seeds' pay-date URLs (both prefixes), with the host swapped for the local one, against the
real binaries under `cargo lambda watch`, after `tasksuite-admin load-demo` has imported the demo
data (weekly pay dates around today). Run by make test; the last line is 'e2e: N passed, N failed'.
"""
import os
import sys

import requests

HOST = os.environ["TASKSUITE_BASE_URL"].rstrip("/")
KEY = os.environ["TASKSUITE_API_KEY"]
HEADERS = {"Content-Type": "application/json", "Authorization": f"Bearer {KEY}"}
LOAN = 768943
results = []


def check(name, condition, detail=""):
    results.append(bool(condition))
    print(f"{'PASS' if condition else 'FAIL'} {name}" + ("" if condition else f": {detail}"))


def get(path):
    return requests.request("GET", HOST + path, headers=HEADERS)


for prefix in ["/webhook/v1/json", "/webhook/json/v1/json"]:
    r = get(f"{prefix}/paydates?date=today&timezone=America/Chicago")
    body = r.json() if r.status_code == 200 else {}
    meta = body.get("metadata", {})
    check(f"{prefix}/paydates?date=today answers the demo's pay dates", r.status_code == 200 and meta.get("totalCount") == 4, r.text)
    check(f"{prefix}: counts add up", meta.get("numPaid", 0) + meta.get("numPartial", 0) + meta.get("numOpen", 0) == meta.get("totalCount"), r.text)
    # The demo's today (America/Chicago) has paid, partial and open pay dates: the filter must
    # keep the open and partial ones, and only them.
    r = get(f"{prefix}/paydates?date=today&timezone=America/Chicago&state=open&state=partial")
    states = [p["state"] for p in r.json().get("data", [])] if r.status_code == 200 else []
    check(f"{prefix}: state filter", sorted(set(states)) == ["open", "partial"] and r.json()["metadata"]["numPaid"] == 0, r.text)
    r = get(f"{prefix}/loans/{LOAN}/paydates?date=today&timezone=America/Chicago")
    check(f"{prefix}/loans/{{id}}/paydates?date=today is one object", r.status_code == 200 and r.json().get("loanId") == LOAN, r.text)

r = get(f"/webhook/v1/json/loans/{LOAN}/paydates")
check("one loan, no date: the batch shape", r.status_code == 200 and r.json()["metadata"]["totalCount"] == 9, r.text)
r = get("/webhook/v1/json/paydates?start_date=2000-01-01&end_date=2000-01-31&sort=amount&order=desc")
check("an empty range is an empty batch", r.status_code == 200 and r.json()["data"] == [], r.text)
r = get("/webhook/v1/json/paydates")
check("no date is 400", r.status_code == 400 and "'date'" in r.json()["description"], r.text)
r = get("/webhook/v1/json/paydates?date=2024-02-30")
check("an impossible date is 400", r.status_code == 400, r.text)
r = get(f"/webhook/v1/json/loans/{LOAN}/paydates?date=1999-01-01")
check("no pay date that day is the contract's 400", r.status_code == 400 and r.json()["description"] == f"LoanId {LOAN} has no pay date on 1999-01-01.", r.text)
r = get("/webhook/v1/json/loans/1/paydates")
check("unknown loan is the contract's 400", r.status_code == 400 and r.json()["description"] == "LoanId 1 not found.", r.text)
r = get("/webhook/v1/json/customers/89043762")
loans = r.json().get("loanData", []) if r.status_code == 200 else []
check("the customer lists its loans, newest first", [l["id"] for l in loans] == [768944, 768943], r.text)
r = requests.request("DELETE", HOST + "/webhook/v1/json/customers/89043762", headers=HEADERS)
check("a customer with loans is not deleted", r.status_code == 409 and r.json()["description"] == "Giggle ID 89043762 has 2 loans and cannot be deleted.", r.text)

passed, failed = results.count(True), results.count(False)
print(f"e2e: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
