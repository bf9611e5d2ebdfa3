/* test_student_grad.c: the student's training math (trainer/student_train.c,
 * trainer/adamw.c) against an independent PyTorch model (tests/student_torch.py,
 * float64 autograd), plus what PyTorch cannot see:
 *  1. loss and every tensor's gradient on tiny configurations (focal gamma 2
 *     and 0, plain KD, selective KD with frames in all three weight branches,
 *     pure KD, a long window with several attention blocks, no ALiBi and a
 *     zero lookahead);
 *  2. dropout: the same seed gives the same step, another seed another one,
 *     train = 0 equals no dropout; the gradient with dropout on against
 *     central differences (the stored masks are reused in backward);
 *     partial batches, gradient accumulation, frames without labels;
 *  3. 10 AdamW steps with clipping against torch.optim.AdamW;
 *  4. the trainer's logits against student_forward (engine/student.c), when
 *     HAVE_STUDENT_FORWARD is defined to 1 below;
 *  5. `test_student_grad --bench`: throughput of the default configuration
 *     (batch 16, T 256, dropout 0.3, focal + selective KD) on one thread.
 * Exits 77 (skip) when /usr/bin/python3 has no torch and nothing else failed. */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "adamw.h"
#include "check.h"
#include "rng.h"
#include "student.h"
#include "student_train.h"

#define HAVE_STUDENT_FORWARD 1

static int torch_missing = 0;

/* ---- the problem: config, parameters, a batch ---- */

typedef struct problem {
  student_config c;
  int B, T;
  student_param layout[STUDENT_MAX_PARAMS];
  int nt;
  size_t nf;
  float *params, *x, *teacher;
  int *labels;
} problem;

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && !strcmp(s + n - m, suffix);
}

static double gauss(rng *r) {
  double u1 = rng_uniform(r), u2 = rng_uniform(r);
  return sqrt(-2.0 * log(u1 + 1e-300)) * cos(6.283185307179586 * u2);
}

static student_config tiny_config(void) {
  student_config c = student_config_default();
  c.n_bins = 24;
  c.n_classes = 13;
  c.n_groups = 2;
  c.layers_f = 1;
  c.layers_t = 2;
  c.layers_d = 2;
  c.heads_f = 2;
  c.heads_t = 4;
  c.heads_d = 3;
  c.ff_mult = 2;
  c.context = 6;
  c.lookahead = 1;
  c.alibi = 1;
  c.pos_scale_f = 0.5f;
  c.dropout = 0.0f;
  c.norm_mean = 0.3f;
  c.norm_std = 1.7f;
  return c;
}

/* Teacher logits of frame i: flat (c < 0.1), moderate, or very peaked (c > 0.9). */
static void teacher_row(float *a, int K, long i, rng *r) {
  switch (i % 3) {
  case 0:
    for (int k = 0; k < K; k++) a[k] = (float)(0.05 * gauss(r));
    break;
  case 1:
    for (int k = 0; k < K; k++) a[k] = (float)(1.5 * gauss(r));
    break;
  default:
    for (int k = 0; k < K; k++) a[k] = (float)(0.5 * gauss(r));
    a[rng_below(r, K)] += (float)(17.0 + 10.0 * rng_uniform(r));
  }
}

/* Every kd_only_every-th frame (from frame 1) is KD-only (stage 2's real-music
 * windows: STUDENT_LABEL_KD_ONLY); 0: none. */
static int kd_only_every = 0;

