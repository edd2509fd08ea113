.PHONY: run test demo bench lint mutation

run:   ## install what is missing, then run web + worker with a demo workspace
	scripts/run.sh

test:  ## install what is missing, then run the whole test suite
	scripts/test.sh

demo:  ## render the demo video through the task queue
	scripts/setup.sh && .venv/bin/python manage.py demo_render --out var/demo.mp4

bench:
	scripts/setup.sh && .venv/bin/python -m bench.render_speed

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/lint-imports

mutation:  ## mutation testing of the safety modules (slow; not in `make test`); MODULES="policy ledger" picks some
	scripts/setup.sh
	.venv/bin/python -c 'import importlib.metadata as m; assert m.version("mutmut") == "3.8.1"' 2>/dev/null \
		|| .venv/bin/pip install -q -r requirements-mutation.txt 2>&1 | { grep -v "^WARNING: Location" || true; }
	.venv/bin/python scripts/mutation.py $(MODULES)
