/* test_music_survey.c: the audio analysis of make data's real-music survey
 * (`chordlet-train real-music`, trainer/real_music.h) on synthetic signals:
 * sha256 against sha256sum (digests of fixed inputs, and sha256sum itself on
 * a large file when it is installed); the level-curve fingerprint's levels,
 * its independence of how the audio arrives, and its rows for stereo; loop
 * detection (a loop repeated to length found, cut at its intro and refined to
 * the sample; a drone, a piece without repeats and a repeated level curve over
 * new notes not); duplicate detection (a channel shipped alone, a mono copy,
 * a shifted copy found; different pieces, flat noise, and a stereo file's two
 * channels not); NumPy's percentile and median; the licence reading
 * (fnmatch, free-form texts, a DEP-5 file); names; .npy files. The NumPy
 * version this replaced gave the expected values where they are exact. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "flac_write.h"
#include "level_curve.h"
#include "licence.h"
#include "music_compare.h"
#include "music_file.h"
#include "music_loop.h"
#include "music_names.h"
#include "npy_file.h"
#include "quantile.h"
#include "sha256.h"

#define EXPECT(cond) CHECK(cond, "%s", "")
static const double RATE = 22050, PI = 3.14159265358979323846;
static char tmpdir[] = "/tmp/test_music_survey.XXXXXX";

/* ---------------------------------------------------------------- sha256 */

static void pattern(unsigned char *p, size_t n) {
  for (size_t i = 0; i < n; i++) p[i] = (unsigned char)((i * 31 + 7) % 256);
}

static void digest_of(const void *data, size_t n, size_t step, char hex[SHA256_HEX]) {
  sha256_ctx c;
  unsigned char d[SHA256_DIGEST];
  sha256_init(&c);
  for (size_t i = 0; i < n; i += step) sha256_update(&c, (const char *)data + i, n - i < step ? n - i : step);
  sha256_final(&c, d);
  sha256_hex(d, hex);
}

