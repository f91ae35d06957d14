#!/usr/bin/env bash
# The script a Linux user would write instead of the station: clean and deskew every capture with
# unpaper, re-encode it as JPEG, bind all pages into one PDF with img2pdf. Two pages at a time (the
# machine's two cores, as the station's two workers).
#
#   bench/unpaper_img2pdf.sh CAPTURES_DIR OUT_DIR [DPI]
#
# unpaper reads only PNM, so each JPEG is decoded with djpeg first. --deskew-scan-range 10 because
# captures are skewed up to ±10° (unpaper's default range is ±5°). JPEG quality 75 is cjpeg's default.
set -euo pipefail
captures=$1 out=$2 dpi=${3:-300}
mkdir -p "$out/pages"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export work out
find "$captures" -maxdepth 1 -name '*.jpg' -printf '%f\n' | sort | xargs -P 2 -I{} sh -c '
  name=$(basename "$1" .jpg)
  djpeg -pnm "$2/$1" > "$work/$name.in.pnm"
  unpaper --quiet --deskew-scan-range 10 "$work/$name.in.pnm" "$work/$name.out.pnm"
  cjpeg -quality 75 "$work/$name.out.pnm" > "$out/pages/$name.jpg"
  rm -f "$work/$name.in.pnm" "$work/$name.out.pnm"
' _ {} "$captures"
img2pdf --imgsize "${dpi}dpix${dpi}dpi" -o "$out/out.pdf" $(find "$out/pages" -name '*.jpg' | sort)
