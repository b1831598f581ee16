#!/usr/bin/env bash
# The action's sign-in step: later steps of the job find bldst signed in (it renews by itself).
# Needs `permissions: id-token: write` (GitHub then sets ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN).
set -euo pipefail
if [ -z "${ACTIONS_ID_TOKEN_REQUEST_URL:-}" ] || [ -z "${ACTIONS_ID_TOKEN_REQUEST_TOKEN:-}" ]; then
  echo "::error::no OIDC token for this job: add 'permissions: id-token: write' to the job or workflow" >&2
  exit 1
fi
: "${BUILDSTATE_API_URL:?the api-url input is empty}"
: "${BUILDSTATE_OIDC_AUDIENCE:?the audience input is empty}"
{
  echo "BUILDSTATE_API_URL=$BUILDSTATE_API_URL"
  echo "BUILDSTATE_OIDC_AUDIENCE=$BUILDSTATE_OIDC_AUDIENCE"
} >> "$GITHUB_ENV"
actor="$(bldst --oidc auth whoami -o json | node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0, "utf8")).id)')"
echo "Signed in to BuildState as $actor"
echo "actor=$actor" >> "$GITHUB_OUTPUT"
