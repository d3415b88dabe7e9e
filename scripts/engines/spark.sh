#!/usr/bin/env bash
# scripts/engines/spark.sh up|down|env|status
#
# A throw-away Apache Spark 4.0 Connect server for fedmesh's tests: Spark
# comes from the pyspark wheel (PyPI; it ships the spark-connect jar and
# spark-submit) installed into a venv under $FEDMESH_CACHE/spark, runs on
# the installed Java 17 in local mode, and serves Spark Connect (gRPC) on
# 127.0.0.1 only, on a fixed port. `up` is a no-op when the server already
# answers. `env` prints FEDMESH_SPARK_URL and FEDMESH_SPARK_UI_URL (the
# web UI's REST API, also on 127.0.0.1, which tests use to see whether a
# cancelled query's Spark job is gone).
set -euo pipefail

CACHE="${FEDMESH_CACHE:-$HOME/.cache/fedmesh}"
DIR="$CACHE/spark"
VENV="$DIR/venv"
PYSPARK_VERSION="${FEDMESH_PYSPARK_VERSION:-4.0.5}"
PORT="${FEDMESH_SPARK_PORT:-15102}"
UI_PORT="${FEDMESH_SPARK_UI_PORT:-15103}"
LOG="$DIR/server.log"
PIDFILE="$DIR/server.pid"
START_TIMEOUT="${FEDMESH_SPARK_START_TIMEOUT:-180}"

spark_home() { echo "$VENV/lib/python3"*/site-packages/pyspark; }

apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q "$@" >/dev/null 2>&1 || {
    apt-get update -q >/dev/null
    apt-get install -y -q "$@" >/dev/null
  }
}

installed() {
  [ -x "$VENV/bin/python" ] &&
    [ "$("$VENV/bin/python" -c 'import pyspark; print(pyspark.__version__)' 2>/dev/null)" = "$PYSPARK_VERSION" ] &&
    ls "$(spark_home)"/jars/spark-connect_2.13-*.jar >/dev/null 2>&1
}

install() {
  if installed; then return; fi
  if ! command -v java >/dev/null; then
    echo "spark.sh: installing Java 17 from apt" >&2
    apt_install openjdk-17-jre-headless
  fi
  echo "spark.sh: installing pyspark==$PYSPARK_VERSION from PyPI into $VENV" >&2
  mkdir -p "$DIR"
  if [ ! -x "$VENV/bin/python" ]; then
    rm -rf "$VENV"
    if ! python3 -m venv "$VENV" >/dev/null 2>&1; then
      # Debian's python3 needs python3-venv (ensurepip) for venvs.
      rm -rf "$VENV"
      apt_install python3-venv
      python3 -m venv "$VENV"
    fi
  fi
  "$VENV/bin/pip" install -q --disable-pip-version-check "pyspark==$PYSPARK_VERSION" >"$DIR/pip.log" 2>&1 || {
    cat "$DIR/pip.log" >&2; exit 1; }
  installed || { echo "spark.sh: pyspark $PYSPARK_VERSION installed without the spark-connect jar" >&2; exit 1; }
}

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

running() {
  [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null && answers
}

up() {
  install
  if running; then return; fi
  if answers; then
    echo "spark.sh: port $PORT is taken by another process" >&2; exit 1
  fi
  local home; home="$(spark_home)"
  mkdir -p "$DIR/work" "$DIR/warehouse"
  # Detached (setsid + nohup) so the server outlives the calling shell.
  (
    cd "$DIR/work"
    export SPARK_HOME="$home" SPARK_LOCAL_IP=127.0.0.1 SPARK_LOCAL_HOSTNAME=localhost \
      PYSPARK_PYTHON="$VENV/bin/python"
    setsid nohup "$home/bin/spark-submit" \
      --class org.apache.spark.sql.connect.service.SparkConnectServer \
      --name fedmesh-spark-connect \
      --master 'local[2]' \
      --driver-memory 1g \
      --conf spark.driver.bindAddress=127.0.0.1 \
      --conf spark.driver.host=127.0.0.1 \
      --conf spark.connect.grpc.binding.address=127.0.0.1 \
      --conf "spark.connect.grpc.binding.port=$PORT" \
      --conf spark.ui.enabled=true \
      --conf "spark.ui.port=$UI_PORT" \
      --conf spark.port.maxRetries=0 \
      --conf spark.ui.retainedJobs=200 \
      --conf spark.ui.retainedStages=200 \
      --conf spark.sql.ui.retainedExecutions=200 \
      --conf spark.sql.shuffle.partitions=2 \
      --conf spark.default.parallelism=2 \
      --conf spark.sql.session.timeZone=UTC \
      --conf "spark.sql.warehouse.dir=$DIR/warehouse" \
      --conf "spark.driver.extraJavaOptions=-Dderby.system.home=$DIR/work -XX:+UseSerialGC" \
      --conf spark.sql.catalogImplementation=in-memory \
      "spark-internal" >"$LOG" 2>&1 </dev/null &
    echo $! >"$PIDFILE"
  )
  local pid; pid="$(cat "$PIDFILE")"
  local start=$SECONDS
  until answers; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "spark.sh: the Spark Connect server exited; last lines of $LOG:" >&2
      tail -20 "$LOG" >&2; exit 1
    fi
    if [ $((SECONDS - start)) -ge "$START_TIMEOUT" ]; then
      echo "spark.sh: the Spark Connect server did not answer on 127.0.0.1:$PORT within ${START_TIMEOUT}s; see $LOG" >&2
      exit 1
    fi
    sleep 1
  done
  echo "spark.sh: Spark Connect $PYSPARK_VERSION up on 127.0.0.1:$PORT after $((SECONDS - start))s (pid $pid)" >&2
}

down() {
  [ -f "$PIDFILE" ] || return 0
  local pid; pid="$(cat "$PIDFILE")"
  if kill -0 "$pid" 2>/dev/null; then
    # spark-submit execs java, so the pid is the JVM; it leads its own
    # session (setsid), so signal the group.
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$PIDFILE"
}

env_() {
  echo "FEDMESH_SPARK_URL=sc://127.0.0.1:$PORT"
  echo "FEDMESH_SPARK_UI_URL=http://127.0.0.1:$UI_PORT"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  env) env_ ;;
  status) if running; then echo running; else echo stopped; exit 1; fi ;;
  *) echo "usage: $0 up|down|env|status" >&2; exit 2 ;;
esac
