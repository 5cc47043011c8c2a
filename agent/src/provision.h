/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * First-boot provisioning, end to end: sources (DMI, OVF media, IMDS) →
 * plan → actions → reports (KVP PROVISIONING_REPORT, wireserver health) →
 * marker.  Idempotent: every action is, and the marker
 * /var/lib/azl-agent/<vmId>.provisioned is written only after the host
 * accepted the ready report, so a run that dies anywhere is completed by
 * the next one.
 */

#include <stdbool.h>
#include <stdio.h>

#include "config.h"
#include "root.h"

struct provision_options {
	bool dry_run;
	bool json;            /* dry run: the plan as JSON */
	const char *ovf_file; /* read this instead of the media */
	const char *imds_file; /* read this instead of IMDS */
};

/* Exit status: 0 provisioned (or already), 1 failed and reported, 2 bad input. */
int provision_run(const struct root *r, const struct agent_config *cfg,
		  const struct provision_options *o, FILE *out);

struct deprovision_options {
	bool dry_run;
	const char *user; /* also remove this administrator (userdel -r), or NULL */
};

int deprovision_run(const struct root *r, const struct agent_config *cfg,
		    const struct deprovision_options *o, FILE *out);
