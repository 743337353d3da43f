# Two commands for a fresh machine (see README):
#   make run   - set everything up, train a small STEM-Net, serve it on localhost:8080
#   make test  - run every test (pytest, the Maven build with the contract tests, the end-to-end A/B and shadow replays,
#                the end-to-end delta on two Redis-backed replicas)
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
# The test bundle quantized to int8 (`python -m stemnet quantize`, seconds), served by the int8 contract test. The
# tiny test split has few positives, so its AUC bound is looser than the trainer's default.
TEST_INT8_BUNDLE := $(BUILD)/test-int8-bundle
# One tiny bundle per trainer architecture, served under the architecture's name by the architectures contract test.
ARCHITECTURES := single_task shared_bottom omoe mmoe ple me_mmoe me_ple stem_net stem_net_user_side \
                 stem_net_item_side esmm aitm
TEST_MODELS  := $(BUILD)/test-models
# The end-to-end A/B replay's two arms: STEM-Net and MMoE trained on the same synthetic data, a setting where
# STEM-Net's offline lead is wide enough for the replay to confirm (the config says why).
AB_CONFIG    := model-export/configs/ab.yaml
AB_DATA      := $(BUILD)/data/ab
AB_MODELS    := $(BUILD)/ab-models
AB_ARMS      := stem_net mmoe

# Incremental training (model-export/docs/fresh-embeddings.md): a bundle trained on days 1..DELTA_BASE_DAYS of day-sliced
# synthetic data, and delta 1 trained on the next day alone, with ads and users the bundle has never seen. The day's
# data (DELTA_DAY_DATA/test.parquet) is what an end-to-end test sends requests from. Seconds per step.
DELTA_CONFIG    := model-export/configs/delta.yaml
DELTA_BASE_DAYS := 3
DELTA_DAY       := 4
DELTA_DATA      := $(BUILD)/data/delta
DELTA_BASE_DATA := $(DELTA_DATA)/days-1-$(DELTA_BASE_DAYS)
DELTA_DAY_DATA  := $(DELTA_DATA)/day-$(DELTA_DAY)
DELTA_E2E       := $(BUILD)/delta-e2e

# Performance (docs/performance.md): a paper-sized STEM-Net (experts 512-512-512) trained briefly, for speed only.
BENCH_CONFIG := model-export/configs/bench-paper.yaml
BENCH_DATA   := $(BUILD)/data/bench-paper
BENCH_BUNDLE := $(BUILD)/bench-bundles/stem-net
JMH_ARGS     ?= -prof gc
LOAD_ARGS    ?=
# The two-arm A/B load test: AB_BUNDLE (FP32) as stem-net against its int8 quantization as stem-net-int8, split
# 50/50 by user (AB_EXPERIMENT), in a model repository of their own. AB_TEST: the test split AB_BUNDLE was trained
# on, for the int8 accuracy check (e.g. AB_BUNDLE=build/bench-bundles/stem-net AB_TEST=build/data/bench-paper/test.parquet).
AB_BUNDLE     ?= $(RUN_BUNDLE)
AB_TEST       ?= $(RUN_DATA)/test.parquet
AB_EXPERIMENT := load-test/experiments/fp32-vs-int8.yaml
AB_REPOSITORY := $(BUILD)/ab-bundles

.PHONY: run test venv bundle test-bundle test-int8-bundle test-models ab-models delta-e2e service-jar clean bench-bundle \
        bench serving-overhead warmup-timeline load-test load-test-ab quality-bar overload shadow-cost

run: $(RUN_BUNDLE)/manifest.json $(SERVICE_JAR)
	java -jar $(SERVICE_JAR) --stem.models.repository=$(abspath $(BUILD)/bundles)

test: $(TEST_BUNDLE)/manifest.json $(TEST_INT8_BUNDLE)/manifest.json test-models ab-models delta-e2e
	scripts/install-test-deps.sh
	$(PYTHON) -m pytest -q model-export/tests
	$(MVN) verify -Dstem.test.bundle-dir=$(abspath $(TEST_BUNDLE)) -Dstem.test.architectures-dir=$(abspath $(TEST_MODELS)) \
	    -Dstem.test.int8-bundle-dir=$(abspath $(TEST_INT8_BUNDLE))
	$(PYTHON) scripts/ab-e2e.py --models $(abspath $(AB_MODELS)) --data $(AB_DATA) --jar $(SERVICE_JAR) \
	    --require-advantage
	$(PYTHON) scripts/delta-e2e.py --base $(abspath $(DELTA_E2E))/base --delta $(abspath $(DELTA_E2E))/delta-1 \
	    --jar $(SERVICE_JAR)

