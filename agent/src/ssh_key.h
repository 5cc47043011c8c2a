/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

/*
 * "SHA256:<base64>" of an OpenSSH public key line, as `ssh-keygen -l`
 * prints it, so an operator can match keys without seeing them.
 * -EINVAL when the line has no decodable key.
 */
int ssh_key_fingerprint(const char *line, char *out, size_t len);
