"""The Python client that openapi-python-client generates from infra/openapi.yaml, driving the
live local stack through its typed API, after `tasksuite-admin load-demo` (weekly pay dates
around today). make test generates the client into .local/python-client/tasksuite_client (with 0
warnings, or the run fails) and runs this with the client's own virtualenv. Every answer is
checked as the typed model the client parsed it into: success envelopes, error models (400, 401,
409, 412), customers, pay dates (money, counts, cursors). The last line is 'e2e: N passed, N failed'.
"""
import datetime
import os
import sys
import time
import zoneinfo

import httpx

sys.path.insert(0, os.environ.get("TASKSUITE_CLIENT_DIR", ".local/python-client"))

from tasksuite_client import AuthenticatedClient  # noqa: E402
from tasksuite_client.api.customers import (  # noqa: E402
    create_customer, delete_customer, get_customer, update_customer)
from tasksuite_client.api.paydates import get_loan_pay_dates, list_pay_dates  # noqa: E402
from tasksuite_client.models import (  # noqa: E402
    AddressCreate, AddressPatch, BadRequestError, CreateConflictError, CustomerCreate,
    CustomerCreated, CustomerDeleted, CustomerPatch, CustomerRead, CustomerType, CustomerUpdated,
    DeleteConflictError, ListPayDatesOrder, ListPayDatesSort, PayDate, PayDateBatch, PayDateState,
    PhoneCreate, PhoneType, PreconditionFailedError, UnauthorizedError)
from tasksuite_client.types import UNSET  # noqa: E402

HOST = os.environ["TASKSUITE_BASE_URL"].rstrip("/")
KEY = os.environ["TASKSUITE_API_KEY"]
# A timeout of our own: the generated client's default is none at all.
TIMEOUT = httpx.Timeout(60.0)
client = AuthenticatedClient(base_url=HOST, token=KEY, raise_on_unexpected_status=True, timeout=TIMEOUT)
results = []


def check(name, condition, detail=""):
    results.append(bool(condition))
    print(f"{'PASS' if condition else 'FAIL'} {name}" + ("" if condition else f": {detail}"))


def typed(response, model, status):
    """The parsed answer if it has the status and the model, else None (and a FAIL)."""
    ok = response.status_code == status and isinstance(response.parsed, model)
    if not ok:
        check(f"answer is {status} {model.__name__}", False,
              f"{response.status_code} {type(response.parsed).__name__} {response.content!r}")
    return response.parsed if ok else None


# ---- customers ---------------------------------------------------------------------------------
# An id of this run (the suite's stack is fresh; a long-lived `make run` one keeps old records).
GID = 89_000_000_000 + int(time.time()) % 1_000_000_000
new = CustomerCreate(
    giggle_id=GID, active=True, customer_type=CustomerType.PERSON, dob=datetime.date(1991, 3, 14),
    name="Ada", surname="Client", email="ada.client@example.com", ssn="457-55-5462",
    address=AddressCreate(street1="9 Elm St.", city="Austin", state="TX", zip_="73301", country="USA"),
    phone=PhoneCreate(number="(512) 555-0199", type_=PhoneType.MOBILE))
created = typed(create_customer.sync_detailed(client=client, body=new), CustomerCreated, 200)
check("create: the typed success envelope",
      created is not None and (created.status_code, created.status, created.message, created.error,
                               created.giggle_id) == (200, "OK", "Customer Successfully Created", False, GID),
      created)

again = typed(create_customer.sync_detailed(client=client, body=new), CreateConflictError, 409)
check("create again: the typed 409", again is not None
      and (again.status_code, again.name, again.description) == (409, "Conflict", f"Giggle ID {GID} already exists."), again)

r = get_customer.sync_detailed(GID, client=client)
read = typed(r, CustomerRead, 200)
etag = r.headers.get("etag")
if read is not None:
    c = read.customer_data
    check("get: the typed customer", (c.giggle_id, c.customer_type, c.name, c.surname, c.dob, c.ssn_last_4,
                                      c.city, c.address.city, c.address.zip_, c.phone.number, c.access_user_name)
          == (GID, CustomerType.PERSON, "Ada", "Client", datetime.date(1991, 3, 14), "5462", "Austin",
              "Austin", "73301", "5125550199", "ada_client"), c)
    check("get: no loans", read.loan_data == [], read.loan_data)
