#!/usr/bin/env bash
# `skiff image load|ls|rm` against a temporary data directory: the busybox
# archive from scripts/make-busybox-image.sh (docker save and OCI), listing,
# removal, and refusals (corrupt archive, missing file, unknown image) that
# leave nothing stored. Needs no apiserver and no root.
source "$(dirname "$0")/kube_lib.sh"
D=$E2E_TMP/data
s() { "$SKIFF" image --data-dir "$D" "$@"; }

bash "$ROOT/scripts/make-busybox-image.sh" "$E2E_TMP/busybox.tar" >/dev/null
bash "$ROOT/scripts/make-busybox-image.sh" --oci "$E2E_TMP/box-oci.tar" team/box:1.0 >/dev/null

# Nothing loaded yet: the header alone.
run_capture out s ls
expect_eq "ls on an empty store exits 0" 0 "$RC"
expect_eq "ls on an empty store prints the header" "REPOSITORY TAG IMAGE ID SIZE" "$(echo "$out" | tr -s ' ')"

run_capture out s load "$E2E_TMP/busybox.tar"
expect_eq "load exits 0" 0 "$RC"
expect_eq "load says what it loaded" "Loaded image: busybox:latest" "$out"

run_capture out s load -i "$E2E_TMP/box-oci.tar"
expect_eq "load -i (OCI archive) exits 0" 0 "$RC"
expect_eq "OCI load names its tag" "Loaded image: team/box:1.0" "$out"

run_capture out s ls
expect_eq "ls exits 0" 0 "$RC"
expect_contains "ls header" "REPOSITORY" "$(echo "$out" | head -1)"
expect_contains "ls header columns" "IMAGE ID" "$(echo "$out" | head -1)"
busybox_row=$(echo "$out" | grep '^busybox ' || true)
expect_contains "ls lists busybox:latest" "latest" "$busybox_row"
id=$(echo "$busybox_row" | awk '{print $3}')
if [[ $id =~ ^[0-9a-f]{12}$ ]]; then pass "image id is 12 hex digits"; else fail "image id [$id]"; fi
expect_contains "ls lists team/box:1.0" "team/box" "$out"
expect_eq "both images listed (one per tag)" 3 "$(echo "$out" | wc -l)"
run_capture qout s ls -q
expect_contains "ls -q prints ids" "$id" "$qout"

# Both archives hold the same image (same config): one image with two tags.
# Removing one tag leaves the image; removing its last tag deletes it.
run_capture out s rm team/box:1.0
expect_eq "rm of a tag exits 0" 0 "$RC"
expect_eq "rm of one of two tags only untags" "Untagged: team/box:1.0" "$out"

run_capture out s rm busybox
expect_eq "rm busybox exits 0" 0 "$RC"
expect_eq "rm busybox output" "Untagged: busybox:latest
Deleted: sha256:$(echo "$out" | sed -n 's/^Deleted: sha256://p')" "$out"
run_capture out s ls
expect_eq "nothing left after rm" 1 "$(echo "$out" | wc -l)"
expect_eq "no layer left on disk" "" "$(ls "$D/images/layers")"
expect_eq "no blob left on disk" "" "$(ls "$D/images/blobs/sha256")"

# Refusals: non-zero, a clear message, nothing stored.
run_capture out s rm busybox
expect_eq "rm of an unknown image exits 1" 1 "$RC"
expect_eq "rm of an unknown image says so" 'error: image "busybox" not found' "$out"

run_capture out s load "$E2E_TMP/nope.tar"
expect_eq "load of a missing file exits 1" 1 "$RC"
expect_contains "load of a missing file names it" "nope.tar" "$out"
expect_contains "load of a missing file says it is missing" "no such file" "$out"

head -c 20000 "$E2E_TMP/busybox.tar" >"$E2E_TMP/truncated.tar"
run_capture out s load "$E2E_TMP/truncated.tar"
expect_eq "load of a truncated archive exits 1" 1 "$RC"
expect_contains "truncated archive error names the file" "truncated.tar" "$out"
printf 'this is not an archive' >"$E2E_TMP/garbage.tar"
run_capture out s load "$E2E_TMP/garbage.tar"
expect_eq "load of garbage exits 1" 1 "$RC"
expect_contains "garbage error names the file" "garbage.tar" "$out"
# A layer whose bytes do not match its digest.
mkdir -p "$E2E_TMP/corrupt" && tar -xf "$E2E_TMP/busybox.tar" -C "$E2E_TMP/corrupt"
layer=$(find "$E2E_TMP/corrupt" -name layer.tar)
printf 'x' | dd of="$layer" bs=1 seek=$(($(stat -c %s "$layer") / 2)) conv=notrunc status=none
tar -cf "$E2E_TMP/corrupt.tar" -C "$E2E_TMP/corrupt" .
run_capture out s load "$E2E_TMP/corrupt.tar"
expect_eq "load of a corrupt layer exits 1" 1 "$RC"
expect_contains "corrupt layer error" "digest mismatch" "$out"
run_capture out s ls
expect_eq "nothing stored after refused loads" 1 "$(echo "$out" | wc -l)"
expect_eq "no layer stored after refused loads" "" "$(ls "$D/images/layers")"
expect_eq "no blob stored after refused loads" "" "$(ls "$D/images/blobs/sha256")"
expect_eq "no staging left after refused loads" "" "$(ls "$D/images/tmp")"

run_capture out "$SKIFF" image
expect_eq "image without a subcommand exits 1" 1 "$RC"
expect_contains "image without a subcommand says what is wanted" "load, ls or rm" "$out"
run_capture out "$SKIFF" image --help
expect_eq "image --help exits 0" 0 "$RC"
expect_contains "image --help shows --data-dir" "--data-dir" "$out"

finish