static void problem_init(problem *p, const student_config *c, int B, int T, uint64_t seed) {
  memset(p, 0, sizeof *p);
  p->c = *c;
  p->B = B;
  p->T = T;
  p->nt = student_layout(c, p->layout, &p->nf);
  p->params = calloc(p->nf, sizeof *p->params);
  p->x = malloc((size_t)B * T * c->n_bins * sizeof *p->x);
  p->teacher = malloc((size_t)B * T * c->n_classes * sizeof *p->teacher);
  p->labels = malloc((size_t)B * T * sizeof *p->labels);
  if (!p->params || !p->x || !p->teacher || !p->labels) {
    fprintf(stderr, "out of memory\n");
    exit(1);
  }
  student_init(c, p->params, seed);
  rng r = {seed * 7919u + 17u};
  /* every branch alive: ReZero alphas nonzero, LayerNorms and MHA biases perturbed */
  for (int i = 0; i < p->nt; i++) {
    const student_param *t = &p->layout[i];
    float *v = p->params + t->offset;
    if (ends_with(t->name, "alpha")) {
      for (size_t k = 0; k < t->size; k++) v[k] = (float)rng_range(&r, 0.5, 1.5);
    } else if (ends_with(t->name, ".g")) {
      for (size_t k = 0; k < t->size; k++) v[k] = (float)(1.0 + rng_range(&r, -0.3, 0.3));
    } else if (ends_with(t->name, "ln1.b") || ends_with(t->name, "ln2.b") || ends_with(t->name, "ln.b") ||
               ends_with(t->name, ".b_in") || ends_with(t->name, ".b_out")) {
      for (size_t k = 0; k < t->size; k++) v[k] = (float)rng_range(&r, -0.2, 0.2);
    }
  }
  const size_t nx = (size_t)B * T * c->n_bins;
  for (size_t i = 0; i < nx; i++) p->x[i] = (float)(c->norm_mean + c->norm_std * gauss(&r));
  for (long i = 0; i < (long)B * T; i++) {
    p->labels[i] = (i % 5 == 3) ? -1 : rng_below(&r, c->n_classes);
    if (kd_only_every && i % kd_only_every == 1) p->labels[i] = STUDENT_LABEL_KD_ONLY;
    teacher_row(p->teacher + i * c->n_classes, c->n_classes, i, &r);
  }
}

static void problem_free(problem *p) {
  free(p->params);
  free(p->x);
  free(p->teacher);
  free(p->labels);
}

static loss_options opts(float gamma, float alpha, int selective) {
  loss_options o = {gamma, alpha, 3.0f, selective, 0.1f, 0.9f, 0.0f};
  return o;
}

/* ---- files for student_torch.py ---- */

static char tmpdir[256];

static void write_bin(const char *name, const void *data, size_t bytes) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", tmpdir, name);
  FILE *f = fopen(path, "wb");
  CHECK(f != NULL, "cannot write %s", path);
  if (!f) return;
  CHECK(fwrite(data, 1, bytes, f) == bytes, "short write %s", path);
  fclose(f);
}

static void write_problem(const problem *p, const loss_options *o, const char *mode, const adamw_options *ao,
                          int steps, double clip) {
  char path[512];
  snprintf(path, sizeof path, "%s/config.txt", tmpdir);
  FILE *f = fopen(path, "w");
  if (!f) {
    CHECK(0, "cannot write %s", path);
    return;
  }
  const student_config *c = &p->c;
  fprintf(f, "mode %s\nn_bins %d\nn_classes %d\nn_groups %d\nlayers_f %d\nlayers_t %d\nlayers_d %d\n", mode,
          c->n_bins, c->n_classes, c->n_groups, c->layers_f, c->layers_t, c->layers_d);
  fprintf(f, "heads_f %d\nheads_t %d\nheads_d %d\nff_mult %d\ncontext %d\nlookahead %d\nalibi %d\n", c->heads_f,
          c->heads_t, c->heads_d, c->ff_mult, c->context, c->lookahead, c->alibi);
  fprintf(f, "pos_scale_f %.9g\ndropout %.9g\nnorm_mean %.9g\nnorm_std %.9g\nB %d\nT %d\n", (double)c->pos_scale_f,
          (double)c->dropout, (double)c->norm_mean, (double)c->norm_std, p->B, p->T);
  fprintf(f, "focal_gamma %.9g\nkd_alpha %.9g\nkd_temperature %.9g\nselective %d\nconf_lo %.9g\nconf_hi %.9g\n",
          (double)o->focal_gamma, (double)o->kd_alpha, (double)o->kd_temperature, o->selective,
          (double)o->conf_lo, (double)o->conf_hi);
  fprintf(f, "kd_only_weight %.9g\nhas_teacher %d\n", (double)o->kd_only_weight,
          o->kd_alpha != 0.0f || o->kd_only_weight != 0.0f);
  if (ao)
    fprintf(f, "steps %d\nlr %.9g\nbeta1 %.9g\nbeta2 %.9g\neps %.9g\nweight_decay %.9g\nclip %.17g\n", steps,
            (double)ao->lr, (double)ao->beta1, (double)ao->beta2, (double)ao->eps, (double)ao->weight_decay, clip);
  fclose(f);
  snprintf(path, sizeof path, "%s/layout.txt", tmpdir);
  f = fopen(path, "w");
  if (!f) {
    CHECK(0, "cannot write %s", path);
    return;
  }
  for (int i = 0; i < p->nt; i++)
    fprintf(f, "%s %d %d %d %zu %zu\n", p->layout[i].name, p->layout[i].ndim, p->layout[i].dims[0],
            p->layout[i].dims[1], p->layout[i].offset, p->layout[i].size);
  fclose(f);
  const size_t rows = (size_t)p->B * p->T;
  write_bin("params.f32", p->params, p->nf * sizeof(float));
  write_bin("x.f32", p->x, rows * c->n_bins * sizeof(float));
  write_bin("labels.i32", p->labels, rows * sizeof(int));
  write_bin("teacher.f32", p->teacher, rows * c->n_classes * sizeof(float));
}

