#!/usr/bin/env bash
# The README's main-job command: rehearses the `local` stack end to end on this machine, with no
# cloud account. Makes ./venv if missing, installs the project, makes the real Pulumi CLI ready
# (scripts/pulumi-cli.sh: built from the Go module proxy the first time, cached in .tools/), then
# runs `cmek rehearse stacks/Pulumi.local.yaml` through a day in the life of a CMEK cluster. Each
# step runs the real CLI (pulumi up / preview --diff / refresh / destroy) on a copy of the stack,
# with the stand-in AWS provider on moto and the Cloud API simulator:
#
#   1 create            role, multi-region key, replicas, aliases; CMEK enabled (POST)
#   2 no-op             same config: pulumi up and pulumi refresh change nothing, no mutating call
#   3 rotate            key_generation=2: new keys, every region rotated to them (PUT)
#   4 in-place rotation rotation_trigger: same keys re-wrapped (PUT with unchanged URIs)
#   5 add a region      add_regions us-east-2: its replicas and aliases, then PATCH cluster
#   6 tidy up           the region exists now: add_regions removed (state only, no API call)
#   7 revoke + rotate   revoke with key_generation=3: refused by the program, naming the key,
#                       before any resource is planned (the step is expected to fail)
#   8 preview revoke    --preview (cut_key_access + revoke): the diff, and no mutating call anywhere
#   9 revoke            key policies lose the role's statement first, then PATCH cmek REVOKE
#  10 destroy           what is deleted and what is retained (keys, role), then done
#
# Each step is its own process: the stack's state (a local file backend), moto's AWS, the GCP
# store and the Cloud API simulator's world are kept in .rehearsal/local/ between steps (step 1
# starts from scratch). The simulator and moto are started and stopped by every step. Extra
# arguments are passed to every step (for example --enable-seconds 5).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x venv/bin/python ]; then
  python3 -m venv venv
fi
venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
PULUMI_CLI_DIR="$(bash scripts/pulumi-cli.sh | tail -1)"
export PULUMI_CLI_DIR

STACK=stacks/Pulumi.local.yaml
ROTATED=(--set 'clusters[0].key_generation=2')
REWRAPPED=("${ROTATED[@]}" --set 'clusters[0].rotation_trigger=2026-q1')
REGION_ADDED=("${REWRAPPED[@]}" --set 'clusters[0].add_regions={us-east-2: 3}')
REVOKED=("${REWRAPPED[@]}" --set 'clusters[0].aws.cut_key_access=true' --set 'clusters[0].revoke=true')
REVOKED_AND_ROTATED=("${REVOKED[@]}" --set 'clusters[0].key_generation=3')

step() {
  local title="$1"
  shift
  printf '\n==================== %s ====================\n' "$title"
  venv/bin/cmek rehearse "$STACK" "$@"
}

started=$(date +%s)
step "1/10 create (IAM changes take 2 s to propagate)" --reset --show-policies --iam-propagation-seconds 2 "$@"
step "2/10 no-op: same config again, then a refresh" --refresh "$@"
step "3/10 rotate to new keys (key_generation=2)" "${ROTATED[@]}" "$@"
step "4/10 in-place rotation (rotation_trigger)" "${REWRAPPED[@]}" "$@"
step "5/10 add region us-east-2" "${REGION_ADDED[@]}" "$@"
step "6/10 region added: drop add_regions" "${REWRAPPED[@]}" "$@"
if step "7/10 revoke together with a rotation (refused: a revoke is the only change of its update)" \
    "${REVOKED_AND_ROTATED[@]}" "$@"; then
  echo "error: revoke with a rotation was not refused" >&2
  exit 1
fi
step "8/10 preview of revoke (changes nothing)" "${REVOKED[@]}" --preview "$@"
step "9/10 revoke" "${REVOKED[@]}" "$@"
step "10/10 destroy" "${REVOKED[@]}" --destroy "$@"
printf '\nRehearsal finished in %ss.\n' "$(( $(date +%s) - started ))"
