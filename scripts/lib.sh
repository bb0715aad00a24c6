# Shared by scripts/run, scripts/test and the demos: package checks and the build.
# shellcheck shell=bash

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
JOBS=$(nproc 2>/dev/null || echo 2)

# The Debian packages needed to build and run careerbot. The language resources
# (WordNet's database, hunspell with its English and medical dictionaries) are
# switched on by the knowledge base's lexicon; without them careerbot builds and
# runs with them off.
RUN_PACKAGES=(build-essential cmake pkg-config libuv1-dev libcurl4-openssl-dev libjansson-dev
              libssl-dev libinih-dev libstemmer-dev wordnet-base libhunspell-dev hunspell-en-us
              hunspell-en-med)
# Also needed by the tests: cmocka, clang for the fuzzers, the IRC server, python, openssl.
TEST_PACKAGES=(libcmocka-dev clang libclang-rt-14-dev ngircd python3 openssl)

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

# build DIR [CMAKE ARGS...]: configures and builds quietly; shows the log on failure.
build() {
    local dir=$1
    shift
    local log="$dir.log"
    if ! { cmake -S "$ROOT" -B "$dir" "$@" && cmake --build "$dir" -j"$JOBS"; } >"$log" 2>&1; then
        cat "$log" >&2
        echo "build in $dir failed" >&2
        return 1
    fi
}
