#!/usr/bin/env bash
# scripts/engines/flink.sh up|down|env|status
#
# A throw-away Apache Flink for fedmesh's tests: a standalone session
# cluster (one JobManager, one TaskManager) plus the SQL Gateway, three JVMs
# run straight from jars fetched from Maven Central (Maven resolves the
# closure of a generated pom into $FEDMESH_CACHE/flink/lib). Everything
# listens on 127.0.0.1: the gateway's REST API on a fixed port (default
# 18083), the cluster's REST API (jobs overview) on 18081. `up` is a no-op
# when the gateway answers. `env` prints FEDMESH_FLINK_URL (the gateway) and
# FEDMESH_FLINK_REST_URL (the cluster, which tests use to watch jobs).
set -euo pipefail

CACHE="${FEDMESH_CACHE:-$HOME/.cache/fedmesh}"
FLINK_VERSION="1.20.0" # 1.20.1 lacks some jars on Maven Central
HADOOP_VERSION="3.3.6" # shaded hadoop-client-api/runtime, for parquet
DIR="$CACHE/flink"
LIB="$DIR/lib-$FLINK_VERSION"
CONF="$DIR/conf"
LOGS="$DIR/log"
GW_PORT="${FEDMESH_FLINK_PORT:-18083}"
REST_PORT="${FEDMESH_FLINK_REST_PORT:-18081}"
RPC_PORT="${FEDMESH_FLINK_RPC_PORT:-16123}"

dep() { echo "<dependency><groupId>$1</groupId><artifactId>$2</artifactId><version>$3</version></dependency>"; }

