#!/usr/bin/env bash
# Checks the files the service embeds: the pages' JavaScript with ESLint (Debian's package `eslint`, rules in
# Sources/Server/Resources/.eslintrc.json) and the OpenAPI document with openapi-spec-validator (PyPI, in .venv-test).
# scripts/setup.sh --test installs both; scripts/test.sh runs this.
# Usage: scripts/lint.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

echo "==> eslint Sources/Server/Resources/*.js"
# Debian's eslint loads its modules from /usr/share/nodejs, where a Node.js not built by Debian (NodeSource's) does
# not look by itself. The unix formatter needs no colour module.
NODE_PATH=/usr/share/nodejs${NODE_PATH:+:$NODE_PATH} eslint --max-warnings 0 -f unix Sources/Server/Resources/*.js

echo "==> openapi-spec-validator Sources/Server/Resources/openapi.yaml"
"$root/.venv-test/bin/openapi-spec-validator" Sources/Server/Resources/openapi.yaml
