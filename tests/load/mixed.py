"""make load: a mixed workload from oha against the running `make run` stack, then a read-back of
every write it made.

Six oha processes run at once, one a lane, each for LOAD_SECONDS (default 60) and each capped in
queries per second, so the run is bounded in time and in requests and stops by itself:

  lane          clients  what
  get-customer  4        GET /customers/{id}: the demo's three customers and this run's PATCH set
  paydates      4        GET /paydates (day, state filter, range sorted by amount, a cursor's first
                         page, the seeds' prefix and zone spelling) and /loans/{id}/paydates
  create        4        POST /customers, each body a new person of this run (random lines of a
                         file; a line drawn twice is a 409 by contract)
  patch-name    2        PATCH {"name": ...}           on this run's PATCH set, all three lanes
  patch-email   2        PATCH {"email": ...}          on the same customers at once: different
  patch-city    2        PATCH {"address": {"city"}}   fields of one record, which must all land

Traffic goes to 127.0.0.1 only (the port is API_PORT; there is no host setting). Afterwards:

- every create answered 200 reads back through GET exactly as sent (no SSN, its last four), and
  the number of this run's customers in the table (a BatchGetItem of every id the file holds,
  straight from DynamoDB Local) is at least the number of 200s (no create lost) and at most that
  plus the creates answered 5xx or not at all (their outcome is unknown to a client);
- every customer of the PATCH set holds each lane's value where that lane had a 200 for it, its
  original value where it had none, and every field no lane touches as created: no lost update.

It prints throughput, p50 and p99 (over all requests, and per lane) and the count of each status,
and exits non-zero on a lost write, a function's 5xx, a request without an answer, or a status a
lane must not get. A 5xx is a function's unless make run's log (.local/api.log) shows that the
function answered every request of its operation, none with a 5xx: then it was made by the local
emulator on the way back, and is reported as such. That count assumes nothing else uses the
stack during the run (another client's metrics lines could cover for a request never answered).
"""
import concurrent.futures
import copy
import datetime
import json
import os
import random
import re
import sqlite3
import subprocess
import sys
import time
import zoneinfo

import boto3
import requests

PORT = int(os.environ.get("API_PORT", "9000"))
KEY = os.environ["DEV_API_KEY"]
OHA = os.environ["OHA"]
SECONDS = int(os.environ.get("LOAD_SECONDS", "60"))
OUT = os.environ.get("LOAD_DIR", ".local/load")
API_LOG = os.environ.get("API_LOG", ".local/api.log")
CREATE_LINES = 20_000
PATCH_SET = 40
ROOT = f"http://127.0.0.1:{PORT}"
BASE = ROOT + "/webhook/v1/json"
AUTH = {"Authorization": f"Bearer {KEY}"}
JSON = {**AUTH, "Content-Type": "application/json"}
DEMO_CUSTOMERS = [89043762, 89043763, 89043764]
DEMO_LOANS = [768943, 768944, 768945, 768946]

if not 10 <= SECONDS <= 600:
    sys.exit("LOAD_SECONDS must be 10 to 600")

RUN = int(time.time())
# This run's ids: RUN * 100,000 + n (under 2^53 until the year 2255); creates take n < 20,000,
# the PATCH set n = 90,000 + i, so no two runs and no two lanes share an id.
CREATE_BASE = RUN * 100_000
PATCH_BASE = CREATE_BASE + 90_000
rng = random.Random(RUN)
session = requests.Session()


def fail(msg):
    sys.exit(f"error: {msg}")


def ssn():
    """A valid SSN (area not 000, 666 or 9xx; group and serial not zero), as 9 digits."""
    area = rng.choice([a for a in range(1, 900) if a != 666])
    return f"{area:03d}{rng.randint(1, 99):02d}{rng.randint(1, 9999):04d}"


