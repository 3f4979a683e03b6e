rm -f /tmp/pf/ev
t0=$(date +%s%N)
/work/main/_build/src/graced -c /tmp/pf/w.ini 2>/tmp/pf/log &
g=$!
while [ "$(wc -l < /tmp/pf/ev 2>/dev/null || echo 0)" -lt 1000 ]; do sleep 0.02; done
t1=$(date +%s%N)
echo "start_ms=$(( (t1-t0)/1000000 )) graced_cpu_ticks(utime stime)=$(awk '{print $14, $15}' /proc/$g/stat)"
kill -TERM $g; wait $g
t2=$(date +%s%N); echo "stop_ms=$(( (t2-t1)/1000000 ))"
