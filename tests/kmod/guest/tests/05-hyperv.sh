#!/bin/sh
# Can this guest bring up VMBus?  hv_vmbus needs a Hyper-V hypervisor that
# offers the synthetic interrupt controller (SynIC): a real Hyper-V guest, or
# QEMU on KVM with hv-synic (mode kvm-hyperv).  Under plain TCG or KVM it
# refuses to load; then every VMBus-bound test is skipped with the reason read
# from this machine, and where SynIC is offered a failure to load fails.
AZL_GUEST_DIR=${AZL_GUEST_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
. "$AZL_GUEST_DIR/ktap.sh"
. "$AZL_GUEST_DIR/kmod.sh"

plan 4

# hyperv_features: the Hyper-V feature bits (CPUID 0x40000003 EAX) the kernel
# logged at boot ("Hyper-V: privilege flags low 0x..."), empty when the
# kernel did not detect Hyper-V.
hyperv_features() {
	dmesg | sed -n 's/.*Hyper-V: privilege flags low \(0x[0-9a-fA-F]*\).*/\1/p' | head -n 1
}

# synic_offered: the hypervisor says SynIC MSRs are available
# (HV_MSR_SYNIC_AVAILABLE, bit 2).
synic_offered() {
	_f=$(hyperv_features)
	[ -n "$_f" ] && [ $((_f & 4)) -ne 0 ]
}

# no_synic_reason: why hv_vmbus cannot work here, from what the kernel saw.
no_synic_reason() {
	_f=$(hyperv_features)
	if [ -n "$_f" ]; then
		echo "no Hyper-V SynIC (Hyper-V features $_f, mode=$AZL_MODE)"
	else
		_hv=$(dmesg | sed -n 's/.*Hypervisor detected: //p' | head -n 1)
		echo "no Hyper-V SynIC (hypervisor: ${_hv:-none}, mode=$AZL_MODE)"
	fi
}

vmbus_up=no
if module_loaded hv_vmbus || module_builtin hv_vmbus; then
	vmbus_up=yes
	ok "hv_vmbus loads"
elif out=$(modprobe hv_vmbus 2>&1) && module_loaded hv_vmbus; then
	vmbus_up=yes
	ok "hv_vmbus loads"
elif [ "$AZL_MODE" != kvm-hyperv ] && [ "$AZL_MODE" != hyperv ] && ! synic_offered; then
	reason="hv_vmbus did not load: $(no_synic_reason)"
	diag "modprobe hv_vmbus: $out"
	skip "hv_vmbus loads" "$reason"
else
	# SynIC is there (or the host promised it): this is a real failure.
	diag "modprobe hv_vmbus: $out" "Hyper-V features: $(hyperv_features)" \
		"$(dmesg | grep -iE 'hv_vmbus|vmbus|hyper-v' | tail -n 20)"
	not_ok "hv_vmbus loads"
	reason="hv_vmbus did not load"
fi

# vmbus_test NAME CMD...: a VMBus-bound test, skipped when VMBus is not up.
vmbus_test() {
	_n=$1
	shift
	if [ "$vmbus_up" = yes ]; then
		check "$_n" "$@"
	else
		skip "$_n" "$reason"
	fi
}

vmbus_bus() { [ -d /sys/bus/vmbus/devices ] && [ -d /sys/bus/vmbus/drivers ]; }
vmbus_test "/sys/bus/vmbus exists" vmbus_bus

# The connection to the host negotiated a protocol version (QEMU's
# vmbus-bridge offers no devices, so the log line is the evidence there).
vmbus_connected() {
	dmesg | grep -q 'Vmbus version:' && return 0
	[ -n "$(ls /sys/bus/vmbus/devices 2>/dev/null)" ] && return 0
	echo "no 'Vmbus version:' in the kernel log and no devices on /sys/bus/vmbus"
	return 1
}
vmbus_test "VMBus connection to the host is up" vmbus_connected

# The agent reads the same VMBus state from sysfs.
agent_sees_vmbus() {
	_j=$("$AZL_AGENT" status --json 2>/dev/null | tr -d ' \n\t')
	printf '%s' "$_j" | grep -qE '"hv_vmbus":"(loaded|built-in)"' &&
		printf '%s' "$_j" | grep -q '"vmbus":{"present":true' && return 0
	echo "azl-agent status --json does not report hv_vmbus and VMBus present:"
	printf '%s\n' "$_j" | head -c 2000
	return 1
}
if [ -z "${AZL_AGENT:-}" ]; then
	skip "azl-agent sees VMBus" "no azl-agent (build it first)"
else
	vmbus_test "azl-agent sees VMBus" agent_sees_vmbus
fi

done_testing
