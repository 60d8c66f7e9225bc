.PHONY: demo test bench

demo:  ## the app against the sandbox portal, on SQLite
	./scripts/demo.sh

test:  ## the whole suite (installs and starts PostgreSQL, Redis, Chromium where needed)
	./scripts/test.sh

bench:  ## REST calls and wall time against the sandbox with its real limits
	.venv/bin/python bench/bitrix_read.py
