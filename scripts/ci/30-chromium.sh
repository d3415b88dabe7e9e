#!/usr/bin/env bash
# Installs Debian's chromium for the audit review page's browser test
# (TestReviewPageInBrowser in internal/e2e/review_test.go, driven by
# chromedp). The test finds it through FEDMESH_CHROMIUM (env/chromium.env,
# else /usr/bin/chromium); without it the test fails, or skips under -short.
set -euo pipefail
CACHE="${FEDMESH_CACHE:-$HOME/.cache/fedmesh}"
mkdir -p "$CACHE/env"
if [ -x /usr/bin/chromium ]; then
	echo "chromium already installed: $(/usr/bin/chromium --version 2>/dev/null || echo unknown version)"
else
	SUDO=""
	if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -q
	$SUDO apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core
	/usr/bin/chromium --version || true
fi
echo "FEDMESH_CHROMIUM=/usr/bin/chromium" >"$CACHE/env/chromium.env"