static void test_sha256(void) {
  /* sha256sum of "abc" and of pattern() at lengths around the padding's
   * edges (55: the length fits the block; 56-63: it needs another; 64, 65) */
  static const struct {
    size_t n;
    const char *hex;
  } known[] = {
      {0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {55, "8aa994584139d128848eeebc4e815639ba5ab6e6e39574195a63ac4f14f7c43b"},
      {56, "ad574708f75c044c9b85de64cb568ee7711ff4f36448c6242f053ba8f6cc2b63"},
      {63, "280ed3e8ff1df845b2e7dfe6ac6cee817bef20e783cc65abc41b818b4d2fe076"},
      {64, "c6ab9724ade5b6a7a1edfffb12f3aa9181351355af8fd08c919952ad211339dd"},
      {65, "788367c73c7ddf4c53f65e68cc0d943e6227ab55b0e78ba63ace822b1c6301c0"},
      {1000000, "668f6709eed11666baa9f0fcd94cbae12c6ad4236918792be36e62d03257fc44"},
  };
  unsigned char *buf = malloc(3000017);
  char hex[SHA256_HEX];
  digest_of("abc", 3, 3, hex);
  CHECK(!strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"), "abc: %s", hex);
  for (size_t k = 0; k < sizeof known / sizeof *known; k++) {
    pattern(buf, known[k].n);
    static const size_t steps[] = {1, 7, 63, 64, 65, 1000003};
    for (size_t s = 0; s < sizeof steps / sizeof *steps; s++) { /* any split of the input */
      digest_of(buf, known[k].n, steps[s], hex);
      CHECK(!strcmp(hex, known[k].hex), "%zu bytes in pieces of %zu: %s", known[k].n, steps[s], hex);
    }
  }
  /* a file, and sha256sum itself on 3 MB */
  char path[256], cmd[400], line[128] = "";
  snprintf(path, sizeof path, "%s/big.bin", tmpdir);
  for (size_t i = 0; i < 3000017; i++) buf[i] = (unsigned char)(i * 2654435761u >> 13);
  FILE *f = fopen(path, "wb");
  EXPECT(f && fwrite(buf, 1, 3000017, f) == 3000017);
  if (f) fclose(f);
  EXPECT(sha256_file(path, hex) == 0);
  char direct[SHA256_HEX];
  digest_of(buf, 3000017, 3000017, direct);
  CHECK(!strcmp(hex, direct), "sha256_file %s, in memory %s", hex, direct);
  snprintf(cmd, sizeof cmd, "sha256sum '%s' 2>/dev/null", path);
  FILE *p = popen(cmd, "r");
  if (p && fgets(line, sizeof line, p) && strlen(line) > 64) {
    line[64] = '\0';
    CHECK(!strcmp(line, hex), "sha256sum %s, ours %s", line, hex);
  } else {
    printf("(sha256sum not run)\n");
  }
  if (p) pclose(p);
  EXPECT(sha256_file("/nonexistent/file", hex) == -1);
  free(buf);
}

/* ---------------------------------------------------------------- signals */

static uint64_t rng_state;
static double uniform(void) { /* [0, 1) */
  rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
  return (double)(rng_state >> 11) / 9007199254740992.0;
}

/* A "piece": tones of 1-2.5 s at levels from -3 to -27 dB and pitches drawn
 * from seed (the level sequence from seed, the pitches from pitch_seed), so
 * no two pieces share a level curve. Adds into x (n) from sample `at`. */
static void piece(float *x, size_t at, size_t n, double seconds, uint64_t seed, uint64_t pitch_seed) {
  rng_state = seed;
  double durations[256], gains[256];
  int k = 0;
  for (double t = 0; t < seconds && k < 256; k++) {
    durations[k] = 1 + floor(uniform() * 4) * 0.5;
    if (t + durations[k] > seconds) durations[k] = seconds - t;
    gains[k] = pow(10, (-3 - floor(uniform() * 9) * 3) / 20);
    t += durations[k];
  }
  rng_state = pitch_seed;
  size_t s = at;
  for (int i = 0; i < k; i++) {
    double hz = 110 * pow(2, floor(uniform() * 24) / 12);
    size_t len = (size_t)(durations[i] * RATE), fade = (size_t)(0.02 * RATE);
    for (size_t j = 0; j < len && s + j < n; j++) {
      double env = j < fade ? (double)j / fade : len - j < fade ? (double)(len - j) / fade : 1;
      x[s + j] += (float)(gains[i] * env * sin(2 * PI * hz * (double)j / RATE));
    }
    s += len;
  }
}

static float *zeros(size_t n) { return calloc(n, sizeof(float)); }

/* The level curves of interleaved audio, fed in pieces of `step` frames. */
static music_print print_of(const float *x, size_t frames, int channels, size_t step) {
  level_curve lc;
  music_print p = {0};
  EXPECT(level_curve_init(&lc, RATE, channels) == 0);
  int failed = 0;
  for (size_t i = 0; i < frames; i += step)
    failed |= level_curve_feed(&lc, x + i * (size_t)channels, frames - i < step ? frames - i : step);
  EXPECT(!failed);
  p.rows = lc.rows;
  EXPECT(level_curve_finish(&lc, &p.env, &p.n) == 0);
  level_curve_free(&lc);
  return p;
}

static float *interleave(const float *l, const float *r, size_t n) {
  float *x = malloc(2 * n * sizeof *x);
  for (size_t i = 0; i < n; i++) x[2 * i] = l[i], x[2 * i + 1] = r[i];
  return x;
}

/* ---------------------------------------------------------------- fingerprint */

static void test_fingerprint(void) {
  /* a sine of amplitude A: every window at 10 log10(A^2 / 2) */
  const size_t n = (size_t)(3 * RATE);
  float *x = zeros(n), *silent = zeros(n);
  for (size_t i = 0; i < n; i++) x[i] = (float)(0.5 * sin(2 * PI * 441 * (double)i / RATE));
  music_print p = print_of(x, n, 1, n);
  const size_t block = 1102, blocks = n / block; /* round(0.05 * 22050) = 1102 (half to even) */
  CHECK(p.rows == 1 && p.n == (blocks - 4) / 2 + 1, "rows %d, %zu windows", p.rows, p.n);
  double worst = 0;
  for (size_t k = 0; k < p.n; k++) worst = fmax(worst, fabs(p.env[k] - 10 * log10(0.125)));
  CHECK(worst < 0.01, "a sine's level off by %g dB", worst);
  CHECK_NEAR(level_curve_hop(RATE), 2.0 * 1102 / 22050, 1e-15, "hop");
  /* the same audio in any pieces: the same bits */
  static const size_t steps[] = {1, 1101, 1102, 1103, 4096, 65536};
  for (size_t s = 0; s < sizeof steps / sizeof *steps; s++) {
    music_print q = print_of(x, n, 1, steps[s]);
    CHECK(q.n == p.n && !memcmp(q.env, p.env, p.n * sizeof *p.env), "fed %zu frames at a time", steps[s]);
    free(q.env);
  }
  /* stereo: the mix, then each channel; silence reads as the floor */
  float *st = interleave(x, silent, n);
  music_print s2 = print_of(st, n, 2, 5000);
  CHECK(s2.rows == 3 && s2.n == p.n, "stereo: %d rows", s2.rows);
  double w0 = 0, w1 = 0, w2 = 0;
  for (size_t k = 0; k < s2.n; k++) {
    w0 = fmax(w0, fabs(s2.env[k] - 10 * log10(0.125 / 4)));
    w1 = fmax(w1, fabs(s2.env[s2.n + k] - 10 * log10(0.125)));
    w2 = fmax(w2, fabs(s2.env[2 * s2.n + k] - LEVEL_FLOOR_DB));
  }
  CHECK(w0 < 0.01 && w1 < 0.01 && w2 == 0, "stereo rows off by %g, %g, %g dB", w0, w1, w2);
  /* under 200 ms: no window */
  music_print tiny = print_of(x, 4000, 1, 4000);
  EXPECT(tiny.n == 0);
  /* NumPy's pairwise order: exact on what a plain sum would round */
  double v[300];
  for (int i = 0; i < 300; i++) v[i] = i % 2 ? 1e16 : 1.0;
  double plain = 0;
  for (int i = 0; i < 300; i++) plain += v[i];
  EXPECT(numpy_pairwise_sum(v, 5) == (((v[0] + v[1]) + v[2]) + v[3]) + v[4]);
  EXPECT(numpy_pairwise_sum(v, 300) != plain); /* a different order, as NumPy's */
  free(x), free(silent), free(st), free(p.env), free(s2.env), free(tiny.env);
}

/* ---------------------------------------------------------------- loops */

static char *write_flac(const char *name, const float *x, size_t n) {
  static char path[512];
  chordlet_error err = {0};
  snprintf(path, sizeof path, "%s/%s", tmpdir, name);
  CHECK(flac_write(path, x, n, (int)RATE, &err) == CHORDLET_OK, "%s", err.message);
  return path;
}

/* find_loop over a file's level curve, and the samples' verdict */
static bool loop_of(const char *path, music_loop *loop, double *corr, double *period_s, double *hop) {
  music_analysis a;
  char why[MUSIC_WHY];
  CHECK(music_analyse(path, &a, why, sizeof why) == MUSIC_OK, "%s", why);
  bool found = music_find_loop(a.print.env, a.print.n, loop);
  *hop = a.hop;
  if (found) {
    float *x;
    size_t n;
    double rate;
    EXPECT(music_decimated_mono(path, &x, &n, &rate, why, sizeof why) == MUSIC_OK);
    EXPECT(rate == RATE / 4 && n == (size_t)a.frames / 4);
    *corr = music_loop_correlation(x, n, rate, loop->period * a.hop, (double)loop->start * a.hop, period_s);
    free(x);
  }
  music_analysis_free(&a);
  return found;
}

static void test_loops(void) {
  /* a 3 s intro, then 37.33 s looped three times: no whole number of windows */
  const double intro = 3, body = 37.33;
  const size_t n_intro = (size_t)(intro * RATE), n_body = (size_t)(body * RATE), n = n_intro + 3 * n_body;
  float *one = zeros(n_body), *x = zeros(n);
  piece(x, 0, n_intro, intro, 41, 41);
  piece(one, 0, n_body, body, 42, 42);
  for (int r = 0; r < 3; r++) memcpy(x + n_intro + (size_t)r * n_body, one, n_body * sizeof *x);
  music_loop loop;
  double corr = 0, period_s = 0, hop;
  bool found = loop_of(write_flac("loop.flac", x, n), &loop, &corr, &period_s, &hop);
  CHECK(found, "a loop played three times: not found");
  if (found) {
    CHECK(fabs(loop.period * hop - body) < 0.1, "level-curve period %.3f s, true %.2f", loop.period * hop, body);
    CHECK(fabs(loop.period * 4 - round(loop.period * 4)) < 1e-12, "period %g: quarter windows", loop.period);
    CHECK(loop.distance <= LOOP_DB, "distance %g dB", loop.distance);
    CHECK(fabs((double)loop.start * hop - intro) <= 0.3, "the loop starts at %.2f s, after a %.0f s intro",
          (double)loop.start * hop, intro);
    CHECK(corr > 0.99, "a copy's samples correlate %.4f", corr);
    CHECK(fabs(period_s - (double)n_body / RATE) < 4.5 / RATE, "sample period %.5f s, true %.5f", period_s,
          (double)n_body / RATE);
    printf("a loop of %.5f s after a %.0f s intro: every %.2f s (level curve, %.3f dB), %.5f s (samples, "
           "correlation %.4f), from %.1f s\n",
           (double)n_body / RATE, intro, loop.period * hop, loop.distance, period_s, corr, (double)loop.start * hop);
  }
  /* a steady drone: close to itself at every lag, no loop */
  const size_t nd = (size_t)(60 * RATE);
  float *drone = zeros(nd);
  rng_state = 7;
  for (size_t i = 0; i < nd; i++) drone[i] = (float)(0.2 * (uniform() - 0.5));
  EXPECT(!loop_of(write_flac("drone.flac", drone, nd), &loop, &corr, &period_s, &hop));
  /* a piece without repeats */
  const size_t np = (size_t)(90 * RATE);
  float *plain = zeros(np);
  piece(plain, 0, np, 90, 43, 43);
  EXPECT(!loop_of(write_flac("plain.flac", plain, np), &loop, &corr, &period_s, &hop));
  /* the level curve repeated over new notes: proposed, refused by the samples */
  const size_t nv = (size_t)(35 * RATE);
  float *verses = zeros(2 * nv);
  piece(verses, 0, nv, 35, 44, 44);
  piece(verses, nv, 2 * nv, 35, 44, 45);
  found = loop_of(write_flac("verses.flac", verses, 2 * nv), &loop, &corr, &period_s, &hop);
  CHECK(found && corr < LOOP_CORR, "a repeated level curve over new notes: found %d, correlation %.3f", found, corr);
  printf("a repeated level curve over new notes: every %.2f s within %.3f dB, samples correlate %.3f\n",
         loop.period * hop, loop.distance, corr);
  free(one), free(x), free(drone), free(plain), free(verses);
}

/* ---------------------------------------------------------------- copies */

static void test_copies(void) {
  const size_t n = (size_t)(60 * RATE);
  float *l = zeros(n), *r = zeros(n), *other = zeros(n), *mix = zeros(n), *quiet = zeros(n), *late = zeros(n);
  piece(l, 0, n, 60, 51, 51);
  piece(r, 0, n, 60, 52, 52);
  piece(other, 0, n, 60, 53, 53);
  for (size_t i = 0; i < n; i++) mix[i] = (l[i] + r[i]) / 2, quiet[i] = 0.5f * l[i];
  memcpy(late + (size_t)(0.3 * RATE), l, (n - (size_t)(0.3 * RATE)) * sizeof *l);
  float *st = interleave(l, r, n);
  music_print stereo = print_of(st, n, 2, 65536), left = print_of(l, n, 1, 65536), right = print_of(r, n, 1, 65536),
              pmix = print_of(mix, n, 1, 65536), pother = print_of(other, n, 1, 65536),
              pquiet = print_of(quiet, n, 1, 65536), plate = print_of(late, n, 1, 65536);
  double d;
  CHECK(music_same_audio(&left, &stereo, &d) && d < 0.05, "a channel shipped alone: %.3f dB", d);
  CHECK(music_same_audio(&stereo, &left, &d), "the same, either way round: %.3f dB", d);
  CHECK(music_same_audio(&pmix, &stereo, &d) && d < 0.05, "a mono copy of the mix: %.3f dB", d);
  CHECK(music_same_audio(&pquiet, &left, &d) && d < 0.05, "6 dB quieter (the level offset removed): %.3f dB", d);
  CHECK(music_same_audio(&plate, &left, &d) && d < 0.5, "300 ms late: %.3f dB", d);
  CHECK(!music_same_audio(&left, &right, &d), "a stereo file's two different channels: %.3f dB", d);
  CHECK(!music_same_audio(&pother, &stereo, &d), "another piece: %.3f dB", d);
  /* flat noise: close in place but as close misaligned */
  float *n1 = zeros(n), *n2 = zeros(n);
  rng_state = 99;
  for (size_t i = 0; i < n; i++) n1[i] = (float)(0.3 * (uniform() - 0.5)), n2[i] = (float)(0.3 * (uniform() - 0.5));
  music_print f1 = print_of(n1, n, 1, 65536), f2 = print_of(n2, n, 1, 65536);
  const bool flat = music_same_audio(&f1, &f2, &d);
  CHECK(!flat && d < MUSIC_SAME_DB, "two flat noises: same %d at %.3f dB (close, but not only in place)", flat, d);
  printf("two flat noises: %.3f dB apart in place, yet no copies\n", d);
  /* too little sounds: no distance */
  float *silent = zeros(n);
  music_print ps = print_of(silent, n, 1, 65536);
  EXPECT(isinf(music_distance(ps.env, ps.n, ps.env, ps.n)));
  free(l), free(r), free(other), free(mix), free(quiet), free(late), free(st), free(n1), free(n2), free(silent);
  free(stereo.env), free(left.env), free(right.env), free(pmix.env), free(pother.env), free(pquiet.env);
  free(plate.env), free(f1.env), free(f2.env), free(ps.env);
}

/* ---------------------------------------------------------------- NumPy's statistics */

static void test_quantiles(void) {
  float a[] = {5, 1, 4, 2, 3}, b[] = {1, 2, 3, 7}, c[] = {2, 2, 2, 2, 9}, d1[] = {3};
  double e[] = {1, INFINITY, 2, INFINITY, 3, 0.5};
  EXPECT(np_percentile_f(a, 5, 0.8) == 4.2);
  EXPECT(np_median_f(b, 4) == 2.5f);
  EXPECT(np_percentile_f(c, 5, 0.8) == 3.4000000000000012); /* NumPy's lerp, to the last bit */
  EXPECT(np_percentile_f(d1, 1, 0.8) == 3);
  EXPECT(np_median_d(e, 6) == 2.5);
  float big[1001];
  for (int i = 0; i < 1001; i++) big[i] = (float)((i * 7919) % 1001);
  EXPECT(np_median_f(big, 1001) == 500);
  float nan_in[] = {1, NAN, 2};
  EXPECT(isnan(np_percentile_f(nan_in, 3, 0.8)));
}

/* ---------------------------------------------------------------- licences, names, files */

static void test_licences(void) {
  static const struct {
    const char *name, *pattern;
    int match;
  } fn[] = {{"music/a.ogg", "music/*", 1}, {"x/music/a.ogg", "music/*", 0}, {"a/b", "*", 1},
            {"a.ogg", "?.ogg", 1},       {"\xc3\xa9.ogg", "?.ogg", 1},     {"b.ogg", "[abc].ogg", 1},
            {"d.ogg", "[!abc].ogg", 1},  {"[x", "[x", 1},                  {"a-b", "[z-a]-b", 0},
            {"-", "[a-]", 1},            {"ab", "a*b*", 1},                {"abc", "a*c*d", 0}};
  for (size_t i = 0; i < sizeof fn / sizeof *fn; i++)
    CHECK(licence_fnmatch(fn[i].name, fn[i].pattern) == fn[i].match, "fnmatch(%s, %s)", fn[i].name, fn[i].pattern);
  /* free-form texts, with what the Python version read in them */
  static const struct {
    const char *text, *licence;
  } ff[] = {
      {"The music is licensed under the Creative Commons Attribution 3.0 licence.\nThe code is under\nthe GNU "
       "General Public License, version 2 or (at your option)\nany later version.\n",
       "free-form: CC-BY-3.0; GPL-2+"},
      {"GNU Lesser General Public License version 2.1", "free-form: LGPL-2.1"},
      {"licensed under the GPL.", "free-form: GPL"},
      {"Released into the Public Domain.", "free-form: public-domain"},
      {"nothing here", "see copyright"},
      {"Music: CC-BY-SA 4.0, code: BSD; some parts CC BY 3.0 and CC0", "free-form: CC-BY-SA-4.0; BSD; CC-BY-3.0; CC0"},
      {"GPL; see the GNU General Public License version 3", "free-form: GPL-3"},
      {"Creative Commons Attribution-ShareAlike License, version 3.0 and the LGPL", "free-form: CC-BY-SA-3.0"},
      {"GPLv2 is not a word boundary: xGPL, GPL2, BSDish, (BSD)", "free-form: BSD"},
  };
  for (size_t i = 0; i < sizeof ff / sizeof *ff; i++) {
    char *got = licence_free_form(ff[i].text, strlen(ff[i].text));
    CHECK(got && !strcmp(got, ff[i].licence), "%s: got '%s'", ff[i].text, got ? got : "(null)");
    free(got);
  }
  /* a DEP-5 file: the last matching paragraph, its patterns' tails tried */
  char path[256];
  snprintf(path, sizeof path, "%s/copyright", tmpdir);
  FILE *f = fopen(path, "w");
  fputs("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nCopyright: x\n"
        "License: GPL-2+\n\nFiles: data/music/*\n  other/*\nLicense:   CC-BY-SA-3.0  \n\nLicense: GPL-2+\n text\n",
        f);
  fclose(f);
  const char *sources[] = {"usr/share/games/fakea/music/piece.ogg", "usr/share/games/fakea/songs/one/{a,b}",
                           "usr/share/x/y.pk3!other/z.ogg"};
  char **lic = NULL;
  EXPECT(licence_of(path, sources, 3, &lic) == 0);
  if (lic) {
    CHECK(!strcmp(lic[0], "CC-BY-SA-3.0"), "%s", lic[0]);
    CHECK(!strcmp(lic[1], "GPL-2+"), "%s", lic[1]);
    CHECK(!strcmp(lic[2], "CC-BY-SA-3.0"), "%s", lic[2]);
  }
  licence_free(lic, 3);
  EXPECT(licence_of("/nonexistent/copyright", sources, 1, &lic) == 0 && !strcmp(lic[0], "unknown (no copyright file)"));
  licence_free(lic, 1);
}

static void test_names_and_files(void) {
  char *s;
  EXPECT((s = music_flat_name("pkg", "usr/share/games/x/My Song!.ogg")) && !strcmp(s, "pkg__x_My_Song_.ogg"));
  free(s);
  EXPECT((s = music_flat_name("ufoai-music", "usr/share/games/ufoai/base/0music.pk3!music/Marine Industrial.ogg")) &&
         !strcmp(s, "ufoai-music__ufoai_base_0music.pk3_music_Marine_Industrial.ogg"));
  free(s);
  EXPECT((s = music_flat_name("p", "usr/share/x/\xc3\xa9 \xc3\xbc.ogg")) && !strcmp(s, "p__x__.ogg"));
  free(s);
  EXPECT((s = path_absolute("/a//b/../c/./")) && !strcmp(s, "/a/c"));
  free(s);
  EXPECT((s = path_absolute("//a/../../b")) && !strcmp(s, "//b"));
  free(s);
  EXPECT((s = path_stem("x/a.b.flac")) && !strcmp(s, "x/a.b"));
  free(s);
  EXPECT((s = path_stem(".hidden")) && !strcmp(s, ".hidden"));
  free(s);
  EXPECT((s = path_dirname("a/b//c")) && !strcmp(s, "a/b"));
  free(s);
  /* .npy: a round trip, and NumPy's Fortran order read as rows */
  char path[256];
  chordlet_error err = {0};
  snprintf(path, sizeof path, "%s/x.npy", tmpdir);
  const float m[6] = {1, 2, 3, 4, 5, 6};
  float *back = NULL;
  size_t rows, cols;
  EXPECT(npy_write_f32(path, m, 2, 3, &err) == CHORDLET_OK);
  EXPECT(npy_read_f32(path, &back, &rows, &cols, &err) == CHORDLET_OK && rows == 2 && cols == 3 &&
         !memcmp(back, m, sizeof m));
  free(back);
  FILE *f = fopen(path, "rb");
  unsigned char head[10];
  EXPECT(f && fread(head, 1, 10, f) == 10 && (10 + head[8] + 256 * head[9]) % 64 == 0);
  if (f) fclose(f);
  f = fopen(path, "wb");
  const char dict[] = "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }";
  char header[118];
  memset(header, ' ', sizeof header);
  memcpy(header, dict, strlen(dict));
  header[117] = '\n';
  fwrite("\x93NUMPY\x01\x00\x76\x00", 1, 10, f);
  fwrite(header, 1, sizeof header, f);
  const float cm[6] = {1, 4, 2, 5, 3, 6}; /* column after column */
  fwrite(cm, sizeof *cm, 6, f);
  fclose(f);
  EXPECT(npy_read_f32(path, &back, &rows, &cols, &err) == CHORDLET_OK && rows == 2 && cols == 3 &&
         !memcmp(back, m, sizeof m));
  free(back);
  f = fopen(path, "wb"); /* a truncated one: refused with a reason */
  fwrite("\x93NUMPY\x01\x00\x76\x00", 1, 10, f);
  fwrite(header, 1, sizeof header, f);
  fwrite(cm, sizeof *cm, 5, f);
  fclose(f);
  CHECK(npy_read_f32(path, &back, &rows, &cols, &err) != CHORDLET_OK && strstr(err.message, "size"), "%s",
        err.message);
  /* bad audio: recorded with a reason, never a crash */
  music_analysis a;
  char why[MUSIC_WHY];
  snprintf(path, sizeof path, "%s/empty.ogg", tmpdir);
  f = fopen(path, "wb");
  fclose(f);
  CHECK(music_analyse(path, &a, why, sizeof why) == MUSIC_UNREADABLE && !strncmp(why, "libsndfile: ", 12), "%s",
        why);
  snprintf(path, sizeof path, "%s/text.wav", tmpdir);
  f = fopen(path, "wb");
  fputs("RIFF, but not really a WAV file at all, only some text", f);
  fclose(f);
  CHECK(music_analyse(path, &a, why, sizeof why) == MUSIC_UNREADABLE, "%s", why);
}

int main(void) {
  if (!mkdtemp(tmpdir)) {
    perror("mkdtemp");
    return 1;
  }
  test_sha256();
  test_fingerprint();
  test_loops();
  test_copies();
  test_quantiles();
  test_licences();
  test_names_and_files();
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
  return check_summary("test_music_survey");
}
