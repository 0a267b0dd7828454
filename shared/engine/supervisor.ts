/**
 * The cache container's entry point: a POSIX sh script, run by the static busybox the init container
 * copied into the volume (the CoreDNS image is distroless: no shell of its own), that keeps CoreDNS
 * answering DNS without stopping the task.
 *
 * Why not leave it to ECS: ECS restarts a container only when it exits (an UNHEALTHY container is only
 * reported), and its restart policy skips a container that ran less than restartAttemptPeriod (60 s at
 * least). A CoreDNS that is alive but silent (stuck, its listener gone) would never be restarted, and
 * every glibc lookup of the app would pay the resolver timeout for the rest of the task's life. So:
 * - CoreDNS runs as a child; every PROBE_INTERVAL seconds the supervisor asks it a name the Corefile
 *   answers itself (never the upstream, so an upstream outage is not a failure);
 * - after PROBE_FAILURES failures in a row it kills CoreDNS (SIGKILL works on a frozen process) and
 *   starts it again at once, in the same container;
 * - when CoreDNS exits on its own (a Corefile it cannot load, a crash) it is started again after a
 *   backoff of 1 s doubling to 30 s, reset once it has answered;
 * - SIGTERM/SIGINT (ECS stopping the task) are passed to CoreDNS, and the script exits with its status.
 * Every command is a shell built-in or a busybox applet called through $B: there is no PATH to rely on.
 * DNS_CACHE_* variables other than the paths below exist for tests only.
 */
import { PROBE_NAME } from "./corefile.ts";

export const PROBE_INTERVAL = 5; // seconds between probes
export const PROBE_FAILURES = 3; // failed probes in a row before CoreDNS is restarted
export const PROBE_TIMEOUT = 2; // seconds one probe waits (two sends, 1 s apart)
const MAX_BACKOFF = 30;

/** The probe as an argument list, shared by the supervisor and the container health check. */
export function probeArgs(port: string | number = 53): string[] {
  return [
    "nslookup",
    "-type=a",
    `-timeout=${PROBE_TIMEOUT}`,
    "-retry=2",
    ...(port === 53 ? [] : [`-port=${port}`]),
    PROBE_NAME,
    "127.0.0.1",
  ];
}

export function renderSupervisor(): string {
  return `B="\${DNS_CACHE_BUSYBOX:-/dns-cache/busybox}"
C="\${DNS_CACHE_COREDNS:-/coredns}"
F="\${DNS_CACHE_COREFILE:-/dns-cache/Corefile}"
P="\${DNS_CACHE_PROBE_PORT:-53}"
interval="\${DNS_CACHE_PROBE_INTERVAL:-${PROBE_INTERVAL}}"
log() { printf 'dns-cache-supervisor: %s\\n' "$*" >&2; }
pid=""
stopping=""
stop() {
  stopping=yes
  [ -z "$pid" ] || kill -TERM "$pid" 2>/dev/null
}
trap stop TERM INT
probe() {
  "$B" nslookup -type=a -timeout=${PROBE_TIMEOUT} -retry=2 -port="$P" ${PROBE_NAME} 127.0.0.1 >/dev/null 2>&1
}
# Sleeps in the background so that a signal interrupts the wait at once.
pause() {
  "$B" sleep "$1" &
  wait $! || kill $! 2>/dev/null
}
backoff=1
while :; do
  "$C" -conf "$F" &
  pid=$!
  log "started CoreDNS (pid $pid)"
  fails=0
  answered=""
  while [ -z "$stopping" ] && kill -0 "$pid" 2>/dev/null; do
    pause "$interval"
    [ -z "$stopping" ] || break
    if probe; then
      fails=0
      answered=yes
    else
      fails=$((fails + 1))
      if [ "$fails" -ge ${PROBE_FAILURES} ]; then
        log "CoreDNS did not answer DNS on 127.0.0.1:$P for ${PROBE_FAILURES} checks in a row; restarting it"
        kill -KILL "$pid" 2>/dev/null
        break
      fi
    fi
  done
  # wait returns early when a trapped signal arrives: wait again until CoreDNS has really exited.
  while :; do
    wait "$pid"
    code=$?
    kill -0 "$pid" 2>/dev/null || break
  done
  pid=""
  if [ -n "$stopping" ]; then
    log "stopped (CoreDNS exit status $code)"
    exit "$code"
  fi
  if [ "$fails" -ge ${PROBE_FAILURES} ]; then
    continue
  fi
  [ -z "$answered" ] || backoff=1
  log "CoreDNS exited with status $code; starting it again in \${backoff}s"
  pause "$backoff"
  [ -z "$stopping" ] || exit "$code"
  backoff=$((backoff * 2))
  [ "$backoff" -le ${MAX_BACKOFF} ] || backoff=${MAX_BACKOFF}
done
`;
}