/* Runs student_torch.py; 1 on success, 0 if torch is missing or it failed. */
static int run_torch(void) {
  if (torch_missing) return 0;
  char cmd[600];
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/student_torch.py '%s'", tmpdir);
  int st = system(cmd);
  if (st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 77) {
    fprintf(stderr, "torch is missing at /usr/bin/python3: PyTorch comparisons skipped\n");
    torch_missing = 1;
    return 0;
  }
  CHECK(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s failed (status %d)", cmd, st);
  return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static double *read_f64(const char *name, size_t n) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", tmpdir, name);
  FILE *f = fopen(path, "rb");
  CHECK(f != NULL, "cannot read %s", path);
  if (!f) return NULL;
  double *v = malloc(n * sizeof *v);
  size_t got = v ? fread(v, sizeof *v, n, f) : 0;
  fclose(f);
  CHECK(got == n, "%s: %zu of %zu values", path, got, n);
  if (got != n) {
    free(v);
    return NULL;
  }
  return v;
}

static void cleanup_tmp(void) {
  const char *names[] = {"config.txt", "layout.txt", "params.f32", "x.f32", "labels.i32", "teacher.f32",
                         "grads.f64", "logits.f64", "loss.txt", "losses.txt"};
  char path[512];
  for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
    snprintf(path, sizeof path, "%s/%s", tmpdir, names[i]);
    unlink(path);
  }
  rmdir(tmpdir);
}

/* ---- 1. gradients against PyTorch ---- */