check("get: an ETag", etag == '"1"', etag)

r = update_customer.sync_detailed(GID, client=client, if_match=etag,
                                  body=CustomerPatch(address=AddressPatch(city="Dallas"), phone=None))
updated = typed(r, CustomerUpdated, 200)
check("patch with If-Match: the typed success envelope", updated is not None
      and (updated.message, updated.giggle_id) == ("Customer Successfully Updated", GID), updated)
new_etag = r.headers.get("etag")
check("patch: a new ETag", new_etag == '"2"', new_etag)
read = typed(get_customer.sync_detailed(GID, client=client), CustomerRead, 200)
check("patch merged the address and removed the phone", read is not None
      and (read.customer_data.city, read.customer_data.address.street1, read.customer_data.phone)
      == ("Dallas", "9 Elm St.", UNSET), read)

stale = typed(update_customer.sync_detailed(GID, client=client, if_match=etag, body=CustomerPatch(active=False)),
              PreconditionFailedError, 412)
check("patch with a stale If-Match: the typed 412", stale is not None
      and (stale.status_code, stale.name, stale.description)
      == (412, "Precondition Failed", "The customer was changed since it was read (If-Match does not match its ETag)."),
      stale)

bad = typed(update_customer.sync_detailed(GID, client=client, body=CustomerPatch(email="not-an-email")),
            BadRequestError, 400)
check("a bad field: the typed 400 naming it", bad is not None and (bad.status_code, bad.name, bad.description)
      == (400, "Bad Request", "Invalid 'email': must be a valid email address of at most 254 characters."), bad)

nobody = AuthenticatedClient(base_url=HOST, token="tsk_" + "0" * 64, raise_on_unexpected_status=True,
                             timeout=TIMEOUT)
denied = typed(get_customer.sync_detailed(GID, client=nobody), UnauthorizedError, 401)
check("an unknown key: the typed 401", denied is not None
      and (denied.status_code, denied.name, denied.description) == (401, "Unauthorized", "Missing or invalid API key."),
      denied)

demo = typed(get_customer.sync_detailed(89043763, client=client), CustomerRead, 200)
loan = demo.loan_data[0] if demo is not None and len(demo.loan_data) == 1 else None
check("get a demo customer: its one loan, typed", loan is not None
      and (loan.id, loan.state, loan.loan_amount, loan.discount_savings, loan.disbursement_fee, loan.loan_term,
           loan.contract_date) == (768945, "active", 10400.0, "0.00", "25.99", 52,
                                   datetime.datetime.now(zoneinfo.ZoneInfo("America/Chicago")).date()
                                   - datetime.timedelta(days=60)), loan)

with_loans = typed(delete_customer.sync_detailed(89043763, client=client), DeleteConflictError, 409)
check("delete a customer with loans: the typed 409", with_loans is not None
      and with_loans.description == "Giggle ID 89043763 has 1 loan and cannot be deleted.", with_loans)

deleted = typed(delete_customer.sync_detailed(GID, client=client, if_match=new_etag), CustomerDeleted, 200)
check("delete with If-Match: the typed success envelope", deleted is not None
      and (deleted.message, deleted.giggle_id) == ("Customer Successfully Deleted", GID), deleted)
gone = typed(get_customer.sync_detailed(GID, client=client), BadRequestError, 400)
check("get after delete: the typed 400 'not found'", gone is not None
      and gone.description == f"Giggle ID {GID} not found.", gone)

# ---- pay dates: the demo (shared/src/demo.rs), recomputed here ---------------------------------
TODAY = datetime.datetime.now(zoneinfo.ZoneInfo("America/Chicago")).date()


