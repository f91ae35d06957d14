# Two entry points on a fresh Debian machine, as root: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
APT_PACKAGES := python3 python3-venv python3-dev gcc libsane-dev sane-utils libzbar0 \
	tesseract-ocr tesseract-ocr-vie tesseract-ocr-osd fonts-dejavu-core poppler-utils chromium \
	unpaper libjpeg-turbo-progs g++ pkg-config libtesseract-dev libleptonica-dev postgresql nginx
# postgresql: the province centre's catalog (station centre serve); the tests start a throwaway cluster of
# their own from its programs (tests/centre/conftest.py), never the machine's.
# nginx: the TLS proxy in front of the centre (deploy/nginx-centre.conf); tests/centre/test_nginx.py runs that
# file with a nginx of its own, never the machine's service.
# tesserocr is compiled against Debian's libtesseract (--no-binary), so the reader in the workers and the
# `tesseract` program are one version: the PyPI wheel's own 5.5.4 drops a clean "Số: 4" line under
# --psm 6 that Debian's 5.3.0 reads (bench/results-ocr.md).
PIP_TESSEROCR := --no-binary tesserocr
# OCRmyPDF's own needs (bench only): PDF/A (Ghostscript), -O 3 (pngquant); jbig2enc is not in Debian.
BENCH_APT_PACKAGES := ghostscript pngquant
BENCH_ARGS ?=
SAMPLE := out/sample-book/KS.2017.01
SAMPLE_OUT := out/sample
export OMP_THREAD_LIMIT := 1

.PHONY: setup system venv run test bench soak clean

setup: system $(VENV)/.installed

# Debian packages: installed only when one is missing, so reruns stay fast.
system:
	@installed=$$(dpkg-query -W -f='$${Status}\n' $(APT_PACKAGES) 2>/dev/null | grep -c 'install ok installed'); \
	if [ "$$installed" -ne "$(words $(APT_PACKAGES))" ]; then \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(APT_PACKAGES); \
	fi

$(VENV)/.installed: pyproject.toml
	[ -x $(VENV)/bin/python ] || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet $(PIP_TESSEROCR) -e '.[test]'
	touch $@

# The main job on the sample book (6 entries, rendered and degraded deterministically from seed 2017 by
# bench/make_sample.py): register → separator sheets → process → status → export.
$(SAMPLE)/register.xlsx: bench/corpus.py bench/make_sample.py
	$(VENV)/bin/python -m bench.make_sample --out $(SAMPLE)

run: setup $(SAMPLE)/register.xlsx
	rm -rf $(SAMPLE_OUT) && mkdir -p $(SAMPLE_OUT)
	export STATION_HOME=$(CURDIR)/$(SAMPLE_OUT)/home; \
	$(VENV)/bin/station book add KS.2017.01 --register $(SAMPLE)/register.xlsx && \
	$(VENV)/bin/station separators KS.2017.01 -o $(SAMPLE_OUT)/separators.pdf && \
	$(VENV)/bin/station process $(SAMPLE)/captures && \
	$(VENV)/bin/station status KS.2017.01 && \
	$(VENV)/bin/station export KS.2017.01 -o $(SAMPLE_OUT)
	@echo "Kết quả / output: $(SAMPLE_OUT)/KS.2017.01.zip và $(SAMPLE_OUT)/KS.2017.01.xlsx"

test: setup
	$(VENV)/bin/pytest -q

# The station against OCRmyPDF, an unpaper + img2pdf script and the floor, on the same pages
# (bench/compare.py): writes bench/results.md and bench/plots/ (~18 min). `make bench BENCH_ARGS=--quick`: <3 min.
bench: setup $(VENV)/.bench-installed
	@installed=$$(dpkg-query -W -f='$${Status}\n' $(BENCH_APT_PACKAGES) 2>/dev/null | grep -c 'install ok installed'); \
	if [ "$$installed" -ne "$(words $(BENCH_APT_PACKAGES))" ]; then \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(BENCH_APT_PACKAGES); \
	fi
	$(VENV)/bin/python -m bench.compare $(BENCH_ARGS)

$(VENV)/.bench-installed: pyproject.toml $(VENV)/.installed
	$(VENV)/bin/pip install --quiet $(PIP_TESSEROCR) -e '.[test,bench]'
	touch $@

# The long crash campaign (bench/crash_campaign.py, docs/reliability.md): kill -9 at every pass of each
# kill point and at random moments, a disk-full sweep; about an hour on two cores. SOAK_ARGS=--quick: CI's handful.
SOAK_ARGS ?=
soak: setup
	$(VENV)/bin/python -m bench.crash_campaign --work out/crash-campaign --out out/crash-campaign/summary.json $(SOAK_ARGS)

clean:
	rm -rf out .pytest_cache
