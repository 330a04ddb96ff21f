#!/usr/bin/env bash
# Installs the media library as a system service, the way docs/operations.md describes:
#   - the `media` group (the library's readers: gather's account joins it) and the `mediad`
#     account (in that group), which owns the library;
#   - mediad and mediaq in $PREFIX/bin (built with `swift build -c release` unless BIN_DIR names
#     a folder that holds them);
#   - the library root (owner mediad, group media, 2750: the group reads, only mediad writes) and
#     its drop folder (2770, setgid: the group's files and sidecars are dropped there);
#   - /etc/media-library/config.json naming the root, so that every user's mediaq finds the
#     library without LIBRARY_ROOT;
#   - systemd/mediad.service with the root, account and group filled in, and
#     systemd/mediaq-serve.service (mediaq serve as a reader, not enabled).
# Safe to run again: it creates what is missing and leaves an existing config.json as it is.
# Needs root.
#
# Settings (environment): LIBRARY_ROOT (/media/videos), MEDIA_USER (mediad), MEDIA_GROUP (media),
# PREFIX (/usr/local), BIN_DIR (build here when unset), ETC_DIR (/etc/media-library),
# UNIT_DIR (/etc/systemd/system; "-" skips the unit), MEDIA_READERS (accounts to add to the
# group, comma-separated, e.g. the pipeline's), FIX_PERMISSIONS=1 (give the group read access
# to everything an existing library already holds: chgrp -R, g+rX).
set -euo pipefail

root=${LIBRARY_ROOT:-/media/videos}
user=${MEDIA_USER:-mediad}
group=${MEDIA_GROUP:-media}
prefix=${PREFIX:-/usr/local}
etc=${ETC_DIR:-/etc/media-library}
unit_dir=${UNIT_DIR:-/etc/systemd/system}
readers=${MEDIA_READERS:-}
here=$(cd "$(dirname "$0")/.." && pwd)

say() { echo "install-system: $*"; }
[[ $(id -u) -eq 0 ]] || { echo "install-system: run as root (it creates an account and a group)" >&2; exit 1; }
[[ $root == /* ]] || { echo "install-system: LIBRARY_ROOT must be absolute, not $root" >&2; exit 2; }

# The account and the group.
if ! getent group "$group" >/dev/null; then
  groupadd --system "$group"
  say "created group $group"
fi
if ! getent passwd "$user" >/dev/null; then
  useradd --system --gid "$group" --home-dir "$root" --no-create-home --shell /usr/sbin/nologin "$user"
  say "created account $user (group $group)"
elif ! id -nG "$user" | tr ' ' '\n' | grep -qx "$group"; then
  usermod -a -G "$group" "$user"
  say "added $user to $group"
fi
IFS=',' read -ra reader_list <<<"$readers"
for reader in "${reader_list[@]}"; do
  [[ -n $reader ]] || continue
  getent passwd "$reader" >/dev/null || { echo "install-system: no account $reader (MEDIA_READERS)" >&2; exit 2; }
  usermod -a -G "$group" "$reader"
  say "added $reader to $group (takes effect at its next login)"
done

# The programs.
if [[ -z ${BIN_DIR:-} ]]; then
  (cd "$here" && swift build -c release --product mediad && swift build -c release --product mediaq)
  BIN_DIR=$(cd "$here" && swift build -c release --show-bin-path)
fi
install -d "$prefix/bin"
install -m 755 "$BIN_DIR/mediad" "$BIN_DIR/mediaq" "$prefix/bin/"
say "installed mediad and mediaq in $prefix/bin"

# The library root and its drop folder. The group reads; only the daemon's account writes,
# except in the drop folder, where setgid keeps every file dropped there in the group.
install -d -o "$user" -g "$group" -m 2750 "$root"
chown "$user:$group" "$root"
chmod 2750 "$root"
install -d -o "$user" -g "$group" -m 2770 "$root/drop"
chown "$user:$group" "$root/drop"
chmod 2770 "$root/drop"
if [[ ${FIX_PERMISSIONS:-0} == 1 ]]; then
  # A library made before the access model: its files belong to the group from now on. The
  # embedded database's data directory stays its account's alone (PostgreSQL insists).
  find "$root" -path "$root/.db/data" -prune -o -exec chgrp "$group" {} + -exec chmod g+rX,g-w,o-rwx {} +
  chmod 2770 "$root/drop"
  say "gave $group read access to what $root holds"
fi
say "library root $root (owner $user, group $group); drop folder $root/drop"

# Where every user's mediaq finds the library.
install -d -m 755 "$etc"
if [[ -e $etc/config.json ]]; then
  say "kept $etc/config.json as it is"
else
  printf '{\n  "library": {\n    "root": "%s"\n  }\n}\n' "$root" >"$etc/config.json.tmp"
  chmod 644 "$etc/config.json.tmp"
  mv "$etc/config.json.tmp" "$etc/config.json"
  say "wrote $etc/config.json"
fi
if [[ ! -e $etc/mediad.env ]]; then
  install -m 640 -g "$group" "$here/config/mediad.env.example" "$etc/mediad.env"
fi

# The unit, with this installation's root, account and group.
if [[ $unit_dir != "-" ]]; then
  install -d "$unit_dir"
  sed -e "s|/media/videos|$root|g" -e "s|^User=.*|User=$user|" -e "s|^Group=.*|Group=$group|" \
    -e "s|/usr/local/bin/|$prefix/bin/|g" -e "s|/etc/media-library/|$etc/|g" \
    "$here/systemd/mediad.service" >"$unit_dir/mediad.service"
  chmod 644 "$unit_dir/mediad.service"
  say "installed $unit_dir/mediad.service"
  # mediaq serve, the browser, as a reader of the library (not enabled: docs/serve.md).
  sed -e "s|/media/videos|$root|g" -e "s|^SupplementaryGroups=.*|SupplementaryGroups=$group|" \
    -e "s|/usr/local/bin/|$prefix/bin/|g" -e "s|/etc/media-library/|$etc/|g" \
    "$here/systemd/mediaq-serve.service" >"$unit_dir/mediaq-serve.service"
  chmod 644 "$unit_dir/mediaq-serve.service"
  say "installed $unit_dir/mediaq-serve.service (to browse the library: systemctl enable --now mediaq-serve)"
  if [[ -d /run/systemd/system ]]; then
    systemctl daemon-reload
    say "now: systemctl enable --now mediad"
  fi
fi
