# kepuscreen: `make dev` runs the whole system locally, `make test` runs the tests.
# Both install what they need into .venv (and Chromium from Debian's packages for the browser tests).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: dev test lint bench bench-player browser clean console node

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python requirements.in requirements-dev.txt
	$(BIN)/pip install --quiet "pip<26.3"  # chalice 1.34 (packaging) requires pip<26.3
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

browser:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then \
		echo "Installing Chromium and CJK fonts from Debian's packages"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	fi

node:
	@if ! command -v node >/dev/null || ! command -v npm >/dev/null; then \
		echo "Installing Node.js and npm from Debian's packages"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq nodejs npm >/dev/null; \
	fi

# The staff console: the OpenAPI document dumped offline, types generated from it, vue-tsc, Vite.
console: $(STAMP) node
	$(BIN)/python -m tools.dump_openapi > console/src/api/openapi.json
	cd console && npm ci --no-audit --no-fund --loglevel=error && npm run build

dev: $(STAMP) console
	$(BIN)/python -m devstack.dev

test: $(STAMP) browser console
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy  # chalicelib, with the pydantic plugin ([tool.mypy] in pyproject.toml)
	cd console && npx vitest run
	$(BIN)/python -m pytest -q -n 2 --dist loadfile  # two workers, whole files each (module fixtures, test order)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m bench.callback

bench-player: $(STAMP) browser
	$(BIN)/python -m bench.publish_to_screen

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache artifacts console/node_modules console/dist

# Deployment (docs/deploy.md).  `make package` needs no AWS credentials; `make deploy` uses yours.
.PHONY: package deploy lock
# The Lambda dependencies' hashed lock: after editing requirements.in, `make lock` rewrites requirements.txt
# (every transitive pin and file hash, for the functions' Python and platform); commit both.
lock: $(STAMP)
	$(BIN)/uv pip compile requirements.in --generate-hashes --python-version 3.11 \
		--python-platform x86_64-manylinux2014 --custom-compile-command "make lock" --output-file requirements.txt

package: $(STAMP)
	$(BIN)/python -m infra.build --stage $(or $(STAGE),dev) --partition $(or $(PARTITION),aws-cn) --lint

deploy: $(STAMP)
	@test -n "$(STAGE)" || { echo "usage: make deploy STAGE=dev|prod [REGION=cn-north-1] [PARAMS='Key=Value ...']"; exit 1; }
	$(BIN)/python -m infra.deploy --stage $(STAGE) $(if $(REGION),--region $(REGION)) $(foreach p,$(PARAMS),--parameter $(p))
