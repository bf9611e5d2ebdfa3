#!/bin/sh
# robustness.sh: how much accuracy the models lose to ordinary real-world audio
# (`make robustness`, issue 14). A fixed subset of the test split's pop909cl
# songs is degraded under named conditions, transcribed by every model, and
# scored with `chordlet eval` (avg7); each condition is compared with that
# model's own clean score.
#   usage: scripts/robustness.sh
#          scripts/robustness.sh --degrade COND IN.flac IN.lab OUT.flac OUT.lab
# The second form makes one degraded file and its reference (tests/robustness_cli.sh).
#
# Songs: every third song of ../shared/data/splits/pop909cl_test.txt in the file's
# order (lines 1, 4, 7, ..., 88: 30 songs, 100 minutes of audio), rendered as
# make eval-teacher renders them (work/eval-teacher/audio/pop909cl, rendered here
# with scripts/render-song.sh if missing; references work/eval-teacher/ref/pop909cl).
#
# Conditions (all made with sox, and oggenc for Vorbis; deterministic: `sox -R`
# seeds the noise and the dither, so the same command gives the same bytes):
#   clean         the render as it is
#   detune±Nc     N cents sharp (+) or flat (-), like a tape running fast or slow:
#                 `speed Nc` then `rate -v` back to the original rate; the
#                 reference's times are scaled by 2^(-N/1200)
#   gain-NdB      N dB quieter (`gain -N`)
#   reverb        a medium room: `reverb 50 50 50 100 20 0` (reverberance 50 %,
#                 HF damping 50 %, room scale 50 %, 20 ms pre-delay, wet as loud
#                 as dry), mixed back to the input's channels
#   bandLO-HI     a telephone band: `sinc LO-HI` (linear phase, no delay)
#   pinkNdB       pink noise N dB below the song's own RMS (whole file, `stats`)
#   vorbisNk      Ogg Vorbis at N kbit/s (`oggenc -b N --managed`), decoded back
#   offsetNms     N ms of silence before the song (`pad`), the reference shifted
#                 as much with no chord (N) over the silence: a recording starts
#                 anywhere, not on the model's frame grid (a student that hops
#                 every 60 ms sees each song at one of its 60 ms phases)
# The default list (DEFAULT_CONDITIONS below): clean, detune-50c, -30c, -15c, +15c,
# +30c, +45c, gain-30dB, reverb, band300-3400, pink20dB, vorbis64k, offset20ms,
# offset40ms.
# A degradation never clips: a linear one (detune, reverb, band, noise) that would
# peak above -0.1 dBFS is made from the input scaled down enough (measured on a
# pass 20 dB lower; for noise the song and the noise are scaled together, so the
# SNR holds), and the encoder gets at most a -1 dBFS peak (a lossy codec
# overshoots). The renders peak far lower, so this rarely acts; it says so when it does.
#
# Settings (environment):
#   ROBUSTNESS_MODELS      "NAME=MODEL ..." (MODEL: a .chordlet file or a shipped
#                          name); default "offline=offline default=default teacher=teacher"
#   ROBUSTNESS_CONDITIONS  the conditions above (clean is always added); default all 14
#   ROBUSTNESS_SONGS       use only the first N songs of the subset (quick runs)
#   ROBUSTNESS_JOBS        processes at a time (default: the number of cores)
#   ROBUSTNESS_TRANSCRIBE_ARGS  extra options for chordlet transcribe
#   ROBUSTNESS_SPLIT       test (default) or valid: all of the validation
#                          split's 45 pop909cl songs as make data rendered them
#                          (work/data/audio/valid/pop909cl), into work/robustness-valid;
#                          the split training choices are made on (augmentation)
#   CHORDLET_SHARED        ../shared
# Work goes to work/robustness/: audio/COND/ID.flac + ID.lab (degraded once, reused;
# delete audio/COND after changing a degradation or the renders), est/NAME-KEY/COND/
# (KEY: a checksum of the model file, the chordlet binary and the transcribe
# options, so a changed one never reuses old estimates), score/, table.md and
# results.json. About 40 minutes on 2 idle cores for the default 30 songs x 14
# conditions x 3 models (the teacher takes two thirds); a rerun reuses everything.
set -eu
export LC_ALL=C # decimal points for awk and sox

