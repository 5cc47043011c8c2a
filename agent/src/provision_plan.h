/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The provisioning plan: a pure merge of IMDS, the OVF media and the
 * configuration (research/provisioning.md §7.4: IMDS wins for host name,
 * user and the password flag; keys from IMDS, validated as OpenSSH;
 * CustomData only from OVF).  `provision --dry-run` prints it.
 */

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>

#include "config.h"
#include "imds.h"
#include "ovf.h"

#define PLAN_MAX_KEYS 64

enum plan_source { SRC_NONE, SRC_IMDS, SRC_OVF, SRC_CONFIG };

struct provision_plan {
	char vm_id[37];
	const char *hostname;  enum plan_source hostname_from;
	const char *username;  enum plan_source username_from;
	const char *groups;    /* comma-separated, from the configuration */
	bool sudo_nopasswd;
	const char *keys[PLAN_MAX_KEYS];
	size_t n_keys;
	size_t keys_rejected;  /* not OpenSSH public keys: dropped, counted */
	const char *password;  /* the OVF secret, or NULL (never printed) */
	bool password_refused; /* there was one, the configuration refuses it */
	bool ssh_password_auth;
	const char *custom_data; /* base64 from OVF, or NULL */
	const char *user_data;   /* base64 from IMDS userData, or NULL */
};

/*
 * Merge; either source may be NULL.  The plan points into imds and ovf
 * (keep them alive).  -EINVAL with err when no source names a user.
 */
int provision_merge(const struct imds_instance *imds, const struct ovf_env *ovf,
		    const struct agent_config *cfg, const char *vm_id_dmi,
		    struct provision_plan *out, char *err, size_t errlen);

/* The plan for people (key fingerprints, never the password) and as JSON. */
void provision_plan_print(const struct provision_plan *p, FILE *out);
struct json_object *provision_plan_json(const struct provision_plan *p);
