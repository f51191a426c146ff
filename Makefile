# The README's two commands: `make render STACK=prod` and `make test`. Both create .venv on first use.
SHELL := /bin/bash
# Debian's interpreter when present and new enough (3.11+): a venv made from it is executable by
# the unprivileged user the live tests run the server as (the default python3 may live under /root).
PY311 = import sys; sys.exit(sys.version_info < (3, 11))
PYTHON ?= $(shell /usr/bin/python3 -c '$(PY311)' 2>/dev/null && echo /usr/bin/python3 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STACK ?= prod
OUT ?= build/$(STACK)
CONFIG ?=

.PHONY: setup render test lint clean reference

# setuptools' editable build prints an "Editable installation" banner for the package (-e ./components), which
# `--quiet` does not silence: that one warning is filtered, nothing else.
QUIET_BUILD = PYTHONWARNINGS="ignore:Editable installation"
PIP_INSTALL = $(QUIET_BUILD) $(BIN)/python -m pip install --quiet

$(BIN)/.installed: requirements.txt requirements-dev.txt components/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) --upgrade pip
	$(PIP_INSTALL) -r requirements-dev.txt
	touch $@

setup: $(BIN)/.installed

render: setup
	$(BIN)/python -m hayhooks_pulumi.render --stack $(STACK) --out $(OUT) $(if $(CONFIG),--config $(CONFIG))

# Renders, then checks the render: strict Kubernetes schemas, the CRDs the package ships (CRDS=<dir>
# for others), the policy pack's rules (policies/). STRICT=1 (CI gates of production stacks) fails on every
# warning too: the placeholder digest, advisory violations. One line, so make echoes it without a `\`.
CRDS ?=
POLICY_CONFIG ?=
STRICT ?=
CHECK_ARGS = --stack $(STACK) --out $(OUT) $(if $(CRDS),--crd-dir $(CRDS)) $(if $(CONFIG),--config $(CONFIG)) \
	$(if $(POLICY_CONFIG),--policy-config $(POLICY_CONFIG)) $(if $(filter-out 0,$(STRICT)),--strict)
.PHONY: check
check: setup
	$(BIN)/python -m hayhooks_pulumi.policy.check $(strip $(CHECK_ARGS))

# What a change does to a stack's render: renders it at BASE (a temporary git worktree) and in the working tree and
# prints the changes resource by resource and field by field, secrets redacted. The command exits 0 (no change),
# 1 (changes) or 2 (error); through make, 1 and 2 are make's "Error 1" and "Error 2". FORMAT=markdown: for a PR.
BASE ?= main
FORMAT ?= text
.PHONY: diff
diff: setup
	$(BIN)/python -m hayhooks_pulumi.render.diff --stack $(STACK) --base $(BASE) --format $(FORMAT)$(if $(CONFIG), --config $(CONFIG))

# Regenerates the packaged CRD schemas (components/hayhooks_pulumi/crds) from the upstream files that
# .github/crds.lock pins: UPSTREAM=<folder of those files>, or without it fetched from upstream.
UPSTREAM ?=
.PHONY: crds
crds: setup
	$(if $(UPSTREAM),,.github/fetch-crds.sh build/upstream-crds)
	$(BIN)/python -m hayhooks_pulumi.crds.generate --lock .github/crds.lock $(or $(UPSTREAM),build/upstream-crds)

# ruff (lint and format) and mypy over the package (settings in pyproject.toml).
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: setup lint host-packages toolchain images e2e-venv
	$(BIN)/python -m pytest

# The interpreter the end-to-end tests run the programs, the policy pack and the component plugin with:
# requirements.txt with the Kubernetes SDK at the version of the provider the toolchain builds
# (e2e/versions.env), so that SDK and provider match exactly, and pulumi-policy for the pack.
E2E_VENV := .venv-e2e
E2E_KUBERNETES = $(shell sed -n 's/^PULUMI_KUBERNETES_VERSION=//p' e2e/versions.env)
.PHONY: e2e-venv
e2e-venv: $(E2E_VENV)/.installed

