#!/usr/bin/env bash
# Install nstopo like a desktop application:
#   sudo packaging/install.sh [--root DIR] [--prefix /opt/nstopo] [--user NAME]
# - the app in its own virtual environment under PREFIX, `nstopo` in /usr/local/bin;
# - the helper's systemd socket + service (socket activation), the nstopo group
#   (sysusers.d), a polkit action for starting the helper through pkexec;
# - a desktop entry, an icon and AppStream metainfo.
# With --root (a staging directory, e.g. for tests or packaging), files go below DIR
# and nothing is done to the running system (no group, no systemctl).
# Every installed file is listed in PREFIX/installed-files; packaging/uninstall.sh
# removes exactly those.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
root="" prefix="/opt/nstopo" user="${SUDO_USER:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    --root) root="${2%/}"; shift 2 ;;
    --prefix) prefix="$2"; shift 2 ;;
    --user) user="$2"; shift 2 ;;
    *) echo "usage: $0 [--root DIR] [--prefix DIR] [--user NAME]" >&2; exit 2 ;;
  esac
done
if [ -z "$root" ] && [ "$(id -u)" -ne 0 ]; then
  echo "$0: run as root (or give --root DIR to stage the files)" >&2
  exit 1
fi

# Runtime tools the helper runs (Debian packages): ip (iproute2), nsenter (util-linux),
# nft (nftables: the nat: and firewall: keys).
for tool in ip:iproute2 nsenter:util-linux nft:nftables; do
  command -v "${tool%%:*}" >/dev/null ||
    echo "$0: note: ${tool%%:*} is missing; install the ${tool#*:} package" >&2
done

bindir="$prefix/venv/bin"
docdir="$prefix/doc"
manifest="$root$prefix/installed-files"
mkdir -p "$root$prefix"
: > "$manifest"

put() {  # put SOURCE DEST MODE: copy with @BINDIR@/@DOCDIR@ filled in, and record it
  local source="$1" dest="$root$2" mode="$3"
  mkdir -p "$(dirname "$dest")"
  sed -e "s|@BINDIR@|$bindir|g" -e "s|@DOCDIR@|$docdir|g" "$source" > "$dest"
  chmod "$mode" "$dest"
  echo "$2" >> "$manifest"
}

echo "install: the application into $root$prefix/venv" >&2
python3 -m venv "$root$prefix/venv"
"$root$prefix/venv/bin/pip" install -q --upgrade pip
"$root$prefix/venv/bin/pip" install -q "$repo"
if [ -n "$root" ]; then
  # A staged venv must name its final location, not the staging directory.
  grep -rlI --exclude-dir=__pycache__ "$root$prefix/venv" "$root$prefix/venv" \
    | xargs -r sed -i "s|$root$prefix/venv|$prefix/venv|g"
fi
mkdir -p "$root/usr/local/bin"
ln -sfn "$bindir/nstopo" "$root/usr/local/bin/nstopo"
echo "/usr/local/bin/nstopo" >> "$manifest"

put "$here/systemd/nstopo-helper.socket" /etc/systemd/system/nstopo-helper.socket 0644
put "$here/systemd/nstopo-helper.service" /etc/systemd/system/nstopo-helper.service 0644
put "$here/sysusers.d/nstopo.conf" /usr/lib/sysusers.d/nstopo.conf 0644
put "$here/polkit/org.nstopo.helper.policy" /usr/share/polkit-1/actions/org.nstopo.helper.policy 0644
put "$here/desktop/org.nstopo.nstopo.desktop" /usr/local/share/applications/org.nstopo.nstopo.desktop 0644
put "$repo/resources/icons/org.nstopo.nstopo.svg" /usr/local/share/icons/hicolor/scalable/apps/org.nstopo.nstopo.svg 0644
put "$here/metainfo/org.nstopo.nstopo.metainfo.xml" /usr/local/share/metainfo/org.nstopo.nstopo.metainfo.xml 0644
put "$repo/docs/protocol.md" "$docdir/protocol.md" 0644

if [ -n "$root" ]; then
  echo "install: staged in $root (nothing done to the running system)" >&2
  exit 0
fi

# The group, then the user who ran sudo joins it (effective at their next login).
if command -v systemd-sysusers >/dev/null; then
  systemd-sysusers /usr/lib/sysusers.d/nstopo.conf
else
  getent group nstopo >/dev/null || groupadd --system nstopo
fi
if [ -n "$user" ] && [ "$user" != root ]; then
  usermod -aG nstopo "$user"
  echo "install: $user joined the nstopo group; log out and in again to use it" >&2
fi
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  systemctl enable --now nstopo-helper.socket
  echo "install: the helper starts on demand (nstopo-helper.socket)" >&2
else
  echo "install: no systemd here; start the helper with: sudo nstopo helper" >&2
fi
