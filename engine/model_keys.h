/*
 * model_keys.h: the metadata keys of .chordlet model files, in one place, so
 * the writers (chordlet-train) and the readers (the engine) cannot drift.
 */
#ifndef CHORDLET_MODEL_KEYS_H
#define CHORDLET_MODEL_KEYS_H

/* every model */
#define MK_ARCHITECTURE "model.architecture" /* str: which network */
#define MK_NAME "model.name"                 /* str: short name, e.g. "teacher" */
#define MK_DESCRIPTION "model.description"   /* str */
#define MK_LICENSE "model.license"           /* str: the licence text of the weights */
#define MK_PROVENANCE "model.provenance"     /* str: where the weights came from, how made */
#define MK_CREATED_BY "model.created_by"     /* str: the tool and version that wrote the file */
#define MK_STREAMABLE "model.streamable"     /* i64: 1 if it can run live */

/* the front end */
#define MK_FRONTEND_KIND "frontend.kind"                 /* str */
#define MK_FRONTEND_SAMPLE_RATE "frontend.sample_rate"   /* f64, Hz */
#define MK_FRONTEND_HOP "frontend.hop_length"            /* i64, samples */
#define MK_FRONTEND_FMIN "frontend.fmin"                 /* f64, Hz */
#define MK_FRONTEND_N_BINS "frontend.n_bins"             /* i64 */
#define MK_FRONTEND_BINS_PER_OCTAVE "frontend.bins_per_octave" /* i64 */
#define MK_FRONTEND_ESTIMATE_TUNING "frontend.estimate_tuning" /* i64: 1 = estimate from the audio */

/* chordlet's streaming CQT (engine/cqt.h, the student's front end): the
 * rate-independent parameters of cqt_params, written and checked by
 * cqt_params_write / cqt_params_read. frontend.kind is FRONTEND_STREAM_CQT. */
#define FRONTEND_STREAM_CQT "chordlet-stream-cqt"
#define MK_STREAM_VERSION "stream.version"                 /* i64: CQT_PARAMS_VERSION */
#define MK_STREAM_HOP "stream.hop_seconds"                 /* f64 */
#define MK_STREAM_DELAY "stream.delay_seconds"             /* f64: frame j emitted at j*hop + delay */
#define MK_STREAM_FMIN "stream.fmin"                       /* f64, Hz: bin 0 */
#define MK_STREAM_N_BINS "stream.n_bins"                   /* i64 */
#define MK_STREAM_BINS_PER_OCTAVE "stream.bins_per_octave" /* i64 */
#define MK_STREAM_Q "stream.q"                             /* f64: window q / f before clamping */
#define MK_STREAM_MIN_WINDOW "stream.min_window_seconds"   /* f64 */
#define MK_STREAM_MAX_WINDOW "stream.max_window_seconds"   /* f64 */
#define MK_STREAM_WINDOW "stream.window"                   /* str: "hann" */
#define MK_STREAM_LOG_EPS "stream.log_eps"                 /* f64: features ln(|C| + eps) */
/* the front end's tuning estimator (engine/tuning.h): tuning_params_write /
 * tuning_params_read; a model without them gets the defaults */
#define MK_TUNING_VERSION "stream.tuning.version"       /* i64: TUNING_PARAMS_VERSION */
#define MK_TUNING_WINDOW "stream.tuning.window_seconds" /* f64 */
#define MK_TUNING_HOP "stream.tuning.hop_seconds"       /* f64 */
#define MK_TUNING_FMIN "stream.tuning.fmin"             /* f64, Hz */
#define MK_TUNING_FMAX "stream.tuning.fmax"             /* f64, Hz */
#define MK_TUNING_MEMORY "stream.tuning.memory_seconds" /* f64: live histogram's time constant */
#define MK_TUNING_MIN_PEAKS "stream.tuning.min_peaks"   /* f64 */
#define MK_TUNING_STEP "stream.tuning.step_cents"       /* f64: live front end's smallest move */

/* the decoder */
#define MK_DECODER_KIND "decoder.kind"                   /* str: "viterbi" */
#define MK_DECODER_PENALTY "decoder.switch_penalty"      /* f64, natural log */
/* f64, seconds, optional (0 when absent): each chord change of a file's
 * transcription is written this much earlier than the frame grid places it,
 * the network's lateness measured on the validation split */
#define MK_DECODER_ADVANCE "decoder.change_advance_seconds"
#define MK_DECODER_VOCABULARY "decoder.vocabulary"       /* str: name of the state list */
#define MK_DECODER_STATE_NAMES "decoder.state_names"     /* str: one Harte label a line */
#define MK_DECODER_STATE_HEADS "decoder.state_heads"     /* i32 (states, 6): head indices, -1 unused */