CEIL_DB=-0.1       # the highest peak a degraded file may have
CODEC_PEAK_DB=-1   # the highest peak given to a lossy encoder
DEFAULT_CONDITIONS="clean detune-50c detune-30c detune-15c detune+15c detune+30c detune+45c gain-30dB reverb band300-3400 pink20dB vorbis64k offset20ms offset40ms"
DEFAULT_MODELS="offline=offline default=default teacher=teacher"

die() {
  echo "robustness.sh: $*" >&2
  exit 1
}

# is_number X: an unsigned decimal number.
is_number() {
  case $1 in '' | . | *[!0-9.]* | *.*.*) return 1 ;; esac
}

# check_condition COND: a known condition with sane parameters.
check_condition() {
  case $1 in
    clean | reverb) return 0 ;;
    detune[+-]*c)
      n=${1#detune?}
      n=${n%c}
      is_number "$n" && awk -v n="$n" 'BEGIN { exit !(n > 0 && n <= 1200) }' ;;
    gain-*dB) n=${1#gain-} && is_number "${n%dB}" ;;
    pink*dB) n=${1#pink} && is_number "${n%dB}" ;;
    vorbis*k) n=${1#vorbis} && is_number "${n%k}" ;;
    offset*ms)
      n=${1#offset}
      n=${n%ms}
      is_number "$n" && awk -v n="$n" 'BEGIN { exit !(n > 0 && n <= 60000) }' ;;
    band*-*)
      n=${1#band}
      lo=${n%-*} hi=${n#*-}
      is_number "$lo" && is_number "$hi" && awk -v l="$lo" -v h="$hi" 'BEGIN { exit !(l < h) }' ;;
    *) return 1 ;;
  esac
}

# stat_db LINE SOX-ARGS...: a value ("Pk lev dB", "RMS lev dB") of `sox SOX-ARGS
# stats`, where SOX-ARGS end with the output -n and any effects before stats; the
# last column is the overall one on several channels.
stat_db() {
  line=$1
  shift
  sox "$@" stats 2>&1 | awk -v l="$line" 'index($0, l) == 1 { print $NF; found = 1 } END { exit !found }'
}

# headroom_db PEAK_DB LIMIT_DB: the gain (0 or negative) that keeps PEAK under LIMIT.
headroom_db() {
  awk -v p="$1" -v l="$2" 'BEGIN { g = l - p; if (g > 0) g = 0; printf "%.4f\n", g }'
}

db_to_factor() {
  awk -v g="$1" 'BEGIN { printf "%.8f\n", exp(g / 20 * log(10)) }'
}

note_headroom() { # COND OUT GAIN
  [ "$(awk -v g="$3" 'BEGIN { print (g < 0) }')" = 1 ] &&
    echo "robustness.sh: $1: $(basename "$2"): input scaled by $3 dB so that it does not clip" >&2
  return 0
}

# retime_lab SCALE SHIFT LAB: LAB's times as time x SCALE + SHIFT, each label
# field kept as it is (the rest of the line after two numbers), and so are the
# file's separator, comments and blank lines.
retime_lab() {
  awk -v f="$1" -v d="$2" '/^[ \t]*(#|$)/ { print; next }
    { sep = index($0, "\t") ? "\t" : " "; rest = $0
      sub(/^[ \t]*[^ \t]+[ \t]+[^ \t]+[ \t]+/, "", rest)
      printf "%.6f%s%.6f%s%s\n", $1 * f + d, sep, $2 * f + d, sep, rest }' "$3"
}

