/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The Azure Instance Metadata Service: the instance document
 * (research/provisioning.md §1), fetched with the retry policy of §7.3 and
 * parsed into what provisioning needs.  Every field a VM may lack is
 * optional; a field of the wrong type is an error naming the key.
 */

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#define IMDS_MAX_KEYS 32

struct imds_ssh_key {
	char *key_data; /* OpenSSH public key line, validated */
	char *path;     /* where the platform asked for it, may be NULL */
};

struct imds_instance {
	char vm_id[37];          /* compute.vmId, lower case, "" if absent */
	char *vm_size;           /* compute.vmSize */
	char *location;          /* compute.location */
	char *computer_name;     /* compute.osProfile.computerName */
	char *admin_username;    /* compute.osProfile.adminUsername */
	int disable_password_auth; /* compute.osProfile.disablePasswordAuthentication: 1, 0, -1 absent */
	char *user_data;         /* compute.userData (base64, as given) */
	struct imds_ssh_key keys[IMDS_MAX_KEYS]; /* compute.publicKeys that passed ssh_public_key_valid() */
	size_t n_keys;
	size_t n_invalid_keys;   /* entries dropped: no keyData or not an OpenSSH key (logged by index) */
	char *compute_json;      /* the compute object as received (for the cache status reads) */
};

/*
 * Parse an instance document; -EINVAL with err naming the key ("invalid
 * IMDS metadata for key=K: why", cloud-init's wording) or, for bad syntax,
 * "unusable IMDS metadata: why".  Strings: absent, null and "" are all
 * absent (NULL); another type, an embedded NUL or an overlong value is an
 * error.  vmId must be a UUID.  Keys failing ssh_public_key_valid() (after
 * trimming blanks and CR/LF at both ends) are dropped and counted in
 * n_invalid_keys; more than IMDS_MAX_KEYS entries is an error, not a cut.
 * On error *out holds nothing to free.  compute_json includes userData:
 * store it 0600 and never log it.
 */
int imds_parse(const char *json, size_t len, struct imds_instance *out, char *err, size_t errlen);
void imds_instance_free(struct imds_instance *inst);

/* What to do after one attempt (pure, unit-tested). */
enum imds_next { IMDS_DONE, IMDS_RETRY, IMDS_FALLBACK, IMDS_FAIL };
enum imds_next imds_next_step(long status, bool transport_error, bool fallback_used);

struct imds_options {
	const char *base_url;   /* "http://169.254.169.254" (config) */
	unsigned budget_ms;     /* total time for retries (default 300 s) */
	unsigned retry_ms;      /* pause between attempts (1000..2000) */
	const volatile sig_atomic_t *stop; /* non-zero: give up now (-EINTR); may be NULL */
};

/*
 * GET /metadata/instance?api-version=2021-08-01&extended=true (then
 * 2019-06-01 on 400) with Metadata: true and a fresh
 * x-ms-client-request-id each attempt, retrying as imds_next_step() says
 * within the budget and honouring Retry-After.  -ETIMEDOUT, -EPROTO (a
 * 4xx we do not retry, reason in err) or -EINVAL (unparsable, key in err).
 */
int imds_fetch(const struct imds_options *o, struct imds_instance *out, char *err, size_t errlen);

/*
 * Is line one OpenSSH public key "type base64 [comment]"?  Types: ssh-rsa
 * (>= 1024 bits), ssh-ed25519, ecdsa-sha2-nistp256/384/521,
 * sk-ssh-ed25519@openssh.com, sk-ecdsa-sha2-nistp256@openssh.com; not
 * ssh-dss (refused by current sshd).  The blob must decode, carry the same
 * type and have that type's layout.  No options prefix, no control bytes.
 */
bool ssh_public_key_valid(const char *line);
