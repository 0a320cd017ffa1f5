# funnelsim: a few commands on a fresh machine.
#   make lab    set up .venv (from PyPI) and open JupyterLab on notebooks/
#   make test   set up the same .venv and run every test and doctest, then every
#               notebook in English and in Chinese
#   make workshop  serve the notebooks as code-free dashboards (Voila) for a room
#               (make workshop FUNNELSIM_LANG=zh: the Chinese notebooks, notebooks/zh)
#   make handouts  executed, self-contained HTML of every notebook, in handouts/en and handouts/zh
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.funnelsim-installed
PORT   ?= 8888

.PHONY: lab test venv lint bench data clean workshop handouts

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[notebooks,test,dev,engines]'
	$(BIN)/python -m funnelsim.fonts  # Regular copy of the Chinese plot font (once, ~30 s)
	@touch $(STAMP)

# Headless-safe: prints the URL to open; add OPEN=1 to open a browser too.
ROOTFLAG = $(if $(filter 0,$(shell id -u)),--allow-root)
lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks --ServerApp.ip=127.0.0.1 \
	  --ServerApp.port=$(PORT) $(if $(OPEN),,--no-browser) $(ROOTFLAG)

# The notebooks as dashboards with Voila, offline (README: "Running a workshop").
# Binds 127.0.0.1; IP=0.0.0.0 opens it to the room's network. PORT=9000 picks the
# port (default 8866), NOTEBOOK=notebooks/03-revenue-steadiness.ipynb serves one
# notebook, ARGS=--token asks visitors for the token it prints. FUNNELSIM_LANG=zh serves
# the Chinese notebooks (notebooks/zh) with a Chinese home page, kernels in Chinese.
# ROOM=40 ROOM_NOTEBOOK=03-revenue-steadiness receives a room of 40 arriving together:
# 40 kernels of the notebook it opens first, prepared at start.
IP ?= 127.0.0.1
WORKSHOP_PORT = $(if $(filter command line environment,$(origin PORT)),$(PORT),8866)
workshop: $(STAMP)
	$(BIN)/python workshop/serve.py --ip=$(IP) --port=$(WORKSHOP_PORT) $(NOTEBOOK) \
	  $(if $(ROOM),--room=$(ROOM)) $(if $(ROOM_NOTEBOOK),--room-notebook=$(ROOM_NOTEBOOK)) \
	  $(if $(ARGS),-- $(ARGS))

# Every notebook run top to bottom and saved as one HTML page that loads nothing from the
# network (images embedded, solutions folded), in its own language: handouts/en/NN-*.html,
# handouts/zh/NN-*.html (git ignores handouts/). A few minutes. ARGS=--no-code leaves
# out the code and the exercises; ARGS="--lang zh" makes only the Chinese ones.
handouts: $(STAMP)
	$(BIN)/python workshop/handouts.py $(ARGS)

# Unit tests and doctests (with hypothesis's pytest plugin for the property tests; the
# server tests beside the notebooks, below), then every notebook top to bottom with nbval: the English ones in English and again in
# Chinese (the language switch), the Chinese ones (notebooks/zh) in Chinese. nbval runs
# copies in build/nbtest where each folded solution's code is also a cell
# (tests/solutions.py), so the solutions run too. Every part runs and reports its own
# failures; the target fails if any part did. pyproject.toml keeps both plugins off for a
# plain `pytest`, which then starts fast.
PYTEST    = MPLBACKEND=Agg $(BIN)/python -m pytest -q
NOTEBOOKS = $(PYTEST) -p nbval --nbval-lax --nbval-current-env
NBTEST    = build/nbtest
# The tests that start servers (PostgreSQL, Spark's JVM, a Dask cluster) wait on them more
# than they compute: they run beside the notebooks, their output printed at the end.
SERVERS   = tests/test_engine_servers.py

test: $(STAMP)
	@failed=; \
	echo "== unit tests and doctests"; \
	FUNNELSIM_LANG=en $(PYTEST) -p hypothesispytest -n auto --maxprocesses 4 tests funnelsim \
	  --ignore=$(SERVERS) || failed="$$failed unit"; \
	$(BIN)/python tests/solutions.py $(NBTEST) || failed="$$failed solutions"; \
	mkdir -p build; \
	( FUNNELSIM_LANG=en $(PYTEST) $(SERVERS) > build/servers.log 2>&1; \
	  echo $$? > build/servers.rc ) & \
	for lang in en zh; do \
	  echo "== notebooks/*.ipynb, FUNNELSIM_LANG=$$lang"; \
	  FUNNELSIM_LANG=$$lang $(NOTEBOOKS) $(NBTEST)/*.ipynb || failed="$$failed notebooks-$$lang"; \
	done; \
	echo "== notebooks/zh/*.ipynb, FUNNELSIM_LANG=zh"; \
	FUNNELSIM_LANG=zh $(NOTEBOOKS) $(NBTEST)/zh || failed="$$failed notebooks-zh/zh"; \
	wait; \
	echo "== $(SERVERS) (PostgreSQL, Spark, Dask; run beside the notebooks)"; \
	cat build/servers.log; \
	[ "$$(cat build/servers.rc)" = 0 ] || failed="$$failed servers"; \
	if [ -n "$$failed" ]; then echo "make test: failed:$$failed"; exit 1; fi; \
	echo "make test: all passed"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Rewrite the sample logs in data/ from the true parameters in data/make_samples.py.
data: $(STAMP)
	$(BIN)/python data/make_samples.py

bench: $(STAMP)
	MPLBACKEND=Agg $(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) build handouts *.egg-info
