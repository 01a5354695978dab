# Shared by the load-test scripts (sourced, not run): their paths, the tools they need, the jar, a scratch
# directory, and stopping exactly the processes a script started (their PIDs in `pids`) when it exits.
here=$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)
root=$(cd "$here/.." && pwd)
mkdir -p "$here/results"

# need TOOL...: stops with exit code 2, naming every missing tool and the Debian package that has it.
need() {
  local missing=() packages=() t
  for t in "$@"; do
    command -v "$t" >/dev/null && continue
    missing+=("$t")
    case $t in taskset) packages+=(util-linux);; jcmd|javac) packages+=(openjdk-17-jdk-headless);; *) packages+=("$t");; esac
  done
  if ((${#missing[@]})); then
    echo "missing: ${missing[*]} (this script installs nothing; on Debian: apt-get install -y ${packages[*]})" >&2
    exit 2
  fi
}

# The JVM flags the throughput benchmarks run Fairway with (override with FAIRWAY_JVM_OPTS).
THROUGHPUT_JVM_OPTS="-XX:+UseParallelGC -Xms256m -Xmx256m"

# await_http URL [CURL_ARGS...]: waits up to 30 s for URL to answer 2xx; stops the script, naming it, if it never does.
await_http() {
  local url=$1
  shift
  for _ in $(seq 1 300); do curl -sf -o /dev/null "$@" "$url" && return 0; sleep 0.1; done
  echo "no answer from $url within 30 s" >&2
  exit 1
}

# Builds target/fairway.jar unless it is there.
fairway_jar() {
  [ -f "$root/target/fairway.jar" ] || (cd "$root" && mvn -B -q package -DskipTests)
}

# http_proxy_jar: prints the path of the Web Proxy library's jar (io.vertx:vertx-http-proxy) at the version of the
# Vert.x BOM in pom.xml, fetched into the local Maven repository if it is not there yet.
http_proxy_jar() {
  local version jar
  version=$(grep -A1 '<artifactId>vertx-stack-depchain</artifactId>' "$root/pom.xml" | sed -n 's#.*<version>\(.*\)</version>.*#\1#p')
  jar="$HOME/.m2/repository/io/vertx/vertx-http-proxy/$version/vertx-http-proxy-$version.jar"
  [ -f "$jar" ] || mvn -B -q dependency:get -Dartifact="io.vertx:vertx-http-proxy:$version" -Dtransitive=false >&2
  echo "$jar"
}

# big_file_backend DIR PORT: writes DIR/big.bin (1 GiB, sparse: served with sendfile, costs no disk) and
# DIR/backend.conf, an nginx serving it on 127.0.0.1:PORT (with /health) and taking uploads of any size.
big_file_backend() {
  local dir=$1 port=$2
  truncate -s 1G "$dir/big.bin"
  chmod 755 "$dir"; chmod 644 "$dir/big.bin"   # nginx workers run unprivileged
  cat > "$dir/backend.conf" <<CONF
worker_processes 1; daemon off; pid $dir/backend.pid; error_log $dir/backend-error.log;
events { worker_connections 1024; }
http { access_log off; sendfile on;
  server { listen 127.0.0.1:$port; client_max_body_size 0;
    location = /big.bin { root $dir; }
    location = /health { return 200 "ok\n"; } } }
CONF
}

# scratch NAME: sets `work` to a new directory under /tmp, removed on exit (with the logs written into it).
work=""
scratch() {
  work=$(mktemp -d "/tmp/fairway-$1.XXXXXX")
}

# proc_kib FIELD PID: a /proc/PID/status figure (VmRSS: now, VmHWM: peak) in KiB, summed over the process and its
# children (nginx's and HAProxy's workers).
proc_kib() {
  local total=0 p kib
  for p in "$2" $(pgrep -P "$2" || true); do
    kib=$(awk -v f="$1:" '$1 == f {print $2}' "/proc/$p/status" 2>/dev/null || true)
    total=$((total + ${kib:-0}))
  done
  echo "$total"
}

# backend_conf FILE PORT...: an nginx (one worker) answering 1 KiB of text on each loopback port: the fast backend.
backend_conf() {
  local file=$1 listens="" p body
  shift
  for p in "$@"; do listens+="listen 127.0.0.1:$p; "; done
  body=$(head -c 1024 /dev/zero | tr '\0' 'x')
  cat > "$file" <<CONF
worker_processes 1; daemon off; pid ${file%.conf}.pid; error_log ${file%.conf}-error.log;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  server { $listens
           location / { default_type text/plain; return 200 '$body'; } } }
CONF
}

# nginx_proxy_conf FILE LISTEN PORT...: nginx (one worker) on LISTEN (e.g. "127.0.0.1:18090" or "… http2") proxying
# to the ports as an nginx user would: upstream keep-alive, X-Forwarded-* headers, no buffering.
nginx_proxy_conf() {
  local file=$1 listen=$2 servers="" p
  shift 2
  for p in "$@"; do servers+="server 127.0.0.1:$p; "; done
  cat > "$file" <<CONF
worker_processes 1; daemon off; pid ${file%.conf}.pid; error_log ${file%.conf}-error.log;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  upstream backend { $servers keepalive 256; }
  server { listen $listen;
    location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection "";
                 proxy_set_header Host \$host; proxy_set_header X-Real-IP \$remote_addr;
                 proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for; proxy_buffering off; } } }
