#!/usr/bin/env bash
# Installs every Debian 12 package zcopy needs to build, test, benchmark and fuzz.
# This is the project's single list of dependencies. Idempotent; needs root.
set -euo pipefail

packages=(
  # toolchain and build
  g++ cmake ninja-build pkg-config git ccache
  # libraries
  liburing-dev libcli11-dev libcap-dev libboost-dev libfuse3-dev libssl-dev openssl libxdp-dev
  libbpf-dev libnats-dev libxml2-dev
  # tests, benchmarks, fuzzing, formatting
  libgtest-dev libgmock-dev libbenchmark-dev clang-16 libclang-rt-16-dev clang-format-14
  # probes and tests use these programs (strace counts the flushes of get --sync)
  procps iproute2 util-linux strace
  # real peers: serve is tested with curl and wget and compared with nginx and wrk; get is
  # tested against nginx and python3's http.server and compared with curl, aria2c and wget -r; the FUSE mirror is
  # exercised with sqlite3 and fio; zero-copy send is compared with iperf3; the channel with
  # Eclipse iceoryx (RouDi, and the library its peer program links)
  nginx curl wget wrk python3 fuse3 sqlite3 fio iperf3 aria2 iceoryx
  libiceoryx-posh-dev
  # the FUSE mirror's peer in mount bench: libfuse's passthrough_ll.c (libfuse3-dev ships it),
  # compiled with cc against pkg-config's fuse3
  gcc
  # AF_XDP: captures are read back with tcpdump and tshark and compared with tcpdump -w; echo is
  # checked with ping; xdp-tools lists attached programs when something goes wrong; perf shows
  # where the receive path's cycles go (docs/PERFORMANCE.md)
  tcpdump tshark iputils-ping xdp-tools linux-perf
  # the .y4m video `zcopy frames` writes is checked with ffprobe
  ffmpeg
  # zcopy bench: its plots (run with /usr/bin/python3), the check of results.json against its
  # schema, and the headless browser its report is opened in by the tests
  python3-matplotlib python3-jsonschema chromium
  # the NATS bridge is tested against real NATS servers, alone and in a cluster
  nats-server
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages (${missing[*]}) and not root: run as root or install them" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