static void grad_case(const char *label, const student_config *c, int B, int T, const loss_options *o,
                      uint64_t seed) {
  problem p;
  problem_init(&p, c, B, T, seed);
  student_trainer *t = student_trainer_create(c, B, T);
  CHECK(t != NULL, "%s: trainer_create failed", label);
  float *grads = calloc(p.nf, sizeof *grads);
  if (!t || !grads) goto done;
  loss_report rep;
  const double L =
      student_trainer_step(t, p.params, grads, p.x, p.labels,
                           o->kd_alpha != 0 || o->kd_only_weight != 0 ? p.teacher : NULL, B, o, 0, 1, &rep);
  CHECK(isfinite(L), "%s: loss %g", label, L);
  /* padding untouched */
  {
    size_t pos = 0;
    int pad_ok = 1;
    for (int i = 0; i < p.nt; i++) {
      for (; pos < p.layout[i].offset; pos++) pad_ok &= grads[pos] == 0.0f;
      pos = p.layout[i].offset + p.layout[i].size;
    }
    for (; pos < p.nf; pos++) pad_ok &= grads[pos] == 0.0f;
    CHECK(pad_ok, "%s: the backward pass wrote into padding", label);
  }
  /* the selective branches this batch reaches, counted on labelled frames */
  if (o->kd_alpha != 0 && o->selective) {
    const int K = c->n_classes;
    long lo = 0, mid = 0, hi = 0;
    double wsum = 0;
    for (long i = 0; i < (long)B * T; i++) {
      if (p.labels[i] < 0 && p.labels[i] != STUDENT_LABEL_KD_ONLY) continue;
      const float *a = p.teacher + i * K;
      double mx = a[0], s = 0;
      for (int k = 1; k < K; k++) mx = a[k] > mx ? a[k] : mx;
      for (int k = 0; k < K; k++) s += exp((a[k] - mx) / o->kd_temperature);
      const double cmax = 1.0 / s;
      if (cmax < o->conf_lo) {
        lo++;
      } else if (cmax > o->conf_hi) {
        hi++;
        wsum += 1.0 - 0.8 * (cmax - o->conf_hi) / (1.0 - o->conf_hi);
      } else {
        mid++;
        wsum += 1.0;
      }
    }
    printf("  %s: selective branches w=0: %ld frames, w=1: %ld, down-weighted: %ld\n", label, lo, mid, hi);
    CHECK(lo > 0 && mid > 0 && hi > 0, "%s: not every selective branch is reached (%ld/%ld/%ld)", label, lo, mid, hi);
    CHECK_NEAR(rep.kd_weight_sum, wsum, 1e-6 * (1 + wsum), "kd_weight_sum");
  }
  write_problem(&p, o, "grad", NULL, 0, 0);
  if (!run_torch()) goto done;
  {
    char path[512];
    snprintf(path, sizeof path, "%s/loss.txt", tmpdir);
    FILE *f = fopen(path, "r");
    double tl = NAN, tf = NAN, tk = NAN;
    if (f) {
      if (fscanf(f, "%lf %lf %lf", &tl, &tf, &tk) != 3) tl = NAN;
      fclose(f);
    }
    const double lerr = fabs(L - tl) / fmax(fabs(tl), 1e-12);
    CHECK(lerr <= 1e-5, "%s: loss %.9g, torch %.9g (relative %.3g)", label, L, tl, lerr);
    CHECK(fabs(rep.focal - tf) <= 1e-5 * fmax(fabs(tf), 1e-6), "%s: focal %.9g, torch %.9g", label, rep.focal, tf);
    CHECK(fabs(rep.kd - tk) <= 1e-5 * fmax(fabs(tk), 1e-6), "%s: kd %.9g, torch %.9g", label, rep.kd, tk);
    const size_t nz = (size_t)B * T * c->n_classes;
    double *tz = read_f64("logits.f64", nz);
    double *tg = read_f64("grads.f64", p.nf);
    if (!tz || !tg) {
      free(tz);
      free(tg);
      goto done;
    }
    const float *z = student_trainer_logits(t);
    double zerr = 0, zmax = 0;
    for (size_t i = 0; i < nz; i++) {
      zerr = fmax(zerr, fabs(z[i] - tz[i]));
      zmax = fmax(zmax, fabs(tz[i]));
    }
    CHECK(zerr <= 1e-5 * fmax(zmax, 1.0), "%s: logits differ by %.3g (max %.3g)", label, zerr, zmax);
    /* Tolerance: 1e-4 of the tensor's largest |gradient|, floored at 1e-3 of
     * the whole gradient's largest entry. The floor matters only for tensors
     * whose gradient is a near-cancelling sum (a ReZero scalar can be 1e-5 of
     * the rest): float32 arithmetic cannot resolve those below ~1e-8 absolute
     * (PyTorch itself in float32 is off by the same amount there). */
    double gmax = 0;
    for (size_t k = 0; k < p.nf; k++) gmax = fmax(gmax, fabs(tg[k]));
    const double floor_scale = fmax(1e-6, 1e-3 * gmax);
    double worst = 0, worst_abs = 0, worst_scale = 0;
    int worst_i = 0, bad = 0;
    for (int i = 0; i < p.nt; i++) {
      const student_param *q = &p.layout[i];
      double bmax = 0, err = 0;
      for (size_t k = 0; k < q->size; k++) {
        bmax = fmax(bmax, fabs(tg[q->offset + k]));
        double e = fabs((double)grads[q->offset + k] - tg[q->offset + k]);
        if (!(e <= err)) err = e;
      }
      const double rel = err / fmax(bmax, floor_scale);
      if (!(rel <= worst)) {
        worst = rel;
        worst_i = i;
        worst_abs = err;
        worst_scale = bmax;
      }
      if (!(rel <= 1e-4)) {
        bad++;
        CHECK(0, "%s: gradient of %s differs by %.3g (max |torch| %.3g, relative %.3g)", label, q->name, err, bmax,
              rel);
      }
    }
    printf("  %s: loss %.9f (torch %.9f, rel %.2g; focal %.6f kd %.6f, N %ld, correct %ld), logits err %.2g, "
           "worst gradient %s: rel %.2g (abs %.2g, tensor max %.2g, floor %.2g)%s\n",
           label, L, tl, lerr, rep.focal, rep.kd, rep.frames, rep.correct, zerr, p.layout[worst_i].name, worst,
           worst_abs, worst_scale, floor_scale, bad ? "  FAILED" : "");
    free(tz);
    free(tg);
  }
done:
  free(grads);
  student_trainer_free(t);
  problem_free(&p);
}

/* ---- 2. dropout, finite differences, batch handling ---- */

static double step_loss(student_trainer *t, const problem *p, float *params, float *grads, const loss_options *o,
                        int train, unsigned long long seed) {
  return student_trainer_step(t, params, grads, p->x, p->labels, p->teacher, p->B, o, train, seed, NULL);
}

