"""schemathesis hooks for `make test`: valid data for the positive cases, and two filters.

**Valid data.** JSON Schema cannot say everything the contract requires of a valid request: that
an id exists, that a date of birth is not in the future, which pay-date parameters go together,
that a cursor was signed by the API. Left alone, schemathesis mostly tests the API's 400s. So,
for every case schemathesis sends as *valid* (positive mode, and the schema's examples; negative
cases are never touched), `before_call` below turns it, just before it is sent (so in every phase,
and again on every re-send), into a request the contract must answer with a 2xx:

- customer ids that exist: GET and PATCH address the demo's customers (`admin load-demo`,
  shared/src/demo.rs: 89043762, 89043763, 89043764); DELETE addresses a customer without loans
  that the hook creates for it just before (POST, through the API, with TASKSUITE_BASE_URL and
  TASKSUITE_API_KEY);
- a create gets a `giggleId` of its own (a fresh one per request: a taken id is 409 by contract);
- a `dob` after today (America/Chicago) is moved into the past; an integer `ssn` whose group is
  `00` (refused; the schema cannot say it of an integer) gets a valid one;
- a PATCH body is made valid on the merged record whatever the stored record holds: `giggleId`,
  if sent, is the path's; a `customerType` sent (or implied by removing `ssn`, `ein` or
  `companyName`) comes with what that type requires; an `address` or `phone` sent is made
  complete, with a USPS state and a US ZIP code for `USA`;
- `If-Match`, when sent, is `*` (a made-up tag does not match: 412 by contract); an
  `Idempotency-Key`, when sent, is made unique to the case (a key reused with another body is
  422 by contract);
- pay dates: a loan of the demo (768943 to 768946); exactly one date form: `date` (for one loan's
  single pay date, one of the demo's weekly dates, or `today` in Chicago), `date=today` with a
  known `timezone`, or `start_date` <= `end_date` at most 366 days apart; a made-up `cursor` is
  dropped (it is not signed: 400 by contract; paging with real cursors is tested by
  tests/e2e/python_client.py and the Rust suite); on one loan's single-date form, the filters
  it refuses (`state`, `sort`, `order`, `limit`) are dropped.

The demo's pay dates are weekly around the day `admin load-demo` ran (today in Chicago): a run
that crosses midnight in Chicago would see `date=today` miss them.

**Two filters, and why.** schemathesis sometimes sends a body of random bytes that are not UTF-8
with `Content-Type: application/json`. The local emulator (cargo lambda watch) cannot put such a
body into a Lambda event and answers 500 itself, before any function of ours runs
(cargo-lambda-watch, trigger_router.rs: String::from_utf8 on text bodies). That is not the API's
answer, so those bodies are left out here; what our functions answer to bytes that are not UTF-8
(400, "not valid JSON") is tested in tests/tests/api/create.rs. Every other body, valid or not,
is sent.

The same holds for header values: a value with bytes outside ASCII (schemathesis writes such
characters as Latin-1 bytes, which are not UTF-8) makes the emulator answer 500 itself. Such
headers are left out too; our answer to them (400 for an `Idempotency-Key` that is not printable
ASCII) is tested in shared/src/idempotency.rs.
"""
import datetime
import itertools
import os
import random
import re
import time
import zoneinfo

import requests
import schemathesis
from schemathesis import GenerationMode

# The demo's records (shared/src/demo.rs), loaded by `admin load-demo` before schemathesis runs.
DEMO_CUSTOMERS = [89043762, 89043763, 89043764]
DEMO_LOANS = [768943, 768944, 768945, 768946]
CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
TODAY = datetime.datetime.now(CHICAGO).date()
# The demo's weekly pay dates: four weeks back to four weeks ahead of the day it was loaded.
DEMO_PAY_DAYS = [TODAY + datetime.timedelta(days=7 * w) for w in range(-4, 5)]
# Known zones, among them the seeds' own spellings (matched leniently by the API).
ZONES = ["America/Chicago", "America/NewYork", "America/LosAngeles", "america/denver", "UTC",
         "Europe/Paris", "Asia/Tokyo", "Pacific/Kiritimati", "Pacific/Pago_Pago"]
