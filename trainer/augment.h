/*
 * augment.h: degrading training audio the way the world degrades music
 * (issue 14, "training that sees the world"): a mono float buffer at the
 * features' read rate (22050 Hz) in, a degraded copy out, deterministically.
 *
 * Kinds, applied in this order (the order of a signal chain: the source, the
 * room, the microphone, the background, the gain, the codec):
 *
 *   detune  a global pitch change of c cents, c uniform in [lo, hi] (default
 *           -50..+50), made as a tape running fast or slow: libsoxr (HQ)
 *           resamples the buffer as if it had been recorded at rate * 2^(c/1200).
 *           The duration changes by the time scale 2^(-c/1200): a moment at t
 *           seconds of the input is at t * 2^(-c/1200) in the output, and
 *           whoever aligns labels with the output must scale their times too
 *           (augment_time_scale).
 *   reverb  convolution (FFTW3f, overlap-add) with a synthetic room impulse
 *           response drawn from the seed: the direct path, 3-6 early
 *           reflections between 2 and 50 ms, and a noise tail whose envelope
 *           falls 60 dB in RT60 seconds (RT60 uniform in [lo, hi], default
 *           0.2..1.2 s). The reverberant part has unit energy and is mixed as
 *           (1 - wet) * direct + wet * reverberant (wet uniform, default
 *           0.2..0.7); the result is scaled back to the input's RMS, so the
 *           level does not jump. The tail past the buffer's end is cut (the
 *           output keeps the input's length).
 *   eq      a microphone or a small speaker: a 4th-order Butterworth high-pass
 *           at HP Hz (default 50..400) and low-pass at LP Hz (default
 *           2500..10000), a tilt of -6..+6 dB (low and high shelves at 1 kHz
 *           pulling opposite ways) and 1-3 peaking filters (100 Hz..5 kHz,
 *           -9..+9 dB, Q 0.5..2). HP 400 + LP 2500 is the telephone extreme.
 *   noise   white, pink or brown noise (one of the three, drawn) added at an
 *           SNR uniform in [lo, hi] dB (default 10..30), relative to the RMS of
 *           the whole signal at that point; silence gets no noise.
 *   level   a gain that puts the buffer's peak at g dBFS, g uniform in [lo, hi]
 *           (default -40..0): the level is absolute (relative to full scale,
 *           whatever the file's own level was), so -40 is reached exactly.
 *   lossy   an Ogg Vorbis encode and decode through libsndfile, in memory, at
 *           a Vorbis quality uniform in [lo, hi] (libsndfile's 0..1 scale,
 *           default 0..0.5: about 30 to 60 kbit/s on 22050 Hz mono). Needs a
 *           libsndfile built with Vorbis (augment_lossy_available).
 *
 * After the chain, a buffer whose peak exceeds 1 (boosting EQ, noise, the
 * codec's overshoot) is scaled down as a whole to a peak of exactly 1: a gain,
 * not clipping, which would add distortion no kind asked for. No NaN or
 * infinity comes out (checked: an error if one ever did).
 *
 * Draws. Every value comes from the trainer's rng (rng.h) seeded by (seed,
 * variant index, kind, song name): never by job order or time. Each kind has
 * its own stream, and draws whether it is applied (probability p) and its
 * values whether or not it is applied, so changing one kind's settings never
 * changes another kind's draws (an ablation of one kind sees the same values
 * that kind has in `all`). Drawn values are rounded (cents and dB to 0.01,
 * seconds to 1 ms, Hz to 0.1) and the rounded value is the one used.
 *
 * Thread: any (no shared state); augment_apply allocates and plans FFTW
 * transforms, whose planner is not thread-safe: the trainer calls it from
 * single-threaded worker processes.
 */
#ifndef CHORDLET_TRAINER_AUGMENT_H
#define CHORDLET_TRAINER_AUGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chordlet.h"
#include "modelfile.h"

typedef enum augment_kind {
  AUG_DETUNE,
  AUG_REVERB,
  AUG_EQ,
  AUG_NOISE,
  AUG_LEVEL,
  AUG_LOSSY,
  AUG_N_KINDS
} augment_kind;

enum { AUG_MAX_VALUES = 4, AUG_MAX_PEAKS = 3, AUG_SPEC_TEXT_MAX = 1024, AUG_DESCRIPTION_MAX = 512 };
#define AUG_ALL_PROBABILITY 0.5 /* `all`: each kind on half the variants (a variant combines ~3) */

/* What a spec asks of one kind: applied with `probability`; `values` are its
 * drawn ranges as lo/hi pairs (detune: cents; reverb: RT60 s, wet; eq: HP Hz,
 * LP Hz; noise: SNR dB; level: peak dBFS; lossy: Vorbis quality). */
typedef struct augment_kind_spec {
  bool on;
  double probability;
  double values[AUG_MAX_VALUES];
} augment_kind_spec;

