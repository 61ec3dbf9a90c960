#!/usr/bin/env bash
# Installs the Node peer of the render benchmark (npm `canvas` 2.x, node-canvas) from the pinned
# package-lock.json. node-canvas normally downloads a prebuilt binary at install; that is not
# possible here, so it is built from source against Debian's Cairo/Pango development packages
# and the Node headers of the installed node (/usr/include/node). Idempotent.
set -euo pipefail
cd "$(dirname "$0")"

needed=(build-essential pkg-config libcairo2-dev libpango1.0-dev libjpeg-dev libgif-dev librsvg2-dev)
missing=()
for package in "${needed[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "install.sh: missing Debian packages: ${missing[*]} (run as root or install them)" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [[ -f node_modules/canvas/build/Release/canvas.node ]] && node -e 'require("canvas")' 2>/dev/null; then
  exit 0
fi
nodedir="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
# build_from_source: skip prebuild-install's download; nodedir: headers from this node, not a fetch.
npm_config_build_from_source=true npm_config_nodedir="$nodedir" npm ci --no-audit --no-fund
node -e 'require("canvas")'