def person(gid, i, city="Austin"):
    """A person as the API stores it (so that GET gives back the very values sent)."""
    return {
        "giggleId": gid, "active": i % 5 != 0, "customerType": "person", "ssn": ssn(),
        "dob": (datetime.date(1950, 1, 1) + datetime.timedelta(days=rng.randint(0, 18_000))).isoformat(),
        "name": f"Load{i}", "surname": "Tester", "accessUserName": f"load{i}_tester",
        "email": f"load{i}.{RUN}@example.com",
        "address": {"street1": f"{i} Oak St.", "city": city, "state": "TX", "zip": "73301", "country": "USA"},
        "phone": {"number": f"512555{i % 10_000:04d}", "type": "mobile"},
    }


def age(dob, today):
    born = datetime.date.fromisoformat(dob)
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def expected_view(body):
    """What GET's customerData must be for a customer created with `body` (and never patched)."""
    view = {k: copy.deepcopy(v) for k, v in body.items() if k != "ssn"}
    view["ssnLast4"] = body["ssn"][-4:]
    view["city"] = body["address"]["city"]
    view["age"] = age(body["dob"], datetime.datetime.now(zoneinfo.ZoneInfo("America/Chicago")).date())
    return view


def get_customer(gid):
    r = session.get(f"{BASE}/customers/{gid}", headers=AUTH, timeout=30)
    return r.status_code, (r.json() if r.headers.get("content-type", "").startswith("application/json") else r.text)


# ---- the stack must be up, with the key and the demo --------------------------------------------
try:
    status, body = get_customer(DEMO_CUSTOMERS[0])
except requests.ConnectionError:
    fail(f"nothing answers on 127.0.0.1:{PORT}: start `make run` first (or set API_PORT to its port)")
if status == 401:
    fail("the API refused DEV_API_KEY: set it to the key `make run` registered")
if status != 200:
    fail(f"GET /customers/{DEMO_CUSTOMERS[0]} answered {status}: make load needs make run's demo data (DEMO=1)")

os.makedirs(OUT, exist_ok=True)
for f in os.listdir(OUT):
    os.remove(os.path.join(OUT, f))

# ---- this run's data -----------------------------------------------------------------------------
patch_set = {PATCH_BASE + i: person(PATCH_BASE + i, 90_000 + i) for i in range(PATCH_SET)}
for gid, body in patch_set.items():
    r = session.post(f"{BASE}/customers", headers=JSON, data=json.dumps(body), timeout=30)
    if r.status_code != 200:
        fail(f"creating the PATCH set: {r.status_code} {r.text}")

creates = {CREATE_BASE + i: person(CREATE_BASE + i, i) for i in range(CREATE_LINES)}
with open(f"{OUT}/create.jsonl", "w") as f:
    for body in creates.values():
        f.write(json.dumps(body) + "\n")

with open(f"{OUT}/get-customer.urls", "w") as f:
    for gid in DEMO_CUSTOMERS + list(patch_set):
        f.write(f"{BASE}/customers/{gid}\n")
with open(f"{OUT}/patch.urls", "w") as f:
    for gid in patch_set:
        f.write(f"{BASE}/customers/{gid}\n")

utc_today = datetime.datetime.now(datetime.timezone.utc).date()
start, end = (utc_today - datetime.timedelta(days=35)).isoformat(), (utc_today + datetime.timedelta(days=35)).isoformat()
paydate_urls = [
    f"{BASE}/paydates?date=today",
    f"{BASE}/paydates?date=today&state=open,partial",
    f"{BASE}/paydates?start_date={start}&end_date={end}&sort=amount&order=desc&limit=5",
    f"{BASE}/paydates?start_date={start}&end_date={end}&state=paid&state=partial&limit=2",
    f"{BASE}/paydates?start_date={start}&end_date={end}",
    f"{ROOT}/webhook/json/v1/json/paydates?date=today&timezone=America/NewYork",
] + [f"{BASE}/loans/{loan}/paydates" for loan in DEMO_LOANS] + [
    f"{BASE}/loans/{DEMO_LOANS[2]}/paydates?start_date={start}&end_date={end}",
]
first = session.get(f"{BASE}/paydates?start_date={start}&end_date={end}&limit=3", headers=AUTH, timeout=30)
cursor = first.json().get("metadata", {}).get("nextCursor") if first.status_code == 200 else None
if cursor:
    paydate_urls.append(f"{BASE}/paydates?start_date={start}&end_date={end}&limit=3&cursor={requests.utils.quote(cursor, safe='')}")
