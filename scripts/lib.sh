# Shared by scripts/run, scripts/test and the demos: package checks and the build.
# shellcheck shell=bash

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
JOBS=$(nproc 2>/dev/null || echo 2)

# The Debian packages needed to build and run careerbot.
# libsystemd-dev (sd_notify), libedit-dev (console line editing) and
# libmicrohttpd-dev (metrics_listen) are optional to the build, used when there.
RUN_PACKAGES=(build-essential cmake pkg-config libuv1-dev libcurl4-openssl-dev libjansson-dev
              libssl-dev libstemmer-dev libsystemd-dev libedit-dev libmicrohttpd-dev)
# Also needed by the tests: cmocka, clang for the fuzzers, the IRC server, python, openssl;
# the manual rendered (man-db, groff-base); the Debian package built and checked
# (dpkg-dev, debhelper, fakeroot, lintian).
TEST_PACKAGES=(libcmocka-dev clang libclang-rt-14-dev ngircd python3 openssl man-db groff-base dpkg-dev debhelper
               fakeroot lintian)

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
