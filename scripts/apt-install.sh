#!/usr/bin/env bash
# apt-get update + install of the given packages, waiting for the dpkg/apt locks another
# apt process (unattended-upgrades, a parallel job) may hold, instead of failing at once.
# Waits at most APT_LOCK_WAIT_S seconds (default 600) in all. As root.
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: apt-install.sh <package>..." >&2; exit 2; }
wait_s=${APT_LOCK_WAIT_S:-600}
give_up_at=$((SECONDS + wait_s))

# apt waits by itself for the dpkg lock (DPkg::Lock::Timeout); the lists and archive locks
# of `update` fail at once, so every run is retried while its failure is a held lock.
apt_locked() {
  local out
  while true; do
    if out=$(DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout="$wait_s" "$@" 2>&1); then return 0; fi
    if grep -qiE 'could not (get|open) lock|unable to (acquire|lock)|is held by process' <<<"$out" && [ "$SECONDS" -lt "$give_up_at" ]; then
      echo "apt is busy (another apt or dpkg holds its lock): waiting" >&2
      sleep 2
      continue
    fi
    echo "$out" >&2
    return 1
  done
}

apt_locked update -qq
apt_locked install -y -qq --no-install-recommends "$@"
