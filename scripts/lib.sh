# Shared set-up steps of scripts/test.sh and scripts/demo.sh: each step uses what is there, starts what
# is installed, and installs what is absent (Debian packages; run as root, as CI does, or with sudo).

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
APT_UPDATED=""

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

apt_install() {
  if [ -z "$APT_UPDATED" ]; then
    say "apt-get update"
    $SUDO apt-get update -qq
    APT_UPDATED=1
  fi
  say "apt-get install $*"
  # No recommended packages: Chromium alone would bring about a hundred (fonts, desktop integration) it does not need here.
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# ensure_command COMMAND DEBIAN-PACKAGE
ensure_command() {
  command -v "$1" >/dev/null 2>&1 || apt_install "$2"
}

ensure_python_venv() {
  ensure_command python3 python3
  if [ ! -x .venv/bin/python ]; then
    say "creating .venv"
    python3 -m venv .venv 2>/dev/null || { apt_install python3-venv; python3 -m venv .venv; }
  fi
  # requirements.lock pins every package with its hashes (made from requirements.txt by pip-compile
  # --generate-hashes); installing with --require-hashes refuses anything else.
  local stamp=.venv/.requirements.sha256
  local want
  want=$(sha256sum requirements.lock | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "pip install --require-hashes -r requirements.lock"
    .venv/bin/pip install -q --require-hashes -r requirements.lock
    echo "$want" > "$stamp"
  fi
}

compile_messages() {
  ensure_command msgfmt gettext
  DJANGO_DEBUG=1 HRSYNC_ENV_FILE=/nonexistent .venv/bin/python manage.py compilemessages --ignore=.venv -v 0
}

ensure_redis() {
  if redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then return; fi
  ensure_command redis-server redis-server
  ensure_command redis-cli redis-tools
  if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    say "starting redis-server"
    mkdir -p /tmp/hrsync-redis
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
      --dir /tmp/hrsync-redis --logfile /tmp/hrsync-redis/redis.log
    for _ in $(seq 1 50); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 0.1; done
  fi
}

ensure_postgres() {
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then apt_install postgresql; fi
  ensure_command pg_isready postgresql-client
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    say "starting PostgreSQL"
    local version
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    for _ in $(seq 1 100); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.2; done
  fi
  # The suite logs in as role hrsync (password hrsync) and creates its own test database. Where the
  # server trusts loopback (as here) any password works; on a stock install the role must exist.
  if ! PGPASSWORD=hrsync psql -h 127.0.0.1 -U hrsync -d postgres -qtAc 'select 1' >/dev/null 2>&1; then
    say "creating PostgreSQL role hrsync"
    $SUDO runuser -u postgres -- psql -qc \
      "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='hrsync') THEN CREATE ROLE hrsync LOGIN PASSWORD 'hrsync' CREATEDB; ELSE ALTER ROLE hrsync LOGIN PASSWORD 'hrsync' CREATEDB; END IF; END \$\$;"
  fi
}
