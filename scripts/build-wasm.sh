#!/usr/bin/env bash
# Trunk's post_build hook (Trunk.toml): builds the web app's wasm and splits it into a main module
# and one lazily fetched chunk per `Lazy` route (web/src/routes.rs). Trunk itself only handles the
# HTML, the stylesheet and the icon: it cannot split a module (trunk-rs/trunk#1022), and the split
# has to happen before wasm-bindgen, which drops the relocations the splitter reads.
#
#   cargo build (linked with --emit-relocs) -> wasm_split_cli -> wasm-bindgen -> wasm-opt -Oz
#
# Output in Trunk's staging directory: main.js + main_bg.wasm (what index.html loads), the chunks
# and __wasm_split.js, which fetches a chunk the first time its route renders.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/env.sh
source "$ROOT/scripts/env.sh"
STAGING="${TRUNK_STAGING_DIR:?run through trunk build (Trunk.toml hooks)}"

if [[ "${TRUNK_PROFILE:-debug}" == release ]]; then
  profile=wasm-release
else
  profile=dev
fi
target_dir="${CARGO_TARGET_DIR:-$ROOT/target}"
profile_dir=$([[ $profile == dev ]] && echo debug || echo "$profile")
input="$target_dir/wasm32-unknown-unknown/$profile_dir/web.wasm"

cargo build --quiet --offline -p web --bin web --target wasm32-unknown-unknown --profile "$profile"

work="$(mktemp -d "${TMPDIR:-/tmp}/provisio-wasm.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# main.wasm + split_*/chunk_* modules + __wasm_split.js, which imports `./main.js`.
wasm-split-cli --target web "$input" "$work/split" >/dev/null
wasm-bindgen --target web --keep-lld-exports --no-demangle --out-name main \
  --out-dir "$work/bindgen" "$work/split/main.wasm"

for module in "$work/bindgen/main_bg.wasm" "$work"/split/*.wasm; do
  name="$(basename "$module")"
  [[ $name == main.wasm ]] && continue
  if [[ $profile == wasm-release ]]; then
    # (wasm-opt warns about the extended name subsections the splitter keeps; they are dropped)
    wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
      "$module" -o "$STAGING/$name" 2> >(grep -v "unknown name subsection" >&2)
  else
    cp "$module" "$STAGING/$name"
  fi
done
cp "$work/bindgen/main.js" "$work/split/__wasm_split.js" "$STAGING/"
if [[ -d "$work/bindgen/snippets" ]]; then
  cp -r "$work/bindgen/snippets" "$STAGING/"
fi
# The placeholder that keeps Trunk from building the crate itself has no use in the page.
sed -i '/data-trunk-skip/d' "$STAGING/index.html"
