.PHONY: run test demo bench lint

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