venv: $(VENV)/.installed
bundle: $(RUN_BUNDLE)/manifest.json
test-bundle: $(TEST_BUNDLE)/manifest.json
test-int8-bundle: $(TEST_INT8_BUNDLE)/manifest.json
test-models: $(foreach a,$(ARCHITECTURES),$(TEST_MODELS)/$(a)/manifest.json) $(TEST_MODELS)/stem_net_2_ranks/manifest.json \
             $(TEST_MODELS)/stem_net_user_data/manifest.json
ab-models: $(foreach a,$(AB_ARMS),$(AB_MODELS)/$(a)/manifest.json)
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

$(TEST_INT8_BUNDLE)/manifest.json: $(TEST_BUNDLE)/manifest.json
	$(PYTHON) -m stemnet quantize --bundle $(TEST_BUNDLE) --test $(TEST_DATA)/test.parquet --out $(TEST_INT8_BUNDLE) \
	    --model-name stem-net-int8 --max-auc-drop 0.01

# The tiny test data (made with the test bundle) trained once per architecture.
$(TEST_MODELS)/%/manifest.json: $(TEST_BUNDLE)/manifest.json
	$(PYTHON) -m stemnet train --config $(TEST_CONFIG) --data $(TEST_DATA) --bundle-out $(TEST_MODELS)/$* \
	    --architecture $* --model-name $*

# STEM-Net trained data-parallel by 2 ranks (torchrun, gloo): the contract test serves it like the others.
$(TEST_MODELS)/stem_net_2_ranks/manifest.json: $(TEST_BUNDLE)/manifest.json
	OMP_NUM_THREADS=1 $(VENV)/bin/torchrun --standalone --nproc_per_node=2 -m stemnet train --config $(TEST_CONFIG) \
	    --data $(TEST_DATA) --bundle-out $(TEST_MODELS)/stem_net_2_ranks --model-name stem_net_2_ranks

# STEM-Net on a user's own data as it comes (pre-split CSVs, own column names, a context field, missing values as a
# category): prepare, train, and the contract test serves it with contextFeatures and left-out features.
USER_DATA_RAW := $(BUILD)/data/user-data-raw
USER_DATA     := $(BUILD)/data/user-data
$(TEST_MODELS)/stem_net_user_data/manifest.json: $(TEST_BUNDLE)/manifest.json
	$(PYTHON) model-export/scripts/user_data_example.py --from $(TEST_DATA) --out $(USER_DATA_RAW)
	$(PYTHON) -m stemnet prepare --dataset model-export/configs/datasets/user-data-example.yaml --source $(USER_DATA_RAW) \
	    --out $(USER_DATA) --min-count 3
	$(PYTHON) -m stemnet train --config $(TEST_CONFIG) --data $(USER_DATA) --bundle-out $(TEST_MODELS)/stem_net_user_data \
	    --model-name stem_net_user_data

# schema.yaml is the last file `generate` writes.
$(AB_DATA)/schema.yaml: $(VENV)/.installed $(PY_SOURCES)
	$(PYTHON) -m stemnet generate --config $(AB_CONFIG) --out $(AB_DATA)

$(AB_MODELS)/%/manifest.json: $(AB_DATA)/schema.yaml
	$(PYTHON) -m stemnet train --config $(AB_CONFIG) --data $(AB_DATA) --bundle-out $(AB_MODELS)/$* \
	    --architecture $* --model-name $*

# The delta end-to-end inputs: $(DELTA_E2E)/base (model stem-net), $(DELTA_E2E)/delta-1 (sequence 1 of that base),
# and the day's data $(DELTA_DAY_DATA); scripts/delta-e2e.py serves them from Redis in `make test`.
delta-e2e: $(DELTA_E2E)/delta-1/delta.json $(DELTA_DAY_DATA)/schema.yaml

$(DELTA_BASE_DATA)/schema.yaml: $(VENV)/.installed $(PY_SOURCES)
	$(PYTHON) -m stemnet generate --config $(DELTA_CONFIG) --days 1-$(DELTA_BASE_DAYS) --out $(DELTA_BASE_DATA)

$(DELTA_DAY_DATA)/schema.yaml: $(VENV)/.installed $(PY_SOURCES)
	$(PYTHON) -m stemnet generate --config $(DELTA_CONFIG) --days $(DELTA_DAY) --out $(DELTA_DAY_DATA)

