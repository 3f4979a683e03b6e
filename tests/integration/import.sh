#!/bin/bash
# graced --import supervisord: each real-shaped supervisord.conf under tests/import converts to a
# graced.ini that passes --check, with the settings carried over and a comment on each one that
# is not; a converted file runs its instances.
. "$TEST_LIB"

D=$(cd "$SRC/tests/import" && pwd -P)
imp() {
	run "$GRACED" --import supervisord "$1"
	cp "$T/out" "$T/$(basename "$1" .conf).ini"
}
# Log files (output = file:) go under $T/logs, in directories made for them: --check refuses a
# log file whose directory is missing.
check() {
	local f=$T/$1.ini d
	sed -i "s#= file:/#= file:$T/logs/#" "$f"
	for d in $(sed -n "s#^[a-z]* = file:\(.*\)/[^/]*\$#\1#p" "$f"); do mkdir -p "$d"; done
	SHOP_SECRET=s run "$GRACED" -c "$f" --check
	expect_rc 0 "$1: graced --check on the import"
	if grep -v ': warning: ' "$T/err" | grep -q .; then
		fail "$1: --check printed more than warnings"
		cat "$T/err" >&2
	else pass; fi
}

imp "$D/laravel.conf"
expect_rc 0 "laravel: import"
o=$T/laravel.ini
expect_in "$o" "[worker:laravel-worker]" "program becomes a worker"
expect_in "$o" "instances = 8" "numprocs"
expect_in "$o" "stop_timeout = 3600s" "stopwaitsecs with a unit"
expect_in "$o" "restart = always" "autorestart"
expect_in "$o" "kill_mode = group" "killasgroup"
expect_in "$o" "user = forge" "user"
expect_in "$o" "stderr = stdout" "redirect_stderr"
expect_in "$o" "output = file:/home/forge/app.com/worker.log" "stdout_logfile"
expect_in "$o" "signal_target = group" "stopasgroup"
expect_in "$o" "; process_name = %(program_name)s_%(process_num)02d -- instances are named laravel-worker.0" "process_name"
check laravel

imp "$D/django.conf"
expect_rc 0 "django: import"
o=$T/django.ini
expect_in "$o" "pidfile = /tmp/supervisord.pid" "[supervisord] pidfile"
expect_in "$o" "command = $D/venv/bin/gunicorn shop.wsgi:application --bind 127.0.0.1:800\${INSTANCE} --workers 3" "%(here)s and %(process_num)02d"
expect_in "$o" "directory = $D" "directory from %(here)s"
expect_in "$o" "environment = DJANGO_SETTINGS_MODULE=\"shop.settings.production\" LANG=\"en_US.UTF-8\" PATH=\"$D/venv/bin:\${PATH}\" SECRET_KEY=\"\${SHOP_SECRET}\" PRICE=\"\$\$5, or \\\"five\\\"\"" "environment: [supervisord]'s first, %(ENV_X)s, quotes and \$"
expect_in "$o" "stop_signal = SIGQUIT" "stopsignal"
expect_in "$o" "ready = delay:5s" "startsecs"
expect_in "$o" "success_status = 2" "exitcodes"
expect_in "$o" "restart = on-failure" "autorestart = unexpected"
expect_in "$o" "-n celery@%h" "%% is %"
expect_in "$o" "autostart = no" "autostart = false carried over"
expect_in "$o" "; not carried over: priority = 100" "priority commented"
expect_in "$o" "; not carried over: [group:shop]" "group commented"
expect_in "$o" "; not carried over: [unix_http_server]" "http server commented"
expect_in "$o" "output = file:/var/log/celery/worker.log" "stdout_logfile"
expect_in "$o" "stderr = file:/var/log/celery/worker.err.log" "stderr_logfile"
check django

imp "$D/docker.conf"
expect_rc 0 "docker: import"
o=$T/docker.ini
expect_in "$o" "[worker:php-fpm]" "a program from an [include]d file"
expect_in "$o" "command = /usr/sbin/php-fpm8.2 --nodaemonize --fpm-config /etc/php/8.2/fpm/php-fpm.conf" "continuation lines, ':' separator"
expect_in "$o" "environment = APP_ENV=\"production\" APP_DEBUG=\"false\"" "a multi-line environment"
expect_in "$o" "[worker:cron-daily]" "a name graced cannot take is rewritten"
expect_in "$o" "; not carried over: [eventlistener:memmon]" "eventlistener commented"
expect_in "$o" "command = /usr/sbin/nginx -g 'daemon off;'" "quotes kept"
expect_not_in "$o" "stdout_logfile = /dev/stdout" "/dev/stdout is what graced does anyway"
expect_not_in "$o" "stderr_logfile_maxbytes" "no rotation without a log file"
expect_not_in "$o" "output_max_size" "nor for stdout"
check docker

# Not a supervisord.conf, unreadable, bad usage: exit 2 with a reason.
printf '[worker:x]\ncommand = true\n' >"$T/graced.conf"
run "$GRACED" --import supervisord "$T/graced.conf"
expect_rc 2 "no [program:x]"
expect_in "$T/err" "no [program:NAME] section" "the reason"
run "$GRACED" --import supervisord "$T/nope.conf"
expect_rc 2 "a missing file"
run "$GRACED" --import systemd "$T/graced.conf"
expect_rc 2 "an unknown format"
expect_in "$T/err" "the only format is supervisord" "the formats"

# A converted file runs: two instances, %(process_num)d as ${INSTANCE}, %(ENV_X)s from graced's
# environment when the file is read.
cat >"$T/run.conf" <<CONF
[supervisord]
nodaemon=true
environment=FROM_SUP="sup"

[program:w]
command=sh -c 'echo "\$GRACED_INSTANCE \$FROM_SUP \$GREETING" >>$T/seen; exec $GW --name w.%(process_num)d --log $EV'
numprocs=2
process_name=%(program_name)s_%(process_num)d
environment=GREETING="%(ENV_IMPORT_GREETING)s"
stopwaitsecs=5
CONF
imp "$T/run.conf"
expect_rc 0 "run.conf: import"
IMPORT_GREETING=hello start_graced -c "$T/run.ini"
wait_for 10 events_at_least 2 ' w\.[01] start' || fail "both instances did not start"
expect_in "$T/seen" "0 sup hello" "instance 0's environment"
expect_in "$T/seen" "1 sup hello" "instance 1's environment"
kill -TERM "$GPID"
wait_graced 10
expect_rc 0 "clean shutdown"
finish