# degrade COND IN IN.lab OUT OUT.lab: one degraded file and its reference, both
# written atomically (hidden temporary names, so a folder scan never sees them).
degrade() {
  [ $# -eq 5 ] || die "usage: --degrade COND IN.flac IN.lab OUT.flac OUT.lab"
  cond=$1 in=$2 inlab=$3 out=$4 outlab=$5
  check_condition "$cond" || die "unknown condition '$cond'"
  [ -f "$in" ] && [ -f "$inlab" ] || die "$in or $inlab is missing"
  mkdir -p "$(dirname "$out")" "$(dirname "$outlab")"
  tmp=$(dirname "$out")/.$(basename "$out").tmp.$$
  tmplab=$(dirname "$outlab")/.$(basename "$outlab").tmp.$$
  trap 'rm -f "$tmp.flac" "$tmp.ogg" "$tmp.err" "$tmplab"' EXIT
  trap 'exit 1' INT TERM
  rate=$(soxi -r "$in")
  channels=$(soxi -c "$in")
  samples=$(soxi -s "$in")
  cp "$inlab" "$tmplab"
  effects="" post=""
  case $cond in
    clean) cp "$in" "$tmp.flac" ;;
    detune*)
      cents=${cond#detune}
      cents=${cents%c}
      cents=${cents#+}
      # The tape runs 2^(cents/1200) times faster: every time shrinks by its inverse.
      retime_lab "$(awk -v c="$cents" 'BEGIN { printf "%.12g", exp(-c / 1200 * log(2)) }')" 0 "$inlab" >"$tmplab"
      effects="speed ${cents}c rate -v $rate" ;;
    gain-*) effects="gain -${cond#gain-}" && effects=${effects%dB} ;;
    offset*)
      ms=${cond#offset}
      ms=${ms%ms}
      shift_s=$(awk -v m="$ms" 'BEGIN { printf "%.6f", m / 1000 }')
      # Every time moves later; the silence before the first chord is N.
      { printf '0.000000\t%s\tN\n' "$shift_s"; retime_lab 1 "$shift_s" "$inlab"; } >"$tmplab"
      effects="pad $shift_s 0" ;;
    # reverb makes two channels; they are mixed back after the peak is measured (on
    # both: each one clips on its own inside sox).
    reverb) effects="reverb 50 50 50 100 20 0" post="channels $channels" ;;
    band*) effects="sinc ${cond#band}" ;;
    pink*)
      snr=${cond#pink}
      snr=${snr%dB}
      # Noise as long as the song, at a level measured on the same seeded noise.
      noise="sox -R -r $rate -c $channels -n -t sox - synth ${samples}s pinknoise"
      song_rms=$(stat_db "RMS lev dB" "$in" -n)
      noise_rms=$(stat_db "RMS lev dB" -R -r "$rate" -c "$channels" -n -n synth "${samples}s" pinknoise)
      ngain=$(awk -v s="$song_rms" -v n="$noise_rms" -v snr="$snr" 'BEGIN { printf "%.4f\n", s - snr - n }')
      # The mix's peak, measured 20 dB down so that nothing clips while measuring.
      peak=$(stat_db "Pk lev dB" -R -m -v 0.1 "$in" -v 0.1 "|$noise gain $ngain" -n)
      g=$(headroom_db "$(awk -v p="$peak" 'BEGIN { print p + 20 }')" $CEIL_DB)
      note_headroom "$cond" "$out" "$g"
      v=$(db_to_factor "$g")
      sox -R -m -v "$v" "$in" -v "$v" "|$noise gain $ngain" -t flac "$tmp.flac" 2>"$tmp.err" ||
        { cat "$tmp.err" >&2; die "sox failed on $in"; } ;;
    vorbis*)
      kbps=${cond#vorbis}
      kbps=${kbps%k}
      g=$(headroom_db "$(stat_db "Pk lev dB" "$in" -n)" $CODEC_PEAK_DB)
      note_headroom "$cond" "$out" "$g"
      # --serial: oggenc picks a random stream serial number otherwise.
      sox -R "$in" -t wav - gain "$g" | oggenc -Q -b "$kbps" --managed --serial 1 -o "$tmp.ogg" - ||
        die "oggenc failed on $in"
      sox -R "$tmp.ogg" -t flac "$tmp.flac" 2>"$tmp.err" || { cat "$tmp.err" >&2; die "sox failed on $tmp.ogg"; } ;;
  esac
  if [ -n "$effects" ]; then
    g=0
    case $cond in
      gain-* | offset*) ;; # only ever quieter, or silence added
      *)
        # Linear effects: the peak at -20 dB, plus 20, is the peak at full level.
        # shellcheck disable=SC2086 # $effects is a list of sox arguments
        peak=$(stat_db "Pk lev dB" "$in" -n gain -20 $effects)
        g=$(headroom_db "$(awk -v p="$peak" 'BEGIN { print p + 20 }')" $CEIL_DB)
        note_headroom "$cond" "$out" "$g" ;;
    esac
    # shellcheck disable=SC2086
    sox -R "$in" -t flac "$tmp.flac" gain "$g" $effects $post 2>"$tmp.err" ||
      { cat "$tmp.err" >&2; die "sox failed on $in"; }
  fi
  # A clipped sample (sox counts them) would be a degradation the name does not say.
  if [ -s "$tmp.err" ] && grep -q -i clip "$tmp.err"; then
    cat "$tmp.err" >&2
    die "$cond: $in clipped"
  fi
  mv "$tmplab" "$outlab"
  mv "$tmp.flac" "$out"
}

