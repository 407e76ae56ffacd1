# SPDX-License-Identifier: Apache-2.0
#
# One entry point: deps, all, test, demo, bench, fuzz, lint, format-check,
# install, clean.  Generated files live under $(O) only.  V=1 shows commands.

ARCH     ?= x86
CC       ?= gcc
CLANG    ?= clang
BPFTOOL  ?= $(shell command -v bpftool 2>/dev/null || echo /usr/sbin/bpftool)
PREFIX   ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
MANDIR      ?= $(PREFIX)/share/man
DOCDIR      ?= $(PREFIX)/share/doc/ctrwatch
UNITDIR     ?= $(PREFIX)/lib/systemd/system
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/site-functions
SYSCONFDIR  ?= /etc

ifeq ($(SANITIZE),1)
  O ?= build-san
else
  O ?= build
endif

ifeq ($(V),1)
  Q :=
  msg :=
else
  Q := @
  msg = @printf '  %-9s %s\n' "$(1)" "$(2)";
endif

# Every user-space module is a top-level directory with one header.
MODULES  := lib spec cli runtime image network containers agent exporters policy dns tcp trace
SRCS     := $(wildcard $(addsuffix /*.c,$(MODULES)))
OBJS     := $(SRCS:%.c=$(O)/%.o)
LIB_OBJS := $(filter-out $(O)/cli/%,$(OBJS))

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(BPF_SRCS:bpf/%.bpf.c=$(O)/bpf/%.bpf.o)
SKELS    := $(BPF_SRCS:bpf/%.bpf.c=$(O)/bpf/%.skel.h)

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/%.c=$(O)/tests/%)
HELPER_SRCS := $(wildcard tests/helpers/*.c)
HELPER_BINS := $(HELPER_SRCS:tests/helpers/%.c=$(O)/tests/helpers/%)

# Linked: what every command needs, statically where Debian ships the
# archive (each shared object costs every start its loading and symbol
# lookups: `ctrwatch version` 2.3 -> 1.6 ms).  Loaded on first use through
# the <module>/*_dl.c wrappers (see lib.h): the heavy ones, headers only here.
PKGS_LINKED := libbpf libelf zlib libseccomp jansson yaml-0.1 libmnl
PKGS_DLOPEN := libmicrohttpd libarchive libnftables libcrypto
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS_LINKED) $(PKGS_DLOPEN) 2>/dev/null)
PKG_LIBS   := -Wl,-Bstatic -lbpf -lelf -lz -lseccomp -ljansson -lyaml -Wl,-Bdynamic -lmnl

GIT_REV := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)

WARN    := -Wall -Wextra -Werror -Wmissing-field-initializers -Wno-unused-parameter \
           -Wno-format-truncation
CFLAGS  ?= -g -O2
CFLAGS  += -std=gnu11 $(WARN) -MMD -MP -D_GNU_SOURCE -I$(O)/bpf -Ibpf $(PKG_CFLAGS) \
           -fstack-protector-strong -fno-strict-aliasing
LDFLAGS += -Wl,-z,relro,-z,now
LDLIBS  += $(PKG_LIBS) -lpthread -lm

ifeq ($(SANITIZE),1)
  CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
  LDFLAGS += -fsanitize=address,undefined
else
  CFLAGS  += -D_FORTIFY_SOURCE=2
endif

BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -D__bpf__ -Wall -Werror -MMD -MP \
              -Ibpf -Ibpf/vmlinux/$(ARCH)

.PHONY: all deps test check unit integration demo bench bench-readme metrics-readme fuzz lint format format-check \
        install uninstall clean vmlinux oci-image dashboard dashboard-picture man completion
.DELETE_ON_ERROR:
.SECONDARY:

all: $(O)/ctrwatch $(HELPER_BINS) $(O)/doc/.stamp
ifeq ($(O),build)
	$(Q)ln -sf $(O)/ctrwatch ctrwatch
endif

$(O)/ctrwatch: $(OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Skeletons must exist before any user object that includes one is built;
# after that, -MMD tracks exactly who includes what.
$(O)/%.o: %.c | $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

# Man pages (one per command) and bash/zsh completion, generated from the
# built binary's own --help texts, so that they say what --help says.
MAN_DATE := $(shell git log -1 --format=%cs 2>/dev/null || date +%F)
$(O)/doc/.stamp: $(O)/ctrwatch scripts/helpgen.py
	$(call msg,GEN-DOC,$(O)/doc)
	$(Q)rm -rf $(O)/doc && mkdir -p $(O)/doc
	$(Q)scripts/helpgen.py man $(O)/ctrwatch $(O)/doc/man --date $(MAN_DATE) >/dev/null
	$(Q)scripts/helpgen.py bash $(O)/ctrwatch $(O)/doc/ctrwatch.bash
	$(Q)scripts/helpgen.py zsh $(O)/ctrwatch $(O)/doc/_ctrwatch
	$(Q)touch $@

man completion: $(O)/doc/.stamp

$(O)/cli/cmd_version.o: CFLAGS += -DCTW_GIT_REV='"$(GIT_REV)"'
$(O)/agent/self_metrics.o: CFLAGS += -DCTW_GIT_REV='"$(GIT_REV)"'

$(O)/bpf/%.bpf.o: bpf/%.bpf.c
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(O)/bpf/%.skel.h: $(O)/bpf/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@

# The container-side stub (runtime/stub/): static, no libc, a few KB, built
# into runtime/stub.o (.incbin) and run from a sealed memfd as a container's
# init and as its command's last step (runtime/stub.c).
STUB_CFLAGS := -std=gnu11 -Os -Wall -Wextra -Werror -static -nostdlib -no-pie -fno-pie \
               -ffreestanding -fno-builtin -fno-tree-loop-distribute-patterns \
               -fno-stack-protector -fno-asynchronous-unwind-tables -fcf-protection=none \
               -Wl,--build-id=none -s
define stub_rules
$(1)/runtime/ctrwatch-stub: runtime/stub/ctrwatch-stub.c runtime/stub/stub.h
	$$(call msg,CC-STUB,$$@)
	$$(Q)mkdir -p $$(@D)
	$$(Q)$$(CC) $$(STUB_CFLAGS) -o $$@ $$<
$(1)/runtime/stub.o: $(1)/runtime/ctrwatch-stub
endef
$(eval $(call stub_rules,$(O)))
$(O)/runtime/stub.o: CFLAGS += -DCTW_STUB_BIN='"$(O)/runtime/ctrwatch-stub"'

# ---- tests ----
$(O)/tests/unit/%: tests/unit/%.c $(LIB_OBJS)
	$(call msg,CC-TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(LIB_OBJS) $(LDLIBS) -lcmocka

# (the CLI is not in LIB_OBJS: this test compiles the file it tests in)
$(O)/tests/unit/test_options: cli/options.c cli/options.h cli/cmd.h

# Test payloads run inside containers: static, so any rootfs can run them.
$(O)/tests/helpers/%: tests/helpers/%.c
	$(call msg,CC-STATIC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -std=gnu11 -O2 -Wall -Wextra -Werror -static -o $@ $<

unit: $(UNIT_BINS)
	$(Q)tests/run.sh --unit-only $(O)

# `make test`: unit, integration and e2e tests; last line "N passed, N failed".
test check: all $(UNIT_BINS)
	$(Q)tests/run.sh $(O)

integration: all
	$(Q)tests/run.sh --integration-only $(O)

deps:
	$(Q)scripts/deps.sh

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/demo.sh

# Writes docs/bench/latest.txt and regenerates the README's performance
# table from it (bench-readme); BENCH=REGEX runs some benchmarks only.
bench: all
	$(Q)tests/bench/run.sh $(O)

bench-readme:
	$(Q)python3 scripts/bench-readme.py docs/bench/latest.txt README.adoc

# The README's metrics table, from the agent's metric family tables
# (`ctrwatch agent --list-metrics`); tests/e2e/01-cli.sh fails when they differ.
metrics-readme: $(O)/ctrwatch
	$(Q)python3 scripts/metrics-readme.py $(O)/ctrwatch README.adoc

# ---- fuzzing: clang + libFuzzer + ASan/UBSan, a separate tree ----
FO := build-fuzz
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(FO)/%)
FUZZ_LIB_SRCS := $(filter-out cli/%,$(SRCS))
FUZZ_LIB_OBJS := $(FUZZ_LIB_SRCS:%.c=$(FO)/%.o)
FUZZ_CFLAGS := -g -O1 -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter \
               -Wno-missing-field-initializers \
               -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined \
               -I$(O)/bpf -Ibpf $(PKG_CFLAGS)
FUZZ_SECONDS ?= 60

$(FO)/%.o: %.c | $(SKELS)
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

$(eval $(call stub_rules,$(FO)))
$(FO)/runtime/stub.o: FUZZ_CFLAGS += -DCTW_STUB_BIN='"$(FO)/runtime/ctrwatch-stub"'

$(FO)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB_OBJS)
	$(call msg,LINK-FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

fuzz: $(FUZZ_BINS)
	$(Q)tests/fuzz/run.sh $(FO) $(FUZZ_SECONDS)

# ---- quality ----
C_FILES  := $(SRCS) $(wildcard */*.h bpf/*.bpf.c bpf/*.h tests/unit/*.c tests/helpers/*.c \
            tests/fuzz/*.c tests/bench/*.c runtime/stub/*.c runtime/stub/*.h)
SH_FILES := $(wildcard .ci/run scripts/*.sh tests/*.sh tests/integration/*.sh \
            tests/e2e/*.sh tests/bench/*.sh tests/fuzz/*.sh)

format:
	$(Q)clang-format -i $(C_FILES)

format-check:
	$(Q)clang-format --dry-run --Werror $(C_FILES) && echo "format-check: ok"

lint: all
	$(Q)cppcheck --quiet --error-exitcode=1 --enable=warning,portability --inline-suppr \
		--std=c11 -D__GNUC__ -D_GNU_SOURCE --suppress=missingIncludeSystem \
		-I lib $(SRCS)
	$(Q)shellcheck -x -S warning $(SH_FILES)
	@echo "lint: ok"

vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > bpf/vmlinux/$(ARCH)/vmlinux.h

# The binary, its man pages and completion, the systemd unit (with these
# paths) and the example agent config (also as $(SYSCONFDIR)/ctrwatch/agent.yaml
# when there is none yet: an existing one is never overwritten).
install: all
	install -D -m 0755 $(O)/ctrwatch $(DESTDIR)$(BINDIR)/ctrwatch
	ln -sf ctrwatch $(DESTDIR)$(BINDIR)/ctrwatch-runc
	install -d $(DESTDIR)$(MANDIR)/man1
	install -m 0644 $(O)/doc/man/*.1 $(DESTDIR)$(MANDIR)/man1/
	install -D -m 0644 $(O)/doc/ctrwatch.bash $(DESTDIR)$(BASHCOMPDIR)/ctrwatch
	install -D -m 0644 $(O)/doc/_ctrwatch $(DESTDIR)$(ZSHCOMPDIR)/_ctrwatch
	install -d $(DESTDIR)$(UNITDIR)
	sed -e 's|/usr/local/bin/ctrwatch|$(BINDIR)/ctrwatch|g' -e 's|/etc/ctrwatch/|$(SYSCONFDIR)/ctrwatch/|g' \
		deploy/systemd/ctrwatch-agent.service >$(DESTDIR)$(UNITDIR)/ctrwatch-agent.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/ctrwatch-agent.service
	install -D -m 0644 deploy/systemd/agent.yaml $(DESTDIR)$(DOCDIR)/agent.yaml.example
	[ -e $(DESTDIR)$(SYSCONFDIR)/ctrwatch/agent.yaml ] || \
		install -D -m 0644 deploy/systemd/agent.yaml $(DESTDIR)$(SYSCONFDIR)/ctrwatch/agent.yaml

# What install put there; the agent config only while it is the example.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/ctrwatch $(DESTDIR)$(BINDIR)/ctrwatch-runc $(DESTDIR)$(UNITDIR)/ctrwatch-agent.service \
		$(DESTDIR)$(BASHCOMPDIR)/ctrwatch $(DESTDIR)$(ZSHCOMPDIR)/_ctrwatch \
		$(DESTDIR)$(MANDIR)/man1/ctrwatch.1 $(DESTDIR)$(MANDIR)/man1/ctrwatch-*.1
	! cmp -s deploy/systemd/agent.yaml $(DESTDIR)$(SYSCONFDIR)/ctrwatch/agent.yaml || \
		rm -f $(DESTDIR)$(SYSCONFDIR)/ctrwatch/agent.yaml
	rm -f $(DESTDIR)$(DOCDIR)/agent.yaml.example
	-rmdir $(DESTDIR)$(DOCDIR) $(DESTDIR)$(SYSCONFDIR)/ctrwatch 2>/dev/null

# The agent's container image as an OCI layout tar (no container engine
# needed; `ctrwatch import`, skopeo and podman accept it).  deploy/Dockerfile
# builds the same with docker.
oci-image: $(O)/ctrwatch
	$(Q)scripts/oci-image.sh $(O)/ctrwatch $(O)/ctrwatch-oci.tar

# ---- monitoring (deploy/monitoring/) ----
# The Grafana dashboard is declared in scripts/dashboard.py: write its JSON.
dashboard:
	$(Q)scripts/dashboard.py --write

# docs/dashboard.png: the dashboard's main panels, drawn from a real
# Prometheus scraping a real agent that watches busy containers (the
# monitoring suite with a longer run; root and the real kernel, ~5 minutes).
LAB_SECONDS ?= 240
dashboard-picture: all
	$(Q)CTW_PICTURE=$(CURDIR)/docs/dashboard.png LAB_SECONDS=$(LAB_SECONDS) SUITE_TIMEOUT=900 \
		TESTS=39-agent-monitoring VERBOSE=1 tests/run.sh $(O)

clean:
	rm -rf build build-san build-fuzz ctrwatch

-include $(OBJS:.o=.d) $(BPF_OBJS:.o=.d) $(FUZZ_LIB_OBJS:.o=.d)
