"""The seed documents' own Python examples, with the URL swapped for the local one, run against
the real function binaries under `cargo lambda watch` and DynamoDB Local (make test does this).

Each check prints a line; the last line is 'e2e: N passed, N failed'.
"""
import json
import os
import sys

import requests

BASE = os.environ["TASKSUITE_BASE_URL"].rstrip("/") + "/webhook/v1/json"
KEY = os.environ["TASKSUITE_API_KEY"]
HEADERS = {"Content-Type": "application/json", "Authorization": f"Bearer {KEY}"}

results = []


def check(name, condition, detail=""):
    results.append(bool(condition))
    print(f"{'PASS' if condition else 'FAIL'} {name}" + ("" if condition else f": {detail}"))


# The seed's create example, verbatim but for the URL.
url = BASE + "/customers"
payload = json.dumps({
   "active": True,
   "customerType": "person",
   "ssn": 123456789,
   "dob": "2000-01-30",
   "name": "John",
   "surname": "Doe",
   "accessUserName": "john_doe",
   "email": "john.doe@email.com",
   "companyName": "ABC Company L.L.C",
   "ein": 123456789,
   "giggleId": 89043762,
   "address": {
        "street1": "123 Main St.",
        "street2": "Suite 5.",
        "country": "USA",
        "city": "Austin",
        "state": "TX",
        "zip": "22222"
   },
   "phone": {
        "number": "123-456-7890",
        "type": "mobile",
        "carrierVerified": True,
        "carrierName": "AT&T"
   }
})
response = requests.request("POST", url, headers=HEADERS, data=payload)
check("create answers the documented envelope", response.status_code == 200 and response.text ==
      '{"statusCode": 200, "status": "OK", "message": "Customer Successfully Created", "error": false, "giggleId": 89043762}',
      response.text)
check("every response carries x-request-id", response.headers.get("x-request-id"), dict(response.headers))

without_ssn = json.loads(payload)
del without_ssn["ssn"]
without_ssn["giggleId"] = 1
response = requests.request("POST", url, headers=HEADERS, data=json.dumps(without_ssn))
check("create without ssn is the documented 400", response.status_code == 400 and response.text ==
      '{"statusCode": 400, "description": "Did not provide \'ssn\'", "name": "Bad Request"}', response.text)

# The seed's read example.
url = BASE + "/customers/89043762"
response = requests.request("GET", url, headers=HEADERS)
body = response.json() if response.status_code == 200 else {}
data = body.get("customerData", {})
check("get returns the customer", response.status_code == 200 and data.get("giggleId") == 89043762, response.text)
check("get never returns the ssn", "ssn" not in data and '"ssn"' not in response.text, response.text)
check("get returns phone as 10 digits, and the last four digits of the ein, never the ein",
      data.get("phone", {}).get("number") == "1234567890" and data.get("einLast4") == "6789"
      and "ein" not in data, response.text)
check("get sends an ETag", response.headers.get("etag") == '"1"', dict(response.headers))

# The seed's update example (every field optional; giggleId unchanged).
update = json.loads(payload)
del update["giggleId"]
update["address"]["city"] = "Dallas"
response = requests.request("PATCH", url, headers=HEADERS, data=json.dumps(update))
check("update answers the documented envelope", response.status_code == 200 and response.text ==
      '{"statusCode": 200, "status": "OK", "message": "Customer Successfully Updated", "error": false, "giggleId": 89043762}',
      response.text)
response = requests.request("GET", url, headers=HEADERS)
check("the update took effect", response.json()["customerData"]["city"] == "Dallas", response.text)

response = requests.request("GET", url, headers={"Authorization": "Bearer not-a-key"})
check("a wrong key is 401 with the error envelope", response.status_code == 401 and response.json() ==
      {"statusCode": 401, "description": "Missing or invalid API key.", "name": "Unauthorized"}, response.text)

response = requests.request("GET", BASE + "/customers/abc", headers=HEADERS)
check("a non-numeric id is 400", response.status_code == 400 and
      response.json()["description"] == "Giggle ID must be a positive integer.", response.text)

response = requests.request("POST", BASE + "/customers", headers=HEADERS, data="{not json")
check("malformed JSON is 400", response.status_code == 400, response.text)

# The seed's delete example.
response = requests.request("DELETE", url, headers=HEADERS)
check("delete answers the documented envelope", response.status_code == 200 and response.text ==
      '{"statusCode": 200, "status": "OK", "message": "Customer Successfully Deleted", "error": false, "giggleId": 89043762}',
      response.text)
response = requests.request("GET", url, headers=HEADERS)
check("a deleted customer is not found", response.status_code == 400 and response.text ==
      '{"statusCode": 400, "description": "Giggle ID 89043762 not found.", "name": "Bad Request"}', response.text)

passed, failed = results.count(True), results.count(False)
print(f"e2e: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
