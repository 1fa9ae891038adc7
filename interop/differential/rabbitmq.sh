#!/usr/bin/env bash
# Start/stop a private RabbitMQ (Debian's rabbitmq-server) on 127.0.0.1:PORT for differential
# runs of the interop suites. Each port gets its own node name, data dir, cookie and epmd, so
# several can run side by side.
#   interop/differential/rabbitmq.sh start 5711
#   WARREN_EXTERNAL_URL=amqp://guest:guest@127.0.0.1:5711 npx vitest run interop/
#   interop/differential/rabbitmq.sh stop 5711
# RABBITMQ_EXTRA_CONF (lines appended to rabbitmq.conf, e.g. 'consumer_timeout = 2000') and
# RABBITMQ_EXTRA_ADVANCED (Erlang terms for advanced.config's rabbit app, e.g.
# '{channel_tick_interval, 1000}') give the node settings of its own; both default to none.
# The management API listens on PORT+10000 and Prometheus on PORT+10100 (the plugins
# rabbitmq_management, rabbitmq_prometheus and rabbitmq_consistent_hash_exchange are enabled):
#   WARREN_EXTERNAL_HTTP=http://127.0.0.1:15711 WARREN_EXTERNAL_PROMETHEUS=http://127.0.0.1:15811
set -euo pipefail
cmd=${1:?start|stop}; port=${2:?port}
dir=/tmp/warren-rabbit-$port
bin=/usr/lib/rabbitmq/bin
export HOME=$dir/home RABBITMQ_NODENAME=warren$port@localhost RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
export RABBITMQ_NODE_PORT=$port RABBITMQ_DIST_PORT=$((port + 20000)) ERL_EPMD_PORT=$((port + 19000))
export ERL_EPMD_ADDRESS=127.0.0.1 RABBITMQ_MNESIA_BASE=$dir/mnesia RABBITMQ_LOG_BASE=$dir/log
export RABBITMQ_PID_FILE=$dir/pid RABBITMQ_ENABLED_PLUGINS_FILE=$dir/enabled_plugins
export RABBITMQ_CONFIG_FILE=$dir/rabbitmq RABBITMQ_ADVANCED_CONFIG_FILE=$dir/advanced.config
export RABBITMQ_CONF_ENV_FILE=$dir/rabbitmq-env.conf
case $cmd in
  start)
    rm -rf "$dir"; mkdir -p "$HOME" "$RABBITMQ_MNESIA_BASE" "$RABBITMQ_LOG_BASE"
    head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' | tr a-f A-F > "$HOME/.erlang.cookie"
    chmod 400 "$HOME/.erlang.cookie"
    echo '[rabbitmq_management,rabbitmq_prometheus,rabbitmq_consistent_hash_exchange].' > "$RABBITMQ_ENABLED_PLUGINS_FILE"
    if [ -n "${RABBITMQ_EXTRA_ADVANCED:-}" ]; then echo "[{rabbit, [${RABBITMQ_EXTRA_ADVANCED}]}]." > "$RABBITMQ_ADVANCED_CONFIG_FILE"
    else echo '[].' > "$RABBITMQ_ADVANCED_CONFIG_FILE"; fi; : > "$RABBITMQ_CONF_ENV_FILE"
    {
      printf 'listeners.tcp.1 = 127.0.0.1:%s\nloopback_users.guest = true\nlog.console = false\n' "$port"
      printf 'management.tcp.ip = 127.0.0.1\nmanagement.tcp.port = %s\n' $((port + 10000))
      printf 'prometheus.tcp.ip = 127.0.0.1\nprometheus.tcp.port = %s\n' $((port + 10100))
      if [ -n "${RABBITMQ_EXTRA_CONF:-}" ]; then printf '%s\n' "$RABBITMQ_EXTRA_CONF"; fi
    } > "$RABBITMQ_CONFIG_FILE.conf"
    "$bin/rabbitmq-server" -detached > "$RABBITMQ_LOG_BASE/detached.out" 2>&1 < /dev/null
    for _ in $(seq 1 150); do [ -s "$RABBITMQ_PID_FILE" ] && break; sleep 0.2; done
    for _ in $(seq 1 60); do
      "$bin/rabbitmqctl" -n "$RABBITMQ_NODENAME" -q await_startup --timeout 90 >/dev/null 2>&1 && break; sleep 1
    done
    (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null || { echo "rabbitmq did not start on $port" >&2; exit 1; }
    for _ in $(seq 1 60); do (exec 3<>/dev/tcp/127.0.0.1/$((port + 10000))) 2>/dev/null && break; sleep 0.5; done
    echo "rabbitmq $RABBITMQ_NODENAME on 127.0.0.1:$port, management on $((port + 10000)), prometheus on $((port + 10100))"
    ;;
  stop)
    timeout 60 "$bin/rabbitmqctl" -n "$RABBITMQ_NODENAME" -q stop >/dev/null 2>&1 || true
    # epmd's command line does not name its port (it comes from the environment): find it by that.
    for pid in $(pgrep -x epmd 2>/dev/null); do
      tr '\0' '\n' < /proc/$pid/environ 2>/dev/null | grep -qx "ERL_EPMD_PORT=$ERL_EPMD_PORT" && kill "$pid" 2>/dev/null
    done
    true
    rm -rf "$dir"
    echo "stopped $RABBITMQ_NODENAME"
    ;;
esac
