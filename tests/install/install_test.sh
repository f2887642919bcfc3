#!/bin/sh
# Installs the client library from a built tree into a temporary prefix, then configures and
# builds the standalone example (client/examples) against it with find_package(coordinate).
#   install_test.sh BUILD_DIR SOURCE_DIR
set -eu
build_dir=${1:?usage: install_test.sh BUILD_DIR SOURCE_DIR}
source_dir=${2:?usage: install_test.sh BUILD_DIR SOURCE_DIR}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/coordinate-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

prefix="$tmp/prefix"
cmake --install "$build_dir" --prefix "$prefix" >"$tmp/install.log" 2>&1 || {
  cat "$tmp/install.log" >&2; echo "install failed" >&2; exit 1; }

for f in include/coordinate/client.h include/coordinate/api.h include/coordinate/worker.h \
         include/coordinate/common/status.h include/coordinate/common/value.h \
         include/coordinate/common/cbor.h lib/cmake/coordinate/coordinateConfig.cmake \
         lib/cmake/coordinate/coordinateConfigVersion.cmake \
         lib/cmake/coordinate/coordinateTargets.cmake; do
  if [ ! -f "$prefix/$f" ]; then
    # GNUInstallDirs may pick lib64 or a multiarch libdir.
    case "$f" in
      lib/*) found=$(find "$prefix" -path "*/${f#lib/}" | head -n 1)
             [ -n "$found" ] && continue ;;
    esac
    echo "missing after install: $f" >&2
    exit 1
  fi
done

generator=""
if command -v ninja >/dev/null 2>&1; then generator="-G Ninja"; fi
# shellcheck disable=SC2086
cmake -S "$source_dir/client/examples" -B "$tmp/example" $generator \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Debug >"$tmp/configure.log" 2>&1 || {
  cat "$tmp/configure.log" >&2; echo "configuring the example failed" >&2; exit 1; }
cmake --build "$tmp/example" >"$tmp/build.log" 2>&1 || {
  cat "$tmp/build.log" >&2; echo "building the example failed" >&2; exit 1; }
if [ ! -x "$tmp/example/coordinate-worker-example" ]; then
  echo "the example binary was not built" >&2
  exit 1
fi
# The binary must start (bad usage exits 2 without contacting a daemon).
set +e
"$tmp/example/coordinate-worker-example" --bogus x >/dev/null 2>&1
rc=$?
set -e
if [ "$rc" -ne 2 ]; then
  echo "the example binary did not run (exit $rc)" >&2
  exit 1
fi
echo "client install test passed"