# Spellings of Chicago: with `date=today` on one loan, the day must be the demo's day.
CHICAGO_SPELLINGS = ["America/Chicago", "america/chicago", "AMERICA/CHICAGO", " America/Chicago "]
# Valid values the hooks put in (the demo's own SSN and EIN: tests/e2e/scan_tables.py looks for
# them in the tables).
VALID_SSN = "234-56-7890"
VALID_EIN = "12-3456789"
US_ADDRESS = {"street1": "1 Main St.", "city": "Austin", "state": "TX", "zip": "73301", "country": "USA"}

# Everything random here is seeded: with schemathesis's fixed seed a run makes the same requests
# (but the ids, unique to the run so that a run against a long-lived `make run` stack works).
RNG = random.Random(20261124)
RUN_BASE = 10**15 + (time.time_ns() // 10**6) % 10**9 * 10**4
_ids = itertools.count(RUN_BASE)
_keys = itertools.count(1)
# The stack and key the hooks create DELETE's customers with (make test sets them).
BASE_URL = os.environ["TASKSUITE_BASE_URL"].rstrip("/")
API_KEY = os.environ["TASKSUITE_API_KEY"]


def _op(case):
    return case.operation.definition.raw.get("operationId", "")


def _positive(case):
    # Cases without metadata are the schema's own examples, valid by construction.
    meta = case.meta
    return meta is None or meta.generation.mode == GenerationMode.POSITIVE


def _fresh_id():
    return next(_ids)


def _parse_day(value):
    try:
        return datetime.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _fix_dob(body):
    dob = _parse_day(body.get("dob"))
    if dob is not None and dob > TODAY:
        body["dob"] = dob.replace(year=1990, day=min(dob.day, 28)).isoformat()


def _fix_ssn(body):
    # A JSON number: an integer, or a whole number written with a fraction (`3005283.0`).
    ssn = body.get("ssn")
    if isinstance(ssn, (int, float)) and not isinstance(ssn, bool) and (int(ssn) // 10000) % 100 == 0:
        body["ssn"] = VALID_SSN


def _complete_address(address):
    for k, v in US_ADDRESS.items():
        address.setdefault(k, v)
    if re.fullmatch(r"[Uu][Ss][Aa]", address["country"]):
        if not re.fullmatch(r"(?i)A[AEKLPRSZ]|C[AOT]|D[CE]|F[LM]|G[AU]|HI|I[ADLN]|K[SY]|LA|"
                            r"M[ADEHINOPST]|N[CDEHJMVY]|O[HKR]|P[ARW]|RI|S[CD]|T[NX]|UT|V[AIT]|W[AIVY]",
                            address["state"]):
            address["state"] = "TX"
        if not re.fullmatch(r"[0-9]{5}(?:-[0-9]{4})?", address["zip"]):
            address["zip"] = "73301"


def _fix_create(case):
    body = case.body
    if not isinstance(body, dict):
        return
    body["giggleId"] = _fresh_id()
    _fix_dob(body)
    _fix_ssn(body)


def _fix_patch(case, giggle_id):
    body = case.body
    if not isinstance(body, dict):
        return
    if "giggleId" in body:
        body["giggleId"] = giggle_id
    _fix_dob(body)
    _fix_ssn(body)
    # The type the merged record will have, when the body decides it.
    kind = body.get("customerType")
    if kind is None:
        if "ssn" in body and body["ssn"] is None:
            kind = "company"
        elif any(k in body and body[k] is None for k in ("ein", "companyName")):
            kind = "person"
        if kind is not None:
            body["customerType"] = kind
    if kind == "person" and body.get("ssn") is None:
        body["ssn"] = VALID_SSN
    if kind == "company":
        if body.get("ein") is None:
            body["ein"] = VALID_EIN
        if body.get("companyName") is None:
            body["companyName"] = "Lone Star Freight LLC"
    if isinstance(body.get("address"), dict):
        _complete_address(body["address"])
    if isinstance(body.get("phone"), dict):
        body["phone"].setdefault("number", "512-555-0100")
        body["phone"].setdefault("type", "office")


def _unique_key(case):
    if "Idempotency-Key" in (case.headers or {}):
        case.headers["Idempotency-Key"] = f"st-{RUN_BASE}-{next(_keys)}"


def _if_match_star(case):
    if "If-Match" in (case.headers or {}):
        case.headers["If-Match"] = "*"


def _customer_to_delete():
    """A customer without loans, created for the purpose through the API (the suite's own key
    and base URL, from make test): each DELETE sent gets one of its own, so a request sent again
    (schemathesis re-sends some, e.g. for `ignored_auth`) never finds it already gone."""
    giggle_id = _fresh_id()
    body = {"giggleId": giggle_id, "active": True, "customerType": "person", "ssn": VALID_SSN,
            "dob": "1990-01-01", "name": "Del", "surname": "Etable", "email": "del@example.com"}
    r = requests.post(f"{BASE_URL}/webhook/v1/json/customers", json=body, timeout=30,
                      headers={"Authorization": f"Bearer {API_KEY}"})
    assert r.status_code == 200, (r.status_code, r.text)
    return giggle_id


def _fix_pay_date_query(case, loan_single):
    q = dict(case.query or {})
    q.pop("cursor", None)
    has_date = "date" in q
    has_range = "start_date" in q or "end_date" in q
    if has_date and has_range:
        if RNG.random() < 0.5:
            del q["date"]
            has_date = False
        else:
            q.pop("start_date", None)
            q.pop("end_date", None)
            has_range = False
    if not has_date and not has_range and not loan_single:
        # /paydates needs a date form (one loan's route answers all its pay dates without one).
        q["date"] = "today" if RNG.random() < 0.5 else RNG.choice(DEMO_PAY_DAYS).isoformat()
        has_date = True
    if has_range:
        start = _parse_day(q.get("start_date")) or _parse_day(q.get("end_date")) or TODAY
        end = _parse_day(q.get("end_date")) or start
        if end < start:
            start, end = end, start
        span = min((end - start).days, 365)
        if start + datetime.timedelta(days=span) > datetime.date.max:
            start = datetime.date.max - datetime.timedelta(days=span)
        q["start_date"] = start.isoformat()
        q["end_date"] = (start + datetime.timedelta(days=span)).isoformat()
    if "timezone" in q:
        q["timezone"] = RNG.choice(ZONES)
    if has_date and loan_single:
        # One loan, one day: the single pay date, which must exist; no filters.
        for k in ("state", "sort", "order", "limit"):
            q.pop(k, None)
        if str(q["date"]).lower() == "today":
            if "timezone" in q:
                q["timezone"] = RNG.choice(CHICAGO_SPELLINGS)
        else:
            q["date"] = RNG.choice(DEMO_PAY_DAYS).isoformat()
    case.query = q


@schemathesis.hook
def before_call(context, case, kwargs):
    if not _positive(case):
        return
    op = _op(case)
    if op == "createCustomer":
        _fix_create(case)
        _unique_key(case)
    elif op == "getCustomer":
        case.path_parameters["giggleId"] = RNG.choice(DEMO_CUSTOMERS)
    elif op == "updateCustomer":
        giggle_id = RNG.choice(DEMO_CUSTOMERS)
        case.path_parameters["giggleId"] = giggle_id
        _fix_patch(case, giggle_id)
        _unique_key(case)
        _if_match_star(case)
    elif op == "deleteCustomer":
        case.path_parameters["giggleId"] = _customer_to_delete()
        _unique_key(case)
        _if_match_star(case)
    elif op in ("getLoanPayDates", "getLoanPayDatesSeedPrefix"):
        case.path_parameters["loanId"] = RNG.choice(DEMO_LOANS)
        _fix_pay_date_query(case, loan_single=True)
    elif op in ("listPayDates", "listPayDatesSeedPrefix"):
        _fix_pay_date_query(case, loan_single=False)


@schemathesis.hook
def filter_body(context, body):
    if isinstance(body, (bytes, bytearray)):
        try:
            bytes(body).decode("utf-8")
        except UnicodeDecodeError:
            return False
    return True


@schemathesis.hook
def filter_headers(context, headers):
    return all(isinstance(v, str) and v.isascii() for v in (headers or {}).values())