with open(f"{OUT}/paydates.urls", "w") as f:
    f.write("\n".join(paydate_urls) + "\n")

PATCH_VALUES = {
    "patch-name": ("name", f"Named{RUN}"),
    "patch-email": ("email", f"patched.{RUN}@example.com"),
    "patch-city": ("city", f"City{RUN}"),
}


def patch_body(lane):
    field, value = PATCH_VALUES[lane]
    return {"address": {"city": value}} if field == "city" else {field: value}


# name, clients, QPS cap, oha arguments, statuses the lane may get
LANES = [
    ("get-customer", 4, 400, ["--urls-from-file", f"{OUT}/get-customer.urls"], {200}),
    ("paydates", 4, 400, ["--urls-from-file", f"{OUT}/paydates.urls"], {200}),
    ("create", 4, 200, ["-m", "POST", "-T", "application/json", "-Z", f"{OUT}/create.jsonl", f"{BASE}/customers"], {200, 409}),
] + [
    (lane, 2, 100, ["-m", "PATCH", "-T", "application/json", "-d", json.dumps(patch_body(lane)),
                    "--urls-from-file", f"{OUT}/patch.urls"], {200})
    for lane in PATCH_VALUES
]
clients = sum(c for _, c, _, _, _ in LANES)
ceiling = sum(q for _, _, q, _, _ in LANES) * SECONDS
print(f"load: {len(LANES)} lanes, {clients} concurrent clients, {SECONDS} s, at most {ceiling:,} requests, "
      f"on 127.0.0.1:{PORT}")

# ---- the run -------------------------------------------------------------------------------------
procs = []
t0 = time.monotonic()
t0_wall = time.time()
for name, c, q, args, _ in LANES:
    # -w: at the deadline, requests in flight are waited for, so that every request sent has its
    # answer in the lane's database (url, status, duration of each).
    cmd = [OHA, "--no-tui", "-z", f"{SECONDS}s", "-w", "-c", str(c), "-q", str(q), "-t", "30s",
           "-H", f"Authorization: Bearer {KEY}", "--output-format", "json", "-o", f"{OUT}/{name}.json",
           "--db-url", f"{OUT}/{name}.db", *args]
    log = open(f"{OUT}/{name}.log", "w")
    procs.append((name, subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT), log))
for name, p, log in procs:
    try:
        p.wait(timeout=SECONDS + 60)
    except subprocess.TimeoutExpired:
        for _, other, _ in procs:
            other.kill()
        fail(f"oha's {name} lane did not stop {SECONDS + 60} s after it started")
    log.close()
    if p.returncode != 0:
        fail(f"oha's {name} lane exited {p.returncode}: see {OUT}/{name}.log")
wall = time.monotonic() - t0
t1_wall = time.time()

# ---- the figures ---------------------------------------------------------------------------------
problems = []


def pct(sorted_values, p):
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(p / 100 * len(sorted_values)))]


rows = {}
all_durations = []
all_statuses = {}
answered_200 = {}
server_errors = []
sent = {}


def operation(lane, url):
    """The function a lane's request went to (its metrics line's Operation)."""
    if lane.startswith("patch-"):
        return "UpdateCustomer"
    if lane != "paydates":
        return {"get-customer": "GetCustomer", "create": "CreateCustomer"}[lane]
    return "GetLoanPayDates" if "/loans/" in url else "ListPayDates"


