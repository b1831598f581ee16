# A three-state image build that reports to BuildState, resumes after a failure and registers
# what it produced. Run it under bldst's lease (see README.md):
#
#   bldst run --build "$BUILD_ID" -- packer build image.pkr.hcl
#
# Each provisioner is one state under `bldst run --state N`: reported in_progress, then completed
# or failed, and skipped (exit 0) when the build already completed it, which is what makes a
# second `packer build` resume: Packer itself cannot skip a provisioner.
# Packer 1.6.6 (Debian) or newer; the null builder needs no cloud. Swap in amazon-ebs, qemu, …

source "null" "image" {
  communicator = "none"
}

build {
  sources = ["source.null.image"]

  # State 10: the base image. Its file is uploaded to BuildState, so any worker can resume from it.
  provisioner "shell-local" {
    inline = ["bldst run --state 10 --artifact output/image.qcow2 -- ./steps/kickstart.sh"]
  }

  # State 25: the security baseline, on top of state 10's image (downloaded if this worker lacks it).
  provisioner "shell-local" {
    inline = ["bldst run --state 25 --artifact output/image.qcow2 -- ./steps/baseline.sh"]
  }

  # State 50: users and authentication, on top of state 25's image.
  provisioner "shell-local" {
    inline = ["bldst run --state 50 -- ./steps/users.sh"]
  }

  # On failure: `bldst run` has already reported a step that failed; steps/report-failure.sh
  # closes an attempt that never got to report (a step killed, a provisioner timeout) as failed.
  # Packer 1.6.6's HCL2 (beta) has no error-cleanup-provisioner block: there, use image.json,
  # which is this build in Packer's JSON format with it. On a Packer whose HCL2 has the block:
  # error-cleanup-provisioner "shell-local" {
  #   inline = ["./steps/report-failure.sh"]
  # }

  post-processors {
    # The null builder has no files of its own: artifice names what this build produced.
    post-processor "artifice" {
      files = ["output/image.qcow2"]
    }
    post-processor "manifest" {
      output     = "packer-manifest.json"
      strip_path = false
    }
    # Every file (or cloud image id, e.g. us-east-1:ami-…) the manifest lists becomes an artifact
    # of state 50, with its SHA-256; --upload stores files in BuildState and verifies them.
    post-processor "shell-local" {
      inline = ["bldst artifact add --from-packer-manifest packer-manifest.json --state 50 --upload -q"]
    }
  }
}
