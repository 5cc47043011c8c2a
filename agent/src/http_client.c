// SPDX-License-Identifier: MIT
/*
 * One HTTP request on libcurl, with the guarantees every platform endpoint
 * needs: never a proxy (IMDS refuses proxied requests and the wireserver
 * is link-local), no redirects, a bounded time and a bounded body.
 */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_client.h"
#include "util.h"

#ifndef AZL_VERSION
#define AZL_VERSION "0.1.0"
#endif

#define RETRY_AFTER_MAX_S 86400L /* a day: anything longer is the host's mistake */

struct transfer {
	char *body;
	size_t len, cap;
	bool too_big;
	long retry_after_s;
};

/*
 * curl_global_init() must run once per process, and before libcurl 7.84 it
 * was not thread-safe.  pthread_once makes the first http_do() do it
 * whichever thread gets there first; nothing in the agent calls libcurl
 * except through this file, so no other ordering matters.  It is never
 * undone (curl_global_cleanup): the process exits soon after provisioning.
 */
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result = CURLE_FAILED_INIT;

static void curl_init_once(void)
{
	curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int on_progress(void *stop, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return *(const volatile sig_atomic_t *)stop ? 1 : 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct transfer *t = userdata;
	size_t n = size * nmemb;

	/* Refuse, do not cut: a truncated document could parse as a wrong one. */
	if (n > HTTP_BODY_MAX - t->len) {
		t->too_big = true;
		return 0;
	}
	if (t->len + n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 4096;
		char *p;

		while (cap < t->len + n + 1)
			cap *= 2;
		p = realloc(t->body, cap);
		if (!p)
			return 0;
		t->body = p;
		t->cap = cap;
	}
	memcpy(t->body + t->len, data, n);
	t->len += n;
	t->body[t->len] = '\0';
	return n;
}

/* "Retry-After: 120" or "Retry-After: Fri, 31 Dec 1999 23:59:59 GMT". */
static long parse_retry_after(const char *v, size_t len)
{
	char buf[128], *end;
	long s;

	while (len && (*v == ' ' || *v == '\t'))
		v++, len--;
	while (len && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
		len--;
	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, v, len);
	buf[len] = '\0';
	if (buf[0] >= '0' && buf[0] <= '9') {
		errno = 0;
		s = strtol(buf, &end, 10);
		if (errno || *end)
			return errno == ERANGE ? RETRY_AFTER_MAX_S : -1;
	} else {
		time_t when = curl_getdate(buf, NULL), now = time(NULL);

		if (when < 0)
			return -1;
		s = when > now ? (long)(when - now) : 0;
	}
	return s > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : s;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userdata)
{
	static const char name[] = "Retry-After:";
	struct transfer *t = userdata;
	size_t n = size * nmemb;

	/* A new status line (after a 100 Continue, say): forget earlier headers. */
	if (n >= 5 && strncmp(data, "HTTP/", 5) == 0)
		t->retry_after_s = -1;
	else if (n > sizeof(name) - 1 && strncasecmp(data, name, sizeof(name) - 1) == 0)
		t->retry_after_s = parse_retry_after(data + sizeof(name) - 1, n - (sizeof(name) - 1));
	return n;
}

static void curl_easy_cleanupp(CURL **c)
{
	if (*c)
		curl_easy_cleanup(*c);
}

static void curl_slist_free_allp(struct curl_slist **l)
{
	curl_slist_free_all(*l);
}

static int set_error(struct http_response *resp, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int set_error(struct http_response *resp, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(resp->error, sizeof(resp->error), fmt, ap);
	va_end(ap);
	return r;
}

static int errno_of(CURLcode rc)
{
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return -EINVAL;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	case CURLE_ABORTED_BY_CALLBACK:
		return -EINTR; /* the caller's stop flag */
	default:
		return -EIO;
	}
}

/* Options every request gets; each setopt can only fail for lack of memory. */
static CURLcode set_common(CURL *c, const struct http_request *req, struct transfer *t, char *errbuf)
{
	CURLcode rc = CURLE_OK;

#define SET(opt, val)                                      \
	do {                                               \
		if (rc == CURLE_OK)                        \
			rc = curl_easy_setopt(c, opt, val); \
	} while (0)
	SET(CURLOPT_URL, req->url);
	SET(CURLOPT_ERRORBUFFER, errbuf);
	/* Both: "" overrides the proxy variables, "*" also covers libcurl
	 * builds that fall back to them when CURLOPT_PROXY is empty. */
	SET(CURLOPT_PROXY, "");
	SET(CURLOPT_NOPROXY, "*");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	/* No SIGALRM for timeouts: safe in any thread and under sd-event. */
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_TIMEOUT_MS, (long)req->timeout_ms);
	SET(CURLOPT_CONNECTTIMEOUT_MS, (long)req->timeout_ms);
#if LIBCURL_VERSION_NUM >= 0x075500
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
#else
	SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	SET(CURLOPT_USERAGENT, "azl-agent/" AZL_VERSION);
	if (req->stop) {
		/* A stop request (SIGTERM) ends the transfer within a second. */
		SET(CURLOPT_NOPROGRESS, 0L);
		SET(CURLOPT_XFERINFOFUNCTION, on_progress);
		SET(CURLOPT_XFERINFODATA, (void *)req->stop);
	}
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, t);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, t);
	if (strcmp(req->method, "POST") == 0) {
		SET(CURLOPT_POST, 1L);
		SET(CURLOPT_POSTFIELDSIZE, (long)req->body_len);
		SET(CURLOPT_POSTFIELDS, req->body ? req->body : "");
	} else {
		SET(CURLOPT_HTTPGET, 1L);
	}