for name, _, _, _, allowed in LANES:
    db = sqlite3.connect(f"{OUT}/{name}.db")
    records = db.execute("SELECT url, status, duration FROM oha").fetchall()
    server_errors += [(name, *r) for r in db.execute("SELECT url, status, start FROM oha WHERE status >= 500")]
    db.close()
    with open(f"{OUT}/{name}.json") as f:
        summary = json.load(f)
    errors = summary.get("errorDistribution", {})
    if len(records) != sum(summary.get("statusCodeDistribution", {}).values()):
        problems.append(f"{name}: oha counted {summary.get('statusCodeDistribution')} answers, its database "
                        f"holds {len(records)}")
    statuses = {}
    for url, status, _ in records:
        statuses[status] = statuses.get(status, 0) + 1
        all_statuses[status] = all_statuses.get(status, 0) + 1
        m = re.search(r"/customers/(\d+)$", url)
        if status == 200 and m:
            answered_200.setdefault(name, set()).add(int(m.group(1)))
    durations = sorted(d for _, _, d in records)
    all_durations.extend(durations)
    rows[name] = (len(records), durations, statuses, errors)
    for url, status, _ in records:
        sent[operation(name, url)] = sent.get(operation(name, url), 0) + 1
    for status, n in statuses.items():
        if status < 500 and status not in allowed:
            problems.append(f"{name}: {n} answers {status} (allowed: {sorted(allowed)})")
    for err, n in errors.items():
        problems.append(f"{name}: {n} requests failed without an answer: {err}")

all_durations.sort()
total = len(all_durations)
print()
print(f"{'lane':<14}{'requests':>10}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}  statuses")
for name, (n, durations, statuses, errors) in rows.items():
    st = ", ".join(f"{s}: {c}" for s, c in sorted(statuses.items()))
    if errors:
        st += ", errors: " + ", ".join(f"{e}: {c}" for e, c in errors.items())
    print(f"{name:<14}{n:>10,}{n / wall:>9.1f}{pct(durations, 50) * 1000:>9.1f}{pct(durations, 99) * 1000:>9.1f}  {st}")
print(f"{'all':<14}{total:>10,}{total / wall:>9.1f}{pct(all_durations, 50) * 1000:>9.1f}"
      f"{pct(all_durations, 99) * 1000:>9.1f}  " + ", ".join(f"{s}: {c}" for s, c in sorted(all_statuses.items())))
print(f"wall time {wall:.1f} s, {clients} concurrent clients")

# ---- whose 5xx: a function's, or the local emulator's --------------------------------------------
# Every request a function answers writes one metrics line (EMF) with its operation and status
# class; make run's output, those lines included, is in .local/api.log. A 5xx that oha saw while
# the function answered every request of its operation, and none with a 5xx, was made by
# `cargo lambda watch` on the way back (it answers 500 when it cannot pass a reply on): reported,
# not failed. Anything else is a failure.
logged, logged_5xx = {}, {}
try:
    with open(API_LOG) as f:
        for line in f:
            if not line.startswith('{"_aws"'):
                continue
            m = json.loads(line)
            if t0_wall <= m["_aws"]["Timestamp"] / 1000 <= t1_wall:
                logged[m["Operation"]] = logged.get(m["Operation"], 0) + 1
                if m["StatusClass"] == "5xx":
                    logged_5xx[m["Operation"]] = logged_5xx.get(m["Operation"], 0) + 1
    have_log = bool(logged)
except FileNotFoundError:
    have_log = False
for op, n in logged_5xx.items():
    problems.append(f"{op}: the function answered {n} requests with a 5xx (see {API_LOG})")
emulator_5xx = 0
for op in sorted({operation(lane, url) for lane, url, _, _ in server_errors}):
    n = sum(1 for lane, url, _, _ in server_errors if operation(lane, url) == op)
    if have_log and logged.get(op, 0) >= sent[op] and op not in logged_5xx:
        emulator_5xx += n
        print(f"NOTE {op}: {n} answers 5xx came from cargo lambda watch, not the function: it answered all "
              f"{sent[op]} requests sent ({logged.get(op, 0)} metrics lines), none with a 5xx")
    elif op not in logged_5xx:  # those are reported above
        why = (f"the function logged {logged.get(op, 0)} of {sent[op]} requests" if have_log
               else f"no {API_LOG} to tell whose they were (start the stack with `make run`)")
        problems.append(f"{op}: {n} answers 5xx ({why})")

# ---- no lost write: creates --------------------------------------------------------------------
created_200 = rows["create"][2].get(200, 0)
ddb = boto3.client("dynamodb", endpoint_url=os.environ["AWS_ENDPOINT_URL_DYNAMODB"],
                   region_name=os.environ.get("AWS_REGION", "us-east-1"))