static void dropout_checks(void) {
  student_config c = tiny_config();
  c.dropout = 0.2f;
  problem p;
  problem_init(&p, &c, 2, 10, 5);
  const loss_options o = opts(2.0f, 0.3f, 1);
  student_trainer *t = student_trainer_create(&c, 2, 10);
  student_config c0 = c;
  c0.dropout = 0.0f;
  student_trainer *t0 = student_trainer_create(&c0, 2, 10);
  float *g1 = calloc(p.nf, sizeof *g1), *g2 = calloc(p.nf, sizeof *g2);
  CHECK(t && t0 && g1 && g2, "setup");
  if (!t || !t0 || !g1 || !g2) goto done;
  const double L1 = step_loss(t, &p, p.params, g1, &o, 1, 7);
  const double L2 = step_loss(t, &p, p.params, g2, &o, 1, 7);
  const double L3 = step_loss(t, &p, p.params, NULL, &o, 1, 8);
  CHECK(L1 == L2, "same seed, different losses %.17g %.17g", L1, L2);
  CHECK(memcmp(g1, g2, p.nf * sizeof *g1) == 0, "same seed, different gradients");
  CHECK(L1 != L3, "another seed, same loss %.17g", L1);
  const double Le = step_loss(t, &p, p.params, NULL, &o, 0, 7);
  const double L0 = step_loss(t0, &p, p.params, NULL, &o, 1, 7);
  CHECK(Le == L0, "train = 0 (%.17g) differs from a config without dropout (%.17g)", Le, L0);
  CHECK(Le != L1, "train = 0 equals a training step");
  printf("  dropout: seed 7 %.9f (twice), seed 8 %.9f, eval %.9f = no-dropout %.9f\n", L1, L3, Le, L0);

  /* central differences with dropout on (seed 7): the entry of largest |g| of every tensor */
  const float eps = 1e-3f;
  float *pp = malloc(p.nf * sizeof *pp);
  if (!pp) goto done;
  memcpy(pp, p.params, p.nf * sizeof *pp);
  int checked = 0, failed = 0;
  double worst = 0, worst_fd = 0, worst_g = 0, worst_margin = 0;
  const char *worst_name = "";
  for (int i = 0; i < p.nt; i++) {
    const student_param *q = &p.layout[i];
    size_t best = q->offset;
    for (size_t k = q->offset; k < q->offset + q->size; k++)
      if (fabsf(g1[k]) > fabsf(g1[best])) best = k;
    const double g = g1[best];
    if (fabs(g) < 1e-3) continue;
    const float v = pp[best];
    pp[best] = v + eps;
    const float vp = pp[best];
    const double Lp = step_loss(t, &p, pp, NULL, &o, 1, 7);
    pp[best] = v - eps;
    const float vm = pp[best];
    const double Lm = step_loss(t, &p, pp, NULL, &o, 1, 7);
    pp[best] = v;
    const double fd = (Lp - Lm) / ((double)vp - (double)vm);
    const double err = fabs(fd - g), tol = 2e-2 * fabs(g) + 3e-4;
    checked++;
    if (err / fabs(g) > worst) {
      worst = err / fabs(g);
      worst_name = q->name;
      worst_fd = fd;
      worst_g = g;
    }
    worst_margin = fmax(worst_margin, err / tol);
    if (!(err <= tol)) {
      failed++;
      CHECK(0, "finite difference of %s[%zu]: %.6g, backward %.6g", q->name, best - q->offset, fd, g);
    }
  }
  printf("  dropout gradient vs central differences (eps %g, tolerance 2e-2 |g| + 3e-4): %d entries, worst "
         "relative %.2g (%s: %.6g vs %.6g), largest error / tolerance %.2f\n",
         (double)eps, checked, worst, worst_name, worst_fd, worst_g, worst_margin);
  CHECK(checked >= p.nt / 2, "only %d of %d tensors had a usable gradient", checked, p.nt);
  free(pp);

  /* a partial batch equals a full batch of that size; grads accumulate */
  {
    student_trainer *t3 = student_trainer_create(&c, 3, 10);
    float *ga = calloc(p.nf, sizeof *ga), *gb = calloc(p.nf, sizeof *gb);
    CHECK(t3 && ga && gb, "setup");
    if (t3 && ga && gb) {
      const double La = step_loss(t3, &p, p.params, ga, &o, 1, 7);
      CHECK(La == L1, "a partial batch (2 of 3) gives %.17g, a full batch of 2 %.17g", La, L1);
      CHECK(memcmp(ga, g1, p.nf * sizeof *ga) == 0, "a partial batch's gradient differs");
      step_loss(t3, &p, p.params, ga, &o, 1, 7);
      const double gm = max_abs(g1, p.nf);
      double acc = 0;
      for (size_t k = 0; k < p.nf; k++) acc = fmax(acc, fabs(ga[k] - 2.0 * g1[k]));
      CHECK(acc <= 1e-5 * gm, "a second step does not add its gradient (off by %.3g of %.3g)", acc, gm);
      /* no labelled frame: loss 0, gradient untouched */
      int *none = malloc((size_t)p.B * p.T * sizeof *none);
      if (none) {
        for (int k = 0; k < p.B * p.T; k++) none[k] = -1;
        loss_report rep;
        const double Ln = student_trainer_step(t3, p.params, gb, p.x, none, p.teacher, p.B, &o, 1, 7, &rep);
        int zero = 1;
        for (size_t k = 0; k < p.nf; k++) zero &= gb[k] == 0.0f;
        CHECK(Ln == 0.0 && rep.frames == 0 && zero, "no labelled frame: loss %g, N %ld", Ln, rep.frames);
        free(none);
      }
      /* bad arguments */
      CHECK(isnan(student_trainer_step(t3, p.params, NULL, p.x, p.labels, p.teacher, 4, &o, 0, 0, NULL)),
            "b > batch accepted");
      CHECK(isnan(student_trainer_step(t3, p.params, NULL, p.x, p.labels, NULL, 2, &o, 0, 0, NULL)),
            "KD without a teacher accepted");
    }
    free(ga);
    free(gb);
    student_trainer_free(t3);
  }
done:
  free(g1);
  free(g2);
  student_trainer_free(t);
  student_trainer_free(t0);
  problem_free(&p);
}

