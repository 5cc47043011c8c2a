// SPDX-License-Identifier: MIT
/* status_evaluate() is pure: facts in, verdict out.  No machine needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "status.h"

#define STORAGE "ba6163d9-04a1-4d29-b605-72e2ffb1dc7f"
#define NETWORK "f8615163-df3e-46c5-913f-f2d2f965ed0e"

/* A healthy 8-vCPU, 2-node Hyper-V guest without devices. */
static struct vm_facts *healthy_vm(void)
{
	struct vm_facts *f = calloc(1, sizeof(*f));

	f->platform.hyperv = TRI_YES;
	f->platform.vmbus = TRI_YES;
	f->platform.dmi_hyperv = TRI_YES;
	f->topo.known = true;
	f->topo.numa_known = true;
	cpuset_parse_list("0-7", &f->topo.online);
	cpuset_parse_list("0-7", &f->topo.possible);
	cpuset_parse_list("0-7", &f->topo.present);
	f->topo.nnodes = 2;
	f->topo.nodes = calloc(2, sizeof(*f->topo.nodes));
	f->topo.nodes[0].id = 0;
	cpuset_parse_list("0-3", &f->topo.nodes[0].cpus);
	f->topo.nodes[1].id = 1;
	cpuset_parse_list("4-7", &f->topo.nodes[1].cpus);
	return f;
}

/* Add a device of class_id whose channels target the given CPUs. */
static void add_device(struct vm_facts *f, const char *class_id, const long *cpus, size_t n)
{
	struct vmbus_device_fact *d;

	f->vmbus.devs = realloc(f->vmbus.devs, (f->vmbus.n + 1) * sizeof(*d));
	d = &f->vmbus.devs[f->vmbus.n++];
	memset(d, 0, sizeof(*d));
	snprintf(d->instance, sizeof(d->instance), "00000000-0000-0000-0000-%012zu", f->vmbus.n);
	strcpy(d->class_id, class_id);
	d->cls = vmbus_class_lookup(class_id);
	d->channels = calloc(n, sizeof(*d->channels));
	for (size_t i = 0; i < n; i++)
		d->channels[i] = (struct channel_fact){ (long)(14 + i), cpus[i] };
	d->nchannels = n;
	d->channels_known = true;
}

static void add_gpu(struct vm_facts *f, long node)
{
	struct pci_fact *p;

	f->pci.devs = realloc(f->pci.devs, (f->pci.n + 1) * sizeof(*p));
	p = &f->pci.devs[f->pci.n++];
	memset(p, 0, sizeof(*p));
	snprintf(p->addr, sizeof(p->addr), "%04zx:00:00.0", f->pci.n);
	p->vendor = 0x10de;
	p->class_code = 0x030200;
	p->kind = PCI_GPU;
	p->numa_node = node;
}

static bool has_warning(const struct status *s, const char *text)
{
	for (size_t i = 0; i < s->warnings.n; i++)
		if (strstr(s->warnings.v[i].text, text))
			return true;
	return false;
}

static void free_vm(struct vm_facts *f)
{
	facts_free(f);
	free(f);
}

static void test_not_hyperv_is_error(void **state)
{
	struct vm_facts *f = healthy_vm();
	struct status s;

	(void)state;
	f->platform.hyperv = TRI_NO;
	strcpy(f->platform.sys_vendor, "QEMU");
	status_evaluate(f, &s);
	assert_int_equal(s.exit_code, STATUS_ERROR);
	assert_non_null(strstr(s.warnings.v[0].text, "not a Hyper-V guest (DMI \"QEMU\""));
	status_free(&s);
	free_vm(f);
}

static void test_unknown_platform_is_error(void **state)
{
	struct vm_facts *f = healthy_vm();
	struct status s;

	(void)state;
	f->platform.hyperv = TRI_UNKNOWN;
	status_evaluate(f, &s);
	assert_int_equal(s.exit_code, STATUS_ERROR);
	assert_true(has_warning(&s, "cannot tell"));
	status_free(&s);
	free_vm(f);
}

static void test_healthy_spread(void **state)
{
	static const long storage[] = { 0, 4, 1, 5 }, network[] = { 2, 6, 3, 7 };
	struct vm_facts *f = healthy_vm();
	struct status s;

	(void)state;
	add_device(f, STORAGE, storage, 4);
	add_device(f, NETWORK, network, 4);
	status_evaluate(f, &s);
	assert_int_equal(s.warnings.n, 0);
	assert_int_equal(s.exit_code, STATUS_HEALTHY);
	assert_int_equal(s.nclasses, 2);
	assert_string_equal(s.classes[0].kind, "storage");
	assert_int_equal(s.classes[0].on_node[0], 2);
	assert_int_equal(s.classes[0].on_node[1], 2);
	assert_int_equal(cpuset_count(&s.channel_cpus), 8);
	status_free(&s);
	free_vm(f);
}

static void test_class_on_one_node(void **state)
{
	static const long storage[] = { 0, 1, 2, 3 }, network[] = { 4, 5 };
	struct vm_facts *f = healthy_vm();
	struct status s;

	(void)state;
	add_device(f, STORAGE, storage, 4);
	add_device(f, NETWORK, network, 2);
	status_evaluate(f, &s);
	assert_int_equal(s.exit_code, STATUS_WARNINGS);
	assert_true(has_warning(&s, "4 of 4 storage channels on node 0"));
	assert_true(has_warning(&s, "2 of 2 network channels on node 1"));
	status_free(&s);
	free_vm(f);
}

