#!/bin/sh
# Run the Python client test suite against a real coordinated.
#
#   COORDINATED_BIN=/path/to/coordinated client/python/run_tests.sh [pytest args...]
#
# The package is first installed with pip (offline: --no-deps --no-index; the in-tree build
# backend needs no build dependencies) into a temporary directory, and the tests run against
# that installation and its console scripts.
# Set COORDINATE_TEST_FROM_SOURCE=1 to test src/ directly instead.
# Needs /usr/bin/python3 (or $PYTHON) with cbor2 and pytest.  Exit status is pytest's.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
PYTHON=${PYTHON:-/usr/bin/python3}
: "${COORDINATED_BIN:=$HERE/../../build/release/src/daemon/coordinated}"
export COORDINATED_BIN

if [ ! -x "$COORDINATED_BIN" ]; then
    echo "run_tests.sh: no coordinated binary at $COORDINATED_BIN (set COORDINATED_BIN)" >&2
    exit 2
fi
if ! "$PYTHON" -c 'import cbor2, pytest' 2>/dev/null; then
    echo "run_tests.sh: $PYTHON lacks cbor2 or pytest (Debian: python3-cbor2 python3-pytest)" >&2
    exit 2
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/coordinate-py-tests.XXXXXX")
trap 'rm -rf "$WORK"' EXIT INT TERM
export PYTHONDONTWRITEBYTECODE=1

if [ "${COORDINATE_TEST_FROM_SOURCE:-0}" != "1" ]; then
    # Build from a copy so the source tree gets no build/ or egg-info droppings.
    mkdir -p "$WORK/src-copy"
    cp -R "$HERE/pyproject.toml" "$HERE/README.md" "$HERE/build_backend" "$HERE/src" "$WORK/src-copy/"
    if ! "$PYTHON" -m pip install --quiet --no-deps --no-index \
            --target "$WORK/site" "$WORK/src-copy" >"$WORK/pip.log" 2>&1; then
        cat "$WORK/pip.log" >&2
        echo "run_tests.sh: pip install failed" >&2
        exit 2
    fi
    export COORDINATE_TEST_INSTALLED="$WORK/site"
fi

cd "$HERE"
set +e
"$PYTHON" -m pytest -p no:cacheprovider -q -rfE "$HERE/tests" "$@"
status=$?
exit $status