/* ---- clipping ---- */

static void clip_checks(void) {
  float g[5] = {3.0f, NAN, 4.0f, INFINITY, -0.0f};
  const double n = clip_grad_norm(g, 5, 1.0);
  CHECK_NEAR(n, 5.0, 1e-12, "norm after zeroing");
  CHECK(g[1] == 0.0f && g[3] == 0.0f, "non-finite entries not zeroed");
  CHECK_NEAR(g[0], 3.0 / (5.0 + 1e-6), 1e-6, "clipped g[0]");
  CHECK_NEAR(g[2], 4.0 / (5.0 + 1e-6), 1e-6, "clipped g[2]");
  float h[2] = {0.3f, 0.4f};
  CHECK_NEAR(clip_grad_norm(h, 2, 1.0), 0.5, 1e-7, "small norm");
  CHECK(h[0] == 0.3f && h[1] == 0.4f, "a small norm was scaled");
  float k[2] = {30.0f, 40.0f};
  clip_grad_norm(k, 2, 0.0);
  CHECK(k[0] == 30.0f && k[1] == 40.0f, "max_norm 0 scaled");
}

/* ---- 3. AdamW against torch.optim.AdamW ---- */

static void adamw_case(void) {
  const student_config c = tiny_config();
  problem p;
  problem_init(&p, &c, 2, 10, 11);
  const loss_options o = opts(2.0f, 0.3f, 1);
  const adamw_options ao = {1e-3f, 0.9f, 0.999f, 1e-8f, 1e-2f};
  enum { STEPS = 10 };
  const double clip = 1.0;
  write_problem(&p, &o, "adamw", &ao, STEPS, clip);
  student_trainer *t = student_trainer_create(&c, 2, 10);
  float *params = malloc(p.nf * sizeof *params);
  float *g = malloc(p.nf * sizeof *g), *m = calloc(p.nf, sizeof *m), *v = calloc(p.nf, sizeof *v);
  CHECK(t && params && g && m && v, "setup");
  double L[STEPS];
  if (t && params && g && m && v) {
    memcpy(params, p.params, p.nf * sizeof *params);
    for (int s = 0; s < STEPS; s++) {
      memset(g, 0, p.nf * sizeof *g);
      L[s] = step_loss(t, &p, params, g, &o, 1, (unsigned long long)s);
      clip_grad_norm(g, p.nf, clip);
      adamw_step(params, g, m, v, p.nf, s + 1, &ao);
    }
    if (run_torch()) {
      char path[512];
      snprintf(path, sizeof path, "%s/losses.txt", tmpdir);
      FILE *f = fopen(path, "r");
      CHECK(f != NULL, "no %s", path);
      double worst = 0;
      for (int s = 0; f && s < STEPS; s++) {
        double tl = NAN;
        if (fscanf(f, "%lf", &tl) != 1) tl = NAN;
        const double rel = fabs(L[s] - tl) / fmax(fabs(tl), 1e-12);
        if (!(rel <= worst)) worst = rel;
        CHECK(rel <= 1e-4, "AdamW step %d: loss %.9g, torch %.9g (relative %.3g)", s + 1, L[s], tl, rel);
      }
      if (f) fclose(f);
      printf("  AdamW (lr 1e-3, wd 1e-2, clip 1): losses %.6f -> %.6f over %d steps, worst relative difference "
             "to torch %.2g\n",
             L[0], L[STEPS - 1], STEPS, worst);
    }
    CHECK(L[STEPS - 1] < L[0], "10 AdamW steps did not lower the loss (%.6f -> %.6f)", L[0], L[STEPS - 1]);
  }
  free(params);
  free(g);
  free(m);
  free(v);
  student_trainer_free(t);
  problem_free(&p);
}

