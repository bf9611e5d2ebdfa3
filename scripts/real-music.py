#!/usr/bin/python3
"""real-music.py: the audio half of scripts/fetch-real-music.sh (Debian's python3
with python3-numpy; the audio is decoded by libsndfile through ctypes, the library
chordlet itself reads audio with, so a file kept here is a file chordlet reads).

  real-music.py package PKG VERSION ROOT OUTDIR LOCATION...
      One unpacked package (ROOT: its files, zip members unpacked into
      ROOT/<archive>.unzipped/) into OUTDIR: the music files of the LOCATIONs (each
      folder non-recursively; `x.pk3!folder` for a folder inside a zip archive),
      renamed to names unique across packages (the trainer refuses two caches of
      one file name), stems of one piece mixed, loops cut to one pass, short
      clips and unreadable files dropped. Writes OUTDIR/files.tsv, dropped.tsv,
      copyright and one fingerprint per file in OUTDIR/.fp/.
  real-music.py finish OUT TSV CHECK_PACKAGES
      All finished packages (OUT/packages/PKG.tsv) into OUT/manifest.tsv,
      OUT/dropped.tsv, OUT/pool.txt and OUT/check.txt after the cross-file
      duplicate search, and prints the summary.

Fingerprint: the RMS level in dB of 200 ms windows every 100 ms (10 per second)
of the mono mix and of each channel. Cheap (a few KB a file), insensitive to the
codec (Vorbis/Opus/MP3 noise moves a 200 ms level by well under 0.5 dB) and to a
misalignment of up to 50 ms, yet two different pieces of music almost never agree
within 1.5 dB on 80 % of their windows. The distance of two level curves is the
80th percentile of |a - b - median(a - b)| over the windows where either is above
-60 dBFS (the median removes a level difference, as between a channel and the mix).
"""
import ctypes
import fnmatch
import hashlib
import os
import re
import sys

import numpy as np

HOP_S = 0.1                 # fingerprint: one level every 100 ms ...
BLOCK_S = 0.05              # ... over 4 blocks of 50 ms (200 ms windows)
SILENT_DB = -60.0           # windows below this in both curves are not compared
FLOOR_DB = -70.0
SAME_DB = 1.5               # two curves this close (80th percentile) are the same audio ...
SAME_CONTRAST = 0.3         # ... when this far below their distance misaligned (same_audio)
LOOP_GATE_DB = 1.5          # loop candidates: lags this close (whole windows) ...
LOOP_DB = 0.5               # ... a loop: this close at the refined lag (codec noise only)
LOOP_CONTRAST = 0.3         # ... and this far below the file's median over all lags
LOOP_CORR = 0.9             # ... and its samples this correlated one period apart
LOOP_MIN_PERIOD_S = 8.0     # shorter periods are bars of one piece, not a loop of it
DURATION_TOL_S = 1.0        # copies differ in length by codec padding only
ALIGN_WINDOWS = 5           # and are compared at offsets of up to +-0.5 s
MIN_SECONDS = 30.0          # shorter: jingles, stingers and sound effects
AUDIO_EXT = ('.ogg', '.oga', '.opus', '.flac', '.wav', '.mp3')

# ---------------------------------------------------------------- libsndfile
_sf = ctypes.CDLL('libsndfile.so.1')


class SF_INFO(ctypes.Structure):
    _fields_ = [('frames', ctypes.c_int64), ('samplerate', ctypes.c_int), ('channels', ctypes.c_int),
                ('format', ctypes.c_int), ('sections', ctypes.c_int), ('seekable', ctypes.c_int)]


