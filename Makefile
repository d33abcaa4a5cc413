# Accueil: `make run` starts the assistant, `make test` runs the tests. Both set up what is missing.
SHELL := /bin/bash
export RASA_TELEMETRY_ENABLED := false
export UV_LINK_MODE := copy

UV := $(shell command -v uv 2>/dev/null || echo python3 -m uv)

.PHONY: setup web run shell train kb-sync test check faults validate bench bench-voice models clean

# The packages' bytecode is compiled once at install: each server and test process then loads it instead of compiling
# TensorFlow and Rasa again (seconds per process, and every process when PYTHONDONTWRITEBYTECODE is set).
setup:  ## install uv if missing, then the locked dependencies
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen --compile-bytecode
	@$(UV) run --frozen rasa telemetry disable >/dev/null 2>&1 || true

# The web widget: npm packages from the committed lock file, then the bundle the web server serves.
NPM := npm --prefix web --no-audit --no-fund --loglevel=error
web/node_modules/.package-lock.json: web/package.json web/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "npm (Node.js >= 20.19) is needed to build the web widget." >&2; exit 1; }
	$(NPM) ci

web/dist/accueil-widget.js: web/node_modules/.package-lock.json web/build.mjs $(wildcard web/src/*)
	$(NPM) run build

web: web/dist/accueil-widget.js  ## build the chat widget (web/dist)

run: setup web  ## sync the knowledge base, train if needed, start the servers
	$(UV) run --frozen accueil run

shell: setup  ## chat with the assistant in the terminal
	$(UV) run --frozen accueil shell

train: setup
	$(UV) run --frozen accueil train

kb-sync: setup
	$(UV) run --frozen accueil kb sync

models: setup  ## download and check the voice gateway's French models (Vosk, Piper)
	$(UV) run --frozen accueil models pull

validate: setup  ## Rasa's own checks of the training data and domain
	$(UV) run --frozen rasa data validate --config bot/config.yml --domain bot/domain --data bot/data nlu_data --fail-on-warnings

# The tests start hundreds of Python processes (servers, commands): each loads the project's bytecode once written
# instead of compiling its modules again, even where the environment sets PYTHONDONTWRITEBYTECODE (empty: unset).
test check faults: export PYTHONDONTWRITEBYTECODE :=

# The tests that need no trained model and no server to themselves run side by side (pytest-xdist); the others,
# which share the session's model and servers or need PostgreSQL alone, then run in one process.
FAST_TESTS := not e2e and not slow and not alone

test: check  ## the whole test suite: `make check`, then the end-to-end, slow and alone tests (browser, phone, faults)
	$(UV) run --frozen pytest -m "not ($(FAST_TESTS))"

check: setup web  ## the fast tests (the widget's, then pytest without the e2e, slow and alone ones, on every core), a few minutes
	$(NPM) test
	$(UV) run --frozen pytest -m "$(FAST_TESTS)" -n auto --dist loadfile

faults: setup web  ## the fault suite (kills each server under load, cuts PostgreSQL, fills var/; needs root for a tmpfs)
	$(UV) run --frozen pytest tests/faults -p no:cacheprovider -o addopts="-ra"

bench: setup
	$(UV) run --frozen python bench/chat_latency.py

bench-voice: setup  ## the voice gateway's latency, real-time factors and simultaneous calls
	$(UV) run --frozen python bench/voice_latency.py

clean:
	rm -rf var .rasa .pytest_cache web/dist web/node_modules