# resolve_model MODEL: the file a name stands for, as `chordlet transcribe` finds it
# from a source checkout (a file, else $CHORDLET_MODELS/MODEL.chordlet, else models/).
resolve_model() {
  if [ -f "$1" ]; then
    echo "$1"
  elif [ -n "${CHORDLET_MODELS:-}" ] && [ -f "$CHORDLET_MODELS/$1.chordlet" ]; then
    echo "$CHORDLET_MODELS/$1.chordlet"
  elif [ -f "models/$1.chordlet" ]; then
    echo "models/$1.chordlet"
  else
    die "model '$1': no such file and no models/$1.chordlet"
  fi
}

# transcribe_job NAME COND: one model on one condition's songs (run by xargs).
transcribe_job() {
  name=$1 cond=$2
  line=$(awk -v n="$name" '$1 == n' "$WORK/models.txt")
  key=$(echo "$line" | cut -f 2)
  path=$(echo "$line" | cut -f 3-)
  est=$WORK/est/$name-$key/$cond
  mkdir -p "$est"
  set --
  while read -r id; do set -- "$@" "$WORK/audio/$cond/$id.flac"; done <"$WORK/songs.txt"
  t0=$(date +%s)
  # shellcheck disable=SC2086 # ROBUSTNESS_TRANSCRIBE_ARGS is a list of options
  ./build/chordlet transcribe --model "$path" -q --skip-existing ${ROBUSTNESS_TRANSCRIBE_ARGS:-} -o "$est" "$@" ||
    die "chordlet transcribe failed ($name, $cond)"
  echo "  $name $cond: $(($(date +%s) - t0)) s"
}

case ${1:-} in
  --degrade)
    shift
    degrade "$@"
    exit 0 ;;
  -h | --help)
    sed -n '2,/^set -eu/p' "$0" | sed -e '/^set -eu/d' -e 's/^# \{0,1\}//'
    exit 0 ;;
esac

cd "$(dirname "$0")/.."
SPLIT=${ROBUSTNESS_SPLIT:-test}
case $SPLIT in
  test) WORK=work/robustness ;;
  valid) WORK=work/robustness-valid ;;
  *) die "ROBUSTNESS_SPLIT is test or valid, not '$SPLIT'" ;;
esac
case ${1:-} in
  --transcribe-job)
    shift
    transcribe_job "$@"
    exit 0 ;;
  "") ;;
  *) die "unknown argument '$1' (--help)" ;;
esac

SHARED=$(cd "${CHORDLET_SHARED:-../shared}" && pwd) || die "no shared data (CHORDLET_SHARED)"
JOBS=${ROBUSTNESS_JOBS:-$(nproc 2>/dev/null || echo 2)}
MODELS=${ROBUSTNESS_MODELS:-$DEFAULT_MODELS}
CONDITIONS=${ROBUSTNESS_CONDITIONS:-$DEFAULT_CONDITIONS}
SONGS=${ROBUSTNESS_SONGS:-0}
if [ "$SPLIT" = test ]; then
  SRC=work/eval-teacher
  AUDIO_DIR=$SRC/audio/pop909cl
  REF_DIR=$SRC/ref/pop909cl
else
  AUDIO_DIR=work/data/audio/valid/pop909cl
  REF_DIR=$AUDIO_DIR
fi
LIST=$SHARED/data/splits/pop909cl_$SPLIT.txt
# Several transcriptions run side by side: one BLAS thread each.
OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
export OPENBLAS_NUM_THREADS ROBUSTNESS_TRANSCRIBE_ARGS

