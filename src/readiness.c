/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "http.h"
#include "intake.h"
#include "jsontext.h"
#include "listener.h"
#include "log.h"
#include "parse.h"
#include "policy.h"
#include "shutdown.h"
#include "util.h"
#include "worker.h"

/*
 * Layer: the intake objects. The answers of a readiness intake (type = readiness): /ready, /live,
 * /status over the HTTP/1.x
 * of http.c, one request per connection, served by the intake's bounded listener.
 */

/* The readiness rule (policy.h): not stopping, and every worker serves. */
static bool
service_ready(const struct intakes *is)
{
	bool serving = true;

	for (size_t i = 0; serving && i < workers_count(is->workers); i++)
		serving = worker_serving(workers_at(is->workers, i));
	return policy_service_ready(is->shutdown->stopping, serving);
}

/* /status: live state, asked of the shutdown and the worker objects. */
static json_t *
status_json(const struct intakes *is)
{
	json_t *workers = json_array();

	for (size_t i = 0; workers && i < workers_count(is->workers); i++) {
		const struct worker *w = workers_at(is->workers, i);

		for (unsigned j = 0; j < worker_n_instances(w); j++) {
			struct worker_instance_info in;
			json_t *o;

			worker_instance_info(w, j, &in);
			o = json_pack("{s:o, s:I, s:b, s:b}", "name", jsontext_new(in.name), "pid",
			    (json_int_t) in.pid, "running", in.running, "ready", in.ready);
			if (!o || json_array_append_new(workers, o) < 0) {
				json_decref(workers);
				return NULL;
			}
		}
	}
	return json_pack("{s:s, s:b, s:o}", "step", shutdown_step_name(is->shutdown), "ready",
	    service_ready(is), "workers", workers);
}

int
readiness_status_write(const struct intakes *is, FILE *f)
{
	json_t *j = status_json(is);
	int r;

	if (!j)
		return -ENOMEM;
	r = json_dumpf(j, f, JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
	json_decref(j);
	if (r < 0 || fputc('\n', f) == EOF || ferror(f))
		return -EIO;
	return 0;
}

static int
reply_text(int fd, usec_t deadline, bool head, int code, const char *reason, const char *text)
{
	return http_reply(fd, deadline, code, reason, NULL, "text/plain", text, strlen(text), head);
}

static int
reply_status(const struct intakes *is, int fd, usec_t deadline, bool head)
{
	_cleanup_free_ char *body = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&body, &len);

	if (!f)
		return reply_text(fd, deadline, head, 500, "Internal Server Error", "out of memory\n");
	if (readiness_status_write(is, f) < 0) {
		fclose(f);
		return reply_text(fd, deadline, head, 500, "Internal Server Error", "out of memory\n");
	}
	if (fclose(f) != 0 || !body)
		return reply_text(fd, deadline, head, 500, "Internal Server Error", "out of memory\n");
	return http_reply(fd, deadline, 200, "OK", NULL, "application/json", body, len, head);
}

static int
answer(struct intake *i, int fd, usec_t deadline, const struct http_request *req)
{
	bool head = streq(req->method, "HEAD");
	bool ready;

	if (!head && !streq(req->method, "GET"))
		return http_reply(fd, deadline, 405, "Method Not Allowed", "Allow: GET, HEAD\r\n",
		    "text/plain", "method not allowed\n", strlen("method not allowed\n"), false);
	if (streq(req->path, "/ready")) {
		ready = service_ready(i->set);
		return reply_text(fd, deadline, head, ready ? 200 : 503,
		    ready ? "OK" : "Service Unavailable",
		    ready ? "ready\n" : i->set->shutdown->stopping ? "stopping\n" : "starting\n");
	}
	if (streq(req->path, "/live"))
		return reply_text(fd, deadline, head, 200, "OK", "alive\n");
	if (streq(req->path, "/status"))
		return reply_status(i->set, fd, deadline, head);
	return reply_text(fd, deadline, head, 404, "Not Found", "not found\n");
}

int
readiness_serve(struct listener_conn *conn, int fd, usec_t deadline, void *userdata)
{
	struct intake *i = userdata; /* owned by its set, freed only after the listener */
	_cleanup_free_ char *buf = malloc(HTTP_HEAD_MAX);
	struct http_request req;
	int r;

	if (!buf)
		return -ENOMEM;
	r = http_read_request(fd, buf, HTTP_HEAD_MAX, deadline, &req);
	if (r == -ECANCELED || r == -ETIMEDOUT || r == -ENODATA)
		return r;
	listener_conn_set_answering(conn, true);
	if (r == -EBADMSG || r == -EMSGSIZE)
		/* Malformed, or a head beyond HTTP_HEAD_MAX: refused, never buffered further. */
		r = reply_text(fd, deadline, false, 400, "Bad Request", "bad request\n");
	else if (r >= 0)
		r = answer(i, fd, deadline, &req);
	listener_conn_set_answering(conn, false);
	if (r < 0)
		return r;
	return http_linger(fd, deadline);
}