/* ---- 4. against the inference forward ---- */

static void forward_case(const char *label, const student_config *cfg, int B, int T, uint64_t seed) {
#if defined(HAVE_STUDENT_FORWARD) && HAVE_STUDENT_FORWARD
  student_config c = *cfg;
  c.dropout = 0.3f; /* train = 0: must not matter */
  problem p;
  problem_init(&p, &c, B, T, seed);
  student_trainer *t = student_trainer_create(&c, B, T);
  const loss_options o = opts(2.0f, 0.0f, 0);
  const size_t nz = (size_t)T * c.n_classes;
  float *z = malloc(nz * sizeof *z);
  CHECK(t && z, "setup");
  if (t && z) {
    step_loss(t, &p, p.params, NULL, &o, 0, 1);
    const float *zt = student_trainer_logits(t);
    double worst = 0;
    for (int b = 0; b < B; b++) {
      chordlet_error err;
      memset(&err, 0, sizeof err);
      chordlet_status st = student_forward(&c, p.params, p.x + (size_t)b * T * c.n_bins, T, z, &err);
      CHECK(st == CHORDLET_OK, "student_forward: %s", err.message);
      const double e = max_abs_diff(z, zt + b * nz, nz) / fmax(max_abs(z, nz), 1.0);
      worst = fmax(worst, e);
      CHECK(e <= 1e-4, "%s, window %d: trainer logits differ from student_forward by %.3g", label, b, e);
    }
    printf("  %s: trainer logits vs student_forward (%d windows of %d): worst relative %.2g\n", label, B, T, worst);
  }
  free(z);
  student_trainer_free(t);
  problem_free(&p);
#else
  (void)cfg, (void)B, (void)T, (void)seed;
  printf("  %s: trainer vs student_forward not compiled (define HAVE_STUDENT_FORWARD 1)\n", label);
#endif
}