$(E2E_VENV)/.installed: requirements.txt requirements-dev.txt e2e/versions.env components/pyproject.toml
	rm -rf $(E2E_VENV) && $(PYTHON) -m venv $(E2E_VENV)
	{ sed 's/^pulumi-kubernetes==.*/pulumi-kubernetes==$(E2E_KUBERNETES)/' requirements.txt; \
	  grep '^pulumi-policy==' requirements-dev.txt; } >$(E2E_VENV)/requirements.txt
	$(QUIET_BUILD) $(E2E_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(QUIET_BUILD) $(E2E_VENV)/bin/python -m pip install --quiet -r $(E2E_VENV)/requirements.txt
	touch $@

# The real programs the end-to-end tests (tests/e2e) run, built from Go modules into a cache outside
# the repository, only what is missing: see e2e/toolchain.sh and e2e/versions.env.
.PHONY: toolchain
toolchain:
	e2e/toolchain.sh build

# The local Hayhooks image (deepset's recipe, rebuilt from Debian and PyPI) and the node's pause image, built
# once into ~/.cache/hayhooks-pulumi/images: e2e/image.py.
.PHONY: images
images: host-packages
	$(PYTHON) e2e/image.py build >/dev/null
	$(PYTHON) e2e/image.py pause >/dev/null

# A local cluster on 127.0.0.1 (etcd, kube-apiserver, controller-manager, scheduler, kwok's node and a real
# node: kubelet, kube-proxy, containerd) with the packaged CRDs installed; prints the export lines to use it.
# `make cluster-down` stops it and puts the host back as it was.
.PHONY: cluster cluster-down
cluster: e2e-venv toolchain images
	$(PYTHON) e2e/cluster.py up
cluster-down:
	$(PYTHON) e2e/cluster.py down

# What the live and end-to-end tests run for real from Debian's packages (nginx, the Docker engine, containerd,
# runc, CNI plugins, iptables, debootstrap): apt-get as root on Debian/Ubuntu, else a message naming them.
.PHONY: host-packages
host-packages:
	e2e/packages.sh

clean:
	rm -rf build .pytest_cache

# Writes docs/reference.md whole from the models (hayhooks_pulumi.reference.write_reference);
# tests/project/test_reference_doc.py fails while the committed file differs.
reference: setup
	$(BIN)/python -m hayhooks_pulumi.reference --out docs/reference.md

# The policy pack's own virtualenv (PulumiPolicy.yaml: virtualenv: venv), which `pulumi preview
# --policy-pack policies` needs and does not create; same as CI's step (and `pulumi install` in policies/).
.PHONY: policy-venv
policy-venv: policies/venv/.installed

policies/venv/.installed: policies/requirements.txt components/pyproject.toml
	cd policies && $(PYTHON) -m venv venv && $(QUIET_BUILD) venv/bin/python -m pip install --quiet -r requirements.txt
	touch $@

# Renders generated programs of 1, 10 and 50 services: wall time, peak memory, marginal cost per service;
# fails when a service costs more the more there are (the speed check the tests leave to it). Then the engine's
# part (about 10 minutes): `pulumi preview` and `up` of the prod settings and of 10 services on a local cluster,
# each beside the SDK floor; fails above 1.2x the floor.
.PHONY: bench
bench: setup toolchain e2e-venv
	$(BIN)/python benchmarks/bench.py --check
	$(BIN)/python benchmarks/engine_bench.py --check

# Regenerates components/hayhooks_pulumi/server/releases.json, the settings of each Hayhooks release the package
# knows, from each release's own settings class: installs them into cached scratch venvs outside the repository
# (~/.cache/hayhooks-pulumi/hayhooks-releases). VERSIONS="2.1.0 2.0.2" for others than the default selection.
VERSIONS ?=
.PHONY: server-settings
server-settings: setup
	$(BIN)/python -m hayhooks_pulumi.server.generate $(if $(VERSIONS),--versions $(VERSIONS))

# After an interrupted `pulumi up` (a CI runner killed): unlock the stack and adopt or clear what it left pending, so
# that the next `pulumi up` converges (hayhooks_pulumi.recover; the README's "When an up was interrupted").
.PHONY: recover
recover: setup
	$(BIN)/python -m hayhooks_pulumi.recover --stack $(STACK)

# Regenerates from the models the component plugin's schema types and components/schema.json, and the JSON Schema
# of stack files (components/hayhooks_pulumi/stack.schema.json); commit all three.
.PHONY: schema
schema: setup
	$(BIN)/python -m hayhooks_pulumi.plugin.codegen
	$(BIN)/python -m hayhooks_pulumi.stack_schema