/* the Jiang et al. 2019 CNN+BLSTM teacher */
#define ARCH_TEACHER "jiang2019-cnn-blstm"
#define FRONTEND_LIBROSA_HYBRID "librosa-hybrid-cqt"
#define MK_TEACHER_N_FOLDS "teacher.n_folds"             /* i64 */
#define TEACHER_TENSOR_PREFIX "fold%d."                  /* fold k's tensors: "fold0.cnn.conv1a.weight" */

/* the 2E1D student (student.h); its tensors are named as student_layout's */
#define ARCH_STUDENT_2E1D "2e1d"
#define MK_STUDENT_N_BINS "student.n_bins"           /* i64 */
#define MK_STUDENT_N_CLASSES "student.n_classes"     /* i64 */
#define MK_STUDENT_N_GROUPS "student.n_groups"       /* i64 */
#define MK_STUDENT_LAYERS "student.layers"           /* i32 (3): frequency, temporal, decoder */
#define MK_STUDENT_HEADS "student.heads"             /* i32 (3): frequency, temporal, decoder */
#define MK_STUDENT_FF_MULT "student.ff_mult"         /* i64 */
#define MK_STUDENT_CONTEXT "student.context"         /* i64, frames */
#define MK_STUDENT_LOOKAHEAD "student.lookahead"     /* i64, frames */
#define MK_STUDENT_ALIBI "student.alibi"             /* i64: 1 relative bias on time attention */
#define MK_STUDENT_POS_SCALE_F "student.pos_scale_f" /* f64 */
#define MK_STUDENT_DROPOUT "student.dropout"         /* f64 (training) */
#define MK_STUDENT_NORM_MEAN "student.norm_mean"     /* f64 */
#define MK_STUDENT_NORM_STD "student.norm_std"       /* f64 */
/* training provenance (chordlet info prints every key) */
#define MK_TRAIN_DATA "train.data"                   /* str: pools, hours, seeds */
#define MK_TRAIN_STAGES "train.stages"               /* str: stage, steps, loss settings */
#define MK_TRAIN_COMMIT "train.commit"               /* str: git commit of the trainer */
#define MK_TRAIN_INIT_DATA "train.init_data"         /* str: train.data of the model a run started from */
#define MK_TRAIN_INIT_STAGES "train.init_stages"     /* str: its train.stages */

/* feature caches of augmented audio (chordlet-train features --augment,
 * trainer/augment.h): written only on augmented variants; the values of kinds
 * not applied are absent */
#define MK_AUGMENT_SPEC "augment.spec"                 /* str: the canonical spec (every kind, range, probability) */
#define MK_AUGMENT_SEED "augment.seed"                 /* str: the seed, decimal (64 bits unsigned) */
#define MK_AUGMENT_VARIANT "augment.variant"           /* i64: 1..K */
#define MK_AUGMENT_SOURCE "augment.source"             /* str: the clean input's file name */
#define MK_AUGMENT_APPLIED "augment.applied"           /* str: applied kinds in chain order, "detune,noise", or "none" */
#define MK_AUGMENT_DESCRIPTION "augment.description"   /* str: the drawn values, one line */
#define MK_AUGMENT_TIME_SCALE "augment.time_scale"     /* f64: output duration / input duration */
#define MK_AUGMENT_PEAK_GAIN "augment.peak_gain"       /* f64: the final gain that kept the peak <= 1 */
#define MK_AUGMENT_DETUNE_CENTS "augment.detune_cents" /* f64 */
#define MK_AUGMENT_REVERB_RT60 "augment.reverb_rt60"   /* f64, seconds */
#define MK_AUGMENT_REVERB_WET "augment.reverb_wet"     /* f64, 0..1 */
#define MK_AUGMENT_EQ_HIGHPASS "augment.eq_highpass_hz" /* f64 */
#define MK_AUGMENT_EQ_LOWPASS "augment.eq_lowpass_hz"  /* f64 */
#define MK_AUGMENT_EQ_TILT "augment.eq_tilt_db"        /* f64 */
#define MK_AUGMENT_NOISE_COLOUR "augment.noise_colour" /* str: white, pink, brown */
#define MK_AUGMENT_NOISE_SNR "augment.noise_snr_db"    /* f64 */
#define MK_AUGMENT_LEVEL "augment.level_dbfs"          /* f64: the peak's level */
#define MK_AUGMENT_LOSSY_QUALITY "augment.lossy_quality" /* f64: Vorbis quality, libsndfile's 0..1 */

#endif
