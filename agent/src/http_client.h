/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * HTTP for the platform endpoints (IMDS, wireserver) on libcurl: never a
 * proxy, bounded time and body size, plain HTTP on link-local addresses
 * (or loopback in tests).  One request per call; retries are the caller's
 * policy.
 */

#include <signal.h>
#include <stddef.h>

#define HTTP_BODY_MAX (1u << 20) /* a larger answer is an error, not a cut */

struct http_request {
	const char *method;       /* "GET" or "POST" */
	const char *url;
	const char *const *headers; /* "Name: value" strings, NULL-terminated */
	const char *body;         /* POST body or NULL */
	size_t body_len;
	unsigned timeout_ms;      /* whole request */
	const volatile sig_atomic_t *stop; /* when it turns non-zero, abort (-EINTR); may be NULL */
};

struct http_response {
	long status;              /* HTTP status, 0 when no response came */
	char *body;               /* NUL-terminated, malloc'd (may be empty) */
	size_t body_len;
	long retry_after_s;       /* Retry-After in seconds, -1 if absent */
	char error[256];          /* transport error text when status is 0 */
};

/* 0 when a response came (any status), else a negative errno with error set. */
int http_do(const struct http_request *req, struct http_response *resp);
void http_response_free(struct http_response *resp);