def demo_pay_dates():
    out, pay_id = [], 1
    for loan, cents in [(768943, 520000), (768944, 260000), (768945, 1040000), (768946, 5200000)]:
        instalment, balance = cents // 52, cents
        for week in range(-4, 5):
            paid = instalment if week < 0 or (week == 0 and loan % 3 == 0) else \
                instalment // 2 if week == 0 and loan % 3 == 1 else 0
            state = "paid" if paid == instalment else "open" if paid == 0 else "partial"
            out.append({"id": pay_id, "loanId": loan, "date": TODAY + datetime.timedelta(days=7 * week),
                        "state": state, "cents": (instalment, instalment - paid, paid, balance,
                                                  balance - instalment, balance - paid)})
            balance -= paid
            pay_id += 1
    return out


def money(p):
    return tuple(round(x * 100) for x in (p.amount, p.amount_owed, p.amount_paid, p.starting_capital,
                                          p.ending_capital, p.loan_balance))


expected = sorted(demo_pay_dates(), key=lambda e: (e["date"], e["loanId"], e["id"]))
start, end = TODAY - datetime.timedelta(days=28), TODAY + datetime.timedelta(days=28)
seen, cursors, pages, cursor = [], [], [], UNSET
while True:
    r = list_pay_dates.sync_detailed(client=client, start_date=start, end_date=end, limit=5, cursor=cursor,
                                     sort=ListPayDatesSort.DATE, order=ListPayDatesOrder.ASC)
    page = typed(r, PayDateBatch, 200)
    if page is None:
        break
    pages.append(page)
    seen += page.data
    cursor = page.metadata.next_cursor
    if cursor is UNSET or len(pages) > 20:
        break
    cursors.append(cursor)
check("walk: 8 pages of at most 5, a nextCursor on all but the last",
      [len(p.data) for p in pages] == [5] * 7 + [1] and len(cursors) == 7, [len(p.data) for p in pages])
check("walk: every pay date once, in order (date, loanId, id)",
      [(p.date, p.loan_id, p.id) for p in seen] == [(e["date"], e["loanId"], e["id"]) for e in expected],
      [(p.date, p.loan_id, p.id) for p in seen])
check("walk: the typed states and money values",
      [(p.state.value, money(p)) for p in seen] == [(e["state"], e["cents"]) for e in expected])
counts = {s: sum(e["state"] == s for e in expected) for s in ("paid", "partial", "open")}
check("walk: the counts of the whole query on every page",
      all((p.metadata.total_count, p.metadata.num_paid, p.metadata.num_partial, p.metadata.num_open)
          == (36, counts["paid"], counts["partial"], counts["open"]) for p in pages),
      [p.metadata for p in pages])
check("walk: every amount owed is amount - paid",
      all(money(p)[1] == money(p)[0] - money(p)[2] for p in seen))

r = list_pay_dates.sync_detailed(client=client, date="today", timezone="America/Chicago",
                                 state=[PayDateState.OPEN, PayDateState.PARTIAL], sort=ListPayDatesSort.AMOUNT,
                                 order=ListPayDatesOrder.DESC)
page = typed(r, PayDateBatch, 200)
today_open = sorted((e for e in expected if e["date"] == TODAY and e["state"] != "paid"),
                    key=lambda e: (-e["cents"][0], e["loanId"], e["id"]))
check("today, open and partial, by amount descending", page is not None
      and [(p.loan_id, p.state.value, money(p)) for p in page.data]
      == [(e["loanId"], e["state"], e["cents"]) for e in today_open]
      and (page.metadata.total_count, page.metadata.num_paid) == (len(today_open), 0)
      and page.metadata.next_cursor is UNSET, page)

one = typed(get_loan_pay_dates.sync_detailed(768943, client=client, date=TODAY), PayDate, 200)
mine = next(e for e in expected if e["loanId"] == 768943 and e["date"] == TODAY)
check("one loan, one day: the typed single pay date", one is not None
      and (one.id, one.loan_id, one.date, one.state.value, money(one))
      == (mine["id"], 768943, TODAY, mine["state"], mine["cents"]), one)

bad = typed(list_pay_dates.sync_detailed(client=client, start_date=start), BadRequestError, 400)
check("a lone start_date: the typed 400 naming the parameter", bad is not None
      and bad.description == "Invalid 'start_date': 'end_date' is required with it.", bad)

passed, failed = results.count(True), results.count(False)
print(f"e2e: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
