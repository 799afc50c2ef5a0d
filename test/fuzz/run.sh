#!/bin/bash
# Fuzzes ptimport's pure-C file detection (kind, encoding, delimiter), ICU
# conversions, CSV reader, header mapping and row validator with libFuzzer for
# FUZZ_SECONDS (default 60) seconds, starting from test/fuzz/corpus/ and the
# files of test/data/.  Builds and fuzzes in temporary directories, so
# nothing in the tree is written.
# Exits non-zero, printing the crashing input, if libFuzzer finds a crash,
# a leak, a timeout or a broken invariant.
#
# Usage: test/fuzz/run.sh     (from anywhere; FUZZ_SECONDS=300 for longer)
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds=${FUZZ_SECONDS:-60}
cc=${FUZZ_CC:-clang}
command -v "$cc" >/dev/null 2>&1 || cc=clang-14

work=$(mktemp -d "${TMPDIR:-/tmp}/ptimport-fuzz.XXXXXX")
artifacts=$(mktemp -d "${TMPDIR:-/tmp}/ptimport-fuzz-crash.XXXXXX")
keep_artifacts=false
cleanup() {
    rm -rf "$work"
    $keep_artifacts || rm -rf "$artifacts"
}
trap cleanup EXIT

# The reader's piece size becomes a variable the target can make small.
sed 's/^#define PT_PIECE_MAX\t65536$/extern size_t fuzz_piece_max;\n#define PT_PIECE_MAX fuzz_piece_max/' \
    src/csvreader.c >"$work/csvreader.c"
grep -q '^#define PT_PIECE_MAX fuzz_piece_max$' "$work/csvreader.c" || {
    echo "fuzz: PT_PIECE_MAX not found in src/csvreader.c; update test/fuzz/run.sh"
    exit 1
}

"$cc" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I src -o "$work/fuzz_rows" \
    test/fuzz/fuzz_rows.c "$work/csvreader.c" src/validate.c src/detect.c \
    src/header.c src/textnorm.c -lcsv -licui18n -licuuc -luchardet -lidn2

# Tokens the reader and validator react to, for libFuzzer's mutations.
cat >"$work/dict" <<'EOF'
"\x22"
"\x22\x22"
","
",,,,"
"\x0d\x0a"
"\x0d"
"\x0a"
"\x09"
" "
"\xc2\xa0"
"\xc2\x85"
"\xef\xbb\xbf"
"\xf0\x9f\x98\x80"
"\x00"
"\x7f"
";"
"|"
"1977"
"1977-03-15"
"15/03/1977"
"03/15/1977 00:00:00"
"15.3.1977"
"1.23457E+11"
"5,58199E+12"
"male"
"Vrouw"
"m\xc3\xa4nnlich"
"info@m\xc3\xbcller.de"
"+31 (0)6 1122-3344"
"31611223344"
"\xe2\x80\x8b"
"\xe2\x80\xa8"
"\xe2\x80\x8f"
"e\xcc\x81"
"\xe3\x80\x80"
"\xff\xfe"
"\xfe\xff"
"\xff\xfe\x00\x00"
"PK\x03\x04"
"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
"%PDF-"
"{\\rtf"
"xl/"
"Internal ID"
"First name"
"Surname"
"Date of birth"
"Sex"
"Mobile phone"
"Geburtsdatum"
"Achternaam"
"Error"
"ID"
"\xe9"
"\x9f"
"2024"
"1924"
"m"
"F"
"@"
"a@example.com"
"0031611223344"
"+31 6 1122 3344"
"943 476 5919"
"9434765919"
"123-45-6789"
EOF

# The seeds: the corpus's own inputs, the test data and the real-world
# files of test/data/real/ (prefixed real-).
mkdir "$work/corpus"
cp test/fuzz/corpus/* test/data/*.csv "$work/corpus/"
for f in test/data/real/*; do
    cp "$f" "$work/corpus/real-$(basename "$f")"
done

status=0
start=$SECONDS
"$work/fuzz_rows" -max_total_time="$seconds" -max_len=4096 -timeout=60 \
    -rss_limit_mb=1024 -print_final_stats=1 -dict="$work/dict" \
    -artifact_prefix="$artifacts/" "$work/corpus" >"$work/log" 2>&1 || status=$?

shopt -s nullglob
found=("$artifacts"/*)
if [ "$status" -ne 0 ] || [ "${#found[@]}" -gt 0 ]; then
    keep_artifacts=true
    tail -n 60 "$work/log"
    for f in "${found[@]}"; do
        echo "fuzz: crashing input kept in $f"
        od -A d -t x1z -v "$f" | head -n 64
    done
    echo "fuzz: FAILED (libFuzzer exit status $status)"
    exit 1
fi

runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -n 1 || true)
secs=$((SECONDS - start))
cov=$(grep -o 'cov: [0-9]*' "$work/log" | tail -n 1 | cut -d" " -f2 || true)
echo "fuzz: ${runs:-?} runs in ${secs} s, coverage ${cov:-?} edges, no crash"
