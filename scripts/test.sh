#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: installs what the build and tests need, checks the
# formatting, builds, and runs `swift test`. Tests use the PostgreSQL server that TEST_DATABASE_URL names (a fresh
# database per test, dropped afterwards); without it they start an embedded cluster of their own
# in /tmp/media-library-test-cluster. Extra arguments go to `swift test` (e.g. --filter Schema).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
# The code follows .swift-format (`swift format -i -r Sources Tests Plugins Package.swift` applies it).
swift format lint --strict -r Sources Tests Plugins Package.swift
swift build --build-tests
swift test "$@"
