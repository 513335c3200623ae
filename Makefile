# Two commands: `make demo` and `make test`. Both create and use .venv/ in the repo root.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install clean screenshots

$(STAMP): pyproject.toml plugins/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]' -e ./plugins
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q
	@if [ -n "$$LTI_TOOL_TEST_POSTGRES_URL" ]; then \
		echo "== the whole suite again on PostgreSQL"; \
		LTI_TOOL_TEST_DATABASE_URL="$$LTI_TOOL_TEST_POSTGRES_URL" $(BIN)/python -m pytest -q; \
	elif echo "$$LTI_TOOL_REQUIRE_SUITES" | grep -q postgresql; then \
		echo "== the PostgreSQL pass is required but LTI_TOOL_TEST_POSTGRES_URL is not set"; exit 1; \
	else \
		echo "== LTI_TOOL_TEST_POSTGRES_URL not set: PostgreSQL pass not run (CI sets it)"; \
	fi

# The README's page screenshots (docs/screenshots/, 360 and 1280 px), taken by the browser suite.
screenshots: $(STAMP)
	rm -f docs/screenshots/*.png
	LTI_TOOL_SCREENSHOTS=docs/screenshots LTI_TOOL_REQUIRE_SUITES=chromium $(BIN)/python -m pytest -q \
		tests/browser/test_screenshots.py

demo: $(STAMP)
	$(BIN)/python -m lti_tool.demo

clean:
	rm -rf $(VENV) instance .pytest_cache