static void test_one_node_vm_never_warns_about_nodes(void **state)
{
	static const long storage[] = { 0, 1, 2, 3 };
	struct vm_facts *f = healthy_vm();
	struct status s;

	(void)state;
	f->topo.nnodes = 1;
	cpuset_parse_list("0-7", &f->topo.nodes[0].cpus);
	add_device(f, STORAGE, storage, 4);
	status_evaluate(f, &s);
	assert_int_equal(s.exit_code, STATUS_HEALTHY);
	status_free(&s);
	free_vm(f);
}

static void test_offline_cpu_target(void **state)
{
	static const long storage[] = { 0, 4, 1, 9 };
	struct vm_facts *f = healthy_vm();
	struct status s;

	(void)state;
	cpuset_parse_list("0-127", &f->topo.possible); /* empty hotplug slots */
	cpuset_parse_list("0-9", &f->topo.present);
	add_device(f, STORAGE, storage, 4);
	status_evaluate(f, &s);
	assert_true(has_warning(&s, "1 channel(s) of storage device"));
	assert_true(has_warning(&s, "(relid 17 on CPU 9)"));
	assert_true(has_warning(&s, "CPUs 8-9 are offline"));
	assert_false(has_warning(&s, "8-127"));
	status_free(&s);
	free_vm(f);
}

static void test_too_few_channel_cpus(void **state)
{
	static const long storage[] = { 0, 4, 0, 4 };
	struct vm_facts *f = healthy_vm();
	struct status s;

	(void)state;
	add_device(f, STORAGE, storage, 4);
	f->irqs.known = true;
	f->irqs.hyp_line = true;
	cpuset_parse_list("0", &f->irqs.hyp_cpus);
	status_evaluate(f, &s);
	assert_true(has_warning(&s, "VMBus channels target only 2 CPU(s); at least 4 expected"));
	assert_true(has_warning(&s, "(HYP) interrupts arrived on only 1 CPU(s)"));
	status_free(&s);
	free_vm(f);
}

static void test_gpu_without_node(void **state)
{
	struct vm_facts *f = healthy_vm();
	struct status s;

	(void)state;
	add_gpu(f, 0);
	add_gpu(f, -1);
	add_gpu(f, -1);
	status_evaluate(f, &s);
	assert_int_equal(s.accel.gpus, 3);
	assert_true(has_warning(&s, "2 of 3 GPUs report NUMA node -1"));
	status_free(&s);
	/* On a one-node VM, -1 cannot be the wrong node. */
	f->topo.nnodes = 1;
	status_evaluate(f, &s);
	assert_int_equal(s.exit_code, STATUS_HEALTHY);
	status_free(&s);
	free_vm(f);
}

static void test_kvp_checks(void **state)
{
	struct vm_facts *f = healthy_vm();
	struct status s;

	(void)state;
	f->agent.kvp_device = TRI_YES;
	f->agent.kvp_holder_pid = 0;
	f->agent.pools[1].exists = true;
	f->agent.pools[1].bytes = 2 * KVP_RECORD_SIZE + 100;
	status_evaluate(f, &s);
	assert_true(has_warning(&s, "no process holds the KVP device"));
	assert_true(has_warning(&s, "pool 1 ends in a partial record (5220 bytes"));
	status_free(&s);
	f->agent.kvp_holder_pid = 812;
	f->agent.pools[1].bytes = 2 * KVP_RECORD_SIZE;
	status_evaluate(f, &s);
	assert_int_equal(s.exit_code, STATUS_HEALTHY);
	status_free(&s);
	free_vm(f);
}

static void test_vmid_mismatch(void **state)
{
	struct vm_facts *f = healthy_vm();
	struct status s;

	(void)state;
	strcpy(f->platform.vm_id, "d5c4a1f2-7b3e-4c21-9a8b-1234567890ab");
	strcpy(f->platform.imds_vm_id, "f2a1c4d5-3e7b-214c-9a8b-1234567890ab");
	status_evaluate(f, &s);
	assert_true(has_warning(&s, "differs from the cached IMDS vmId"));
	status_free(&s);
	free_vm(f);
}

static void test_fact_warnings_count(void **state)
{
	struct vm_facts *f = healthy_vm();
	struct status s;

	(void)state;
	warn_add(&f->warnings, "pci", "cannot read something");
	status_evaluate(f, &s);
	assert_int_equal(s.exit_code, STATUS_WARNINGS);
	assert_string_equal(s.warnings.v[0].area, "pci");
	status_free(&s);
	free_vm(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_not_hyperv_is_error),
		cmocka_unit_test(test_unknown_platform_is_error),
		cmocka_unit_test(test_healthy_spread),
		cmocka_unit_test(test_class_on_one_node),
		cmocka_unit_test(test_one_node_vm_never_warns_about_nodes),
		cmocka_unit_test(test_offline_cpu_target),
		cmocka_unit_test(test_too_few_channel_cpus),
		cmocka_unit_test(test_gpu_without_node),
		cmocka_unit_test(test_kvp_checks),
		cmocka_unit_test(test_vmid_mismatch),
		cmocka_unit_test(test_fact_warnings_count),
	};

	return cmocka_run_group_tests_name("status_check", tests, NULL, NULL);
}
