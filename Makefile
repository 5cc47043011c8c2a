# azl-guest: Hyper-V guest integration for Azure Linux.
#
#   make                 build azl-agent
#   make check           unit tests, fixture checks, golden and corruption tests
#   make check SANITIZE=1  the same under ASan + UBSan
#   make demo            build, generate the SKU fixtures, run `azl-agent status`
#   make bench           benchmarks (not part of check)
#   make fuzz            libFuzzer targets, longer than the smoke run in check
#   make kmod [KDIR=…]   out-of-tree kernel modules through ./Kbuild
#   make check-kmod      the kernel CI only (QEMU, tests/kmod/README.md)
#   make check-system    the full-boot system test only (QEMU + systemd, tests/system/README.md)
#   make install DESTDIR=… PREFIX=…   the programs, rules, units, man pages
#   make install-kmod DESTDIR=…       the module sources for DKMS, their udev rule and modprobe.d
#   make dist            the source tarball of HEAD (the RPM spec's Source0)
#   make clean
#
# `check`, `demo` and `bench` install missing Debian packages first when run
# as root (scripts/deps.sh; it prints the Fedora / Azure Linux names too).

PREFIX  ?= /usr
DESTDIR ?=
SBINDIR ?= $(PREFIX)/sbin
LIBEXECDIR ?= $(PREFIX)/libexec
CC      ?= cc
PKG_CONFIG ?= pkg-config
SANITIZE ?= 0
WERROR  ?= 0
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
KDIR    ?= /lib/modules/$(shell uname -r)/build

ifeq ($(SANITIZE),1)
BUILD   ?= build/san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
OPT     := -O1
else
BUILD   ?= build/default
SANFLAGS :=
OPT     := -O2
endif

AGENT_PKGS := json-c libnl-genl-3.0 libnl-route-3.0 libsystemd inih libcurl libxml-2.0 blkid \
	      libxcrypt libselinux nettle
TEST_PKGS  := cmocka

WARNINGS := -Wall -Wextra -Wshadow -Wformat=2 -Wmissing-prototypes -Wstrict-prototypes \
	    -Wno-format-nonliteral
ifeq ($(WERROR),1)
WARNINGS += -Werror
endif

CFLAGS  ?= $(OPT) -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -DAZL_VERSION='"$(VERSION)"' \
	     -DAZL_LIBEXECDIR='"$(LIBEXECDIR)/azl-agent"' -Ikmod/include/uapi $(WARNINGS) $(CFLAGS) \
	     $(SANFLAGS) -MMD -MP $(shell $(PKG_CONFIG) --cflags $(AGENT_PKGS))
ALL_LDFLAGS = $(LDFLAGS) $(SANFLAGS)
AGENT_LIBS = $(shell $(PKG_CONFIG) --libs $(AGENT_PKGS))

