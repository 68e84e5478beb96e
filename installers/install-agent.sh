#!/usr/bin/env bash
# Rolls the muster agent out on this host: installs the package, writes
# /etc/muster/agent.yaml, sends a first report and succeeds only when the collector
# acknowledged it, then enables and starts muster-agent.service.
#
#   install-agent.sh --url URL (--token-file FILE | --token TOKEN) (--ca FILE | --ca-fingerprint SHA256)
#                    [--tags a,b] [--package FILE.deb]
#
#   --url URL               the collector, https://HOST:PORT
#   --token-file FILE       the enrollment token, on the first line of FILE (- is stdin)
#   --token TOKEN           or the token itself: other local users see it (ps) during the run
#                           or neither flag and the token in MUSTER_ENROLLMENT_TOKEN; exactly
#                           one of the three (the token is never printed)
#   --ca FILE               the collector's CA certificate (PEM), copied to /etc/muster/ca.pem
#   --ca-fingerprint HEX    or the SHA-256 of the collector's certificate (DER), 64 hex digits
#   --tags a,b              tags reported with every inventory (letters, digits, _ . : -)
#   --package FILE.deb      install this package instead of `apt-get install muster-agent`
#
# Idempotent, so configuration management can call it on every run: what is already right
# is left alone (the package is not reinstalled at the same version, the config is rewritten
# only when it differs, an enrolled agent keeps its id), and every run checks again that a
# report is acknowledged. The script owns /etc/muster/agent.yaml: keys other than the flags'
# get the packaged defaults. Without systemd running (no /run/systemd/system) the service is
# neither enabled nor started, which is said, and the run still succeeds once the report
# was acknowledged.
#
# Exit codes: 0 success, 1 failure (the reason on stderr), 2 usage error. Needs root.
set -euo pipefail
umask 077

readonly config=/etc/muster/agent.yaml
readonly ca_dest=/etc/muster/ca.pem
readonly state_dir=/var/lib/muster-agent
readonly agent=/usr/bin/muster-agent
readonly unit=muster-agent.service

url="" token="" ca="" fingerprint="" tags="" package=""
token_from=() # where the token was given: --token, --token-file FILE, MUSTER_ENROLLMENT_TOKEN
token_file=""
service_was_active=false

usage() {
    sed -n '6,17s/^# \{0,1\}//p' "$0"
}

usage_error() {
    echo "install-agent: $* (see install-agent.sh --help)" >&2
    exit 2
}

fail() {
    echo "install-agent: $*" >&2
    exit 1
}

# However the run ends (a failure, a command that failed under set -e, a signal), a service
# it stopped is running again; start_service clears the flag once the service runs.
restart_paused_service() {
    if $service_was_active; then
        systemctl start "$unit" || echo "install-agent: could not start $unit again" >&2
    fi
}

say() { echo "install-agent: $*"; }

# ---------------------------------------------------------------------------------------
# Flags

parse_flags() {
    while (($#)); do
        case "$1" in
            -h | --help)
                usage
                exit 0
                ;;
            --url | --token | --token-file | --ca | --ca-fingerprint | --tags | --package)
                (($# >= 2)) || usage_error "$1 needs a value"
                case "$1" in
                    --url) url=$2 ;;
                    --token)
                        token=$2
                        token_from+=(--token)
                        ;;
                    --token-file)
                        token_file=$2
                        token_from+=("--token-file $2")
                        ;;
                    --ca) ca=$2 ;;
                    --ca-fingerprint) fingerprint=$2 ;;
                    --tags) tags=$2 ;;
                    --package) package=$2 ;;
                esac
                shift 2
                ;;
            *) usage_error "unknown argument '$1'" ;;
        esac
    done
    if [[ -n "${MUSTER_ENROLLMENT_TOKEN+set}" ]]; then
        token=$MUSTER_ENROLLMENT_TOKEN
        token_from+=(MUSTER_ENROLLMENT_TOKEN)
        # Not passed on to apt, dpkg's maintainer scripts or the agent.
        unset MUSTER_ENROLLMENT_TOKEN
    fi
    check_flags
}

# The first line of --token-file (a CR before its newline dropped). Never echoes the token.
read_token_file() {
    local line="" rc=0
    if [[ "$token_file" == - ]]; then
        IFS= read -r line || rc=$?
    else
        # Not -f: a pipe (--token-file <(vault ...)) is fine.
        [[ -r "$token_file" && ! -d "$token_file" ]] || usage_error "--token-file: cannot read $token_file"
        IFS= read -r line <"$token_file" || rc=$?
    fi
    # read fails at the end of input: fine when it still read a last line without a newline.
    ((rc == 0)) || [[ -n "$line" ]] || usage_error "--token-file: $token_file holds no token"
    token=${line%$'\r'}
}

