#!/usr/bin/env bash
# zcopy's two quick-start commands (see README.md):
#   ./dev.sh demo   install dependencies, build a release, run `zcopy demo`
#   ./dev.sh test   install dependencies, then build and run the whole suite: format check,
#                   release, ASan+UBSan and TSan builds, and a short run of every fuzzer
# Set ZCOPY_REQUIRE_ALL=1 to turn every capability skip into a failure (CI does).
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")"

jobs=$(nproc)
fuzz_seconds=${ZCOPY_FUZZ_SECONDS:-10}

step() { printf '\n==> [%s] %s\n' "$(date +%T)" "$*"; }

build() {  # build PRESET [TARGET...]
  local preset=$1
  shift
  cmake --preset "$preset" >/dev/null
  if [ $# -gt 0 ]; then
    cmake --build --preset "$preset" -j "$jobs" --target "$@"
  else
    cmake --build --preset "$preset" -j "$jobs"
  fi
}

format_check() {
  local files
  files=$(git ls-files '*.cpp' '*.hpp' 2>/dev/null || find include src tools tests bench examples fuzz -name '*.[ch]pp')
  # shellcheck disable=SC2086
  clang-format-14 --dry-run --Werror $files
}

run_fuzzers() {
  local dir=build/fuzz/fuzz
  for fuzzer in "$dir"/*_fuzzer; do
    local name corpus
    name=$(basename "$fuzzer")
    corpus=$(mktemp -d)
    [ -d "fuzz/corpus/$name" ] && cp -r "fuzz/corpus/$name/." "$corpus/"
    echo "fuzzing $name for ${fuzz_seconds}s"
    "$fuzzer" -max_total_time="$fuzz_seconds" -print_final_stats=0 "$corpus" 2>&1 | tail -n 2
    rm -rf "$corpus"
  done
}

case "${1:-}" in
  demo)
    step "installing dependencies"
    scripts/install-deps.sh
    step "building release"
    build release zcopy_cli
    step "zcopy demo"
    build/release/bin/zcopy demo
    ;;
  test)
    step "installing dependencies"
    scripts/install-deps.sh
    step "format check (clang-format 14)"
    format_check
    for preset in release asan tsan; do
      step "$preset: build"
      build "$preset"
      step "$preset: tests"
      ctest --preset "$preset"
    done
    step "fuzz: build and run each fuzzer for ${fuzz_seconds}s"
    build fuzz
    run_fuzzers
    step "all checks passed"
    ;;
  *)
    echo "usage: ./dev.sh demo | ./dev.sh test" >&2
    exit 2
    ;;
esac
