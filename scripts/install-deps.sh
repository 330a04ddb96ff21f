#!/usr/bin/env bash
# Installs the Debian packages that building and testing the project need, skipping the ones
# already installed. Safe to run again; needs root (or sudo) only when something is missing.
set -euo pipefail

packages=(
  pkg-config
  libvips-dev
  libavformat-dev libavcodec-dev libswscale-dev libavutil-dev
  libsystemd-dev
  postgresql postgresql-client
  util-linux        # runuser, mount: the embedded cluster runs unprivileged when we are root
  systemd           # systemd-analyze checks the unit file in the tests
  ffmpeg imagemagick  # the tests make their sample videos and images with these command-line tools
  libvips-tools       # vipsthumbnail: the benchmark's baseline
  xfsprogs            # mkfs.xfs: the export tests make a reflink-capable filesystem on a loop device
  node-typescript     # tsc: the tests compile clients/typescript and run it with Node
  passwd procps       # useradd, pkill: the deployment test runs mediad and gather as two accounts
  wordnet-base        # WordNet 3.0's data files: synonyms and broader words for tags (mediaq tags wordnet)
  chromium            # the browser tests of mediaq serve: headless, --dump-dom and --screenshot
  wrk                 # make bench: thumbnails served per second by mediaq serve
  libturbojpeg0-dev   # lossless JPEG optimisation (tjTransform) of stored originals: mediaq optimize
  python3-jsonschema  # the API test checks /openapi.json against OpenAPI 3.0's schema, and answers against it
  curl                # the deployment test asks mediaq serve, run as a reader, for pages and files
  libjpeg-turbo-progs optipng  # jpegtran and optipng: the optimisation benchmark's baselines
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} Debian packages already installed"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