[ -x build/chordlet ] || die "build/chordlet is missing (make)"
[ -f "$LIST" ] || die "$LIST is missing (CHORDLET_SHARED)"
command -v sox >/dev/null && command -v oggenc >/dev/null || die "needs sox and oggenc (vorbis-tools)"
case $SONGS in '' | *[!0-9]*) die "ROBUSTNESS_SONGS must be a number" ;; esac
case $JOBS in '' | *[!0-9]* | 0) die "ROBUSTNESS_JOBS must be a positive number" ;; esac
# clean is every other condition's baseline.
case " $CONDITIONS " in *" clean "*) ;; *) CONDITIONS="clean $CONDITIONS" ;; esac
for c in $CONDITIONS; do check_condition "$c" || die "unknown condition '$c'"; done

mkdir -p "$WORK"
# The subset: every third test song, in the split file's order; every
# validation song (45).
STEP=3
[ "$SPLIT" = valid ] && STEP=1
awk -v s=$STEP 'NR % s == 1 % s' "$LIST" >"$WORK/songs.txt.tmp"
if [ "$SONGS" -gt 0 ]; then head -n "$SONGS" "$WORK/songs.txt.tmp" >"$WORK/songs.txt"; else cp "$WORK/songs.txt.tmp" "$WORK/songs.txt"; fi
rm -f "$WORK/songs.txt.tmp"
n_songs=$(wc -l <"$WORK/songs.txt")

# Models: NAME, KEY, file (tab separated; a path may hold spaces).
binsum=$(cksum <build/chordlet)
: >"$WORK/models.txt"
names=""
for m in $MODELS; do
  name=${m%%=*}
  model=${m#*=}
  [ "$name" != "$m" ] || model=$name
  case $name in '' | *[!A-Za-z0-9_.-]*) die "model name '$name': letters, digits, . _ - only" ;; esac
  path=$(resolve_model "$model")
  key=$(printf '%s\n' "$(cksum <"$path")" "$binsum" "${ROBUSTNESS_TRANSCRIBE_ARGS:-}" | cksum | cut -d ' ' -f 1)
  printf '%s\t%s\t%s\n' "$name" "$key" "$path" >>"$WORK/models.txt"
  names="$names $name"
done

# The clean renders and their references, as make eval-teacher makes them
# (the validation split's: as make data made them).
if [ "$SPLIT" = valid ]; then
  while read -r id; do
    [ -f "$AUDIO_DIR/$id.flac" ] && [ -f "$REF_DIR/$id.lab" ] || die "$AUDIO_DIR/$id.flac or its .lab is missing (make data)"
  done <"$WORK/songs.txt"
fi
: >"$WORK/render.txt"
[ "$SPLIT" = test ] && mkdir -p "$SRC/ref/pop909cl"
[ "$SPLIT" = test ] && while read -r id; do
  [ -f "$SRC/ref/pop909cl/$id.lab" ] || cp "$SHARED/data/midi/pop909cl/$id.lab" "$SRC/ref/pop909cl/$id.lab"
  [ -f "$SRC/audio/pop909cl/$id.flac" ] || echo "$SHARED pop909cl $id $SRC/audio/pop909cl/$id.flac"
done <"$WORK/songs.txt" >"$WORK/render.txt"
if [ -s "$WORK/render.txt" ]; then
  echo "rendering $(wc -l <"$WORK/render.txt") test songs with FluidR3_GM ($JOBS at a time)..."
  xargs -P "$JOBS" -L 1 sh scripts/render-song.sh <"$WORK/render.txt"
fi