check_token() {
    if ((${#token_from[@]} != 1)); then
        local given=""
        ((${#token_from[@]} == 0)) || given=$(printf ', %s' "${token_from[@]}")
        usage_error "give the enrollment token once: --token-file FILE, --token TOKEN or MUSTER_ENROLLMENT_TOKEN${given:+ (given: ${given#, })}"
    fi
    [[ -z "$token_file" ]] || read_token_file
    [[ -n "$token" ]] || usage_error "${token_from[0]}: the enrollment token is empty"
    # The token goes into a double-quoted YAML scalar; never echo it back.
    [[ "$token" =~ ^[^[:cntrl:][:space:]\"\\]+$ ]] ||
        usage_error "${token_from[0]}: the token has spaces, quotes, backslashes or control characters"
}

check_flags() {
    [[ -n "$url" ]] || usage_error "--url is required"
    check_token
    [[ "$url" =~ ^https://[^[:space:]\"\\]+$ ]] ||
        usage_error "--url must be https://HOST:PORT, got '$url'"
    if [[ -n "$ca" && -n "$fingerprint" ]] || [[ -z "$ca" && -z "$fingerprint" ]]; then
        usage_error "give exactly one of --ca FILE and --ca-fingerprint SHA256"
    fi
    if [[ -n "$ca" ]]; then
        [[ -r "$ca" ]] || usage_error "--ca: cannot read $ca"
        grep -q -- "-----BEGIN CERTIFICATE-----" "$ca" || usage_error "--ca: $ca holds no PEM certificate"
    else
        fingerprint=$(tr -d ':' <<<"$fingerprint" | tr 'A-F' 'a-f')
        [[ "$fingerprint" =~ ^[0-9a-f]{64}$ ]] ||
            usage_error "--ca-fingerprint must be 64 hex digits (colons allowed): the SHA-256 of the collector certificate"
    fi
    local tag
    local -A seen=()
    IFS=, read -r -a tag_list <<<"$tags"
    for tag in "${tag_list[@]}"; do
        [[ "$tag" =~ ^[A-Za-z0-9_.:-]{1,64}$ ]] ||
            usage_error "--tags: '$tag' is not a tag (1 to 64 letters, digits, _ . : -)"
        [[ -z "${seen[$tag]:-}" ]] || usage_error "--tags: '$tag' is given twice"
        seen[$tag]=1
    done
    ((${#tag_list[@]} <= 64)) || usage_error "--tags: at most 64 tags"
    if [[ -n "$package" ]]; then
        [[ -r "$package" ]] || usage_error "--package: cannot read $package"
        package=$(realpath "$package")
    fi
}

# ---------------------------------------------------------------------------------------
# Package

installed_version() {
    local status
    status=$(dpkg-query -W -f='${db:Status-Status} ${Version}' muster-agent 2>/dev/null) || return 0
    sed -n 's/^installed //p' <<<"$status"
}

# apt resolves the package's dependencies; the config written by this script is kept over
# a new packaged one (it is a conffile), and a concurrent dpkg run is waited for.
apt_install() {
    local out
    if ! out=$(DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        -o DPkg::Lock::Timeout=600 \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@" 2>&1); then
        echo "$out" >&2
        fail "apt-get install $* failed (its output is above)"
    fi
}

install_package() {
    local have
    have=$(installed_version)
    if [[ -n "$package" ]]; then
        local name want
        name=$(dpkg-deb -f "$package" Package 2>/dev/null) || fail "$package is not a Debian package"
        [[ "$name" == muster-agent ]] || fail "$package is the package '$name', not muster-agent"
        want=$(dpkg-deb -f "$package" Version)
        if [[ "$have" == "$want" ]]; then
            say "muster-agent $have is installed already; not reinstalled"
            return
        fi
        say "installing muster-agent $want from $package${have:+ (replacing $have)}"
        apt_install "$package"
    else
        # The repositories' candidate: a newer one is an upgrade, the same one is left alone.
        local candidate
        candidate=$(apt-cache policy muster-agent 2>/dev/null | sed -n 's/^ *Candidate: //p')
        if [[ -n "$have" ]] && [[ -z "$candidate" || "$candidate" == "(none)" || "$candidate" == "$have" ]]; then
            say "muster-agent $have is installed already; not reinstalled"
            return
        fi
        say "installing muster-agent ${candidate:-} from the configured apt repositories${have:+ (replacing $have)}"
        apt_install muster-agent
    fi
    [[ -x "$agent" ]] || fail "the package installed no $agent"
}

# ---------------------------------------------------------------------------------------
# Files

yaml_quoted() {
    local text=${1//\\/\\\\}
    printf '"%s"' "${text//\"/\\\"}"
}

agent_yaml() {
    echo "# muster-agent configuration, written by install-agent.sh, which rewrites it"
    echo "# whenever its flags differ: change the flags, not this file. Every key is"
    echo "# described in the example agent.yaml of the source tree (config/agent.yaml)."
    echo "# Holds the enrollment token: root only (0600)."
    echo "collector:"
    echo "  url: $(yaml_quoted "$url")"
    if [[ -n "$ca" ]]; then
        echo "  ca_file: $ca_dest"
    else
        echo "  ca_fingerprint: $fingerprint"
    fi
    echo "  enrollment_token: $(yaml_quoted "$token")"
    echo "state_dir: $state_dir"
    if [[ -z "$tags" ]]; then
        echo "tags: []"
    else
        echo "tags:"
        local tag
        for tag in "${tag_list[@]}"; do echo "  - $tag"; done
    fi
    cat <<'EOF'
inventory:
  interval: 1h
  splay: 5m
spool:
  max_bytes: 64MiB
log:
  level: info
  format: text
EOF
}

# Replaces DEST by the content of NEW (a file) only when they differ, atomically, 0600 root;
# an unchanged file keeps its mtime. Says which. Returns 0 when DEST changed.
install_file() {
    local new=$1 dest=$2
    if [[ -f "$dest" ]] && cmp -s "$new" "$dest"; then
        rm -f "$new"
        if [[ "$(stat -c '%a %u %g' "$dest")" != "600 0 0" ]]; then
            chown root:root "$dest" && chmod 0600 "$dest"
            say "$dest unchanged; its owner and mode set to root 0600"
        else
            say "$dest unchanged"
        fi
        return 1
    fi
    chown root:root "$new" && chmod 0600 "$new"
    mv -f "$new" "$dest" || fail "cannot write $dest"
    say "wrote $dest"
}

# A temporary file beside DEST, so that the final rename is atomic.
temp_beside() {
    mktemp "$(dirname "$1")/.$(basename "$1").XXXXXX" || fail "cannot create a file in $(dirname "$1")"
}

write_config() {
    mkdir -p /etc/muster
    local tmp
    if [[ -n "$ca" ]]; then
        tmp=$(temp_beside "$ca_dest")
        cat "$ca" >"$tmp" || fail "cannot copy $ca"
        install_file "$tmp" "$ca_dest" || true
    fi
    tmp=$(temp_beside "$config")
    agent_yaml >"$tmp"
    install_file "$tmp" "$config" || true
}

# ---------------------------------------------------------------------------------------
# First report and service

systemd_running() { [[ -d /run/systemd/system ]]; }

# The daemon and `once` must not share the state directory at the same time.
pause_service() {
    if systemd_running && systemctl is-active --quiet "$unit"; then
        service_was_active=true
        say "stopping $unit while a report is sent"
        systemctl stop "$unit" || fail "systemctl stop $unit failed"
    fi
}

agent_id() {
    [[ -f "$state_dir/state.json" ]] || return 0
    sed -n 's/.*"agent_id":"\([^"]*\)".*/\1/p' "$state_dir/state.json"
}

send_report() {
    local out rc=0
    say "sending a report to $url"
    out=$("$agent" once --config "$config" 2>&1) || rc=$?
    out=${out//"$token"/<token>}
    case $rc in
        0) say "report acknowledged by the collector; agent id $(agent_id)" ;;
        3) fail "enrollment awaits approval: run \`musterctl agent approve $(agent_id)\` (or list them with \`musterctl agents --status pending\`), then run this script again" ;;
        *)
            echo "$out" >&2
            fail "muster-agent once exited $rc: the report was not acknowledged (the agent's log is above)"
            ;;
    esac
}

start_service() {
    if ! systemd_running; then
        say "systemd is not running (no /run/systemd/system): $unit was NOT enabled or started."
        say "the agent is enrolled and reported once; run it with your own supervisor:"
        say "  $agent run --config $config"
        return
    fi
    systemctl enable --now --quiet "$unit" || fail "systemctl enable --now $unit failed"
    service_was_active=false
    say "$unit enabled and running"
}

main() {
    parse_flags "$@"
    trap restart_paused_service EXIT
    [[ $(id -u) -eq 0 ]] || {
        echo "install-agent: must run as root (it installs a package and writes /etc/muster)" >&2
        exit 1
    }
    # Two runs at once (a CM tool and a person) would race on the files and the state.
    exec 9>/run/muster-install-agent.lock
    flock -w 600 9 || fail "another install-agent.sh has held /run/muster-install-agent.lock for 10 minutes"
    install_package
    pause_service
    write_config
    send_report
    start_service
}

main "$@"
