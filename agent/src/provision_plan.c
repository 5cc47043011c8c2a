// SPDX-License-Identifier: MIT
/*
 * The provisioning plan: what IMDS, the OVF media and the configuration
 * say, merged by research/provisioning.md §7.4.  Pure: no I/O but the
 * printers' stream.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "provision_plan.h"
#include "ssh_key.h"

static const char *nonempty(const char *s)
{
	return s && s[0] ? s : NULL;
}

/* IMDS wins where it has a value; the OVF media fills the gaps. */
static const char *pick(const char *imds, const char *ovf, enum plan_source *from)
{
	if (nonempty(imds)) {
		*from = SRC_IMDS;
		return imds;
	}
	if (nonempty(ovf)) {
		*from = SRC_OVF;
		return ovf;
	}
	*from = SRC_NONE;
	return NULL;
}

static void add_key(struct provision_plan *p, const char *line)
{
	if (!nonempty(line))
		return;
	if (!ssh_public_key_valid(line)) {
		p->keys_rejected++;
		return;
	}
	for (size_t i = 0; i < p->n_keys; i++)
		if (strcmp(p->keys[i], line) == 0)
			return; /* the same key from both sources */
	if (p->n_keys < PLAN_MAX_KEYS)
		p->keys[p->n_keys++] = line;
	else
		p->keys_rejected++;
}

/*
 * Password authentication over SSH: IMDS's disablePasswordAuthentication,
 * else OVF's DisableSshPasswordAuthentication, else allowed only when a
 * password is going to be set.
 */
static bool ssh_password_auth(const struct imds_instance *imds, const struct ovf_env *ovf,
			      const struct provision_plan *p)
{
	if (imds && imds->disable_password_auth >= 0)
		return !imds->disable_password_auth;
	if (ovf && ovf->disable_ssh_password_auth >= 0)
		return !ovf->disable_ssh_password_auth;
	return p->password != NULL;
}

int provision_merge(const struct imds_instance *imds, const struct ovf_env *ovf,
		    const struct agent_config *cfg, const char *vm_id_dmi,
		    struct provision_plan *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->vm_id, sizeof(out->vm_id), "%s",
		 imds && imds->vm_id[0] ? imds->vm_id : vm_id_dmi ? vm_id_dmi : "");
	out->hostname = pick(imds ? imds->computer_name : NULL, ovf ? ovf->hostname : NULL,
			     &out->hostname_from);
	out->username = pick(imds ? imds->admin_username : NULL, ovf ? ovf->username : NULL,
			     &out->username_from);
	if (!out->username) {
		snprintf(err, errlen, "neither IMDS nor the OVF media names the administrator");
		return -EINVAL;
	}
	out->groups = cfg->provision.groups;
	out->sudo_nopasswd = cfg->provision.sudo_nopasswd;
	for (size_t i = 0; imds && i < imds->n_keys; i++)
		add_key(out, imds->keys[i].key_data);
	for (size_t i = 0; ovf && i < ovf->n_keys; i++)
		add_key(out, ovf->keys[i].value);
	if (ovf && nonempty(ovf->password)) {
		if (cfg->provision.password == PASSWORD_SET)
			out->password = ovf->password;
		else
			out->password_refused = true;
	}
	out->ssh_password_auth = ssh_password_auth(imds, ovf, out);
	out->custom_data = ovf ? nonempty(ovf->custom_data) : NULL;
	out->user_data = imds ? nonempty(imds->user_data) : NULL;
	return 0;
}

static const char *source_name(enum plan_source s)
{
	static const char *const names[] = { "none", "IMDS", "OVF", "configuration" };

	return names[s];
}

static const char *password_policy(const struct provision_plan *p)
{
	if (p->password)
		return "set from OVF (hashed with libxcrypt)";
	if (p->password_refused)
		return "given in OVF, refused by configuration";
	return "none (keys only)";
}

void provision_plan_print(const struct provision_plan *p, FILE *out)
{
	char fp[64];

	fprintf(out, "vmId            %s\n", p->vm_id[0] ? p->vm_id : "unknown");
	fprintf(out, "host name       %s  (from %s)\n", p->hostname ? p->hostname : "unchanged",
		source_name(p->hostname_from));
	fprintf(out, "administrator   %s  (from %s)\n", p->username, source_name(p->username_from));
	fprintf(out, "groups          %s\n", p->groups[0] ? p->groups : "none");
	fprintf(out, "sudo            %s\n", p->sudo_nopasswd ? "without password" : "with password");
	fprintf(out, "password        %s\n", password_policy(p));
	fprintf(out, "ssh password    %s\n", p->ssh_password_auth ? "allowed" : "refused");
	fprintf(out, "ssh keys        %zu", p->n_keys);
	if (p->keys_rejected)
		fprintf(out, "  (%zu not OpenSSH public keys: ignored)", p->keys_rejected);
	fputc('\n', out);
	for (size_t i = 0; i < p->n_keys; i++)
		if (ssh_key_fingerprint(p->keys[i], fp, sizeof(fp)) == 0)
			fprintf(out, "                %s\n", fp);
	fprintf(out, "custom data     %s\n", p->custom_data ? "from OVF, saved 0600" : "none");
	fprintf(out, "user data       %s\n", p->user_data ? "from IMDS, saved 0600" : "none");
}

struct json_object *provision_plan_json(const struct provision_plan *p)
{
	struct json_object *o = json_object_new_object(), *keys = json_object_new_array();
	char fp[64];

	json_object_object_add(o, "vm_id", p->vm_id[0] ? json_object_new_string(p->vm_id) : NULL);
	json_object_object_add(o, "hostname", p->hostname ? json_object_new_string(p->hostname) : NULL);
	json_object_object_add(o, "hostname_from", json_object_new_string(source_name(p->hostname_from)));
	json_object_object_add(o, "username", json_object_new_string(p->username));
	json_object_object_add(o, "username_from", json_object_new_string(source_name(p->username_from)));
	json_object_object_add(o, "groups", json_object_new_string(p->groups));
	json_object_object_add(o, "sudo_nopasswd", json_object_new_boolean(p->sudo_nopasswd));
	json_object_object_add(o, "password", json_object_new_string(p->password ? "set" :
				p->password_refused ? "refused" : "none"));
	json_object_object_add(o, "ssh_password_auth", json_object_new_boolean(p->ssh_password_auth));
	for (size_t i = 0; i < p->n_keys; i++)
		if (ssh_key_fingerprint(p->keys[i], fp, sizeof(fp)) == 0)
			json_object_array_add(keys, json_object_new_string(fp));
	json_object_object_add(o, "ssh_keys", keys);
	json_object_object_add(o, "ssh_keys_rejected", json_object_new_int((int)p->keys_rejected));
	json_object_object_add(o, "custom_data", json_object_new_boolean(p->custom_data != NULL));
	json_object_object_add(o, "user_data", json_object_new_boolean(p->user_data != NULL));
	return o;
}