# Degraded audio, made once. A file made anew drops every model's estimate of it
# (the estimates are keyed by model, binary and options, not by the audio).
for c in $CONDITIONS; do
  while read -r id; do
    [ -f "$WORK/audio/$c/$id.flac" ] && [ -f "$WORK/audio/$c/$id.lab" ] && continue
    rm -f "$WORK"/est/*/"$c/$id.lab"
    echo "$c $AUDIO_DIR/$id.flac $REF_DIR/$id.lab $WORK/audio/$c/$id.flac $WORK/audio/$c/$id.lab"
  done <"$WORK/songs.txt"
done >"$WORK/degrade.txt"
if [ -s "$WORK/degrade.txt" ]; then
  echo "degrading $(wc -l <"$WORK/degrade.txt") files ($JOBS at a time)..."
  xargs -P "$JOBS" -L 1 sh scripts/robustness.sh --degrade <"$WORK/degrade.txt" || die "degrading failed"
fi

n_conds=$(echo "$CONDITIONS" | wc -w)
echo "transcribing $n_songs songs x $n_conds conditions with$names ($JOBS at a time)..."
for c in $CONDITIONS; do
  for name in $names; do echo "$name $c"; done
done | xargs -P "$JOBS" -L 1 sh scripts/robustness.sh --transcribe-job || die "transcription failed"

# Scores: each model and condition on exactly this run's songs.
: >"$WORK/scores.txt"
for name in $names; do
  key=$(awk -v n="$name" '$1 == n { print $2 }' "$WORK/models.txt")
  for c in $CONDITIONS; do
    s=$WORK/score/$name/$c
    rm -rf "$s"
    mkdir -p "$s/ref" "$s/est"
    while read -r id; do
      cp "$WORK/audio/$c/$id.lab" "$s/ref/"
      cp "$WORK/est/$name-$key/$c/$id.lab" "$s/est/"
    done <"$WORK/songs.txt"
    ./build/chordlet eval --json "$s/ref" "$s/est" >"$s.json"
    printf '%s\t%s\t%s\n' "$name" "$c" "$s.json" >>"$WORK/scores.txt"
  done
done

# The command that reproduces this table: the settings that were given.
cmd="sh scripts/robustness.sh"
[ -n "${MAKELEVEL:-}" ] && cmd="make robustness"
for v in ROBUSTNESS_TRANSCRIBE_ARGS ROBUSTNESS_JOBS ROBUSTNESS_SONGS ROBUSTNESS_CONDITIONS ROBUSTNESS_MODELS; do
  eval "given=\${$v+x} val=\${$v:-}"
  # shellcheck disable=SC2154 # given and val are assigned by eval
  [ -n "$given" ] && cmd="$v='$val' $cmd"
done
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] && commit="$commit + uncommitted changes"

/usr/bin/python3 - "$WORK" "$cmd" "$commit" "$LIST" <<'PYEOF'
import json, os, sys
work, cmd, commit, split = sys.argv[1:5]
songs = open(os.path.join(work, "songs.txt")).read().split()
models = [l.rstrip("\n").split("\t") for l in open(os.path.join(work, "models.txt"))]
avg7 = {}
conds = []
for line in open(os.path.join(work, "scores.txt")):
    name, cond, path = line.rstrip("\n").split("\t")
    with open(path) as f:
        avg7[name, cond] = 100 * json.load(f)["total"]["avg7"]
    if cond not in conds:
        conds.append(cond)
names = [m[0] for m in models]
hours = 0
results = []
out = ["# Robustness (avg7, and the difference to the model's own clean score)", "",
       "```sh", cmd, "```", "",
       "chordlet %s; %d pop909cl test songs (every third line of %s from the first: %s)." %
       (commit, len(songs), os.path.basename(split), " ".join(songs)),
       "Models: " + "; ".join("%s = %s (key %s)" % (m[0], m[2], m[1]) for m in models) + ".", "",
       "| condition | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
worst = {}
for c in conds:
    cells = []
    for n in names:
        a, clean = avg7[n, c], avg7[n, "clean"]
        drop = a - clean
        results.append({"model": n, "condition": c, "avg7": round(a, 4), "drop": round(drop, 4)})
        if c == "clean":
            cells.append("%.2f" % a)
        else:
            cells.append("%.2f (%+.2f)" % (a, drop))
            if n not in worst or drop < worst[n][0]:
                worst[n] = (drop, c)
    out.append("| %s | %s |" % (c, " | ".join(cells)))
out.append("| **worst drop** | %s |" % " | ".join(
    "%+.2f (%s)" % worst[n] if n in worst else "-" for n in names))
text = "\n".join(out) + "\n"
with open(os.path.join(work, "table.md.tmp"), "w") as f:
    f.write(text)
os.replace(os.path.join(work, "table.md.tmp"), os.path.join(work, "table.md"))
with open(os.path.join(work, "results.json.tmp"), "w") as f:
    json.dump({"command": cmd, "commit": commit, "songs": songs,
               "models": [{"name": m[0], "file": m[2], "key": m[1]} for m in models],
               "results": results}, f, indent=1)
    f.write("\n")
os.replace(os.path.join(work, "results.json.tmp"), os.path.join(work, "results.json"))
print(text, end="")
PYEOF
echo "written: $WORK/table.md, $WORK/results.json"