/* ---- 5. throughput ---- */

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double cpu_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int bench(void) {
  openblas_set_num_threads(1);
  const student_config c = student_config_default();
  const int B = 16, T = 256;
  problem p;
  problem_init(&p, &c, B, T, 3);
  student_trainer *t = student_trainer_create(&c, B, T);
  float *g = calloc(p.nf, sizeof *g), *m = calloc(p.nf, sizeof *m), *v = calloc(p.nf, sizeof *v);
  if (!t || !g || !m || !v) {
    fprintf(stderr, "bench: setup failed\n");
    return 1;
  }
  const loss_options o = opts(2.0f, 0.3f, 1);
  const adamw_options ao = {1e-4f, 0.9f, 0.999f, 1e-8f, 1e-5f};
  {
    student_config c0 = c;
    c0.dropout = 0.0f;
    student_trainer *t0 = student_trainer_create(&c0, B, T);
    printf("default student: %zu floats of parameters, trainer memory %.1f MB (batch %d, T %d; %.1f MB without "
           "dropout)\n",
           p.nf, student_trainer_bytes(t) / 1e6, B, T, student_trainer_bytes(t0) / 1e6);
    student_trainer_free(t0);
  }
  double tf = 0, tb = 0, ta = 0, cpu = 0;
  const int reps = 3;
  for (int r = 0; r <= reps; r++) {
    double c0 = cpu_s(), t0 = now_s();
    step_loss(t, &p, p.params, NULL, &o, 1, (unsigned long long)r);
    double t1 = now_s();
    memset(g, 0, p.nf * sizeof *g);
    double L = step_loss(t, &p, p.params, g, &o, 1, (unsigned long long)r);
    double t2 = now_s();
    clip_grad_norm(g, p.nf, 1.0);
    adamw_step(p.params, g, m, v, p.nf, r + 1, &ao);
    double t3 = now_s(), c3 = cpu_s();
    printf("  step %d: loss %.4f, forward %.3f s, forward+backward %.3f s, clip+adamw %.3f s\n", r, L, t1 - t0,
           t2 - t1, t3 - t2);
    if (r > 0) { /* the first is a warm-up */
      tf += t1 - t0;
      tb += t2 - t1;
      ta += t3 - t2;
      cpu += c3 - c0;
    }
  }
  const double frames = (double)B * T * reps;
  printf("one thread: forward %.0f frames/s; forward+backward+adamw %.0f frames/s (%.3f s per batch of %d x %d); "
         "CPU time per batch (forward + forward+backward+adamw) %.3f s of %.3f s wall\n",
         frames / tf, frames / (tb + ta), (tb + ta) / reps, B, T, cpu / reps, (tf + tb + ta) / reps);
  free(g);
  free(m);
  free(v);
  student_trainer_free(t);
  problem_free(&p);
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "--bench")) return bench();
  snprintf(tmpdir, sizeof tmpdir, "/tmp/chordlet-student-XXXXXX");
  if (!mkdtemp(tmpdir)) {
    fprintf(stderr, "mkdtemp failed\n");
    return 1;
  }
  const student_config c = tiny_config();
  printf("1. gradients against PyTorch (float64)\n");
  loss_options o = opts(2.0f, 0.0f, 0);
  grad_case("focal gamma 2", &c, 2, 10, &o, 1);
  o = opts(0.0f, 0.0f, 0);
  grad_case("focal gamma 0 (CE)", &c, 2, 10, &o, 2);
  o = opts(2.0f, 0.5f, 0);
  grad_case("plain KD a=0.5", &c, 2, 10, &o, 3);
  o = opts(2.0f, 0.3f, 1);
  grad_case("selective KD a=0.3", &c, 2, 10, &o, 4);
  o = opts(2.0f, 1.0f, 1);
  grad_case("selective KD a=1", &c, 2, 10, &o, 5);
  kd_only_every = 3; /* stage 2 with real-music windows: KD-only frames beside labelled ones */
  o = opts(2.0f, 0.3f, 1);
  grad_case("KD-only frames, selective KD a=0.3", &c, 2, 10, &o, 9);
  o = opts(2.0f, 0.0f, 0);
  grad_case("KD-only frames ignored without KD", &c, 2, 10, &o, 10);
  o = opts(2.0f, 0.0f, 1); /* stage 2: ground truth alone on renders, KD alone on real music */
  o.kd_only_weight = 0.6f;
  grad_case("KD-only frames weighted 0.6, labelled frames a=0", &c, 2, 10, &o, 11);
  o = opts(2.0f, 0.3f, 0);
  o.kd_only_weight = 1.0f;
  grad_case("KD-only frames weighted 1, labelled frames a=0.3", &c, 2, 10, &o, 12);
  kd_only_every = 0;
  {
    student_config cl = c; /* several query blocks, a band narrower than the window */
    cl.context = 70;
    cl.lookahead = 2;
    o = opts(2.0f, 0.3f, 1);
    grad_case("T=150 context 70 lookahead 2", &cl, 1, 150, &o, 6);
    student_config cg = c; /* 3 groups, no ALiBi, no lookahead, one head per part */
    cg.n_groups = 3;
    cg.heads_f = 1;
    cg.heads_t = 1;
    cg.heads_d = 1;
    cg.alibi = 0;
    cg.lookahead = 0;
    cg.context = 3;
    o = opts(1.5f, 0.3f, 0);
    grad_case("G=3 no alibi la=0 gamma 1.5", &cg, 3, 7, &o, 7);
    student_config cn = c; /* no frequency-encoder layer */
    cn.layers_f = 0;
    cn.layers_t = 1;
    cn.layers_d = 1;
    o = opts(2.0f, 0.3f, 1);
    grad_case("layers 0/1/1", &cn, 2, 10, &o, 8);
  }
  printf("2. dropout\n");
  dropout_checks();
  clip_checks();
  printf("3. AdamW\n");
  adamw_case();
  printf("4. inference forward\n");
  forward_case("tiny", &c, 3, 20, 23);
  {
    student_config cl = c;
    cl.context = 70;
    cl.lookahead = 2;
    forward_case("tiny T=150 context 70 lookahead 2", &cl, 2, 150, 24);
    student_config cd = student_config_default();
    forward_case("default config", &cd, 2, 200, 25);
  }
  cleanup_tmp();
  int rc = check_summary("test_student_grad");
  if (rc == 0 && torch_missing) return 77;
  return rc;
}
