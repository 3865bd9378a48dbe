#!/bin/bash
# coffer's entry point, at localstack/localstack's path (/usr/local/bin/docker-entrypoint.sh) so
# that Testcontainers' start script and compose files find it. It maps LocalStack's environment
# onto coffer's, picks the data dir and execs coffer (PID 1, or the child of Testcontainers' sh),
# which runs the /etc/localstack/init hooks itself and prints "Ready." after ready.d.
#
#   docker-entrypoint.sh [--coffer-option ...]   serve (the default)
#   docker-entrypoint.sh new-root-key            print a fresh root keyring (for a mounted secret)
#   docker-entrypoint.sh COMMAND [ARG...]        run COMMAND instead (bash, coffer fsck, ...)
set -euo pipefail

log() { # log LEVEL MESSAGE, in coffer's log format, on stderr
    printf '%s %-5s entrypoint: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)" "$1" "$2" >&2
}
truthy() { case "${1,,}" in 1 | true | yes | on) return 0 ;; *) return 1 ;; esac }

if [[ ${1:-} == new-root-key ]]; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    # An admin command that may change things creates the key file of a fresh data dir.
    coffer kms list --ephemeral --root-key-file "$tmp/root.key" >/dev/null 2>"$tmp/log" || {
        cat "$tmp/log" >&2
        exit 1
    }
    cat "$tmp/root.key"
    exit 0
fi
if [[ $# -gt 0 && $1 != -* ]]; then
    exec "$@"
fi

# LocalStack's entry point strips LOCALSTACK_ from variable names (LOCALSTACK_PERSISTENCE=1 is
# PERSISTENCE=1), except LOCALSTACK_HOST*.
while IFS= read -r name; do
    case $name in
    LOCALSTACK_HOST* | LOCALSTACK_[0-9]*) ;;
    LOCALSTACK_?*) export "${name#LOCALSTACK_}=${!name}" ;;
    esac
done < <(compgen -e)

# Logging: DEBUG=1 or LS_LOG=debug/trace is coffer's debug level.
if [[ -z ${COFFER_LOG_LEVEL:-} ]]; then
    case ${LS_LOG:-} in
    trace | trace-internal | debug) COFFER_LOG_LEVEL=debug ;;
    info | warn | error) COFFER_LOG_LEVEL=$LS_LOG ;;
    esac
    if truthy "${DEBUG:-0}"; then COFFER_LOG_LEVEL=debug; fi
    [[ -z ${COFFER_LOG_LEVEL:-} ]] || export COFFER_LOG_LEVEL
fi
debug=false
[[ ${COFFER_LOG_LEVEL:-} == debug ]] && debug=true

# Variables LocalStack setups carry that mean nothing to coffer: accepted, never an error.
for name in SERVICES EAGER_SERVICE_LOADING DOCKER_HOST LOCALSTACK_AUTH_TOKEN AUTH_TOKEN \
    LOCALSTACK_API_KEY API_KEY ACTIVATE_PRO LOCALSTACK_HOST HOSTNAME_EXTERNAL USE_SSL \
    SKIP_SSL_CERT_DOWNLOAD EDGE_PORT EDGE_BIND_HOST SNAPSHOT_SAVE_STRATEGY SNAPSHOT_LOAD_STRATEGY \
    SNAPSHOT_FLUSH_INTERVAL ALLOW_NONSTANDARD_REGIONS DNS_ADDRESS DISABLE_EVENTS \
    SKIP_INFRA_DOWNLOADS LAMBDA_EXECUTOR LAMBDA_DOCKER_NETWORK LAMBDA_DOCKER_FLAGS DATA_DIR \
    HOST_TMP_FOLDER; do
    if [[ -n ${!name+x} ]] && $debug; then
        case $name in
        LOCALSTACK_HOST) log DEBUG "LOCALSTACK_HOST accepted: coffer builds URLs from the request's Host" ;;
        *) log DEBUG "$name ignored (coffer serves S3 only and needs no licence or Docker access)" ;;
        esac
    fi
done

# Where to listen: LocalStack's default inside a container is 0.0.0.0:4566. coffer serves the
# first address of the list.
listen=${GATEWAY_LISTEN:-0.0.0.0:4566}
first=${listen%%,*}
if [[ $first != "$listen" ]]; then
    log WARN "GATEWAY_LISTEN=$listen: coffer listens on the first address only ($first)"
fi
[[ $first == :* ]] && first=0.0.0.0$first
export GATEWAY_LISTEN=$first

# Data: a fresh temporary directory on every start (what test suites expect), or with
# PERSISTENCE=1 the volume, /var/lib/localstack/coffer/{data,root.key}.
state=/var/lib/localstack/coffer
key_from_env=${COFFER_ROOT_KEY_FILE:-}
if truthy "${PERSISTENCE:-0}"; then
    export COFFER_DATA_DIR=${COFFER_DATA_DIR:-$state/data}
    export COFFER_ROOT_KEY_FILE=${COFFER_ROOT_KEY_FILE:-$state/root.key}
    mkdir -p -m 0700 "$(dirname "$COFFER_DATA_DIR")"
    log INFO "PERSISTENCE=1: data in $COFFER_DATA_DIR, root key in $COFFER_ROOT_KEY_FILE"
elif [[ -n ${COFFER_DATA_DIR:-} ]]; then
    log INFO "data in $COFFER_DATA_DIR (COFFER_DATA_DIR)"
else
    export COFFER_EPHEMERAL=1
    log INFO "data in a fresh temporary directory, removed on exit (PERSISTENCE=1 keeps it in $state)"
fi
# A key named by the user must exist: coffer would otherwise create one there, and a mistyped
# secret path would quietly become a new key.
if [[ -n $key_from_env && ! -e $key_from_env ]]; then
    log ERROR "COFFER_ROOT_KEY_FILE=$key_from_env does not exist; make one with: docker run --rm <image> new-root-key > root.key"
    exit 1
fi

# Init hooks, run by coffer at each stage (see /_localstack/init).
export COFFER_INIT_DIR=${COFFER_INIT_DIR:-/etc/localstack/init}
if compgen -G '/docker-entrypoint-initaws.d/*' >/dev/null; then
    log WARN "/docker-entrypoint-initaws.d is not run (LocalStack 2 dropped it too): move its scripts to /etc/localstack/init/ready.d"
fi

exec /usr/local/bin/coffer "$@"