CONF
}

# events_backend PORT: a Python backend on 127.0.0.1:PORT, on CPU 1, in the background (its PID in pids): /health
# answers "ok", /events?mib=N sends N MiB of 256-byte server-sent events, each written (and flushed) on its own:
# close-delimited, or with &chunked=1 each event a chunk (as gunicorn, uvicorn, Node and Go send a stream).
events_backend() {
  taskset -c 1 python3 - "$1" > "$work/events-$1.log" 2>&1 <<'PY' &
# /events?mib=N[&chunked=1]: N MiB of 256-byte server-sent events, each written (and flushed) on its own
import http.server, sys
EVENT = b"data: " + b"x" * 248 + b"\n\n"
class Events(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        if self.path.startswith("/health"):
            self.send_response(200); self.send_header("Content-Length", "3"); self.end_headers(); self.wfile.write(b"ok\n"); return
        mib = int(self.path.split("mib=")[1].split("&")[0]) if "mib=" in self.path else 1
        chunked = "chunked=1" in self.path
        self.send_response(200); self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding" if chunked else "Connection", "chunked" if chunked else "close")
        self.end_headers()
        event = b"%x\r\n" % len(EVENT) + EVENT + b"\r\n" if chunked else EVENT
        for _ in range(mib * 4096):
            self.wfile.write(event)
        if chunked: self.wfile.write(b"0\r\n\r\n")
    def log_message(self, *args): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Events).serve_forever()
PY
  pids+=($!)
}

# haproxy_conf FILE BIND PORT...: HAProxy (one thread) on BIND (e.g. "127.0.0.1:18091 proto h2"), round robin over the
# ports, reusing upstream connections.
haproxy_conf() {
  local file=$1 bind=$2 i=0 p
  shift 2
  {
    printf 'global\n  nbthread 1\n  maxconn 8000\ndefaults\n  mode http\n  timeout connect 60s\n'
    printf '  timeout client 1800s\n  timeout server 1800s\n  option forwardfor\n  http-reuse always\n'
    printf 'frontend fe\n  bind %s\n  default_backend be\nbackend be\n  balance roundrobin\n' "$bind"
    for p in "$@"; do i=$((i + 1)); printf '  server s%d 127.0.0.1:%s\n' "$i" "$p"; done
  } > "$file"
}

# cpu_ticks PID [user]: user + system CPU ticks (getconf CLK_TCK per second) of a process and its children; with
# "user", user-space ticks only (the rest is the kernel's work for it: system calls, the TCP stack).
cpu_ticks() {
  local t=0 p ticks
  for p in "$1" $(pgrep -P "$1" || true); do
    ticks=$(awk -v user="${2:-}" '{print user ? $14 : $14 + $15}' "/proc/$p/stat" 2>/dev/null || true)
    t=$((t + ${ticks:-0}))
  done
  echo "$t"
}

pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "$work" ]; then rm -rf "$work"; fi
}
trap cleanup EXIT
