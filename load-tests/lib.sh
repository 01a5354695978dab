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
    case $t in taskset) packages+=(util-linux);; jcmd) packages+=(openjdk-17-jdk-headless);; *) packages+=("$t");; esac
  done
  if ((${#missing[@]})); then
    echo "missing: ${missing[*]} (this script installs nothing; on Debian: apt-get install -y ${packages[*]})" >&2
    exit 2
  fi
}

# Builds target/fairway.jar unless it is there.
fairway_jar() {
  [ -f "$root/target/fairway.jar" ] || (cd "$root" && mvn -B -q package -DskipTests)
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

# cpu_ticks PID: user + system CPU ticks (getconf CLK_TCK per second) of a process and its children.
cpu_ticks() {
  local t=0 p ticks
  for p in "$1" $(pgrep -P "$1" || true); do
    ticks=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || true)
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