table = os.environ.get("CUSTOMERS_TABLE", "customers")
stored = set()
ids = list(creates)
for i in range(0, len(ids), 100):
    keys = [{"giggleId": {"N": str(g)}} for g in ids[i:i + 100]]
    request = {table: {"Keys": keys, "ProjectionExpression": "giggleId", "ConsistentRead": True}}
    while request:
        out = ddb.batch_get_item(RequestItems=request)
        stored.update(int(item["giggleId"]["N"]) for item in out["Responses"].get(table, []))
        request = out.get("UnprocessedKeys") or None
# A create whose answer was a 5xx or never came (a timeout) may have landed all the same (its
# transaction reached DynamoDB; the answer did not come back in time): its outcome is unknown,
# so it may be stored or not. Fewer stored than answered 200 is a lost write.
unknown = sum(n for st, n in rows["create"][2].items() if st not in (200, 409)) + sum(rows["create"][3].values())
if len(stored) < created_200:
    problems.append(f"create: {created_200} answers 200 but only {len(stored)} of this run's customers are stored")
elif len(stored) > created_200 + unknown:
    problems.append(f"create: {len(stored)} of this run's customers are stored, more than the {created_200} answered "
                    f"200 and the {unknown} whose outcome the client could not know")


def check_created(gid):
    status, body = get_customer(gid)
    if status != 200:
        return f"create: {gid} is stored but GET answered {status}"
    want = expected_view(creates[gid])
    got = body.get("customerData")
    if got != want or body.get("loanData") != []:
        return f"create: {gid} reads back {got!r}, not {want!r}"
    return None


with concurrent.futures.ThreadPoolExecutor(8) as pool:
    create_problems = [p for p in pool.map(check_created, sorted(stored)) if p]
problems += create_problems[:10]
if len(create_problems) > 10:
    problems.append(f"create: {len(create_problems) - 10} more customers read back wrong")
print(f"creates: {created_200} answered 200" + (f", {unknown} without a known outcome (5xx, timeout)" if unknown else "")
      + f", {len(stored)} stored, "
      f"{len(stored) - len(create_problems)} read back exactly as sent")

# ---- no lost write: concurrent PATCHes of different fields of the same customers ---------------
exact = 0
for gid, original in patch_set.items():
    want = expected_view(original)
    allowed_alternatives = {}
    for lane, (field, value) in PATCH_VALUES.items():
        target = want["address"] if field == "city" else want
        if gid in answered_200.get(lane, set()):
            target[field] = value
        elif rows[lane][3] or any(s != 200 for s in rows[lane][2]):
            # The lane had requests without a 200: one of them may have landed.
            allowed_alternatives[field] = value
    status, body = get_customer(gid)
    got = body.get("customerData") if status == 200 else None
    if got is not None:
        for field, value in allowed_alternatives.items():
            have = got.get("address", {}).get("city") if field == "city" else got.get(field)
            if have == value:
                (want["address"] if field == "city" else want)[field] = value
    want["city"] = want["address"]["city"]
    if got != want:
        problems.append(f"patch: {gid} reads back {got!r}, not {want!r}")
    else:
        exact += 1
hit = {lane: len(answered_200.get(lane, set())) for lane in PATCH_VALUES}
print(f"patches: {exact} of {len(patch_set)} customers hold every lane's last write and nothing else "
      f"changed (customers each lane reached with a 200: " + ", ".join(f"{k} {v}" for k, v in hit.items()) + ")")

if problems:
    print()
    for p in problems:
        print(f"FAIL {p}")
    # Which request each 5xx was, to find in make run's log (every request the functions handle
    # logs "request handled" with its path and status, and an EMF line with its status class).
    started = datetime.datetime.now() - datetime.timedelta(seconds=time.monotonic() - t0)
    for _, url, status, at in server_errors[:20]:
        print(f"  {status} at {(started + datetime.timedelta(seconds=at)).strftime('%H:%M:%S.%f')[:-3]} "
              f"(local time): {url}")
    sys.exit(1)
print("load: no lost write, no 5xx from a function, no connection error"
      + (f" ({emulator_5xx} 5xx of the local emulator, see NOTE above)" if emulator_5xx else ""))
