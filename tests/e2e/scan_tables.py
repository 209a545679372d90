"""After the whole suite: every table in the suite's DynamoDB Local (the integration tests' own
tables and the end-to-end ones) is scanned, and no SSN or EIN the suite ever sent may be found in
it, in clear (bare or dashed) or as an unkeyed SHA-256. Exit code 1 on the first find.
"""
import hashlib
import os
import sys

import boto3

endpoint = os.environ["AWS_ENDPOINT_URL_DYNAMODB"]
assert endpoint.startswith("http://127.0.0.1:"), endpoint
client = boto3.client("dynamodb", endpoint_url=endpoint, region_name=os.environ.get("AWS_REGION", "us-east-1"))

# Every SSN and EIN the suite sends (tests/src/lib.rs, tests/tests/api, tests/e2e, the demo).
NUMBERS = ["123456789", "321549876", "321549877", "023456789", "123456780", "003456780", "987654329",
           "432109876", "987654321", "219099999", "457555462", "911144442", "942404110", "234567890",
           "555123456"]

needles_exact = set()
needles_within = []
for d in NUMBERS:
    writings = [d, f"{d[:3]}-{d[3:5]}-{d[5:]}", f"{d[:2]}-{d[2:]}"]
    needles_exact.update(writings)
    for w in writings:
        h = hashlib.sha256(w.encode())
        needles_within += [w.encode() if "-" in w else None, h.hexdigest().encode(), h.digest()]
needles_within = [n for n in needles_within if n]


def values(av):
    for kind, v in av.items():
        if kind in ("S", "N"):
            yield v.encode()
        elif kind == "B":
            yield bytes(v)
        elif kind == "M":
            for x in v.values():
                yield from values(x)
        elif kind == "L":
            for x in v:
                yield from values(x)
        elif kind in ("SS", "NS"):
            for x in v:
                yield x.encode()
        elif kind == "BS":
            for x in v:
                yield bytes(x)


tables = client.get_paginator("list_tables").paginate().build_full_result()["TableNames"]
items = 0
for table in tables:
    for page in client.get_paginator("scan").paginate(TableName=table):
        for item in page["Items"]:
            items += 1
            for name, av in item.items():
                for v in values(av):
                    # A bare nine-digit number is only a find as a whole value (a phone number
                    # such as 1234567890 contains 123456789); dashed forms and hashes anywhere.
                    if v.decode("utf-8", "replace") in needles_exact or any(n in v for n in needles_within):
                        print(f"FAIL {table}: attribute {name} holds an SSN or EIN in a readable form")
                        sys.exit(1)
print(f"scan: {len(tables)} tables, {items} items, no SSN or EIN in clear or unkeyed-hashed")
