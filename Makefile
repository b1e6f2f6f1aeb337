# The commands of the README: `make run`, `make test`, `make lint` (and `make bench`).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
PARTNERS_PORT ?= 8091
# The local FranceConnect provider (tools/franceconnect/, docs/franceconnect.md) and its demo
# client, whose secret is public: it exists only on this loopback provider.
FRANCECONNECT_PORT ?= 8092
FRANCECONNECT_CLIENT_ID := moncompte-demo
FRANCECONNECT_CLIENT_SECRET := moncompte-demo-secret-public-de-developpement

.PHONY: run test lint bench clean simulator franceconnect

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

# The demo (MONCOMPTE_DEMO=1: fictional data, the outbox at /dev/messages/) with DEBUG off, so that
# errors show the French pages; DJANGO_DEBUG=1 make run gives Django's debug pages.
# The partner simulator (tools/partner_simulator.py) runs beside it, stopped with it: the procedures'
# pre-filled fields come from it (docs/partners.md).
# So does the local FranceConnect provider when Node and node_modules/oidc-provider (npm ci) are
# there (docs/franceconnect.md); without them runserver starts without FranceConnect: the
# `env MONCOMPTE_FRANCECONNECT_ISSUER=` put before it empties the issuer.
run: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo
	$(PY) tools/partner_simulator.py --port $(PARTNERS_PORT) & simulator=$$!; \
	franceconnect=; without_franceconnect=; \
	if command -v node >/dev/null 2>&1 && [ -f node_modules/oidc-provider/package.json ]; then \
		node tools/franceconnect/provider.mjs --port $(FRANCECONNECT_PORT) --client-id $(FRANCECONNECT_CLIENT_ID) --client-secret $(FRANCECONNECT_CLIENT_SECRET) & franceconnect=$$!; \
	else echo "Node or node_modules/oidc-provider missing (apt-get install nodejs npm, then npm ci): the demo runs without FranceConnect."; \
		without_franceconnect="env MONCOMPTE_FRANCECONNECT_ISSUER="; fi; \
	trap 'kill $$simulator $$franceconnect 2>/dev/null' EXIT INT TERM; \
	MONCOMPTE_DEMO=1 MONCOMPTE_PARTNER_SIMULATOR_URL=http://127.0.0.1:$(PARTNERS_PORT) MONCOMPTE_FRANCECONNECT_ISSUER=http://127.0.0.1:$(FRANCECONNECT_PORT)/api/v2 MONCOMPTE_FRANCECONNECT_CLIENT_ID=$(FRANCECONNECT_CLIENT_ID) MONCOMPTE_FRANCECONNECT_CLIENT_SECRET=$(FRANCECONNECT_CLIENT_SECRET) $$without_franceconnect $(PY) manage.py runserver 127.0.0.1:$(PORT)

# The partner simulator alone (for a server started another way).
simulator: $(VENV)/.installed
	$(PY) tools/partner_simulator.py --port $(PARTNERS_PORT)

# The local FranceConnect provider alone (Node and `npm ci` needed; docs/franceconnect.md).
franceconnect:
	node tools/franceconnect/provider.mjs --port $(FRANCECONNECT_PORT) --client-id $(FRANCECONNECT_CLIENT_ID) --client-secret $(FRANCECONNECT_CLIENT_SECRET)

# axe-core for the accessibility tests (package.json), installed again when its lock changes;
# without npm those tests skip locally (and fail in CI, where .ci/run installs it).
node_modules/.package-lock.json: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund; \
	else echo "npm not found: the accessibility tests will skip (apt-get install npm, then npm ci)"; fi

test: $(VENV)/.installed node_modules/.package-lock.json
	$(PY) -m pytest $(PYTEST_ARGS)

# The quality gate, before the tests in CI (.ci/run): style, formatting, no model change without
# its migration, and the layering contracts of pyproject.toml (docs/architecture.md).
lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/lint-imports --no-cache

bench: $(VENV)/.installed
	$(PY) bench/signin.py

clean:
	rm -rf $(VENV) var staticfiles