$(DELTA_E2E)/base/manifest.json: $(DELTA_BASE_DATA)/schema.yaml
	$(PYTHON) -m stemnet train --config $(DELTA_CONFIG) --data $(DELTA_BASE_DATA) --bundle-out $(DELTA_E2E)/base \
	    --model-name stem-net

# A delta names its base's version: a retrained base makes a new delta.
$(DELTA_E2E)/delta-1/delta.json: $(DELTA_E2E)/base/manifest.json $(DELTA_DAY_DATA)/schema.yaml
	$(PYTHON) -m stemnet train --config $(DELTA_CONFIG) --data $(DELTA_DAY_DATA) --from-bundle $(DELTA_E2E)/base \
	    --delta-out $(DELTA_E2E)/delta-1

$(BENCH_BUNDLE)/manifest.json: $(VENV)/.installed $(PY_SOURCES)
	$(call train_bundle,$(BENCH_CONFIG),$(BENCH_DATA),$(BENCH_BUNDLE))

bench-bundle: $(BENCH_BUNDLE)/manifest.json

# Gatling against localhost:8080: uses a service already running (`make run` in another terminal), otherwise
# starts one on the embedded default bundle and stops it afterwards. Settings: LOAD_ARGS='-Dstem.rate=30 ...'.
load-test: $(RUN_BUNDLE)/manifest.json $(SERVICE_JAR)
	scripts/with-service.sh --reuse $(BUILD)/bundles \
	    $(MVN) -f load-test/pom.xml gatling:test -Dstem.bundle.dir=$(abspath $(RUN_BUNDLE)) $(LOAD_ARGS)

# Offered load at 1x, 2x and 4x saturation with hey over loopback, on a service of its own serving the `make run`
# model (ports 8080/8081 free): status counts and p50/p99 of accepted and refused requests per level.
# Settings: OVERLOAD_ARGS='--candidates 20 --seconds 30', SERVICE_OPTS='--stem.scoring.max-concurrent=4'.
OVERLOAD_ARGS ?=
overload: $(RUN_BUNDLE)/manifest.json $(SERVICE_JAR)
	scripts/install-test-deps.sh
	scripts/with-service.sh $(BUILD)/bundles \
	    $(PYTHON) scripts/perf/overload.py --bundle $(RUN_BUNDLE) $(OVERLOAD_ARGS)

# What a 100% shadow of the same model costs the served traffic below saturation (phases without and with it
# alternating on one service), and the shadows' fate at 1x-4x saturation: scripts/perf/shadow_cost.py.
SHADOW_COST_DIR := $(BUILD)/shadow-cost
shadow-cost: $(RUN_BUNDLE)/manifest.json $(SERVICE_JAR)
	scripts/install-test-deps.sh
	mkdir -p $(SHADOW_COST_DIR) && printf 'shadows: [{name: same-model, model: stem-net, salt: s, buckets: 1, percent: 100}]\n' \
	    > $(SHADOW_COST_DIR)/experiments.yaml
	SERVICE_OPTS="--stem.experiments.config=$(abspath $(SHADOW_COST_DIR))/experiments.yaml \
	    --stem.admin.token=shadow-cost $${SERVICE_OPTS:-}" scripts/with-service.sh $(BUILD)/bundles \
	    $(PYTHON) scripts/perf/shadow_cost.py --bundle $(RUN_BUNDLE) --experiment-file $(SHADOW_COST_DIR)/experiments.yaml \
	    --admin-token shadow-cost $(SHADOW_COST_ARGS)

# The two-arm A/B load test: a service of its own (ports 8080/8081 free) serving AB_BUNDLE and its int8 copy under
# AB_EXPERIMENT; Gatling fails a response that carries no arm, then ab_arm_metrics.py prints the service's per-arm
# request counts and latency percentiles and fails if an arm got no request. Settings: LOAD_ARGS as for load-test.
load-test-ab: $(AB_BUNDLE)/manifest.json $(SERVICE_JAR)
	rm -rf $(AB_REPOSITORY) && mkdir -p $(AB_REPOSITORY)
	cp -r $(AB_BUNDLE) $(AB_REPOSITORY)/stem-net
	$(PYTHON) -m stemnet quantize --bundle $(AB_BUNDLE) --test $(AB_TEST) --out $(AB_REPOSITORY)/stem-net-int8 \
	    --model-name stem-net-int8
	SERVICE_OPTS="--stem.experiments.config=$(abspath $(AB_EXPERIMENT)) $${SERVICE_OPTS:-}" \
	scripts/with-service.sh $(AB_REPOSITORY) bash -c '\
	    $(MVN) -f load-test/pom.xml gatling:test -Dstem.bundle.dir=$(abspath $(AB_BUNDLE)) \
	        -Dstem.experiment=$(abspath $(AB_EXPERIMENT)) $(LOAD_ARGS); status=$$?; \
	    $(PYTHON) scripts/perf/ab_arm_metrics.py --experiment $(AB_EXPERIMENT) || status=1; exit $$status'

