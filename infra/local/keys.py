"""Creates the deployment's keys in the local KMS and Secrets Manager (moto's server, reached
through AWS_ENDPOINT_URL_KMS and AWS_ENDPOINT_URL_SECRETS_MANAGER), as the SAM stack creates
them in AWS: the PII key that wraps the data keys of SSNs and EINs, and the MAC secret. Prints
the variables the functions read, as NAME=value lines."""

import os
import secrets
import string

import boto3

for var in ("AWS_ENDPOINT_URL_KMS", "AWS_ENDPOINT_URL_SECRETS_MANAGER"):
    endpoint = os.environ.get(var, "")
    if not endpoint.startswith("http://127.0.0.1:"):
        raise SystemExit(f"{var} must point at the local emulator on 127.0.0.1, not {endpoint!r}")

region = os.environ.get("AWS_REGION", "us-east-1")
kms = boto3.client("kms", region_name=region)
key = kms.create_key(Description="tasksuite local PII key (wraps SSN/EIN data keys)")
key_id = key["KeyMetadata"]["Arn"]

sm = boto3.client("secretsmanager", region_name=region)
alphabet = string.ascii_letters + string.digits
secret = sm.create_secret(
    Name="tasksuite-local-mac-" + secrets.token_hex(4),
    SecretString="".join(secrets.choice(alphabet) for _ in range(64)),
)
print(f"PII_KEY_ID={key_id}")
print(f"MAC_SECRET_ID={secret['ARN']}")
