# Shared by scripts/run, scripts/test and the demos: package checks and the build.
# shellcheck shell=bash

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
JOBS=$(nproc 2>/dev/null || echo 2)

# The Debian packages needed to build and run careerbot. The language resources
# (WordNet's database, hunspell with its English and medical dictionaries) are
# switched on by the knowledge base's lexicon; libsystemd-dev (sd_notify),
# libedit-dev (console line editing) and libmicrohttpd-dev (metrics_listen) are
# used when there. Without any of them careerbot builds and runs with them off.
RUN_PACKAGES=(build-essential cmake pkg-config libuv1-dev libcurl4-openssl-dev libjansson-dev
              libssl-dev libstemmer-dev wordnet-base libhunspell-dev hunspell-en-us hunspell-en-med
              libsystemd-dev libedit-dev libmicrohttpd-dev)
# Also needed by the tests: cmocka, clang for the fuzzers, the IRC servers (ngircd, the
# classic one; InspIRCd with Atheme services for SASL, STS and accounts), python (and venv,
# for Synapse), openssl; the manual rendered (man-db, groff-base); the Debian package
# built and checked (dpkg-dev, debhelper, fakeroot, lintian).
TEST_PACKAGES=(libcmocka-dev clang libclang-rt-14-dev ngircd inspircd atheme-services python3 python3-venv openssl
               man-db groff-base dpkg-dev debhelper fakeroot lintian)

# ensure_packages PKG...: installs what is missing (as root), or says how to.
ensure_packages() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "careerbot needs these Debian packages: ${missing[*]}" >&2
        echo "Install them with: sudo apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
    echo "Installing ${missing[*]} ..." >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq "${missing[@]}" >/dev/null
}

# progress: turns cmake's build output into one short line per step
# ("  42% compiling matcher.c"), rewritten in place on a terminal.
progress() {
    local line pct file last=""
    while IFS= read -r line; do
        [[ $line =~ ^\[\ *([0-9]+)%\]\ (Building|Linking)\ C\ (object|executable|static\ library)\ (.*) ]] || continue
        pct=${BASH_REMATCH[1]}
        file=${BASH_REMATCH[4]##*/}
        file=${file%.o}
        [ "${BASH_REMATCH[2]}" = Linking ] && file="linking $file" || file="compiling $file"
        if [ -t 2 ]; then
            printf '\r\033[K  %3s%% %s' "$pct" "$file" >&2
        elif [ "$pct" != "$last" ] && [ $((pct % 20)) -eq 0 ]; then
            printf '  %3s%% %s\n' "$pct" "$file" >&2
        fi
        last=$pct
    done
    [ -t 2 ] && printf '\r\033[K' >&2
    return 0
}

# build DIR [CMAKE ARGS...]: configures and builds quietly; shows the log on
# failure. With BUILD_PROGRESS=1 a first build says what it is doing.
build() {
    local dir=$1
    shift
    local log="$dir.log" talk=0 status
    [ "${BUILD_PROGRESS:-0}" = 1 ] && [ ! -f "$dir/CMakeCache.txt" ] && talk=1
    [ $talk = 1 ] && echo "Building careerbot in $dir for the first time (a minute or two on 2 cores) ..." >&2
    if ! cmake -S "$ROOT" -B "$dir" "$@" >"$log" 2>&1; then
        cat "$log" >&2
        echo "configuring $dir failed" >&2
        return 1
    fi
    if [ $talk = 1 ]; then
        echo "  configured; $(grep -o 'optional features: .*' "$log" || echo 'optional features: none')" >&2
        cmake --build "$dir" -j"$JOBS" 2>&1 | tee -a "$log" | progress
        status=${PIPESTATUS[0]}
    else
        cmake --build "$dir" -j"$JOBS" >>"$log" 2>&1
        status=$?
    fi
    if [ "$status" -ne 0 ]; then
        cat "$log" >&2
        echo "build in $dir failed" >&2
        return 1
    fi
    [ $talk = 1 ] && echo "  built $dir/careerbot" >&2
    return 0
}

# The Synapse release the Matrix integration suite runs against, and where it
# lives: a virtual environment outside the source tree, kept between runs.
SYNAPSE_VERSION=1.163.2
SYNAPSE_VENV=${CAREERBOT_SYNAPSE_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/careerbot/synapse-venv}

# ensure_synapse: installs matrix-synapse==$SYNAPSE_VERSION into $SYNAPSE_VENV
# unless that exact version is there already; exports CAREERBOT_SYNAPSE_PYTHON.
# Prints the exact error and returns 1 when it cannot be installed.
ensure_synapse() {
    local py=$SYNAPSE_VENV/bin/python have log
    have=$("$py" -c 'import synapse; print(synapse.__version__)' 2>/dev/null || true)
    if [ "$have" != "$SYNAPSE_VERSION" ]; then
        echo "Installing matrix-synapse $SYNAPSE_VERSION into $SYNAPSE_VENV ..." >&2
        log=$(mktemp)
        if ! { rm -rf "$SYNAPSE_VENV" && mkdir -p "$(dirname "$SYNAPSE_VENV")" &&
               python3 -m venv "$SYNAPSE_VENV" &&
               "$SYNAPSE_VENV/bin/pip" install -q --disable-pip-version-check "matrix-synapse==$SYNAPSE_VERSION"; \
             } >"$log" 2>&1; then
            cat "$log" >&2
            rm -f "$log"
            echo "cannot install matrix-synapse $SYNAPSE_VERSION (above: the exact error)" >&2
            return 1
        fi
        rm -f "$log"
    fi
    export CAREERBOT_SYNAPSE_PYTHON=$py
}
