# Two commands for a fresh machine (see README):
#   make run   - set everything up, train a small STEM-Net, serve it on localhost:8080
#   make test  - run every test (pytest, then the Maven build with the contract test)
# Every other target is a step of those two; each is skipped when its output is up to date.

SHELL        := /bin/bash
BUILD        := build
VENV         := model-export/.venv
PYTHON       := $(VENV)/bin/python
PIP_FLAGS    := --retries 1 --timeout 5 --quiet
MVN          := mvn -B --no-transfer-progress
SERVICE_JAR  := service/target/stem-net-service.jar
PY_SOURCES   := $(shell find model-export/stemnet model-export/configs -type f -name '*.py' -o -type f -name '*.yaml')
JAVA_SOURCES := $(shell find service/src/main -type f) service/pom.xml pom.xml

# The embedded default served by `make run`: a small STEM-Net trained in a few minutes.
RUN_CONFIG   := model-export/configs/small.yaml
RUN_DATA     := $(BUILD)/data/small
RUN_BUNDLE   := $(BUILD)/bundles/stem-net
# The tiny bundle the service's contract test scores; trained in seconds.
TEST_CONFIG  := model-export/configs/tiny.yaml
TEST_DATA    := $(BUILD)/data/tiny
TEST_BUNDLE  := $(BUILD)/test-bundle

.PHONY: run test venv bundle test-bundle service-jar clean

run: $(RUN_BUNDLE)/manifest.json $(SERVICE_JAR)
	java -jar $(SERVICE_JAR) --stem.models.repository=$(abspath $(BUILD)/bundles)

test: $(TEST_BUNDLE)/manifest.json
	scripts/install-test-deps.sh
	$(PYTHON) -m pytest -q model-export/tests
	$(MVN) verify -Dstem.test.bundle-dir=$(abspath $(TEST_BUNDLE))

venv: $(VENV)/.installed
bundle: $(RUN_BUNDLE)/manifest.json
test-bundle: $(TEST_BUNDLE)/manifest.json
service-jar: $(SERVICE_JAR)

$(VENV)/.installed: model-export/pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install $(PIP_FLAGS) -e 'model-export[dev]'
	touch $@

# $(1): config, $(2): data dir, $(3): bundle dir
define train_bundle
	$(PYTHON) -m stemnet generate --config $(1) --out $(2)
	$(PYTHON) -m stemnet train --config $(1) --data $(2) --bundle-out $(3)
endef

$(RUN_BUNDLE)/manifest.json: $(VENV)/.installed $(PY_SOURCES)
	$(call train_bundle,$(RUN_CONFIG),$(RUN_DATA),$(RUN_BUNDLE))

$(TEST_BUNDLE)/manifest.json: $(VENV)/.installed $(PY_SOURCES)
	$(call train_bundle,$(TEST_CONFIG),$(TEST_DATA),$(TEST_BUNDLE))

$(SERVICE_JAR): $(JAVA_SOURCES)
	$(MVN) package -DskipTests

clean:
	rm -rf $(BUILD) $(VENV)
	$(MVN) clean
