/*
 * stream.h: the streaming driver of the student's front end (cqt.h): audio in
 * blocks of any size at the host's rate, feature frames out at a fixed hop in
 * seconds. Live (plugin, app), offline (files) and training (the feature
 * cache) all run this code; offline is the stream fed a whole buffer and
 * flushed with zeros.
 *
 * Timing. Frame j (j = 0, 1, ... since creation or the last reset) is the
 * transform centred on time j * hop (cqt.h). It is computed and handed out
 * when the input count reaches j * hop + delay samples: with the defaults
 * (hop 20 ms, delay 120 ms) the first frame comes after 120 ms of input, then
 * one every 20 ms. So:
 *  - delay (cqt_stream_delay_seconds, 120 ms): how far a frame lags the audio
 *    it describes. What a host compensates (the LV2 latency port reports
 *    cqt_stream_delay_samples). An impulse at time t0 gives its largest
 *    response, in every bin, in the frame emitted nearest to t0 + delay
 *    (within half a hop; tested at 22.05 to 96 kHz).
 *  - latency (cqt_stream_latency_seconds, 140 ms): delay plus one hop, the
 *    longest wait from a change in the audio to the first frame centred at or
 *    after it.
 * The host's own buffering (a frame due inside a block comes out at the end
 * of that block's process call) is not included.
 *
 * Block-size independence. All arithmetic is scheduled by the input count,
 * never by block boundaries, so the frames are bit-identical for any way of
 * cutting the input into blocks (tested: 1, 17, 64, 256, 1024, varying, whole).
 *
 * Real time. cqt_stream_process and cqt_stream_reset allocate nothing, free
 * nothing, take no lock, do no I/O and print nothing (tests/test_stream_rt.c
 * counts); their work is bounded by the block length (per input sample: the
 * decimators, 384 multiply-adds per output of each 2:1 stage) plus the units
 * of work whose phase falls in the block (cqt.h: about 1/12 of a hop's work
 * each, spread over the hop). Measured at 48 kHz (x86-64, one core): 2.5 ms
 * of work per second of audio; per block of 64 samples median 3.1 us, worst
 * 6.2 us; of 1024, median 45 us, worst 48 us (each block's minimum over 7
 * runs, which removes preemption by other processes).
 * Denormals: process() sets FTZ and DAZ in MXCSR on x86 (FZ in FPCR on
 * arm64) and restores the caller's value before returning. Inputs below
 * 1e-30 in magnitude are read as 0 as well, which keeps denormals rare on
 * CPUs without flush-to-zero. NaN or infinite input samples are read as 0
 * and finite ones are clamped to +-1e6 (no overflow anywhere downstream), so
 * a broken upstream cannot poison the stream's history.
 *
 * Threads. create/free: main thread (cqt_stream_create makes its own plan,
 * which uses FFTW's planner: see cqt.h); cqt_stream_create_shared does no
 * FFTW planning and may be called on any thread, many streams sharing one
 * plan (the trainer's parallel feature cache). process/reset/frames_*: the
 * audio thread (one thread at a time per stream). The other getters return
 * constants: any thread.
 */
#ifndef CHORDLET_STREAM_H
#define CHORDLET_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "chordlet.h"
#include "cqt.h"

typedef struct cqt_stream cqt_stream;

/* A stream at the host's sample rate, with its own plan. Errors as
 * cqt_plan_create (invalid parameters, unsupported rate). Thread: main. */
chordlet_status cqt_stream_create(const cqt_params *p, double sample_rate, cqt_stream **out,
                                  chordlet_error *err);

/* A stream whose front end starts at a tuning (cents from A4 = 440 Hz) and
 * can be moved to any tuning in [min_cents, max_cents] (cqt.h, "tuning";
 * below). Thread: main. */
chordlet_status cqt_stream_create_tuned(const cqt_params *p, double sample_rate, double cents, double min_cents,
                                        double max_cents, cqt_stream **out, chordlet_error *err);

/* A stream on a plan the caller keeps alive until the stream is freed.
 * Thread: any (allocates; no FFTW planning). */
chordlet_status cqt_stream_create_shared(const cqt_plan *plan, cqt_stream **out, chordlet_error *err);

/* NULL is fine. Thread: main (a stream with its own plan destroys FFTW plans);
 * a shared-plan stream: any. */
void cqt_stream_free(cqt_stream *s);

/*
 * Consumes all n samples of in (mono, at the stream's rate; in == NULL means
 * n zeros, for flushing) and writes the frames that complete to frames_out,
 * row-major (frame, bin), features ln(|C| + log_eps), at most max_frames of
 * them; returns how many. Room for cqt_stream_max_frames_per_block(s, n)
 * frames is always enough; frames beyond max_frames are dropped and counted
 * (cqt_stream_frames_dropped), never written out of bounds.
 * Thread: audio.
 */
