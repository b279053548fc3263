#!/usr/bin/env bash
# Installs the Debian packages that tests and benchmarks run for real: etcd for the etcd backend
# and the store benchmark's anchor, wrk as the API benchmark's load generator. Without root or
# apt the tests that need them skip and say why.
set -u
packages=(etcd-server wrk)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null; then
  echo "install-system-deps: no apt-get; tests needing ${missing[*]} will skip" >&2; exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo -n"; else
    echo "install-system-deps: not root; tests needing ${missing[*]} will skip" >&2; exit 0
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
  || { $sudo apt-get update >/dev/null 2>&1 && $sudo apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; } \
  || echo "install-system-deps: could not install ${missing[*]}; tests needing them will skip" >&2
exit 0
