/* SPDX-License-Identifier: MIT */
#include <signal.h>
#include <sys/wait.h>

#include "config.h"
#include "jsontext.h"
#include "parse.h"
#include "status-json.h"

/* How a process ended: its exit code, or the signal that killed it. */
static json_t *
exit_json(int status)
{
	if (WIFEXITED(status))
		return json_pack("{s:i}", "status", WEXITSTATUS(status));
	if (WIFSIGNALED(status))
		return json_pack("{s:s}", "signal", signal_to_string(WTERMSIG(status)));
	return json_null();
}

/* Sets key to value (a new reference, consumed); false when either is missing. */
static bool
set(json_t *o, const char *key, json_t *value)
{
	return value && json_object_set_new(o, key, value) == 0;
}

json_t *
status_json_instance(const struct instance_view *v, usec_t now)
{
	json_t *o = json_object();
	bool ok;

	if (!o)
		return NULL;
	/* Names as they are, whatever bytes they hold (jsontext.h). */
	ok = set(o, "worker", jsontext_new(v->worker)) && set(o, "name", jsontext_new(v->name)) &&
	    set(o, "instance", json_integer((json_int_t) v->index)) &&
	    set(o, "state", json_string(instance_state_to_string(v->state))) &&
	    set(o, "pid", json_integer((json_int_t) v->pid)) &&
	    set(o, "restarts", json_integer((json_int_t) v->restarts));
	if (ok && v->pid > 0 && v->started > 0)
		ok = set(o, "uptime_ms",
		    json_integer((json_int_t) ((now > v->started ? now - v->started : 0) /
			USEC_PER_MSEC)));
	if (ok && v->exited)
		ok = set(o, "last_exit", exit_json(v->last_status));
	if (ok && v->step)
		ok = set(o, "step", json_string(v->step));
	/* The worker's settings an operator looks for next to its state. */
	if (ok && v->config) {
		ok = set(o, "type", json_string(worker_type_to_string(v->config->type)));
		if (ok && v->config->output_file)
			ok = set(o, "log", jsontext_new(v->config->output_file));
		if (ok && v->config->stderr_file)
			ok = set(o, "stderr_log", jsontext_new(v->config->stderr_file));
	}
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *
status_json_supervisor(const struct supervisor_state *st, usec_t now)
{
	json_t *o = json_object();
	bool ok;

	if (!o)
		return NULL;
	ok = set(o, "name", jsontext_new(st->name)) && set(o, "step", json_string(st->step)) &&
	    set(o, "stopping", json_boolean(st->stopping));
	if (ok && st->started > 0)
		ok = set(o, "uptime_ms",
		    json_integer((json_int_t) ((now > st->started ? now - st->started : 0) /
			USEC_PER_MSEC)));
	if (ok && st->trigger)
		ok = set(o, "trigger", jsontext_new(st->trigger));
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}
