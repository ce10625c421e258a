#!/usr/bin/env bash
# Re-resolve the pinned dependency set from the ranges of pyproject.toml, to the newest
# releases that satisfy them. Run it to upgrade, then `pip install -r requirements.txt` and
# `bash .ci/run`, and commit the two lock files together.
#   requirements.txt          everything: the app, the library, the tests and checks (CI, developers)
#   requirements-runtime.txt  only what runs the app and the CLI (a deployment), same versions
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install -q "uv>=0.5"
common=(--universal --python-version 3.11 --quiet --no-header --annotation-style line)
python -m uv pip compile pyproject.toml --extra app --extra test "${common[@]}" \
    -o requirements.txt "$@"
python -m uv pip compile pyproject.toml --extra app -c requirements.txt "${common[@]}" \
    -o requirements-runtime.txt
