#!/usr/bin/env bash
# Remove what packaging/install.sh installed (its manifest says what), and its venv.
#   sudo packaging/uninstall.sh [--root DIR] [--prefix /opt/nstopo] [--purge]
# --purge also removes the helper's state (/var/lib/nstopo) and the nstopo group.
# Labs still running are not touched: destroy them first (nstopo status lists them).
set -euo pipefail
root="" prefix="/opt/nstopo" purge=""
while [ $# -gt 0 ]; do
  case "$1" in
    --root) root="${2%/}"; shift 2 ;;
    --prefix) prefix="$2"; shift 2 ;;
    --purge) purge=1; shift ;;
    *) echo "usage: $0 [--root DIR] [--prefix DIR] [--purge]" >&2; exit 2 ;;
  esac
done
manifest="$root$prefix/installed-files"
if [ ! -f "$manifest" ]; then
  echo "$0: nothing installed under $root$prefix (no $manifest)" >&2
  exit 1
fi
if [ -z "$root" ] && [ -d /run/systemd/system ]; then
  systemctl disable --now nstopo-helper.socket nstopo-helper.service 2>/dev/null || true
fi
while read -r path; do
  rm -f "$root$path"
  # Remove the directories this left empty, up to (not including) the root.
  dir="$(dirname "$root$path")"
  while [ "$dir" != "${root:-/}" ] && [ "$dir" != "/" ] && rmdir "$dir" 2>/dev/null; do
    dir="$(dirname "$dir")"
  done
done < "$manifest"
rm -rf "$root$prefix"
dir="$(dirname "$root$prefix")"
while [ "$dir" != "${root:-/}" ] && [ "$dir" != "/" ] && rmdir "$dir" 2>/dev/null; do
  dir="$(dirname "$dir")"
done
if [ -z "$root" ]; then
  [ -d /run/systemd/system ] && systemctl daemon-reload
  if [ -n "$purge" ]; then
    rm -rf /var/lib/nstopo
    getent group nstopo >/dev/null && groupdel nstopo
  fi
fi
echo "uninstall: done" >&2
