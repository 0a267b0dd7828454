import { type CorefileConfig, renderCorefile } from "./corefile.ts";
import { renderSupervisor } from "./supervisor.ts";

export interface InitScriptConfig extends CorefileConfig {
  /** Fixed upstreams; empty: the task's own nameservers, read from resolv.conf at start. */
  upstreams: readonly string[];
  fallback: boolean;
  resolverTimeout: number;
  resolverAttempts: number;
}

/** The VPC resolver, used only when the task's resolv.conf names no usable nameserver. */
export const VPC_RESOLVER = "169.254.169.253";
export const ORIGINAL_PREFIX = "#dns-cache-orig: ";
/** CoreDNS's forward plugin takes at most 15 upstreams. */
const MAX_UPSTREAMS = 15;
/** glibc reads at most 3 nameserver lines: the cache and two fallbacks. */
const MAX_FALLBACKS = 2;

/** Double quotes are literal in an unquoted here-document; $, ` and \ are not, so they are refused. */
function safeInHereDocument(text: string): boolean {
  return /^[A-Za-z0-9 .:_%{}"\n-]*$/.test(text);
}

/**
 * POSIX sh run by the init container (busybox) before anything else in the task. It never fails the
 * task: every problem is logged and the script exits 0, leaving resolv.conf as it was.
 *
 * Facts it relies on (DESIGN.md): resolv.conf is one bind-mounted file shared by every container of an
 * awsvpc task, so it is rewritten in place (`cat > file`, never rename or `sed -i`); busybox's `[ -w ]`
 * lies for root, so writability is tested by opening the file for append, in a subshell: a redirection
 * error on `:` (a special built-in) makes a POSIX shell exit (dash 2, busybox 1), failing the task.
 * The original lines are kept as comments, so a second run rebuilds the same file from them.
 * DNS_CACHE_RESOLV_CONF, DNS_CACHE_DIR and DNS_CACHE_BUSYBOX exist for tests only.
 */
export function renderInitScript(config: InitScriptConfig): string {
  const corefile = renderCorefile(config, "$upstreams");
  // The Corefile goes through an unquoted here-document: only $upstreams may expand.
  if (!safeInHereDocument(corefile.replace("$upstreams", "")))
    throw new Error("Corefile holds characters unsafe in a here-document");
  for (const ip of config.upstreams) {
    if (!/^[0-9A-Fa-f.:]+$/.test(ip)) throw new Error(`unsafe upstream ${ip}`);
  }
  return `set -u
set -f
R="\${DNS_CACHE_RESOLV_CONF:-/etc/resolv.conf}"
D="\${DNS_CACHE_DIR:-/dns-cache}"
B="\${DNS_CACHE_BUSYBOX:-/bin/busybox}"
log() { printf 'dns-cache-init: %s\\n' "$*" >&2; }
fixed_upstreams='${config.upstreams.join(" ")}'
fallback=${config.fallback ? "on" : "off"}

# The original file, also when this already ran (its lines are kept as comments). CRs are dropped:
# a CRLF file would otherwise put "10.0.0.2<CR>" into the Corefile. When the file cannot be read, the
# Corefile and the probe are still written (the cache must start and turn healthy, or the app
# containers that wait for it never start), but resolv.conf is left alone.
readable=yes
if [ ! -r "$R" ]; then
  readable=no
  orig=""
elif grep -q '^${ORIGINAL_PREFIX}' "$R" 2>/dev/null; then
  orig=$(sed -n 's/^${ORIGINAL_PREFIX}//p' "$R")
elif ! orig=$(tr -d '\\r' < "$R"); then
  readable=no
  orig=""
fi

nameservers=""
forwardable=""
count=0
kept=""
opts=""
nl='
'
while IFS= read -r line; do
  set -- $line
  [ $# -gt 0 ] || continue
  case "$1" in
    nameserver)
      if [ $# -ge 2 ]; then
        case "$2" in
          127.*|::1|0.0.0.0|::|0:0:0:0:0:0:0:1|::ffff:127.*) ;;
          *)
            case " $nameservers " in
              *" $2 "*) ;;
              *)
                nameservers="$nameservers $2"
                # forward takes no zone id (% is its TLS name separator) and nothing but an address.
                case "$2" in
                  *[!0-9A-Fa-f.:]*) log "nameserver $2 kept as a fallback only: the cache forwards to plain addresses only" ;;
                  *) [ "$count" -ge ${MAX_UPSTREAMS} ] || { forwardable="$forwardable $2"; count=$((count + 1)); } ;;
                esac ;;
            esac ;;
        esac
      fi ;;
    options)
      shift
      for o in "$@"; do
        case "$o" in
          # rotate would send part of the queries past the cache to the fallback.
          timeout:*|attempts:*|rotate) ;;
          *) opts="$opts $o" ;;
        esac
      done ;;
    \\#*|\\;*) ;;
    *) kept="$kept$line$nl" ;;
  esac
done <<EOF_ORIG
$orig
EOF_ORIG

upstreams="$fixed_upstreams"
[ -n "$upstreams" ] || upstreams="\${forwardable# }"
if [ -z "$upstreams" ]; then
  upstreams=${VPC_RESOLVER}
  log "no nameserver in $R; forwarding to the VPC resolver $upstreams"
fi

fail() {
  log "WARNING: $*; leaving DNS as it is"
  exit 0
}

mkdir -p "$D" && chmod 0755 "$D" || fail "cannot create $D"
cat > "$D/Corefile.new" <<EOF_COREFILE || fail "cannot write $D/Corefile"
${corefile}EOF_COREFILE
chmod 0644 "$D/Corefile.new" && mv -f "$D/Corefile.new" "$D/Corefile" || fail "cannot write $D/Corefile"
# The cache container runs the supervisor with this busybox (its image has no shell); the health check
# runs it as the probe. Without them the cache cannot start, so resolv.conf is then left alone.
if [ ! -x "$D/busybox" ]; then
  cp "$B" "$D/busybox.new" && chmod 0755 "$D/busybox.new" && mv -f "$D/busybox.new" "$D/busybox" || fail "cannot install busybox for the supervisor and the probe"
fi
cat > "$D/supervise.new" <<'EOF_SUPERVISOR' || fail "cannot write $D/supervise"
${renderSupervisor()}EOF_SUPERVISOR
chmod 0644 "$D/supervise.new" && mv -f "$D/supervise.new" "$D/supervise" || fail "cannot write $D/supervise"

{
  echo "# Managed by dns-cache: queries go to the per-task DNS cache on 127.0.0.1 first."
  echo "nameserver 127.0.0.1"
  if [ "$fallback" = on ]; then
    # With no usable original nameserver, the VPC resolver is still a fallback.
    written=0
    for n in \${nameservers:-${VPC_RESOLVER}}; do
      [ "$written" -lt ${MAX_FALLBACKS} ] || break
      echo "nameserver $n"
      written=$((written + 1))
    done
  fi
  printf '%s' "$kept"
  echo "options$opts timeout:${config.resolverTimeout} attempts:${config.resolverAttempts}"
  printf '%s\\n' "$orig" | sed 's/^/${ORIGINAL_PREFIX}/'
} > "$D/resolv.conf.new" || fail "cannot prepare the new resolv.conf"

if [ "$readable" = no ]; then
  log "WARNING: cannot read $R; leaving it as it is: the task runs without the DNS cache"
elif cmp -s "$D/resolv.conf.new" "$R"; then
  log "resolv.conf already points at the cache"
elif ( : >> "$R" ) 2>/dev/null && { cat "$D/resolv.conf.new" > "$R"; } 2>/dev/null; then
  log "resolv.conf now points at the cache (upstreams: $upstreams; fallback: $fallback)"
else
  log "WARNING: $R is not writable; the task runs without the DNS cache"
fi
rm -f "$D/resolv.conf.new"
exit 0
`;
}
