#!/bin/sh
# State 50 (stand-in for users and authentication): changes the image of state 25.
# FAIL_AT_USERS=1 makes it fail the way an LDAP outage would (the tests use it).
set -eu
if [ ! -f output/image.qcow2 ]; then
  mkdir -p output
  bldst artifact download "$BLDST_BUILD_ID" --state 25 --name image.qcow2 -O output/image.qcow2
fi
if [ "${FAIL_AT_USERS:-}" = 1 ]; then
  echo "users: ldap: connection timed out" >&2
  exit 1
fi
echo 'users: sssd joined' >> output/image.qcow2
echo "users: configured"
