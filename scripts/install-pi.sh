#!/usr/bin/env bash
# Installs the Wardcast edge agent on a Raspberry Pi (Raspberry Pi OS 64-bit, bookworm),
# run as root from a copy of this repository on the Pi (docs/install-pi.md):
#
#   sudo scripts/install-pi.sh --enrol 'wardcast-enrol:https://…|loa-p1-01|ABCD-EFGH' \
#        --controller-url https://… --alsa-device plughw:1,0 --mixer-control PCM \
#        --volume 80 --relay-pin 17
#
# 1. Debian packages: python3-venv, ffmpeg, alsa-utils (when absent);
# 2. a system user `wardcast` (groups audio, and gpio where it exists);
# 3. /opt/wardcast/venv with the agent's locked set (requirements/agent.txt, hashes
#    checked, PyPI only) and the package itself;
# 4. /etc/wardcast/agent.env, the settings (kept on a re-run; options given replace
#    their lines);
# 5. enrolment with the one-time line, into /var/lib/wardcast-agent (once);
# 6. the unit deploy/systemd/wardcast-agent.service, then `wardcast-agent check`
#    (clock, broker, key, speaker) and, if every check is OK, the unit enabled and started.
#
# Safe to run again: it keeps the user, the enrolment and the settings it finds.
# `--check-only` runs the on-site check alone; `--print-env` prints the settings file
# it would write, and changes nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

PREFIX=/opt/wardcast
VENV=$PREFIX/venv
# Where the settings live; the tests point it at a temporary folder.
ETC=${WARDCAST_PI_ETC:-/etc/wardcast}
ENV_FILE=$ETC/agent.env
STATE=/var/lib/wardcast-agent
UNIT=/etc/systemd/system/wardcast-agent.service
USER_NAME=wardcast

usage() {
  sed -n '2,/^set -euo/{/^#/p}' "$0" | sed 's/^# \{0,1\}//'
  cat <<'EOF'
Options:
  --enrol LINE             the enrolment line the administrator printed (once per device)
  --controller-url URL     the controller, for the clock check (WARDCAST_CONTROLLER_URL)
  --alsa-device DEV        aplay -D device (default "default"; `aplay -l` lists cards)
  --mixer-control NAME     mixer control the volume is set on (`amixer scontrols`)
  --mixer-device DEV       amixer -D device of that control (default "default")
  --volume N               0-100 (default 80)
  --relay-pin N            BCM GPIO pin of the amplifier relay (default 17)
  --relay-active-low       the relay board closes on a low level
  --no-relay               no relay fitted: the amplifier is always on
  --skip-check             install without running `wardcast-agent check`
  --no-start               install and check, but do not enable or start the unit
  --print-env              print the settings file and exit (changes nothing)
  --check-only             only run `wardcast-agent check` as the service would (the
                           service is stopped for it and started again)
EOF
}

declare -A SET=()
ENROL_LINE=""
CHECK=1
START=1
PRINT_ENV=0
CHECK_ONLY=0
while [ $# -gt 0 ]; do
  case "$1" in
    --enrol) ENROL_LINE=${2:?--enrol needs the line}; shift ;;
    --controller-url) SET[WARDCAST_CONTROLLER_URL]=${2:?}; shift ;;
    --alsa-device) SET[WARDCAST_AGENT_ALSA_DEVICE]=${2:?}; shift ;;
    --mixer-control) SET[WARDCAST_AGENT_ALSA_MIXER_CONTROL]=${2:?}; shift ;;
    --mixer-device) SET[WARDCAST_AGENT_ALSA_MIXER_DEVICE]=${2:?}; shift ;;
    --volume) SET[WARDCAST_AGENT_VOLUME]=${2:?}; shift ;;
    --relay-pin) SET[WARDCAST_AGENT_RELAY_GPIO_PIN]=${2:?}; shift ;;
    --relay-active-low) SET[WARDCAST_AGENT_RELAY_ACTIVE_LOW]=true ;;
    --no-relay) SET[WARDCAST_AGENT_RELAY_DRIVER]=simulated ;;
    --skip-check) CHECK=0 ;;
    --no-start) START=0 ;;
    --print-env) PRINT_ENV=1 ;;
    --check-only) CHECK_ONLY=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install-pi: unknown option $1 (--help lists them)" >&2; exit 2 ;;
  esac
  shift
done
case "${SET[WARDCAST_AGENT_VOLUME]:-80}" in
  [0-9]|[1-9][0-9]|100) ;;
  *) echo "install-pi: --volume must be 0-100" >&2; exit 2 ;;
esac
case "${SET[WARDCAST_AGENT_RELAY_GPIO_PIN]:-17}" in
  ''|*[!0-9]*) echo "install-pi: --relay-pin must be a GPIO number" >&2; exit 2 ;;
esac

