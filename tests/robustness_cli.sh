#!/bin/sh
# robustness_cli.sh: the degradations of `make robustness` (scripts/robustness.sh
# --degrade), on the first 15 s of the demo recording and on sines; a few seconds.
#   1. every condition made twice gives byte-identical audio and references, and
#      leaves no temporary file;
#   2. detune: the reference's times are the original's times 2^(-cents/1200)
#      (six decimals), and the audio is as long as that;
#   3. gain-30dB: the RMS is 30 dB lower (within 0.1 dB);
#   4. pink20dB: the noise (output minus input) is 20 dB below the song (within 0.5);
#   5. band300-3400: a 100 Hz sine loses more than 20 dB, a 1 kHz sine less than 1;
#   6. no clipping: the piece (reverb) and a sine (pink20dB) peaking at -0.05 dBFS
#      come out at or under -0.1 dBFS, the noise still 20 dB down;
#   7. an unknown condition is refused and writes nothing.
# The end-to-end benchmark (songs, models, table) is too slow for a test; run
# `ROBUSTNESS_SONGS=2 ROBUSTNESS_CONDITIONS=... make robustness` to see it work.
# Usage: robustness_cli.sh BUILD_DIR   (needs sox and oggenc; exit 77 without them)
set -u
SCRIPT=scripts/robustness.sh
command -v sox >/dev/null && command -v oggenc >/dev/null ||
  { echo "this test needs sox and oggenc (vorbis-tools)"; exit 77; }
export LC_ALL=C
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
failures=0
ok() { echo "ok - $1"; }
bad() { echo "not ok - $1"; failures=$((failures + 1)); }
degrade() { sh "$SCRIPT" --degrade "$@"; }
stat() { sox "$1" -n stats 2>&1 | awk -v l="$2" 'index($0, l) == 1 { print $NF }'; }
# near A B TOLERANCE: |A - B| <= TOLERANCE
near() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t) }'; }

# The piece: 15 s of the demo, its labels cut there.
IN=$TMP/in.flac
sox examples/synth0046.flac "$IN" trim 0 15
awk '$1 < 15 { printf "%.6f\t%.6f\t%s\n", $1, ($2 > 15 ? 15 : $2), $3 }' examples/synth0046.lab >"$TMP/in.lab"

# 1. Determinism, atomic writes.
CONDS="clean detune-50c detune+45c gain-30dB reverb band300-3400 pink20dB vorbis64k offset40ms"
mkdir -p "$TMP/a" "$TMP/b"
for c in $CONDS; do
  for run in a b; do
    degrade "$c" "$IN" "$TMP/in.lab" "$TMP/$run/$c.flac" "$TMP/$run/$c.lab" 2>"$TMP/err" ||
      { bad "$c: --degrade failed: $(cat "$TMP/err")"; continue 2; }
  done
  if cmp -s "$TMP/a/$c.flac" "$TMP/b/$c.flac" && cmp -s "$TMP/a/$c.lab" "$TMP/b/$c.lab"; then
    ok "$c: the same bytes twice"
  else
    bad "$c: two runs differ"
  fi
done
left=$(find "$TMP/a" "$TMP/b" -name '.*' | wc -l)
[ "$left" -eq 0 ] && ok "no temporary file left" || bad "$left temporary files left"

