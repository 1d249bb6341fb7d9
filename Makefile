# Developer shortcuts. `make test` is the README's test command.
PY := .venv/bin/python

.PHONY: test test-quick lint fmt typecheck golden check serve messages

test:            ## everything, as CI runs it (sets itself up)
	bash scripts/test.sh

test-quick:      ## skip the slow end-to-end tests (servers, browser)
	$(PY) -m pytest -n 2 -m "not slow"

lint:            ## ruff + mypy, as CI expects them clean
	$(PY) -m ruff check feeds tests benchmarks reliability wsgi.py asgi.py gunicorn.conf.py
	$(PY) -m ruff format --check feeds tests benchmarks reliability wsgi.py asgi.py gunicorn.conf.py
	$(PY) -m mypy

fmt:
	$(PY) -m ruff check --fix feeds tests benchmarks reliability wsgi.py asgi.py gunicorn.conf.py
	$(PY) -m ruff format feeds tests benchmarks reliability wsgi.py asgi.py gunicorn.conf.py

typecheck:
	$(PY) -m mypy

golden:          ## rewrite tests/golden/ from the bundled catalog; then read `git diff tests/golden`
	$(PY) -m pytest -q -p no:xdist -k golden --update-golden

check:
	.venv/bin/feeds check entries.yaml

messages:        ## extract the pages' words into feeds/locale/feeds.pot and update every feeds.po (docs/translations.md)
	$(PY) scripts/messages.py
