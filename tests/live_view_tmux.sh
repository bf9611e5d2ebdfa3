#!/bin/sh
# live_view_tmux.sh: `chordlet live`'s full-screen terminal view in real
# terminals of 80x24 and 200x50 (tmux), fed by the file backend (the demo
# recording at real time), and its plain-lines fallback when stdout is not a
# terminal. Checked on tmux's capture of the screen: the header with the
# latency; the chord in block letters (5 x scale rows, inside the width); the
# confidence bar; the timeline; the recent changes, which must be the chords
# the same run prints with --json, newest first; nothing wider than the
# window; and, after it ends, the shell's screen restored. The captures are
# kept in build/test-logs/ as artifacts. Usage: live_view_tmux.sh BUILD_DIR
set -u
BUILD=$1
command -v tmux >/dev/null 2>&1 || { echo "needs tmux"; exit 77; }
TMP=$(mktemp -d)
# One tmux server per window size: killing a server's last session makes it
# exit, and a new-session that reaches it while it exits fails ("server
# exited unexpectedly"), so the second size never reuses the first's socket.
SOCKET_BASE="chordlet-test-$$"
trap 'for s in 80x24 200x50; do tmux -L "$SOCKET_BASE-$s" kill-server 2>/dev/null; done; rm -rf "$TMP"' EXIT
LOGS=build/test-logs
mkdir -p "$LOGS"
failures=0
ok() { echo "ok - $*"; }
bad() { echo "not ok - $*"; failures=$((failures + 1)); }
SONG=examples/synth0046.flac
CMD="$BUILD/chordlet live --backend file --device $SONG"
export LC_ALL=C.UTF-8

# The chords the view should list: the same file through --json.
$CMD --duration 6 --json >"$TMP/events.jsonl" 2>"$TMP/json.err" || bad "--json run failed"
# A machine too busy to keep up loses feature frames (the stream drops them
# rather than block the audio thread) and says so at the end; that run's
# chords then differ by right, so the comparison is skipped, saying why.
frames_lost() { grep -o "[0-9]* feature frames lost" "$@"; }
json_lost=$(frames_lost "$TMP/json.err")
labels=$(sed 's/.*"label":"\([^"]*\)".*/\1/' "$TMP/events.jsonl" | tr '\n' ' ')
echo "# the --json run's chords: $labels"

for size in 80x24 200x50; do
  w=${size%x*} h=${size#*x}
  SOCKET="$SOCKET_BASE-$size"
  tmux -L "$SOCKET" -u new-session -d -s view -x "$w" -y "$h" "$CMD --duration 6; echo VIEW-ENDED; sleep 60"
  sleep 4.5
  tmux -L "$SOCKET" capture-pane -p -t view >"$TMP/screen.txt"
  cp "$TMP/screen.txt" "$LOGS/live-view-$size.txt"
  grep -q "^chordlet live: model default" "$TMP/screen.txt" && ok "$size: header" || bad "$size: no header"
  grep -q "latency 240 ms" "$TMP/screen.txt" && ok "$size: latency stated" || bad "$size: no latency"
  block_rows=$(grep -c "$(printf '\342\226\210')" "$TMP/screen.txt")
  [ "$block_rows" -ge 5 ] && [ $((block_rows % 5)) -eq 0 ] && ok "$size: the chord in block letters ($block_rows rows)" ||
    bad "$size: $block_rows rows of block letters"
  grep -q "confidence \[[#.]*\] *[0-9]*%" "$TMP/screen.txt" && ok "$size: confidence bar" || bad "$size: no confidence bar"
  grep -q "the last 20 s" "$TMP/screen.txt" && ok "$size: timeline" || bad "$size: no timeline"
  wide=$(sed "s/$(printf '\342\226\210')/#/g" "$TMP/screen.txt" | awk -v w="$w" '{ if (length($0) > w) n++ } END { print n + 0 }')
  [ "$wide" -eq 0 ] && ok "$size: nothing wider than $w columns" || bad "$size: $wide lines wider than $w"
  sleep 3
  tmux -L "$SOCKET" capture-pane -p -t view >"$TMP/after.txt"
  if grep -q "VIEW-ENDED" "$TMP/after.txt" && ! grep -q "recent changes" "$TMP/after.txt"; then
    ok "$size: the shell's screen is back after the end"
  else
    bad "$size: the view did not end cleanly: $(cat "$TMP/after.txt")"
  fi
  # the recent changes, newest first, must be the --json run's chords in reverse
  recent=$(sed -n '/recent changes:/{n;p;}' "$TMP/screen.txt" | sed 's/[0-9]*:[0-9.]* //g' | tr -s ' ')
  expect=$(echo "$labels" | tr ' ' '\n' | grep -v '^$' | tac | tr '\n' ' ')
  first=$(echo "$recent" | awk '{print $1" "$2" "$3}')
  lost=$json_lost
  [ -z "$lost" ] && lost=$(frames_lost "$TMP/after.txt")
  if [ -n "$lost" ]; then
    echo "# $size: recent changes not compared: $lost (the machine fell behind)"
  elif [ -n "$(echo "$first" | tr -d ' ')" ] && echo " $expect" | grep -qF " $first"; then
    ok "$size: recent changes '$first' are the --json run's chords, newest first"
  else
    bad "$size: recent changes '$recent' are not in '$expect'"
  fi
  tmux -L "$SOCKET" kill-server
done

# Not a terminal: one plain line per change, the same chords (the last one
# may fall either side of the 6 s end).
$CMD --duration 6 >"$TMP/lines.txt" 2>&1
line_chords=$(grep "^ *[0-9]*:[0-9.]*  " "$TMP/lines.txt" | awk '{print $2}' | tr '\n' ' ')
n_lines=$(echo "$line_chords" | wc -w)
n_json=$(echo "$labels" | wc -w)
common=$n_lines
[ "$n_json" -lt "$common" ] && common=$n_json
a=$(echo "$line_chords" | cut -d' ' -f1-"$common")
b=$(echo "$labels" | cut -d' ' -f1-"$common")
lost=$json_lost
[ -z "$lost" ] && lost=$(frames_lost "$TMP/lines.txt")
if [ -n "$lost" ]; then
  echo "# piped: chords not compared: $lost (the machine fell behind)"
elif [ "$common" -ge 3 ] && [ "$a" = "$b" ] && [ $((n_lines - n_json)) -le 1 ] && [ $((n_json - n_lines)) -le 1 ] &&
  ! grep -q "$(printf '\033')" "$TMP/lines.txt"; then
  ok "piped: plain lines, one per change ($a), no escape codes"
else
  bad "piped: '$line_chords' vs --json '$labels'"
fi
echo "# $failures failed"
[ "$failures" -eq 0 ]