_sf.sf_open.restype = ctypes.c_void_p
_sf.sf_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(SF_INFO)]
_sf.sf_readf_float.restype = ctypes.c_int64
_sf.sf_readf_float.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
_sf.sf_writef_float.restype = ctypes.c_int64
_sf.sf_writef_float.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
_sf.sf_close.argtypes = [ctypes.c_void_p]
_sf.sf_strerror.restype = ctypes.c_char_p
_sf.sf_strerror.argtypes = [ctypes.c_void_p]
_sf.sf_command.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
SFM_READ, SFM_WRITE = 0x10, 0x20
SF_FORMAT_FLAC_16 = 0x170000 | 0x0002
SFC_SET_CLIPPING = 0x10C0
CHUNK = 1 << 16


class Reader:
    def __init__(self, path):
        self.info = SF_INFO()
        self.h = _sf.sf_open(path.encode(), SFM_READ, ctypes.byref(self.info))
        if not self.h:
            raise OSError(_sf.sf_strerror(None).decode(errors='replace'))
        self.channels, self.rate = self.info.channels, self.info.samplerate

    def chunks(self):
        while True:
            buf = np.empty((CHUNK, self.channels), np.float32)
            n = _sf.sf_readf_float(self.h, buf.ctypes.data, CHUNK)
            if n <= 0:
                return
            yield buf[:n]

    def close(self):
        _sf.sf_close(self.h)


def write_flac(path, rate, channels, chunks):
    """chunks: float32 (n, channels) arrays. FLAC 16 bit: lossless for what it gets."""
    info = SF_INFO(0, rate, channels, SF_FORMAT_FLAC_16, 0, 0)
    h = _sf.sf_open(path.encode(), SFM_WRITE, ctypes.byref(info))
    if not h:
        raise OSError('%s: %s' % (path, _sf.sf_strerror(None).decode(errors='replace')))
    _sf.sf_command(h, SFC_SET_CLIPPING, None, 1)
    for c in chunks:
        c = np.ascontiguousarray(c, np.float32)
        _sf.sf_writef_float(h, c.ctypes.data, len(c))
    _sf.sf_close(h)


