# tests/lib/ocr.sh - reading a screenshot as a person would, for the
# integration tests. Source it, then:
#   ocr PNG OUT      writes the text tesseract reads on PNG to OUT.txt
# tesseract reads a VGA's 8x16 or 9x16 character cells at their own size
# well but not perfectly (one run read "SeaBIOS" as "SeaBI0S"), so OUT.txt
# holds two readings: the picture as it is, then enlarged 3x with smoothing
# (ImageMagick's -resize), as a person would lean closer. A test greps for
# its words in either. Needs tesseract-ocr and ImageMagick (tools/setup.sh
# installs both).
ocr() {
    local png=$1 out=$2
    tesseract "$png" "$out.1" >/dev/null 2>&1
    cat "$out.1.txt" >"$out.txt" 2>/dev/null
    if convert "$png" -resize 300% "$out.big.png" 2>/dev/null; then
        tesseract "$out.big.png" "$out.3" >/dev/null 2>&1
        cat "$out.3.txt" >>"$out.txt" 2>/dev/null
    fi
    rm -f "$out.big.png" "$out.1.txt" "$out.3.txt"
}
