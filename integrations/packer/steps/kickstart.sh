#!/bin/sh
# State 10 (stand-in for a kickstart install): writes the base image.
set -eu
mkdir -p output
printf 'base image of %s\n' "${PACKER_BUILD_NAME:-image}" > output/image.qcow2
echo "kickstart: wrote output/image.qcow2"