#undef SET
	return rc;
}

static int build_headers(const struct http_request *req, struct curl_slist **out)
{
	struct curl_slist *l = NULL, *n;

	/* A POST must not wait for "100 Continue": the wireserver never sends it. */
	n = curl_slist_append(l, "Expect:");
	if (!n)
		return -ENOMEM;
	l = n;
	for (const char *const *h = req->headers; h && *h; h++) {
		if (strpbrk(*h, "\r\n")) {
			curl_slist_free_all(l);
			return -EINVAL;
		}
		n = curl_slist_append(l, *h);
		if (!n) {
			curl_slist_free_all(l);
			return -ENOMEM;
		}
		l = n;
	}
	*out = l;
	return 0;
}

static int check_request(const struct http_request *req, struct http_response *resp)
{
	if (!req->method || (strcmp(req->method, "GET") != 0 && strcmp(req->method, "POST") != 0))
		return set_error(resp, -EINVAL, "unsupported HTTP method %s", req->method ? req->method : "(null)");
	if (!req->url || !*req->url)
		return set_error(resp, -EINVAL, "%s", "no URL");
	if (req->body_len > (size_t)LONG_MAX)
		return set_error(resp, -EINVAL, "%s", "request body too large");
	pthread_once(&curl_once, curl_init_once);
	if (curl_init_result != CURLE_OK)
		return set_error(resp, -EIO, "cannot initialise libcurl: %s",
				 curl_easy_strerror(curl_init_result));
	return 0;
}

static int finish(CURL *c, CURLcode rc, struct transfer *t, const char *errbuf, struct http_response *resp)
{
	long status = 0;

	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (t->too_big) {
		resp->status = status;
		return set_error(resp, -EFBIG, "response body larger than %u bytes", HTTP_BODY_MAX);
	}
	if (rc == CURLE_WRITE_ERROR)
		return set_error(resp, -ENOMEM, "%s", "out of memory for the response body");
	if (rc != CURLE_OK) {
		resp->status = 0;
		return set_error(resp, errno_of(rc), "%s", *errbuf ? errbuf : curl_easy_strerror(rc));
	}
	resp->status = status;
	resp->retry_after_s = t->retry_after_s;
	resp->body = t->body ? TAKE_PTR(t->body) : strdup("");
	resp->body_len = t->len;
	if (!resp->body)
		return set_error(resp, -ENOMEM, "%s", "out of memory");
	return 0;
}

int http_do(const struct http_request *req, struct http_response *resp)
{
	_cleanup_(curl_easy_cleanupp) CURL *c = NULL;
	_cleanup_(curl_slist_free_allp) struct curl_slist *headers = NULL;
	struct transfer t = { .retry_after_s = -1 };
	char errbuf[CURL_ERROR_SIZE] = "";
	CURLcode rc;
	int r;

	memset(resp, 0, sizeof(*resp));
	resp->retry_after_s = -1;
	r = check_request(req, resp);
	if (r < 0)
		return r;
	r = build_headers(req, &headers);
	if (r < 0)
		return set_error(resp, r, "%s", r == -EINVAL ? "header with a line break" : "out of memory");
	c = curl_easy_init();
	if (!c)
		return set_error(resp, -ENOMEM, "%s", "curl_easy_init returned no handle");
	rc = set_common(c, req, &t, errbuf);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	if (rc == CURLE_OK)
		rc = curl_easy_perform(c);
	r = finish(c, rc, &t, errbuf, resp);
	free(t.body);
	return r;
}

void http_response_free(struct http_response *resp)
{
	if (!resp)
		return;
	free(resp->body);
	resp->body = NULL;
	resp->body_len = 0;
}
