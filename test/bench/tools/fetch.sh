#!/usr/bin/env bash
# Fetches the C load generators the benchmarks prefer into .bench-tools/ (git-ignored), from
# Debian's packages, without installing anything system-wide or starting any daemon:
#   smtp-source  (package postfix; https://www.postfix.org/smtp-source.1.html)
#   wrk          (package wrk, with the LuaJIT it links)
# A Node load generator shares the two cores with the gateway it measures and costs more CPU per
# request than the gateway itself; these cost a tenth of that. Without them the benchmarks fall back
# to their Node generators and say so.
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
dest="$root/.bench-tools"
mkdir -p "$dest/debs"
cd "$dest/debs"
apt-get -o APT::Sandbox::User=root download postfix wrk libluajit-5.1-2 libluajit-5.1-common >/dev/null
for deb in ./*.deb; do dpkg -x "$deb" "$dest/root"; done
echo "smtp-source: $dest/root/usr/sbin/smtp-source"
echo "wrk:         $dest/root/usr/bin/wrk"