# 2. Detune: scaled references, audio length.
samples=$(soxi -s "$IN")
for c in detune-50c detune+45c; do
  cents=${c#detune}
  cents=${cents%c}
  if awk -v c="$cents" 'BEGIN { f = exp(-c / 1200 * log(2)) }
      FNR == NR { s[FNR] = $1; e[FNR] = $2; l[FNR] = $3; n = FNR; next }
      { m = FNR
        if ($3 != l[FNR] || $1 - s[FNR] * f > 1e-6 || s[FNR] * f - $1 > 1e-6 ||
            $2 - e[FNR] * f > 1e-6 || e[FNR] * f - $2 > 1e-6) { print "line " FNR ": " $0; exit 1 } }
      END { exit !(m == n && n > 5) }' "$TMP/in.lab" "$TMP/a/$c.lab"
  then ok "$c: reference times scaled by 2^($((-cents))/1200)"
  else bad "$c: reference not scaled right"; fi
  got=$(soxi -s "$TMP/a/$c.flac")
  awk -v n="$samples" -v g="$got" -v c="$cents" 'BEGIN { d = n * exp(-c / 1200 * log(2)) - g; exit !(d < 1.5 && d > -1.5) }' &&
    ok "$c: $got samples, the input's $samples scaled" || bad "$c: $got samples from $samples"
done

# 3. -30 dB.
d=$(awk -v a="$(stat "$IN" 'RMS lev dB')" -v b="$(stat "$TMP/a/gain-30dB.flac" 'RMS lev dB')" 'BEGIN { print a - b }')
near "$d" 30 0.1 && ok "gain-30dB: RMS $d dB lower" || bad "gain-30dB: RMS $d dB lower, not 30"

# 4. SNR: the noise is what the mix adds to the input.
snr() { # IN MIX: the input's RMS over the RMS of MIX - IN, in dB
  noise=$(sox -m -v 1 "$2" -v -1 "$1" -n stats 2>&1 | awk 'index($0, "RMS lev dB") == 1 { print $NF }')
  awk -v s="$(stat "$1" 'RMS lev dB')" -v n="$noise" 'BEGIN { print s - n }'
}
d=$(snr "$IN" "$TMP/a/pink20dB.flac")
near "$d" 20 0.5 && ok "pink20dB: SNR $d dB" || bad "pink20dB: SNR $d dB, not 20"

# 5. The telephone band.
printf '0.000000\t5.000000\tN\n' >"$TMP/sine.lab"
for f in 100 1000; do
  sox -n -r 22050 -c 1 -b 16 "$TMP/sine$f.flac" synth 5 sine $f gain -10
  degrade band300-3400 "$TMP/sine$f.flac" "$TMP/sine.lab" "$TMP/band$f.flac" "$TMP/band$f.lab" 2>/dev/null
  eval "loss$f=$(awk -v a="$(stat "$TMP/sine$f.flac" 'RMS lev dB')" -v b="$(stat "$TMP/band$f.flac" 'RMS lev dB')" 'BEGIN { print a - b }')"
done
# shellcheck disable=SC2154 # loss100 and loss1000 are set by eval
awk -v l="$loss100" 'BEGIN { exit !(l > 20) }' && ok "band300-3400: 100 Hz $loss100 dB down" ||
  bad "band300-3400: 100 Hz only $loss100 dB down"
# shellcheck disable=SC2154
near "$loss1000" 0 1 && ok "band300-3400: 1 kHz passes ($loss1000 dB)" || bad "band300-3400: 1 kHz $loss1000 dB down"

# 6. Loud inputs: scaled down instead of clipped. The demo piece for reverb (it adds
# level), a sine for the noise (its every period peaks, so the noise must push one over).
sox "$IN" "$TMP/loud-reverb-in.flac" gain -n -0.05
sox "$TMP/sine1000.flac" "$TMP/loud-pink20dB-in.flac" gain -n -0.05
for c in reverb pink20dB; do
  lab=$TMP/in.lab
  [ "$c" = reverb ] || lab=$TMP/sine.lab
  if degrade "$c" "$TMP/loud-$c-in.flac" "$lab" "$TMP/loud-$c.flac" "$TMP/loud-$c.lab" 2>"$TMP/err-$c"; then
    pk=$(stat "$TMP/loud-$c.flac" 'Pk lev dB')
    awk -v p="$pk" 'BEGIN { exit !(p <= -0.09) }' && grep -q 'does not clip' "$TMP/err-$c" &&
      ok "$c on a -0.05 dBFS input: peak $pk dBFS, scaled down (it says so)" ||
      bad "$c on a -0.05 dBFS input: peak $pk dBFS: $(cat "$TMP/err-$c")"
  else
    bad "$c on a loud input failed: $(cat "$TMP/err-$c")"
  fi
done
# The song and the noise were scaled by G dB (the message says G): the noise is the
# output minus the input scaled by G.
LOUD=$TMP/loud-pink20dB-in.flac
g=$(sed -n 's/.*: input scaled by \([-0-9.]*\) dB.*/\1/p' "$TMP/err-pink20dB")
v=$(awk -v g="${g:-0}" 'BEGIN { printf "%.8f", -exp(g / 20 * log(10)) }')
noise=$(sox -m -v 1 "$TMP/loud-pink20dB.flac" -v "$v" "$LOUD" -n stats 2>&1 | awk 'index($0, "RMS lev dB") == 1 { print $NF }')
d=$(awk -v s="$(stat "$LOUD" 'RMS lev dB')" -v g="${g:-0}" -v n="$noise" 'BEGIN { print s + g - n }')
near "$d" 20 0.5 && ok "pink20dB on a loud input: scaled by $g dB, SNR still $d dB" ||
  bad "pink20dB on a loud input: SNR $d dB"

# 7. The start offset: 40 ms of digital silence, then the input sample for
# sample; the reference 40 ms later behind an N.
got=$(soxi -s "$TMP/a/offset40ms.flac")
rate=$(soxi -r "$IN")
pad=$((rate * 40 / 1000))
[ "$got" -eq $((samples + pad)) ] && ok "offset40ms: $pad samples more" || bad "offset40ms: $got samples from $samples"
lead=$(sox "$TMP/a/offset40ms.flac" -n trim 0 "${pad}s" stats 2>&1 | awk 'index($0, "Pk lev dB") == 1 { print $NF }')
[ "$lead" = "-inf" ] && ok "offset40ms: the first $pad samples are silent" || bad "offset40ms: the lead peaks at $lead dB"
sox "$TMP/a/offset40ms.flac" "$TMP/offset-tail.flac" trim "${pad}s"
diff_pk=$(sox -m -v 1 "$TMP/offset-tail.flac" -v -1 "$IN" -n stats 2>&1 | awk 'index($0, "Pk lev dB") == 1 { print $NF }')
awk -v p="$diff_pk" 'BEGIN { exit !(p == "-inf" || p < -90) }' && ok "offset40ms: then the input itself (difference $diff_pk dB)" ||
  bad "offset40ms: the shifted audio differs from the input by $diff_pk dB"
if awk 'FNR == NR { s[FNR] = $1; e[FNR] = $2; l[FNR] = $3; n = FNR; next }
    FNR == 1 { if ($1 != 0 || $2 != 0.04 || $3 != "N") exit 1; next }
    { m = FNR - 1
      if ($3 != l[m] || $1 - s[m] - 0.04 > 1e-6 || s[m] + 0.04 - $1 > 1e-6 ||
          $2 - e[m] - 0.04 > 1e-6 || e[m] + 0.04 - $2 > 1e-6) exit 1 }
    END { exit !(m == n && n > 5) }' "$TMP/in.lab" "$TMP/a/offset40ms.lab"
then ok "offset40ms: reference 40 ms later, N before"
else bad "offset40ms: reference not shifted right: $(head -3 "$TMP/a/offset40ms.lab")"; fi

# 8. Bad conditions.
for c in detune+45 wobble pinkdB offsetms offset-5ms; do
  if degrade "$c" "$IN" "$TMP/in.lab" "$TMP/bad.flac" "$TMP/bad.lab" 2>"$TMP/err"; then
    bad "condition '$c' accepted"
  elif [ -e "$TMP/bad.flac" ] || [ -e "$TMP/bad.lab" ]; then
    bad "condition '$c' refused but wrote a file"
  else
    ok "condition '$c' refused: $(cat "$TMP/err")"
  fi
done

[ "$failures" -eq 0 ] && echo "robustness_cli: all passed" || echo "robustness_cli: $failures failed"
[ "$failures" -eq 0 ]