# The classpath goes in an @argfile: ONNX Runtime 1.29's native start-up crashes (SIGSEGV) when the JVM's
# command line is long (~12 kB of -cp), and JMH forks get theirs as a jar (jmh.separateClasspathJAR).
define write_bench_args
	$(MVN) -q -pl service test-compile dependency:build-classpath -Dmdep.includeScope=test \
	    -Dmdep.outputFile=target/bench-classpath.txt
	echo "-cp service/target/test-classes:service/target/classes:$$(cat service/target/bench-classpath.txt)" \
	    > service/target/bench.args
endef

# JMH hot-path benchmarks on the paper-sized bundle, with the GC profiler by default (JMH_ARGS='-h' for options).
bench: $(BENCH_BUNDLE)/manifest.json
	$(write_bench_args)
	java @service/target/bench.args -Djmh.separateClasspathJAR=true \
	    -Dstem.bench.bundle-dir=$(abspath $(BENCH_BUNDLE)) org.openjdk.jmh.Main $(JMH_ARGS)

# (a) bare ONNX Runtime vs (b) full HTTP request (driven by wrk) vs (c) in-process Scorer, one run; starts its own service.
serving-overhead: $(BENCH_BUNDLE)/manifest.json $(SERVICE_JAR)
	scripts/install-test-deps.sh
	$(write_bench_args)
	scripts/with-service.sh $(BUILD)/bench-bundles \
	    java @service/target/bench.args \
	    -Dstem.bench.bundle-dir=$(abspath $(BENCH_BUNDLE)) $(BENCH_ARGS) dev.stemnet.service.scoring.ServingOverhead

# The service's CPU per request in 10 s windows from the moment it turns ready, at a fixed 25 requests/s: how far the
# first minute is from the steady state, with the warm-up of stem.warmup.* (SERVICE_OPTS=--stem.warmup.requests=0:
# without it). Starts its own service; settings in WarmupTimeline's javadoc, passed as BENCH_ARGS.
warmup-timeline: $(BENCH_BUNDLE)/manifest.json $(SERVICE_JAR)
	$(write_bench_args)
	scripts/with-service.sh --at-start $(BUILD)/bench-bundles \
	    java @service/target/bench.args \
	    -Dstem.bench.bundle-dir=$(abspath $(BENCH_BUNDLE)) $(BENCH_ARGS) dev.stemnet.service.scoring.WarmupTimeline

# The trainer's quality bar (model-export/docs/history/benchmarks-2026-11.md, section 1): Single-Task, MMoE, PLE and STEM-Net x 3 seeds
# on each bar data set, every model at its own expert layout chosen on validation; one torch thread, as documented.
# About 11 minutes a data set on 2 cores (`make -j2 quality-bar` runs two side by side).
QUALITY_BAR_SETS := benchmark benchmark-v3 benchmark-sparse-pay
quality-bar: $(foreach s,$(QUALITY_BAR_SETS),$(BUILD)/quality-bar/$(s)/report.md)

$(BUILD)/quality-bar/%/report.md: model-export/configs/%.yaml $(VENV)/.installed
	$(PYTHON) -m stemnet generate --config $< --out $(BUILD)/data/quality-bar/$*
	OMP_NUM_THREADS=1 $(PYTHON) -m stemnet benchmark --config $< --data $(BUILD)/data/quality-bar/$* --out $(@D) \
	    --architectures single_task,mmoe,ple,stem_net --seeds 0,1,2 --task-pair follow,pay \
	    --grid 'model.num_shared_experts=[1, 2, 4, 8]'

$(SERVICE_JAR): $(JAVA_SOURCES)
	$(MVN) package -DskipTests

clean:
	rm -rf $(BUILD) $(VENV)
	$(MVN) clean
