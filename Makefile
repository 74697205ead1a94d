# The two commands of the README. Both install what they need into .venv first.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: run test install bench lint typecheck unit check-contracts check-deploy secrets

run: $(STAMP)
	$(VENV)/bin/casetrack run

test: $(STAMP)
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# The checks CI runs before the tests: lint, types, and the tests that need no servers.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

unit: $(STAMP)
	$(VENV)/bin/pytest -m "not integration" -q

# The contract documents match the code (contracts/schema, contracts/asyncapi.yaml), and the AsyncAPI
# CLI (npm; installed once under $CASETRACK_TOOLS_DIR, default /tmp/casetrack-tools) finds the
# AsyncAPI document valid.
check-contracts: $(STAMP)
	$(VENV)/bin/pytest -q tests/test_contracts_export.py
	$(VENV)/bin/python -m casetrack.asyncapi_cli contracts/asyncapi.yaml

# The production shape: the secrets as files (deploy/secrets/, git-ignored) for docker-compose.yml,
# made once; MUNICIPALITIES names the case systems that get a token and a NATS user.
secrets: $(STAMP)
	$(VENV)/bin/python -m casetrack.deploy_secrets $(addprefix --municipality ,$(MUNICIPALITIES))

# docker-compose.yml is valid (docker compose config), and the Prometheus rules hold their cases
# (promtool test rules deploy/prometheus-alerts.test.yml); both tools are installed with apt-get if missing.
check-deploy: $(STAMP)
	$(VENV)/bin/pytest -q -m "not integration" tests/test_deploy.py tests/test_prometheus_rules.py

# The benchmark (bench/README.md): quick by default, BENCH_ARGS=--full for the issue's sizes.
bench: $(STAMP)
	$(VENV)/bin/python -m bench $(BENCH_ARGS)

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e ".[embedded,test]"
	rm -f $(VENV)/.installed-*
	touch $@
