#!/bin/sh
# Packer's error-cleanup-provisioner: the build failed. A step run by `bldst run` has reported its
# own failure; an attempt still in progress (its step was killed before it could report) is
# closed here as failed, so the build does not wait for a heartbeat timeout.
set -u
set -- $(bldst build resume "$BLDST_BUILD_ID" -q)
if [ "${1:-}" = wait ]; then
  bldst build update "$BLDST_BUILD_ID" --state "$2" --status failed >/dev/null \
    --message "packer build ${PACKER_BUILD_NAME:-} failed" --error "state $2 ended without reporting (step killed or timed out)"
  echo "report-failure: state $2 reported failed"
else
  echo "report-failure: build $BLDST_BUILD_ID: next action ${1:-?} ${2:-}"
fi