typedef struct augment_spec {
  augment_kind_spec kinds[AUG_N_KINDS];
} augment_spec;

/*
 * Parses SPEC (the grammar of `chordlet-train features --augment`):
 *
 *   SPEC  := ITEM ("," ITEM)*
 *   ITEM  := ("all" | KIND) ["=" NUM (":" NUM)*] ["@" PROB]     ("all" takes no "=")
 *   KIND  := detune | reverb | eq | noise | level | lossy
 *
 *   detune=M        -M..+M cents          detune=LO:HI   cents, within -100..100
 *   reverb=LO:HI    RT60 seconds (0.05..3); reverb=LO:HI:WLO:WHI also sets the wet range (0..1)
 *   eq=HLO:HHI:LLO:LHI  high-pass cutoff range, low-pass cutoff range, Hz (HP 20..1000, LP 1000..10500)
 *   noise=S | LO:HI     SNR dB (-10..80)
 *   level=G | LO:HI     peak dBFS (-80..0)
 *   lossy=Q | LO:HI     Vorbis quality (0..1)
 *
 * A single number is a fixed value (LO = HI), except for detune, where it is
 * the largest |cents|. PROB (0..1) is the chance a variant gets the kind:
 * 1 for a named kind, AUG_ALL_PROBABILITY for the kinds `all` turns on (or
 * all@P's P). Items after `all` override its defaults for their kind; a kind
 * named twice otherwise is an error. Without "=", a kind takes its defaults.
 * Returns CHORDLET_ERR_INVALID_ARGUMENT with a message that quotes the bad
 * item and says why.
 */
chordlet_status augment_spec_parse(const char *text, augment_spec *spec, chordlet_error *err);

/* The spec in canonical form (every kind on, with its full ranges and
 * probability), e.g. "detune=-50:50@1,noise=10:30@0.5": equal specs give
 * equal text. key_text is the exact form for cache keys (hexadecimal
 * doubles). Both return 0, or -1 if it does not fit. */
int augment_spec_text(const augment_spec *spec, char *out, size_t size);
int augment_spec_key_text(const augment_spec *spec, char *out, size_t size);

bool augment_spec_any(const augment_spec *spec);
const char *augment_kind_name(augment_kind kind);

typedef enum augment_noise_colour { AUG_NOISE_WHITE, AUG_NOISE_PINK, AUG_NOISE_BROWN } augment_noise_colour;

/* One variant's settings: what augment_apply does. Fields of kinds not in
 * `applied` are drawn but unused. Tests may fill it by hand. */
typedef struct augment_draw {
  unsigned applied; /* bit (1u << kind) per applied kind */
  double detune_cents;
  double reverb_rt60, reverb_wet; /* seconds, 0..1 */
  uint64_t reverb_seed;           /* the impulse response's noise and reflections */
  double eq_highpass_hz, eq_lowpass_hz, eq_tilt_db;
  int eq_n_peaks;
  double eq_peak_hz[AUG_MAX_PEAKS], eq_peak_db[AUG_MAX_PEAKS], eq_peak_q[AUG_MAX_PEAKS];
  augment_noise_colour noise_colour;
  double noise_snr_db;
  uint64_t noise_seed;
  double level_dbfs;
  double lossy_quality;
} augment_draw;

/* Draws variant `variant` (1, 2, ...) of the song `name` (the input file's
 * name, without folders). */
void augment_draw_variant(const augment_spec *spec, uint64_t seed, const char *name, int variant,
                          augment_draw *out);

/* The output's duration over the input's: 2^(-cents/1200) when detuned, else
 * 1. A time t of the input is at t * scale in the output. */
double augment_time_scale(const augment_draw *d);

/* Degrades in (n) at `rate` Hz (22050 expected; the low-pass is kept below
 * 0.45 rate) into a newly allocated *out (*out_n samples: n, or about
 * n * augment_time_scale(d) when detuned; free with free()). *peak_gain is the
 * final gain that kept the peak at or below 1 (1 when none was needed; may be
 * NULL). On error *out is NULL. */
chordlet_status augment_apply(const augment_draw *d, const float *in, size_t n, double rate, float **out,
                              size_t *out_n, double *peak_gain, chordlet_error *err);

/* Whether this libsndfile writes Ogg Vorbis (the lossy kind needs it). */
bool augment_lossy_available(void);

/* "detune -23.45 c; noise pink 18.20 dB" (or "none"): the applied kinds. */
void augment_describe(const augment_draw *d, char *out, size_t size);

/* Records the variant in a cache's metadata (keys MK_AUGMENT_* of
 * model_keys.h): spec, seed, variant, the applied kinds and their values. */
chordlet_status augment_write_metadata(const augment_draw *d, const augment_spec *spec, uint64_t seed, int variant,
                                       double peak_gain, model_writer *w, chordlet_error *err);

#endif