# The settings file: the defaults for a Pi, then what is already installed, then the
# options given. Every name is a field of edge_agent/config.py (tests/unit/test_pi_install.py).
settings() {
  local -A value=(
    [WARDCAST_CONTROLLER_URL]=""
    [WARDCAST_AGENT_PLAYER]=alsa
    [WARDCAST_AGENT_ALSA_DEVICE]=default
    [WARDCAST_AGENT_ALSA_MIXER_CONTROL]=""
    [WARDCAST_AGENT_ALSA_MIXER_DEVICE]=default
    [WARDCAST_AGENT_VOLUME]=80
    [WARDCAST_AGENT_RELAY_DRIVER]=sysfs
    [WARDCAST_AGENT_RELAY_GPIO_PIN]=17
    [WARDCAST_AGENT_RELAY_ACTIVE_LOW]=false
  )
  local order=(WARDCAST_CONTROLLER_URL WARDCAST_AGENT_PLAYER WARDCAST_AGENT_ALSA_DEVICE
    WARDCAST_AGENT_ALSA_MIXER_CONTROL WARDCAST_AGENT_ALSA_MIXER_DEVICE WARDCAST_AGENT_VOLUME
    WARDCAST_AGENT_RELAY_DRIVER WARDCAST_AGENT_RELAY_GPIO_PIN WARDCAST_AGENT_RELAY_ACTIVE_LOW)
  local key line
  if [ -f "$ENV_FILE" ]; then
    while IFS= read -r line; do
      case "$line" in ''|'#'*) continue ;; esac
      key=${line%%=*}
      line=${line#*=}
      line=${line#\"}
      value[$key]=${line%\"}
      [[ " ${order[*]} " == *" $key "* ]] || order+=("$key")
    done <"$ENV_FILE"
  fi
  for key in "${!SET[@]}"; do value[$key]=${SET[$key]}; done
  echo "# Wardcast edge agent settings (docs/install-pi.md), read by wardcast-agent.service."
  echo "# Every WARDCAST_AGENT_<FIELD> is a field of edge_agent/config.py. After a change:"
  echo "#   sudo systemctl restart wardcast-agent"
  # Quoted: systemd's EnvironmentFile and the shell (install-pi's own check) read it alike.
  for key in "${order[@]}"; do echo "$key=\"${value[$key]}\""; done
}

if [ "$PRINT_ENV" -eq 1 ]; then
  settings
  exit 0
fi

[ "$(id -u)" -eq 0 ] || { echo "install-pi: run as root (sudo $0 …)" >&2; exit 1; }
arch=$(uname -m)
if [ "$arch" != aarch64 ]; then
  echo "install-pi: warning: $arch, not aarch64: the locked wheels are for 64-bit" \
    "Raspberry Pi OS; pip may have to build some, or refuse their hashes" >&2
fi

as_agent() {
  # The unit's environment, as the unit's user.
  (set -a && . "$ENV_FILE" && set +a && export WARDCAST_AGENT_DATA_DIR="$STATE" &&
    runuser -u "$USER_NAME" -- "$VENV/bin/wardcast-agent" "$@")
}

if [ "$CHECK_ONLY" -eq 1 ]; then
  running=0
  systemctl is-active --quiet wardcast-agent && running=1
  # The test tone needs the sound card the running agent holds.
  [ "$running" -eq 0 ] || systemctl stop wardcast-agent
  status=0
  as_agent check || status=$?
  [ "$running" -eq 0 ] || systemctl start wardcast-agent
  exit "$status"
fi

need=()
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
command -v aplay >/dev/null 2>&1 || need+=(alsa-utils)
if [ ${#need[@]} -gt 0 ]; then
  echo "install-pi: Debian packages: ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

if ! id "$USER_NAME" >/dev/null 2>&1; then
  echo "install-pi: creating user $USER_NAME"
  useradd --system --user-group --home-dir "$STATE" --no-create-home \
    --shell /usr/sbin/nologin "$USER_NAME"
fi
for group in audio gpio; do
  getent group "$group" >/dev/null && usermod -aG "$group" "$USER_NAME"
done
install -d -o "$USER_NAME" -g "$USER_NAME" -m 0700 "$STATE"

echo "install-pi: Python packages into $VENV (requirements/agent.txt)"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
# PyPI only: Raspberry Pi OS points pip at piwheels too, whose builds are not the
# files the lock's hashes name (docs/dependencies.md).
export PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1
"$VENV/bin/python" -m pip install -q --require-hashes -r requirements/agent.txt
"$VENV/bin/python" -m pip install -q --no-deps --force-reinstall .
install -d "$PREFIX/docs" && install -m 0644 docs/install-pi.md "$PREFIX/docs/"

install -d -m 0755 "$ETC"
settings >"$ENV_FILE.new"
chown "root:$USER_NAME" "$ENV_FILE.new" && chmod 0640 "$ENV_FILE.new"
mv "$ENV_FILE.new" "$ENV_FILE"

if [ -f "$STATE/enrolment.json" ]; then
  echo "install-pi: already enrolled ($STATE/enrolment.json kept)"
elif [ -n "$ENROL_LINE" ]; then
  as_agent enrol --line "$ENROL_LINE"
else
  echo "install-pi: not enrolled: run again with --enrol '<the line from the controller>'" >&2
  START=0
fi

install -m 0644 deploy/systemd/wardcast-agent.service "$UNIT"
systemctl daemon-reload
if [ "$CHECK" -eq 1 ] && [ -f "$STATE/enrolment.json" ]; then
  # The test tone needs the sound card a running agent holds.
  systemctl stop wardcast-agent 2>/dev/null || true
  if ! as_agent check; then
    echo "install-pi: a check failed: fix it and run this again (the unit is not started)" >&2
    exit 1
  fi
fi
if [ "$START" -eq 1 ]; then
  systemctl enable --now wardcast-agent
  echo "install-pi: started; follow it with: journalctl -u wardcast-agent -f"
fi
