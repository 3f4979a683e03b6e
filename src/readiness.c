/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "exposition.h"
#include "http.h"
#include "intake.h"
#include "listener.h"
#include "log.h"
#include "metrics.h"
#include "status-json.h"
#include "status.h"
#include "util.h"

/*
 * Layer: the intake objects. The answers of a readiness intake (type = readiness): /ready, /live,
 * /status, /metrics over the HTTP/1.x of http.c, one request per connection, served by the
 * intake's bounded listener. What they say is the live state of status.h, as `gracectl status`
 * reads it.
 */

/* Instances for /status's "workers", and the names of those that gave up for /ready. */
struct walk {
	json_t *list;   /* NULL: names only */
	FILE *failed;   /* where the names of those that gave up go, or NULL */
	unsigned n_failed;
	usec_t now;
	bool oom;
};

static void
instance_cb(const struct instance_view *v, void *userdata)
{
	struct walk *k = userdata;
	json_t *o;

	if (instance_view_failed(v) && k->failed)
		fprintf(k->failed, "%s%s", k->n_failed > 0 ? ", " : "", v->name);
	k->n_failed += instance_view_failed(v);
	if (!k->list || k->oom)
		return;
	/* gracectl status's object, and the two booleans /status always had. */
	o = status_json_instance(v, k->now);
	if (!o || json_object_set_new(o, "running", json_boolean(v->pid > 0)) < 0 ||
	    json_object_set_new(o, "ready", json_boolean(v->state == INSTANCE_READY)) < 0 ||
	    json_array_append_new(k->list, o) < 0) {
		k->oom = true;
		json_decref(o);
	}
}

static json_t *
status_json(const struct status_source *src)
{
	struct walk k = { .list = json_array(), .now = now_usec() };
	struct supervisor_state st;
	json_t *o;

	status_state(src, &st);
	if (!k.list)
		return NULL;
	status_instances(src, NULL, instance_cb, &k);
	o = status_json_supervisor(&st, k.now);
	if (k.oom || !o || json_object_set_new(o, "ready",
			       json_boolean(status_service_ready(src))) < 0 ||
	    json_object_set_new(o, "workers", k.list) < 0) {
		json_decref(k.list);
		json_decref(o);
		return NULL;
	}
	return o;
}

int
readiness_status_write(const struct status_source *src, FILE *f)
{
	json_t *j = status_json(src);
	int r;

	if (!j)
		return -ENOMEM;
	r = json_dumpf(j, f, JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
	json_decref(j);
	if (r < 0 || fputc('\n', f) == EOF || ferror(f))
		return -EIO;
	return 0;
}

int
readiness_ready_text(const struct status_source *src, FILE *f)
{
	struct walk k = {};
	struct supervisor_state st;

	status_state(src, &st);
	if (st.stopping)
		fputs("stopping", f);
	else if (status_service_ready(src))
		fputs("ready", f);
	else {
		/* An instance that gave up keeps the service unready for good: name each. */
		status_instances(src, NULL, instance_cb, &k);
		if (k.n_failed == 0)
			fputs("starting", f);
		else {
			fputs("failed: ", f);
			k = (struct walk) { .failed = f };
			status_instances(src, NULL, instance_cb, &k);
		}
	}
	return fputc('\n', f) == EOF || ferror(f) ? -EIO : 0;
}

static int
reply_text(int fd, usec_t deadline, bool head, int code, const char *reason, const char *text)
{
	return http_reply(fd, deadline, code, reason, NULL, "text/plain", text, strlen(text), head);
}

/* A body written by write (-ENOMEM or -EIO on failure), or 500. */
static int
reply_body(const struct status_source *src, int fd, usec_t deadline, bool head, int code, const char *reason,
    const char *type, int (*write)(const struct status_source *src, FILE *f))
{
	_cleanup_free_ char *body = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&body, &len);
	int r;

	if (!f)
		return reply_text(fd, deadline, head, 500, "Internal Server Error", "out of memory\n");
	r = write(src, f);
	if (fclose(f) != 0 || r < 0 || !body)
		return reply_text(fd, deadline, head, 500, "Internal Server Error", "out of memory\n");
	return http_reply(fd, deadline, code, reason, NULL, type, body, len, head);
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
		ready = status_service_ready(i->set->status);
		return reply_body(i->set->status, fd, deadline, head, ready ? 200 : 503,
		    ready ? "OK" : "Service Unavailable", "text/plain", readiness_ready_text);
	}
	if (streq(req->path, "/live"))
		return reply_text(fd, deadline, head, 200, "OK", "alive\n");
	if (streq(req->path, "/status"))
		return reply_body(i->set->status, fd, deadline, head, 200, "OK", "application/json",
		    readiness_status_write);
	if (streq(req->path, "/metrics"))
		return reply_body(i->set->status, fd, deadline, head, 200, "OK", EXPOSITION_CONTENT_TYPE,
		    metrics_write);
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