# ---------------------------------------------------------------- analysis
def analyse(path):
    """Decodes a file once: frames, rate, channels, sha256 of the file and of the
    decoded samples, and the level curves (rows: mix, then each channel of a
    stereo file)."""
    r = Reader(path)
    block = max(1, int(round(r.rate * BLOCK_S)))
    pcm = hashlib.sha256()
    energies, rest, frames = [], np.zeros((0, r.channels), np.float32), 0
    for c in r.chunks():
        pcm.update(c.tobytes())
        frames += len(c)
        data = np.concatenate([rest, c]) if len(rest) else c
        nb = len(data) // block
        if nb:
            d = data[:nb * block].reshape(nb, block, r.channels).astype(np.float64)
            rows = [(d.mean(axis=2) ** 2).mean(axis=1)]
            if r.channels == 2:
                rows += [(d[:, :, 0] ** 2).mean(axis=1), (d[:, :, 1] ** 2).mean(axis=1)]
            energies.append(np.stack(rows))
        rest = data[nb * block:].copy()
    r.close()
    e = np.concatenate(energies, axis=1) if energies else np.zeros((1 + 2 * (r.channels == 2), 0))
    n = max(0, (e.shape[1] - 4) // 2 + 1)
    k = 2 * np.arange(n)
    win = (e[:, k] + e[:, k + 1] + e[:, k + 2] + e[:, k + 3]) / 4
    env = np.maximum(10 * np.log10(win + 1e-12), FLOOR_DB).astype(np.float32)
    with open(path, 'rb') as f:
        fsha = hashlib.file_digest(f, 'sha256').hexdigest() if hasattr(hashlib, 'file_digest') else \
            hashlib.sha256(f.read()).hexdigest()
    return dict(frames=frames, rate=r.rate, channels=r.channels, sha=fsha, pcm=pcm.hexdigest(), env=env,
                hop=2 * block / r.rate)


def distance(a, b):
    """80th percentile of the level difference (offset removed) where either sounds."""
    n = min(len(a), len(b))
    a, b = a[:n], b[:n]
    live = np.maximum(a, b) > SILENT_DB
    if live.sum() < max(20, n // 4):
        return np.inf
    d = (a - b)[live]
    return float(np.percentile(np.abs(d - np.median(d)), 80))


def find_loop(env):
    """(period, start, distance) in windows when the file is a loop repeated to
    length, else None. The level curve is compared with itself shifted by every
    lag P from LOOP_MIN_PERIOD_S to half the file: the lags within LOOP_GATE_DB,
    shortest first (each taken as the best of its next second, then refined to a
    quarter window by interpolation, since a loop's length is no multiple of
    100 ms): the first is a loop when it is within LOOP_DB and LOOP_CONTRAST times the median distance
    over all lags: a copy of the same samples, not a piece whose level barely
    moves (a drone, a steady mix), which is close to itself at every lag.
    start: the first window from which a 2 s run matches (an intro before the
    looped part)."""
    n = len(env)
    lags = range(int(LOOP_MIN_PERIOD_S / HOP_S), n // 2 + 1)
    if not len(lags):
        return None
    ds = np.array([loop_distance(env, p) for p in lags])
    finite = ds[np.isfinite(ds)]
    near, tried = np.flatnonzero(ds <= LOOP_GATE_DB), -1
    for k in near:  # candidates from the shortest lag up, one a second
        if k <= tried:
            continue
        tried = k + int(1 / HOP_S)
        k += int(np.argmin(ds[k:tried + 1]))
        p = lags[k]
        d, period = min(((loop_distance(env, p + f), p + f) for f in np.arange(-0.75, 0.8, 0.25) if p + f < n // 2))
        if d <= LOOP_DB and d <= LOOP_CONTRAST * np.median(finite):
            break
    else:
        return None
    a, b = env[:n - int(np.ceil(period))], shifted(env, period)
    run = np.convolve(np.abs(a - b), np.ones(20) / 20, 'valid')
    start = int(np.argmax(run <= LOOP_DB)) if len(run) else 0
    return period, start, d


def loop_correlation(path, period_s, start_s):
    """Confirms a loop on the samples: the mono mix (every 4th sample's block
    mean: about 11-12 kHz) correlated with itself one period later, over the
    whole overlap from the loop's start, at the lag (within 0.15 s of the level
    curve's) where 5 s from the start match best. A copy of the same samples gives
    0.95-1 (codec noise only); a piece whose accompaniment repeats while its
    melody changes gives far less, though its level curve repeats."""
    r = Reader(path)
    x = np.concatenate([c.mean(axis=1) for c in r.chunks()] or [np.zeros(0, np.float32)])
    rate = r.rate / 4
    r.close()
    x = x[:len(x) // 4 * 4].reshape(-1, 4).mean(axis=1)
    s0, L, w = int(start_s * rate), int(5 * rate), int(0.15 * rate)
    p0 = int(period_s * rate)
    if s0 + p0 + w + L > len(x) or p0 <= w:
        return 0.0, period_s
    c = np.correlate(x[s0 + p0 - w:s0 + p0 + w + L], x[s0:s0 + L], 'valid')
    lag = p0 - w + int(np.argmax(c))
    a, b = x[s0:len(x) - lag], x[s0 + lag:]
    den = np.sqrt(np.dot(a, a) * np.dot(b, b))
    return (float(np.dot(a, b) / den) if den > 0 else 0.0), lag / rate


def shifted(env, p):
    """env[i + p] for a fractional p, by linear interpolation (length n - ceil(p))."""
    n, i, f = len(env), int(np.floor(p)), p - np.floor(p)
    m = n - int(np.ceil(p))
    return (1 - f) * env[i:i + m] + f * env[i + 1:i + 1 + m] if f else env[i:i + m]


def loop_distance(env, p):
    n = len(env)
    a, b = env[:n - int(np.ceil(p))], shifted(env, p)
    live = np.maximum(a, b) > SILENT_DB
    if live.sum() < len(a) // 2:
        return np.inf
    return float(np.percentile(np.abs(a - b)[live], 80))


def flat_name(pkg, source):
    """A file name unique across packages: PKG__path_in_package, without usr/share/games."""
    s = re.sub(r'^usr/share/(games/)?', '', source).replace('!', '_')
    return pkg + '__' + re.sub(r'[^A-Za-z0-9._+-]+', '_', s.replace('/', '_'))


def licence_of(copyright_path, sources):
    """The licences that cover the music: with a machine-readable (DEP-5) copyright
    file, the License: of the last Files: paragraph matching each music file (its
    patterns are source-tree paths: they and their tails that keep a folder are
    tried against every tail of the installed path); otherwise the licences the
    free-form text names (free_form_licences)."""
    if not os.path.exists(copyright_path):
        return {s: 'unknown (no copyright file)' for s in sources}
    text = open(copyright_path, encoding='utf-8', errors='replace').read()
    if not re.match(r'Format(-Specification)?:\s*\S*(copyright-format|dep5)', text, re.I):
        names = free_form_licences(text)
        lic = 'free-form: ' + '; '.join(names) if names else 'see copyright'
        return {s: lic for s in sources}
    paras = []
    for para in re.split(r'\n\s*\n', text):
        files = re.search(r'^Files:(.*(?:\n[ \t].*)*)', para, re.M)
        lic = re.search(r'^License:[ \t]*(.*)', para, re.M)
        if files and lic:
            paras.append((files.group(1).split(), lic.group(1).strip()))
    out = {}
    for s in sources:
        parts = s.replace('!', '/').split('/')
        tails = ['/'.join(parts[k:]) for k in range(len(parts))]
        lic = 'see copyright'
        for pats, l in paras:
            if any(fnmatch.fnmatchcase(t, q) for p in pats for q in pattern_tails(p) for t in tails):
                lic = l
        out[s] = lic
    return out


LICENCE_NAMES = [  # (pattern, name) in a free-form copyright file; \1 is a version
    (r'GNU (?:Lesser|Library) General Public License', 'LGPL'),
    (r'(?<!Lesser )(?<!Library )GNU General Public License|\bGPL\b', 'GPL'),
    (r'Creative Commons Attribution[- ]Share[- ]?Alike(?: License)?[,]?(?: version)? ?(\d\.\d)?', 'CC-BY-SA'),
    (r'\bCC[- ]BY[- ]SA[- ]?(\d\.\d)?', 'CC-BY-SA'),
    (r'Creative Commons Attribution(?![- ]Share)(?: License)?[,]?(?: version)? ?(\d\.\d)?', 'CC-BY'),
    (r'\bCC[- ]BY(?![- ]SA)[- ]?(\d\.\d)?', 'CC-BY'),
    (r'\bCC0\b', 'CC0'),
    (r'public domain', 'public-domain'),
    (r'Permission is hereby granted, free of charge', 'Expat'),
    (r'Free Art License', 'Free-Art-License'),
    (r'\bBSD\b', 'BSD'),
]


def free_form_licences(text):
    """The licences a copyright file that is not machine-readable names, in the order
    they first appear (the packaging's own licence included: the full file is kept
    beside the music). A GPL gets the version that follows it within 300 characters
    and a + for "any later version"."""
    found = []
    flat = ' '.join(text.split())
    for pat, name in LICENCE_NAMES:
        for m in re.finditer(pat, flat, re.I):
            label = name
            if name in ('GPL', 'LGPL'):
                after = flat[m.end():m.end() + 300]
                v = re.search(r'version (\d(?:\.\d)?)', after, re.I)
                if v:
                    label += '-' + v.group(1).replace('.0', '')
                    if re.search(r'any later version', after, re.I):
                        label += '+'
            elif m.groups() and m.group(1):
                label += '-' + m.group(1)
            found.append((m.start(), label))
    names = []
    for _, label in sorted(found):
        if label not in names and not any(n.startswith(label + '-') for n in names):
            names.append(label)
    # a bare name where a versioned one of the same licence came later
    return [n for n in names if not any(o.startswith(n + '-') for o in names)]


def pattern_tails(p):
    """A Files: pattern and its tails that keep a folder: `data/music/*` also as
    `music/*` (a source tree's top folders are rarely the installed ones)."""
    parts = p.split('/')
    return [p] + ['/'.join(parts[k:]) for k in range(1, len(parts) - 1)]


# ---------------------------------------------------------------- one package
def package(pkg, version, root, outdir, locations):
    os.makedirs(os.path.join(outdir, '.fp'), exist_ok=True)
    found = []   # (source path in the package, path on disk)
    for loc in locations:
        arch, _, inner = loc.lstrip('/').partition('!')
        disk = os.path.join(root, arch + '.unzipped', inner) if inner else os.path.join(root, arch)
        label = arch + '!' + inner if inner else arch
        if not os.path.isdir(disk):
            print('warning: %s: %s is not in the package' % (pkg, loc), file=sys.stderr)
            continue
        for name in sorted(os.listdir(disk)):
            p = os.path.join(disk, name)
            if name.lower().endswith(AUDIO_EXT) and (os.path.isfile(p) or os.path.islink(p)):
                found.append((label + '/' + name, p))
    kept, dropped, near_loops = [], [], []

    def drop(source, reason, detail, seconds=''):
        dropped.append((pkg, source, reason, detail, seconds))

    # Stems of one piece, mixed into one file: Frets on Fire's songs (song.ogg
    # plus guitar.ogg, rhythm.ogg) and plee-the-bear's sequencer/NAME/ folders
    # (layers the game plays together: back, bass, guitar, atmosphere).
    by_dir = {}
    for s, p in found:
        by_dir.setdefault(os.path.dirname(s), []).append((s, p))
    items = []
    for d, files in by_dir.items():
        names = {os.path.basename(s).lower(): (s, p) for s, p in files}
        stems = [names[k] for k in ('song.ogg', 'guitar.ogg', 'rhythm.ogg') if k in names]
        if 'song.ogg' not in names:
            stems = sorted(files) if os.path.basename(os.path.dirname(d)) == 'sequencer' else []
        if len(stems) > 1:
            out = os.path.join(outdir, flat_name(pkg, d + '/mix') + '.flac')
            try:
                mix_stems([p for _, p in stems], out)
                items.append((d + '/{' + ','.join(os.path.basename(s) for s, _ in stems) + '}', out, True))
                for s, _ in stems:
                    drop(s, 'stem', 'mixed into ' + os.path.basename(out))
            except OSError as e:
                if os.path.exists(out):
                    os.remove(out)
                for s, _ in stems:
                    drop(s, 'unreadable', str(e))
            files = [f for f in files if f not in stems]
        items += [(s, p, False) for s, p in files]
    for source, path, made in sorted(items):
        if not os.path.exists(path):
            drop(source, 'dangling-link', 'links outside the listed locations')
            continue
        try:
            a = analyse(path)
        except OSError as e:
            drop(source, 'unreadable', 'libsndfile: ' + str(e))
            continue
        seconds = a['frames'] / a['rate'] if a['rate'] else 0
        name = os.path.basename(path) if made else flat_name(pkg, source)
        dest = os.path.join(outdir, name)
        loop = find_loop(a['env'][0]) if seconds >= 2 * LOOP_MIN_PERIOD_S else None
        if loop:
            period, start, d = loop
            hop = a['hop']  # HOP_S up to the rounding of a block to whole samples
            corr, period_s = loop_correlation(path, period * hop, start * hop)
            if corr < LOOP_CORR:
                loop = None
                near_loops.append((source, period_s, d, corr))
        if loop:
            keep_s = period_s + start * hop  # the intro and one pass
            stem = os.path.splitext(name)[0]
            dest = os.path.join(outdir, stem + '.once.flac')
            copy_head(path, dest, int(round(keep_s * a['rate'])))
            drop(source, 'loop', 'repeats itself every %.2f s from %.1f s (level curve within %.2f dB, samples '
                 'correlate %.3f); kept the first %.1f s as %s' % (period_s, start * hop, d, corr, keep_s,
                                                                  os.path.basename(dest)),
                 '%.1f' % (seconds - keep_s))
            if made:
                os.remove(path)
            a = analyse(dest)
            seconds = a['frames'] / a['rate']
        elif not made:
            os.replace(path, dest) if not os.path.islink(path) else copy_file(path, dest)
        if seconds < MIN_SECONDS:
            drop(source, 'short', '%.1f s < %.0f s: a jingle or an effect' % (seconds, MIN_SECONDS), '%.1f' % seconds)
            os.remove(dest)
            continue
        np.save(os.path.join(outdir, '.fp', os.path.basename(dest) + '.npy'), a['env'])
        kept.append((source, os.path.basename(dest), seconds, a))
    lic = licence_of(os.path.join(root, 'usr/share/doc', pkg, 'copyright'), [s for s, *_ in kept])
    with open(os.path.join(outdir, 'files.tsv'), 'w') as f:
        for source, name, seconds, a in kept:
            f.write('\t'.join([pkg, version, lic[source], 'music/%s/%s' % (pkg, name), '%.2f' % (seconds / 60),
                               a['sha'], a['pcm'], str(a['channels']), source]) + '\n')
    with open(os.path.join(outdir, 'dropped.tsv'), 'w') as f:
        for row in dropped:
            f.write('\t'.join(row) + '\n')
    # kept, but their level curve repeats: for the record (and the thresholds)
    with open(os.path.join(outdir, 'near-loops.tsv'), 'w') as f:
        for source, period_s, d, corr in near_loops:
            f.write('%s\t%s\t%.2f\t%.2f\t%.3f\n' % (pkg, source, period_s, d, corr))


def copy_file(src, dst):
    with open(src, 'rb') as i, open(dst, 'wb') as o:
        o.write(i.read())


def copy_head(src, dst, frames):
    r = Reader(src)

    def head():
        left = frames
        for c in r.chunks():
            if left <= 0:
                return
            yield c[:left]
            left -= len(c)
    write_flac(dst, r.rate, r.channels, head())
    r.close()


def mix_stems(paths, out):
    """The sum of the stems (mono ones to every channel), scaled down as a whole if
    its peak passes 1 (never clipped); two passes: peak, then write."""
    def summed():
        rs = [Reader(p) for p in paths]
        ch = max(r.channels for r in rs)
        its = [r.chunks() for r in rs]
        pend = [np.zeros((0, r.channels), np.float32) for r in rs]
        done = [False] * len(rs)
        while not all(done) or any(len(x) for x in pend):
            for k, it in enumerate(its):
                while not done[k] and len(pend[k]) < CHUNK:
                    c = next(it, None)
                    if c is None:
                        done[k] = True
                    else:
                        pend[k] = np.concatenate([pend[k], c])
            n = max(min(CHUNK, len(x)) for x in pend)
            if n == 0:
                break
            acc = np.zeros((n, ch), np.float32)
            for k, x in enumerate(pend):
                m = min(n, len(x))
                acc[:m] += x[:m] if x.shape[1] == ch else x[:m, :1]
                pend[k] = x[m:]
            yield rs[0].rate, ch, acc
        for r in rs:
            r.close()
    peak, rate, ch = 0.0, None, None
    for rate, ch, c in summed():
        peak = max(peak, float(np.abs(c).max()))
    gain = 1.0 / peak if peak > 1 else 1.0
    write_flac(out, rate, ch, (c * gain for _, _, c in summed()))


# ---------------------------------------------------------------- all packages
def read_tsv(path):
    rows = []
    if os.path.exists(path):
        with open(path) as f:
            rows = [ln.rstrip('\n').split('\t') for ln in f if ln.strip()]
    return rows


def write_atomic(path, lines):
    tmp = '%s.tmp.%d' % (path, os.getpid())
    with open(tmp, 'w') as f:
        f.writelines(lines)
    os.replace(tmp, path)


def finish(out, tsv, check_packages):
    out = os.path.abspath(out)
    for f in os.listdir(out):  # what a run killed while writing these left
        if '.tmp.' in f:
            os.remove(os.path.join(out, f))
    order = [r[0] for r in read_tsv(tsv) if r and not r[0].startswith('#') and r[0] != 'package']
    check = set(check_packages.split())
    files, dropped, done = [], [], []
    for pkg in order:
        rows = read_tsv(os.path.join(out, 'packages', pkg + '.tsv'))
        if not os.path.exists(os.path.join(out, 'packages', pkg + '.tsv')):
            continue
        done.append(pkg)
        # the licence column from the kept copyright file, so a better reading of
        # copyright files reaches finished packages without unpacking them again
        lic = licence_of(os.path.join(out, 'music', pkg, 'copyright'), [r[8] for r in rows])
        for r in rows:
            r[2] = lic[r[8]]
        files += rows
        dropped += [r + [''] * (5 - len(r)) for r in read_tsv(os.path.join(out, 'music', pkg, 'dropped.tsv'))]
    # Same audio in two files: identical bytes, identical decoded samples, or level
    # curves within SAME_DB (a re-encoding, a mono copy of a stereo file, the two
    # channels of a stereo file shipped as two mono files). Each group keeps one
    # file: the one with the most channels, then the first in the tsv's order.
    n = len(files)
    parent = list(range(n))

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i
    why = {}
    by_sha, by_pcm = {}, {}
    for i, r in enumerate(files):
        for key, table, reason in ((r[5], by_sha, 'duplicate-file'), (r[6], by_pcm, 'duplicate-audio')):
            if key in table:
                parent[root(i)] = root(table[key])
                why[frozenset((i, table[key]))] = (reason, 0.0)
                break
            table[key] = i
    envs = [np.load(os.path.join(out, 'music', r[0], '.fp', os.path.basename(r[3]) + '.npy')) for r in files]
    secs = [float(r[4]) * 60 for r in files]
    idx = sorted(range(n), key=lambda i: secs[i])
    for x in range(n):
        i = idx[x]
        for y in range(x + 1, n):
            j = idx[y]
            if secs[j] - secs[i] > DURATION_TOL_S:
                break
            if root(i) == root(j):
                continue
            same, d = same_audio(envs[i], envs[j])
            if same:
                parent[root(j)] = root(i)
                ci, cj = int(files[i][7]), int(files[j][7])
                reason = 'channel-copy' if ci != cj or ci == 1 else 'reencoded-copy'
                why[frozenset((i, j))] = (reason, d)
    groups = {}
    for i in range(n):
        groups.setdefault(root(i), []).append(i)
    keep = [True] * n
    for members in groups.values():
        if len(members) < 2:
            continue
        k = min(members, key=lambda i: (-int(files[i][7]), i))
        for i in members:
            if i == k:
                continue
            keep[i] = False
            reason, d = why.get(frozenset((i, k)), None) or classify(files[i], files[k], envs[i], envs[k])
            detail = 'same audio as %s (%s)' % (files[k][3], 'level curves within %.2f dB' % d if d else
                                                'identical ' + ('bytes' if reason == 'duplicate-file' else 'samples'))
            if reason == 'channel-copy':
                detail = '%d-channel copy of the %d-channel %s (level curves within %.2f dB)' % (
                    int(files[i][7]), int(files[k][7]), files[k][3], best_distance(envs[i], envs[k]))
            dropped.append([files[i][0], files[i][8], reason, detail, '%.1f' % secs[i]])
    kept = [r for i, r in enumerate(files) if keep[i]]
    header = 'package\tversion\tlicence\tpath\tminutes\tsha256\tpcm_sha256\tchannels\tsource\n'
    write_atomic(os.path.join(out, 'manifest.tsv'), [header] + ['\t'.join(r) + '\n' for r in kept])
    write_atomic(os.path.join(out, 'dropped.tsv'), ['package\tsource\treason\tdetail\tseconds\n'] +
                 ['\t'.join(r) + '\n' for r in dropped])
    pool = [r for r in kept if r[0] not in check]
    chk = [r for r in kept if r[0] in check]
    write_atomic(os.path.join(out, 'pool.txt'), [os.path.join(out, r[3]) + '\n' for r in pool])
    write_atomic(os.path.join(out, 'check.txt'), [os.path.join(out, r[3]) + '\n' for r in chk])
    minutes = lambda rows: sum(float(r[4]) for r in rows)
    reasons = {}
    for r in dropped:
        c = reasons.setdefault(r[2], [0, 0.0])
        c[0] += 1
        c[1] += float(r[4] or 0) / 60
    print('real music: %d of %d packages, %d files, %.1f min kept (%.1f h)' %
          (len(done), len(order), len(kept), minutes(kept), minutes(kept) / 60))
    for reason in sorted(reasons):
        print('  dropped %-16s %4d files, %7.1f min' % (reason, reasons[reason][0], reasons[reason][1]))
    print('  pool  %4d files %7.1f min (%d packages): %s' % (len(pool), minutes(pool), len({r[0] for r in pool}),
                                                            os.path.join(out, 'pool.txt')))
    print('  check %4d files %7.1f min (%d packages): %s' % (len(chk), minutes(chk), len({r[0] for r in chk}),
                                                            os.path.join(out, 'check.txt')))


def best_distance(a, b, offsets=range(-ALIGN_WINDOWS, ALIGN_WINDOWS + 1)):
    """The smallest distance between two files' curves: mix against mix, and a mono
    file's curve against each channel of a stereo one; at offsets of up to
    ALIGN_WINDOWS windows."""
    best = np.inf
    for ra in (a if len(a) > 1 and len(b) == 1 else a[:1]):
        for rb in (b if len(b) > 1 and len(a) == 1 else b[:1]):
            for off in offsets:
                x, y = (ra[off:], rb) if off >= 0 else (ra, rb[-off:])
                best = min(best, distance(x, y))
    return best


def same_audio(a, b):
    """(same, distance): level curves within SAME_DB, and within SAME_CONTRAST times
    their distance when misaligned by 5, 10 or 20 s (the median of those six): a
    copy matches only in place, while two different pieces whose level barely moves
    (much game music is mastered flat) are about as close at any offset. Measured
    on the 714 files of the 48 packages: unrelated pieces of equal length come as
    close as 1.69 dB, but not in place only."""
    d = best_distance(a, b)
    if d > SAME_DB:
        return False, d
    ref = np.median([best_distance(a, b, (k,)) for k in (-200, -100, -50, 50, 100, 200)])
    return bool(d <= SAME_CONTRAST * ref), d


def classify(ri, rk, ei, ek):
    if ri[5] == rk[5]:
        return 'duplicate-file', 0.0
    if ri[6] == rk[6]:
        return 'duplicate-audio', 0.0
    d = best_distance(ei, ek)
    return ('channel-copy' if ri[7] != rk[7] or ri[7] == '1' else 'reencoded-copy'), d


if __name__ == '__main__':
    if len(sys.argv) >= 6 and sys.argv[1] == 'package':
        package(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6:])
    elif len(sys.argv) == 5 and sys.argv[1] == 'finish':
        finish(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(__doc__)