install() {
  if [ -f "$LIB/.complete" ]; then return; fi
  command -v java >/dev/null || { echo "flink.sh: java (17) is required" >&2; exit 1; }
  if ! command -v mvn >/dev/null; then
    echo "flink.sh: installing maven from apt" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q maven >/dev/null 2>&1 || { apt-get update -q >/dev/null; apt-get install -y -q maven >/dev/null; }
  fi
  echo "flink.sh: fetching Flink $FLINK_VERSION jars from Maven Central" >&2
  local build="$DIR/build"
  mkdir -p "$build"
  {
    echo '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
    echo '<groupId>fedmesh</groupId><artifactId>flink-gateway-closure</artifactId><version>1</version><packaging>pom</packaging><dependencies>'
    for a in flink-sql-gateway flink-sql-gateway-api flink-table-api-java-uber flink-table-planner-loader \
      flink-table-runtime flink-clients flink-runtime flink-streaming-java flink-connector-files \
      flink-connector-datagen flink-csv flink-json flink-parquet flink-rpc-akka-loader; do
      dep org.apache.flink "$a" "$FLINK_VERSION"
    done
    dep org.apache.hadoop hadoop-client-api "$HADOOP_VERSION"
    dep org.apache.hadoop hadoop-client-runtime "$HADOOP_VERSION"
    for a in log4j-slf4j-impl log4j-core log4j-api; do dep org.apache.logging.log4j "$a" 2.17.1; done
    echo '</dependencies></project>'
  } > "$build/pom.xml"
  rm -rf "$LIB.tmp"
  (cd "$build" && mvn -q -B -Dstyle.color=never dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$LIB.tmp") >&2
  rm -rf "$LIB"
  mv "$LIB.tmp" "$LIB"
  touch "$LIB/.complete"
}

write_conf() {
  mkdir -p "$CONF" "$LOGS" "$DIR/plugins" "$DIR/tmp"
  cat > "$CONF/config.yaml" <<EOF
jobmanager.rpc.address: 127.0.0.1
jobmanager.rpc.port: $RPC_PORT
jobmanager.bind-host: 127.0.0.1
jobmanager.memory.process.size: 1024m
taskmanager.host: 127.0.0.1
taskmanager.bind-host: 127.0.0.1
taskmanager.numberOfTaskSlots: 8
# TaskManagerRunner needs its resources spelt out when no start script
# computes them: 128+384+256+64+128 MiB of Flink memory (heap 512m, direct
# 192m, the JVM flags in up), metaspace and overhead on top.
taskmanager.cpu.cores: 2
taskmanager.memory.framework.heap.size: 128m
taskmanager.memory.task.heap.size: 384m
taskmanager.memory.managed.size: 256m
taskmanager.memory.network.min: 64m
taskmanager.memory.network.max: 64m
taskmanager.memory.framework.off-heap.size: 128m
taskmanager.memory.task.off-heap.size: 0m
taskmanager.memory.jvm-metaspace.size: 256m
taskmanager.memory.jvm-overhead.min: 192m
taskmanager.memory.jvm-overhead.max: 192m
parallelism.default: 1
rest.address: 127.0.0.1
rest.bind-address: 127.0.0.1
rest.port: $REST_PORT
blob.server.port: 0
execution.target: remote
sql-gateway.endpoint.rest.address: 127.0.0.1
sql-gateway.endpoint.rest.bind-address: 127.0.0.1
sql-gateway.endpoint.rest.port: $GW_PORT
io.tmp.dirs: $DIR/tmp
EOF
  cat > "$CONF/log4j.properties" <<'EOF'
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = MainAppender
appender.main.name = MainAppender
appender.main.type = File
appender.main.append = true
appender.main.fileName = ${sys:log.file}
appender.main.layout.type = PatternLayout
appender.main.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n
logger.netty.name = org.jboss.netty.channel.DefaultChannelPipeline
logger.netty.level = OFF
EOF
}

JAVA_OPENS=(
  --add-exports=java.base/sun.net.util=ALL-UNNAMED --add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED
  --add-exports=jdk.compiler/com.sun.tools.javac.api=ALL-UNNAMED --add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED
  --add-exports=jdk.compiler/com.sun.tools.javac.parser=ALL-UNNAMED --add-exports=jdk.compiler/com.sun.tools.javac.tree=ALL-UNNAMED
  --add-exports=jdk.compiler/com.sun.tools.javac.util=ALL-UNNAMED --add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED
  --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED
  --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/java.lang.reflect=ALL-UNNAMED
  --add-opens=java.base/java.text=ALL-UNNAMED --add-opens=java.base/java.time=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent=ALL-UNNAMED --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED
)

# start NAME "JVM FLAGS" MAIN ARGS...: one detached JVM, its pid in $DIR/NAME.pid.
start() {
  local name="$1" jvm="$2" main="$3"; shift 3
  if [ -f "$DIR/$name.pid" ] && kill -0 "$(cat "$DIR/$name.pid")" 2>/dev/null; then return; fi
  # shellcheck disable=SC2086 # $jvm is a list of flags
  FLINK_CONF_DIR="$CONF" FLINK_LIB_DIR="$LIB" FLINK_PLUGINS_DIR="$DIR/plugins" \
    setsid nohup java $jvm \
    "${JAVA_OPENS[@]}" -Dlog.file="$LOGS/$name.log" -Dlog4j.configurationFile="file:$CONF/log4j.properties" \
    -cp "$LIB/*" "$main" "$@" >"$LOGS/$name.out" 2>&1 < /dev/null &
  echo $! > "$DIR/$name.pid"
}

answers() { curl -fsS -m 2 "$1" >/dev/null 2>&1; }

wait_for() { # URL SECONDS WHAT
  local i
  for ((i = 0; i < $2 * 4; i++)); do
    if answers "$1"; then return 0; fi
    sleep 0.25
  done
  echo "flink.sh: $3 did not answer $1 within $2s; logs in $LOGS" >&2
  tail -n 20 "$LOGS"/*.out >&2 || true
  return 1
}

up() {
  if answers "http://127.0.0.1:$GW_PORT/v1/info"; then return; fi
  install
  write_conf
  local t0=$SECONDS
  start jobmanager "-Xmx512m -Xms512m -XX:MaxMetaspaceSize=256m" org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint --configDir "$CONF"
  start taskmanager "-Xmx512m -Xms512m -XX:MaxDirectMemorySize=192m -XX:MaxMetaspaceSize=256m" org.apache.flink.runtime.taskexecutor.TaskManagerRunner --configDir "$CONF"
  wait_for "http://127.0.0.1:$REST_PORT/overview" 120 "the Flink JobManager"
  start sqlgateway "-Xmx512m -Xms512m -XX:MaxMetaspaceSize=384m" org.apache.flink.table.gateway.SqlGateway
  wait_for "http://127.0.0.1:$GW_PORT/v1/info" 120 "the Flink SQL Gateway"
  # The gateway is useless until a TaskManager has registered its slots.
  local i
  for ((i = 0; i < 240; i++)); do
    if curl -fsS -m 2 "http://127.0.0.1:$REST_PORT/overview" | grep -q '"slots-total":[1-9]'; then
      echo "flink.sh: up in $((SECONDS - t0))s" >&2
      return
    fi
    sleep 0.5
  done
  echo "flink.sh: no TaskManager registered within 120s; logs in $LOGS" >&2
  return 1
}

down() {
  local name pid
  for name in sqlgateway taskmanager jobmanager; do
    [ -f "$DIR/$name.pid" ] || continue
    pid="$(cat "$DIR/$name.pid")"
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$DIR/$name.pid"
  done
}

env_() {
  echo "FEDMESH_FLINK_URL=http://127.0.0.1:$GW_PORT"
  echo "FEDMESH_FLINK_REST_URL=http://127.0.0.1:$REST_PORT"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  env) env_ ;;
  status) if answers "http://127.0.0.1:$GW_PORT/v1/info"; then echo running; else echo stopped; exit 1; fi ;;
  *) echo "usage: $0 up|down|env|status" >&2; exit 2 ;;
esac
