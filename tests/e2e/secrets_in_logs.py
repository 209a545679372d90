"""The real function binaries under `cargo lambda watch`, run at RUST_LOG=trace (make test starts
them so): a create, a PATCH that sets `ssn` and `ein`, a GET and an Idempotency-Key replay, then
every line they printed is searched. No SSN (bare or dashed), no EIN and no API key may appear
in any of them, and every request's line names the key's id. Each request also wrote one metrics
line (CloudWatch EMF, README "Metrics"): it names the operation and status class, and no key id.

Environment: TASKSUITE_BASE_URL, TASKSUITE_API_KEY, TASKSUITE_LOG_FILE (the watch log).
"""
import hashlib
import json
import os
import sys
import time

import requests

BASE = os.environ["TASKSUITE_BASE_URL"].rstrip("/") + "/webhook/v1/json"
KEY = os.environ["TASKSUITE_API_KEY"]
LOG = os.environ["TASKSUITE_LOG_FILE"]
HEADERS = {"Content-Type": "application/json", "Authorization": f"Bearer {KEY}"}
GIGGLE_ID = 77000001
SSNS = ["219099999", "457555462"]
EINS = ["911144442", "942404110"]

failures = []


def check(name, condition, detail=""):
    print(f"{'PASS' if condition else 'FAIL'} {name}" + ("" if condition else f": {detail}"))
    if not condition:
        failures.append(name)


start = os.path.getsize(LOG)
body = {"giggleId": GIGGLE_ID, "active": True, "customerType": "person", "ssn": "219-09-9999",
        "ein": "91-1144442", "companyName": "Trace Co", "dob": "1980-05-05", "name": "Trace",
        "surname": "Test", "email": "trace@example.com"}
r = requests.post(BASE + "/customers", headers={**HEADERS, "Idempotency-Key": "trace-1"}, data=json.dumps(body))
check("create", r.status_code == 200, r.text)
r = requests.post(BASE + "/customers", headers={**HEADERS, "Idempotency-Key": "trace-1"}, data=json.dumps(body))
check("replay", r.status_code == 200 and r.headers.get("Idempotent-Replayed") == "true", r.text)
r = requests.patch(f"{BASE}/customers/{GIGGLE_ID}", headers=HEADERS,
                   data=json.dumps({"ssn": 457555462, "ein": "94-2404110"}))
check("patch ssn and ein", r.status_code == 200, r.text)
r = requests.get(f"{BASE}/customers/{GIGGLE_ID}", headers=HEADERS)
data = r.json().get("customerData", {})
check("get shows the last four digits only", data.get("ssnLast4") == "5462" and data.get("einLast4") == "4110"
      and "ssn" not in data and "ein" not in data, r.text)
time.sleep(1)  # let the watch process flush the functions' output

with open(LOG, encoding="utf-8", errors="replace") as f:
    f.seek(start)
    lines = f.read().splitlines()
check("the functions printed their lines", len(lines) >= 4, len(lines))
secrets = [KEY]
for digits in SSNS:
    secrets += [digits, f"{digits[:3]}-{digits[3:5]}-{digits[5:]}"]
for digits in EINS:
    secrets += [digits, f"{digits[:2]}-{digits[2:]}"]
for s in secrets:
    hit = next((line for line in lines if s in line), None)
    check(f"no line carries {'the API key' if s == KEY else s}", hit is None, hit)
key_id = hashlib.sha256(KEY.encode()).hexdigest()[:12]
handled = [line for line in lines if "request handled" in line]
check("every request's line names the key id", len(handled) >= 4 and all(key_id in line for line in handled),
      handled)
# The metrics lines: one a request (the create, the replay, the PATCH, the GET), not log lines.
emf = []
for line in lines:
    i = line.find('{"_aws"')
    if i >= 0:
        try:
            emf.append(json.loads(line[i:]))
        except ValueError:
            check("a metrics line is JSON", False, line)
got = [(m.get("Operation"), m.get("StatusClass")) for m in emf]
want = [("CreateCustomer", "2xx"), ("CreateCustomer", "2xx"), ("UpdateCustomer", "2xx"), ("GetCustomer", "2xx")]
check("one metrics line a request, naming the operation and status class", got == want, got)
check("the metrics lines carry a latency and the store retries",
      all(isinstance(m.get("Latency"), (int, float)) and m.get("StoreRetries") == 0 for m in emf), emf)
check("no metrics line carries the key id or an id", not any(key_id in json.dumps(m) or str(GIGGLE_ID) in json.dumps(m)
                                                              for m in emf), emf)
print(f"logs: {len(lines)} lines read, {len(failures)} failed")
sys.exit(1 if failures else 0)
