#!/usr/bin/env bash
# Runs a command with another Node.js major version first on PATH, e.g. to test on Node 24 LTS:
#   scripts/with-node.sh 24 npm test
# The official binary comes from the npm registry (package node-linux-<arch>@<major>), fetched once
# into .cache/node-<major>; the machine's npm runs on it, and so does everything it starts.
set -euo pipefail

usage() {
  echo "usage: scripts/with-node.sh <major version, e.g. 24> <command> [args...]" >&2
  exit 2
}
(($# >= 2)) || usage
major=$1
shift
[[ $major =~ ^[0-9]+$ ]] || usage
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "with-node: no node-linux package for $(uname -m)" >&2 && exit 2 ;;
esac

dir="$(cd "$(dirname "$0")/.." && pwd)/.cache/node-$major"
if [[ ! -x $dir/bin/node ]]; then
  echo "with-node: fetching node-linux-$arch@$major from the npm registry into $dir" >&2
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "node-linux-$arch@$major" >/dev/null && tar xzf node-linux-*.tgz)
  rm -rf "$dir"
  mkdir -p "$(dirname "$dir")"
  mv "$tmp/package" "$dir"
  rm -rf "$tmp"
fi
export PATH="$dir/bin:$PATH"
echo "with-node: $(node --version) ($dir/bin/node)" >&2
exec "$@"
