#!/bin/sh
# Writes strong random secrets for docker-compose.prod.yml into this folder (git-ignored).
#
#   docker/secrets/generate-secrets.sh                 # every missing secret
#   docker/secrets/generate-secrets.sh --force redis_password   # replace one (rotation)
#   docker/secrets/generate-secrets.sh --dir /secure/place      # somewhere else
#
# Each value: 32 bytes from the kernel's CSPRNG, base64url without padding (43 characters
# of [A-Za-z0-9_-]): no quote, backslash or newline that a config file or a shell could
# mangle, and written without a trailing newline.
#
# Permissions: Compose bind-mounts a file secret with its host mode and owner, so the
# non-root containers (app uid 1000, Grafana uid 472) need the files world-readable
# (0444). The folder is made 0700 instead, so other users of the host cannot reach them.
# Existing files are kept unless --force: a rerun never changes a password by surprise.
set -eu

ALL="redis_password sentinel_password session_secret loki_password grafana_admin_password"
dir="$(cd "$(dirname "$0")" && pwd)"
force=0
names=""

while [ $# -gt 0 ]; do
  case "$1" in
    --force) force=1 ;;
    --dir)
      [ $# -ge 2 ] || { echo "generate-secrets: --dir needs a path" >&2; exit 64; }
      dir="$2"
      shift
      ;;
    -h | --help)
      sed -n '2,16p' "$0"
      exit 0
      ;;
    -*)
      echo "generate-secrets: unknown option $1" >&2
      exit 64
      ;;
    *)
      case " $ALL " in
        *" $1 "*) names="$names $1" ;;
        *)
          echo "generate-secrets: unknown secret '$1' (known: $ALL)" >&2
          exit 64
          ;;
      esac
      ;;
  esac
  shift
done
[ -n "$names" ] || names="$ALL"

[ -r /dev/urandom ] || { echo "generate-secrets: /dev/urandom is not readable" >&2; exit 1; }
mkdir -p "$dir"
chmod 700 "$dir"

for name in $names; do
  file="$dir/$name"
  if [ -e "$file" ] && [ "$force" -eq 0 ]; then
    echo "kept      $file (exists; --force to replace)"
    continue
  fi
  value="$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
  [ "${#value}" -ge 43 ] || { echo "generate-secrets: could not generate $name" >&2; exit 1; }
  # Write a new file then rename: a reader never sees a half-written secret.
  tmp="$file.tmp.$$"
  (umask 077 && printf '%s' "$value" >"$tmp")
  chmod 444 "$tmp"
  mv -f "$tmp" "$file"
  echo "generated $file"
done