AGENT_SRCS := $(wildcard agent/src/*.c)
AGENT_MAINS := agent/src/main.c agent/src/main_provision.c agent/src/main_udev.c
AGENT_LIB_OBJS := $(patsubst agent/src/%.c,$(BUILD)/agent/%.o,$(filter-out $(AGENT_MAINS),$(AGENT_SRCS)))
TEST_SRCS := $(wildcard tests/unit/test_*.c)
TEST_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(TEST_SRCS))

.PHONY: all agent check check-run check-kmod check-kmod-run demo demo-run bench bench-run fuzz \
	kmod install clean \
	deps-build deps-check deps-bench fixtures

all: agent

# Keep object files make would treat as intermediate (the unit tests' .o).
.SECONDARY:

agent: $(BUILD)/azl-agent $(BUILD)/azl-agent-provision $(BUILD)/azl-udev

$(BUILD)/agent/%.o: agent/src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# Everything but main() goes into one archive that the agent and the unit tests link.
$(BUILD)/libazl-agent.a: $(AGENT_LIB_OBJS)
	$(AR) rcs $@ $^

# Two programs from one archive, each linked with only the libraries it
# uses (--as-needed): azl-agent (status, kvp, the daemon) never loads
# libcurl, libxml2 and their dependencies; azl-agent-provision, which
# `azl-agent provision` runs, does.
$(BUILD)/azl-agent: $(BUILD)/agent/main.o $(BUILD)/libazl-agent.a
	$(CC) $(ALL_LDFLAGS) -Wl,--as-needed -o $@ $^ $(AGENT_LIBS)
$(BUILD)/azl-agent-provision: $(BUILD)/agent/main_provision.o $(BUILD)/libazl-agent.a
	$(CC) $(ALL_LDFLAGS) -Wl,--as-needed -o $@ $^ $(AGENT_LIBS)
# The udev helper (udev/*.rules' IMPORT{program}): libc only, for it runs
# on every block and network device event, in the initramfs too.
UDEV_OBJS := $(patsubst %,$(BUILD)/agent/%.o,main_udev udev_disk udev_nvme udev_net udev_cpu kernel_cmdline root sysfile \
	     vmbus_class log escape)
$(BUILD)/azl-udev: $(UDEV_OBJS)
	$(CC) $(ALL_LDFLAGS) -o $@ $^

$(BUILD)/tests/%.o: tests/unit/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Iagent/src $(shell $(PKG_CONFIG) --cflags $(TEST_PKGS)) -c -o $@ $<

$(BUILD)/tests/test_%: $(BUILD)/tests/test_%.o $(BUILD)/libazl-agent.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(AGENT_LIBS) $(shell $(PKG_CONFIG) --libs $(TEST_PKGS))

# Tools the kernel tests run inside the QEMU guest (tests/kmod/).
KMOD_TOOLS := $(BUILD)/tests/genl_abuse $(BUILD)/tests/accel_listen $(BUILD)/tests/netvsc_tool
$(BUILD)/tests/genl_abuse: tests/kmod/tools/genl_abuse.c $(BUILD)/libazl-agent.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Iagent/src $(ALL_LDFLAGS) -o $@ $< $(BUILD)/libazl-agent.a $(AGENT_LIBS)
$(BUILD)/tests/accel_listen: tests/kmod/tools/accel_listen.c $(BUILD)/libazl-agent.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Iagent/src $(ALL_LDFLAGS) -o $@ $< $(BUILD)/libazl-agent.a $(AGENT_LIBS)
$(BUILD)/tests/netvsc_tool: tests/kmod/tools/netvsc_tool.c $(BUILD)/libazl-agent.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Iagent/src $(ALL_LDFLAGS) -o $@ $< $(BUILD)/libazl-agent.a $(AGENT_LIBS)

# The KVP harness (tests/kvp/): the fake kernel side, the LD_PRELOAD shim that
# hands a daemon the fake in place of /dev/vmbus/hv_kvp, and the pool stress
# tool.  The shim is built without sanitizers: it also goes into the
# reference hv_kvp_daemon.
KVP_TOOLS := $(BUILD)/tests/kvp_host $(BUILD)/tests/kvp_shim.so $(BUILD)/tests/kvp_stress \
	     $(BUILD)/tests/ipinfo_tool
$(BUILD)/tests/kvp_host: tests/kvp/kvp_host.c tests/kvp/kvp_wire.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Iagent/src $(ALL_LDFLAGS) -o $@ $<
$(BUILD)/tests/kvp_shim.so: tests/kvp/kvp_shim.c tests/kvp/kvp_wire.h
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARNINGS) $(CFLAGS) -fPIC -shared -o $@ $< -ldl
$(BUILD)/tests/kvp_stress: tests/kvp/kvp_stress.c $(BUILD)/libazl-agent.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Iagent/src $(ALL_LDFLAGS) -o $@ $< $(BUILD)/libazl-agent.a $(AGENT_LIBS)
$(BUILD)/tests/ipinfo_tool: tests/kvp/ipinfo_tool.c $(BUILD)/libazl-agent.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Iagent/src $(ALL_LDFLAGS) -o $@ $< $(BUILD)/libazl-agent.a $(AGENT_LIBS)

# The irqbalance client's driver (tests/affinity/irqbalance.sh).
AFFINITY_TOOLS := $(BUILD)/tests/irqbalance_tool
$(BUILD)/tests/irqbalance_tool: tests/affinity/irqbalance_tool.c $(BUILD)/libazl-agent.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Iagent/src $(ALL_LDFLAGS) -o $@ $< $(BUILD)/libazl-agent.a $(AGENT_LIBS)

# Drivers of the provisioning actions and the Azure host simulator (tests/provision/, tests/sim/).
PROVISION_TOOLS := $(BUILD)/tests/actions_tool $(BUILD)/tests/azure_sim
$(BUILD)/tests/azure_sim: tests/sim/azure_sim.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(AGENT_LIBS)
$(BUILD)/tests/actions_tool: tests/provision/actions_tool.c $(BUILD)/libazl-agent.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Iagent/src $(ALL_LDFLAGS) -o $@ $< $(BUILD)/libazl-agent.a $(AGENT_LIBS)

# Targets that need packages first install them, then re-enter make so that
# pkg-config is asked only once the packages are there.
deps-build:
	@scripts/deps.sh build
deps-check:
	@scripts/deps.sh build check
deps-bench:
	@scripts/deps.sh build check bench

fixtures: $(BUILD)/fixtures/.stamp
$(BUILD)/fixtures/.stamp: tests/fixtures/gen-fixtures.sh
	tests/fixtures/gen-fixtures.sh $(BUILD)/fixtures
	@touch $@

check: deps-check
	@$(MAKE) --no-print-directory check-run

# The kernel CI alone: Debian's 6.12 cloud kernel in QEMU with our modules
# built against its headers (AZL_KMOD_SUITES="boot storvsc" narrows it).
KMOD_CI_KDIR ?= $(shell ls -d /usr/src/linux-headers-6.12*-cloud-amd64 2>/dev/null | sort -V | tail -n 1)
check-kmod: deps-check
	@$(MAKE) --no-print-directory check-kmod-run
check-kmod-run: $(BUILD)/azl-agent $(BUILD)/azl-agent-provision $(KMOD_TOOLS)
	@if [ -n "$(KMOD_CI_KDIR)" ]; then WERROR=$(WERROR) scripts/kmod-build.sh "$(KMOD_CI_KDIR)" "$(BUILD)/kmod" >/dev/null; fi
	@tests/kmod/run.sh $(BUILD)

# The full-boot system test alone (make check runs it too, as its suite
# "system"): a cached Debian 12 root file system with
# `make install` of this build, booted three times in QEMU under systemd
# (tests/system/README.md; about 1 min, 50 s more for the first rootfs).
.PHONY: check-system check-system-run
check-system: deps-check
	@$(MAKE) --no-print-directory check-system-run
check-system-run: $(BUILD)/azl-agent $(BUILD)/azl-agent-provision $(BUILD)/azl-udev $(BUILD)/tests/azure_sim
	@tests/system/run.sh $(BUILD)

check-run: $(BUILD)/azl-agent $(BUILD)/azl-agent-provision $(BUILD)/azl-udev $(TEST_BINS) $(KMOD_TOOLS) $(KVP_TOOLS) $(PROVISION_TOOLS) \
	   $(AFFINITY_TOOLS) fixtures
	@tests/run.sh $(BUILD)

demo: deps-build
	@$(MAKE) --no-print-directory demo-run

demo-run: $(BUILD)/azl-agent $(BUILD)/azl-agent-provision $(PROVISION_TOOLS) fixtures
	@tests/demo.sh $(BUILD)

bench: deps-bench
	@$(MAKE) --no-print-directory bench-run

bench-run: $(BUILD)/azl-agent $(BUILD)/azl-agent-provision $(KVP_TOOLS) $(PROVISION_TOOLS) fixtures
	@bench/status.sh $(BUILD)
	@bench/kvp.sh $(BUILD)
	@bench/provision.sh $(BUILD)
	@bench/affinity.sh $(BUILD)

# Longer fuzzing than the smoke run in `make check` (FUZZ_RUNS inputs per target).
FUZZ_RUNS ?= 5000000
fuzz: deps-check
	@FUZZ_SEED=0 tests/fuzz/run.sh $(BUILD) $(FUZZ_RUNS)

# Modules build out of tree, in $(BUILD)/kmod/<kernel release>/.
kmod:
	@WERROR=$(WERROR) scripts/kmod-build.sh "$(KDIR)" "$(BUILD)/kmod"

# The installed layout (packaging/README.md).  The units and rules in the
# repository name our programs under /usr; INSTALL_SED rewrites those paths
# (ours only, never /usr/sbin/irqbalance) for another SBINDIR, LIBEXECDIR or
# UDEVDIR.  Packages build with PREFIX=/usr: udev runs relative helper names
# from /usr/lib/udev only, and kmod reads /usr/lib/modprobe.d, so a
# /usr/local install gets absolute helper paths and is for trying things out.
# Debian's chrony reads /etc/chrony/conf.d, not /etc/chrony.d: set CHRONYDIR (where
# azl-chrony-ptp.service copies the refclock template from AZLDATADIR/chrony).
SYSCONFDIR ?= /etc
UNITDIR ?= $(PREFIX)/lib/systemd/system
PRESETDIR ?= $(PREFIX)/lib/systemd/system-preset
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
NETWORKDIR ?= $(PREFIX)/lib/systemd/network
UDEVDIR ?= $(PREFIX)/lib/udev
DRACUTDIR ?= $(PREFIX)/lib/dracut/dracut.conf.d
MODPROBEDIR ?= $(PREFIX)/lib/modprobe.d
MANDIR ?= $(PREFIX)/share/man
CHRONYDIR ?= $(SYSCONFDIR)/chrony.d
KMODSRCDIR ?= $(PREFIX)/src/azl-guest-$(VERSION)
AZLDATADIR ?= $(PREFIX)/share/azl-guest

INSTALL_SED := sed -e 's|/usr/sbin/azl-agent|$(SBINDIR)/azl-agent|g' \
	-e 's|/usr/libexec/azl-agent/|$(LIBEXECDIR)/azl-agent/|g' \
	-e 's|/usr/lib/udev/azl-udev|$(UDEVDIR)/azl-udev|g' \
	-e 's|/usr/share/azl-guest/|$(AZLDATADIR)/|g'
ifneq ($(UDEVDIR),/usr/lib/udev)
INSTALL_SED += -e 's|"azl-udev|"$(UDEVDIR)/azl-udev|g'
endif
# install_sed SRC DST: a text file with our paths rewritten, mode 0644.
install_sed = { install -d -m 0755 "$$(dirname $(2))" && $(INSTALL_SED) $(1) >$(2).tmp && \
	chmod 0644 $(2).tmp && mv -f $(2).tmp $(2); } || { rm -f $(2).tmp; false; }

# cli.c has LIBEXECDIR compiled in (where `provision` finds azl-agent-provision):
# an install for another LIBEXECDIR than the build's rebuilds it.  The stamp
# holds the value and changes only with it (.SECONDARY makes make ignore a
# missing prerequisite, so a file per value would not do).
# A rule, not parse time, writes it (so make -n, clean and dist write
# nothing); it runs every time but rewrites the file only when the value
# differs, and make compares times after the recipe: cli.o is rebuilt only
# then.
LIBEXECDIR_STAMP := $(BUILD)/libexecdir.stamp
.PHONY: FORCE
$(LIBEXECDIR_STAMP): FORCE
	@mkdir -p $(dir $@)
	@if [ "$$(cat $@ 2>/dev/null)" != '$(LIBEXECDIR)' ]; then printf '%s' '$(LIBEXECDIR)' >$@; fi
$(BUILD)/agent/cli.o: $(LIBEXECDIR_STAMP)

.PHONY: install-kmod dist
install: $(BUILD)/azl-agent $(BUILD)/azl-agent-provision $(BUILD)/azl-udev
	install -D -m 0755 $(BUILD)/azl-agent $(DESTDIR)$(SBINDIR)/azl-agent
	install -d -m 0755 $(DESTDIR)$(LIBEXECDIR)/azl-agent
	install -m 0755 $(BUILD)/azl-agent-provision $(DESTDIR)$(LIBEXECDIR)/azl-agent/azl-agent-provision
	ln -sfn $(SBINDIR)/azl-agent $(DESTDIR)$(LIBEXECDIR)/azl-agent/hv_kvp_daemon
	ln -sfn $(SBINDIR)/azl-agent $(DESTDIR)$(LIBEXECDIR)/azl-agent/azl-irqbalance-policy
	install -D -m 0755 $(BUILD)/azl-udev $(DESTDIR)$(UDEVDIR)/azl-udev
	for r in 10-azl-net-vf.rules 70-azl-hyperv.rules 80-azl-disk.rules; do \
		$(call install_sed,udev/$$r,$(DESTDIR)$(UDEVDIR)/rules.d/$$r) || exit 1; done
	install -D -m 0644 udev/01-azl-unmanaged-vf.network \
		$(DESTDIR)$(NETWORKDIR)/01-azl-unmanaged-vf.network
	$(call install_sed,udev/chrony/azl-ptp-hyperv.conf,$(DESTDIR)$(AZLDATADIR)/chrony/azl-ptp-hyperv.conf)
	$(call install_sed,systemd/azl-chrony-ptp.tmpfiles,$(DESTDIR)$(AZLDATADIR)/chrony/azl-chrony-ptp.tmpfiles)
	sed -i 's|/etc/chrony\.d|$(CHRONYDIR)|g' $(DESTDIR)$(AZLDATADIR)/chrony/azl-chrony-ptp.tmpfiles
	install -D -m 0644 udev/dracut/50-azl-guest.conf $(DESTDIR)$(DRACUTDIR)/50-azl-guest.conf
	for u in azl-agent.service azl-provision.service azl-chrony-ptp.service \
		irqbalance.service.d/50-azl-agent.conf; do \
		$(call install_sed,systemd/$$u,$(DESTDIR)$(UNITDIR)/$$u) || exit 1; done
	install -D -m 0644 systemd/azl-guest.tmpfiles $(DESTDIR)$(TMPFILESDIR)/azl-guest.conf
	install -D -m 0644 systemd/50-azl-guest.preset $(DESTDIR)$(PRESETDIR)/50-azl-guest.preset
	$(call install_sed,man/azl-agent.8,$(DESTDIR)$(MANDIR)/man8/azl-agent.8)
	$(call install_sed,man/azl-agent.conf.5,$(DESTDIR)$(MANDIR)/man5/azl-agent.conf.5)

# The kernel modules' package: their sources for DKMS (dkms add/build, or the
# RPM's kmod subpackage builds them itself), the udev rule that loads them
# when VMBus devices appear, and their modprobe.d options.  Nothing is built.
install-kmod:
	install -d -m 0755 $(DESTDIR)$(KMODSRCDIR)
	install -m 0644 Kbuild VERSION $(DESTDIR)$(KMODSRCDIR)/
	cd kmod && find . -type f \( -name '*.[ch]' -o -name Kbuild \) ! -name '*.mod.c' | \
		while read -r f; do install -D -m 0644 "$$f" "$(DESTDIR)$(KMODSRCDIR)/kmod/$$f" || exit 1; done
	sed 's/^PACKAGE_VERSION=.*/PACKAGE_VERSION="$(VERSION)"/' packaging/dkms.conf \
		>$(DESTDIR)$(KMODSRCDIR)/dkms.conf && chmod 0644 $(DESTDIR)$(KMODSRCDIR)/dkms.conf
	$(call install_sed,udev/70-azl-kmod.rules,$(DESTDIR)$(UDEVDIR)/rules.d/70-azl-kmod.rules)
	install -D -m 0644 udev/modprobe/azl-guest.conf $(DESTDIR)$(MODPROBEDIR)/azl-guest.conf

# The RPM's Source0 (packaging/azl-guest.spec): the committed tree at HEAD.
dist:
	@mkdir -p $(BUILD)
	git archive --format=tar.gz --prefix=azl-guest-$(VERSION)/ \
		-o $(BUILD)/azl-guest-$(VERSION).tar.gz HEAD
	@echo $(BUILD)/azl-guest-$(VERSION).tar.gz

clean:
	rm -rf build

-include $(wildcard $(BUILD)/agent/*.d $(BUILD)/tests/*.d)
