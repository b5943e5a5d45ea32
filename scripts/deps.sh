#!/usr/bin/env bash
# Installs what Kiln needs on Debian 12, only what is missing: the C toolchain and QEMU from
# Debian, the npm packages from the lockfile. Safe to run again; fast when all is there.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v gcc >/dev/null || need_apt+=(gcc)
command -v ld >/dev/null || need_apt+=(binutils)
command -v make >/dev/null || need_apt+=(make)
command -v qemu-system-x86_64 >/dev/null || need_apt+=(qemu-system-x86)
command -v musl-gcc >/dev/null || need_apt+=(musl-tools)
command -v objdump >/dev/null || need_apt+=(binutils)
# The network stack's host tests run it against Linux's TCP in a namespace (ip, python3, curl).
command -v ip >/dev/null || need_apt+=(iproute2)
command -v python3 >/dev/null || need_apt+=(python3)
command -v curl >/dev/null || need_apt+=(curl)
[ -f /usr/share/duktape/duktape.c ] || need_apt+=(duktape-dev)
[ -f /usr/src/linux-source-6.1.tar.xz ] || need_apt+=(linux-source-6.1)   # nolibc-test (apps/nolibc-test)
# `scripts/deps.sh bench` (make bench-deps): the peers kiln bench net measures against.
if [ "${1:-}" = bench ]; then
  command -v wrk >/dev/null || need_apt+=(wrk)
  [ -x /usr/sbin/nginx ] || need_apt+=(nginx-light)
  command -v ping >/dev/null || need_apt+=(iputils-ping)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "deps: installing ${need_apt[*]} (apt)" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  echo "deps: Kiln needs Node.js 20 or newer (found: $(node --version 2>/dev/null || echo none))." >&2
  exit 1
fi

# npm ci when node_modules is missing or older than the lockfile.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "deps: installing npm packages (npm ci)" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
fi