CHORDLET_RT size_t cqt_stream_process(cqt_stream *s, const float *in /* (n) or NULL */, size_t n,
                                      float *frames_out /* (max_frames, n_bins) */, size_t max_frames);

/* Back to the state after creation: silence before, the next frame is frame 0.
 * Thread: audio (clears the stream's rings: under 100 KB at the defaults). */
CHORDLET_RT void cqt_stream_reset(cqt_stream *s);

/* Frames handed out, and frames dropped for lack of room, since creation or
 * reset. Thread: audio (the thread that calls process). */
CHORDLET_RT uint64_t cqt_stream_frames_emitted(const cqt_stream *s);
CHORDLET_RT uint64_t cqt_stream_frames_dropped(const cqt_stream *s);

/* Units of work that found their samples missing or already overwritten:
 * always 0 (the plan's phases and the ring sizes guarantee it); the tests
 * check it. Thread: audio. */
CHORDLET_RT uint64_t cqt_stream_schedule_faults(const cqt_stream *s);

/*
 * Moving the front end to another tuning while it runs. The audio thread
 * computes each frame with one kernel set, adopted when the frame starts
 * from the last request (so a frame never mixes two tunings, and the change
 * lands between hops). The hand-over, lock-free, for one worker that owns
 * spare sets (cqt_kernels_create on the stream's plan):
 *   - a set may be rebuilt (cqt_kernels_build) only while it is neither
 *     cqt_stream_kernels_in_use() nor cqt_stream_kernels_requested(); when
 *     those two are equal no switch is pending, and every other set is free;
 *   - cqt_stream_request_kernels(set) hands it over (NULL: the plan's own).
 * Requests and in_use: any thread (atomics). cqt_stream_tuning_cents: the
 * tuning of the frame being made, audio thread.
 */
CHORDLET_RT void cqt_stream_request_kernels(cqt_stream *s, const cqt_kernels *set);
CHORDLET_RT const cqt_kernels *cqt_stream_kernels_requested(const cqt_stream *s);
CHORDLET_RT const cqt_kernels *cqt_stream_kernels_in_use(const cqt_stream *s);
CHORDLET_RT double cqt_stream_tuning_cents(const cqt_stream *s);

/* Constants of the stream. Thread: any. */
CHORDLET_RT int cqt_stream_n_bins(const cqt_stream *s);
CHORDLET_RT double cqt_stream_sample_rate(const cqt_stream *s);
CHORDLET_RT size_t cqt_stream_hop_samples(const cqt_stream *s);
CHORDLET_RT double cqt_stream_hop_seconds(const cqt_stream *s);
CHORDLET_RT double cqt_stream_delay_seconds(const cqt_stream *s);   /* 0.120 by default */
CHORDLET_RT size_t cqt_stream_delay_samples(const cqt_stream *s);   /* delay * rate, exact */
CHORDLET_RT double cqt_stream_latency_seconds(const cqt_stream *s); /* delay + hop: 0.140 */
/* The most frames one process() call of `block` samples can produce:
 * ceil(block / hop_samples). */
CHORDLET_RT size_t cqt_stream_max_frames_per_block(const cqt_stream *s, size_t block);
const cqt_params *cqt_stream_params(const cqt_stream *s);
const cqt_plan *cqt_stream_plan(const cqt_stream *s);

/* Frames the offline functions return for n samples: 1 + floor(n / hop),
 * frame j centred at j * hop, as librosa counts centred frames. */
size_t cqt_offline_frame_count(size_t n, size_t hop_samples);

/*
 * The whole buffer through a new stream, flushed with zeros until the frame
 * centred on the last hop-grid point inside the audio is out: *frames is a
 * newly allocated (n_frames, n_bins) array (free()), *n_frames =
 * cqt_offline_frame_count(n). Bit-identical to a live stream fed the same
 * samples. n may be 0 (one frame of silence; audio may then be NULL).
 * Errors: invalid parameters or rate; NaN or infinite samples (offline input
 * is checked, live input is cleaned); out of memory.
 * Thread: main (plans FFTW); cqt_features_offline_plan: any thread.
 */
chordlet_status cqt_features_offline(const cqt_params *p, const float *audio /* (n) */, size_t n,
                                     double sample_rate, float **frames, size_t *n_frames,
                                     chordlet_error *err);
chordlet_status cqt_features_offline_plan(const cqt_plan *plan, const float *audio /* (n) */, size_t n,
                                          float **frames, size_t *n_frames, chordlet_error *err);
/* The same with the front end at a tuning (cents from A4 = 440 Hz, within
 * +-CQT_TUNING_LIMIT_CENTS). Thread: main (plans FFTW). */
chordlet_status cqt_features_offline_tuned(const cqt_params *p, double cents, const float *audio /* (n) */,
                                           size_t n, double sample_rate, float **frames, size_t *n_frames,
                                           chordlet_error *err);

#endif
