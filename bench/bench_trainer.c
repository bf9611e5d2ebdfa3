/* bench_trainer.c: `make bench`, the student trainer's throughput in frames
 * per second of one training step (forward + loss + backward, combining the
 * threads' gradients, clip_grad_norm, adamw_step) for the shipped
 * configuration: student_config_default() (dropout 0.3), batch 16 windows of
 * 256 frames, focal loss (gamma 2) + selective KD (alpha 0.3, T 3, conf
 * 0.1..0.9) against random teacher logits peaked on one class, random
 * features in [-11.5, 2] (the range of ln(|C| + 1e-5)) and random labels;
 * AdamW lr 3e-4, weight decay 1e-5, clip 1.0 (chordlet-train's defaults).
 * On 1 thread (one trainer over the batch) and on 2 threads (the batch split
 * in two halves: one trainer per thread, pthreads, OpenBLAS on one thread
 * each, gradients combined weighted by frame counts, then one clip and one
 * AdamW step), with dropout 0.3 and 0. (trainer/train.c split its batch so
 * until issue 16; it now trains one window per slot and sums the slots
 * exactly, train_step.h, which bench/bench_mpi.sh measures.)
 * Baseline, in the same run: the same model, loss and optimiser in PyTorch
 * float32 with dropout 0.3 at the same places, on 2 threads (the target's
 * baseline) and on 1 (bench/torch_student.py, run with /usr/bin/python3;
 * skipped, saying why, without it or without torch). Target: >= 2x PyTorch
 * on 2 threads. PyTorch's OpenMP threads meet at every operator, so on a
 * machine whose cores are busy with other work its 2-thread run can be far
 * slower than its 1-thread run; the output then says so and also compares
 * against PyTorch's faster run.
 * Times are the median of STEPS steps after one warm-up step (argv[1]
 * changes STEPS, for both); "cores used" is CPU seconds per wall second over
 * the timed steps (2 threads on 2 idle cores: near 2). The machine is shared,
 * so expect 10-30 % noise. */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "adamw.h"
#include "bench_util.h"
#include "student.h"
#include "student_train.h"

enum { BATCH = 16, FRAMES = 256, MAX_THREADS = 2 };
static const double TARGET_RATIO = 2.0;
static const char *PYTHON = "/usr/bin/python3", *TORCH_SCRIPT = "bench/torch_student.py";

static double cpu_seconds(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + 1e-6 * (u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
  return v[n / 2];
}

static unsigned long long rng_state = 0x9E3779B97F4A7C15ull;
static double uniform01(void) { /* splitmix64 -> [0, 1) */
  unsigned long long z = (rng_state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return (double)((z ^ (z >> 31)) >> 11) / 9007199254740992.0;
}
static double gauss(void) {
  double u = uniform01(), v = uniform01();
  return sqrt(-2.0 * log(u + 1e-300)) * cos(6.283185307179586 * v);
}

typedef struct worker {
  student_trainer *trainer;
  float *grads; /* (n_floats) */
  const float *params, *x, *teacher;
  const int *labels;
  int b;
  size_t n_floats;
  const loss_options *o;
  unsigned long long seed;
  loss_report report;
  double loss;
} worker;

static void *worker_run(void *arg) {
  worker *w = arg;
  memset(w->grads, 0, w->n_floats * sizeof *w->grads);
  w->loss = student_trainer_step(w->trainer, w->params, w->grads, w->x, w->labels, w->teacher, w->b, w->o, 1,
                                 w->seed, &w->report);
  return NULL;
}

typedef struct result {
  double ms, ms_fb, ms_opt, fps;
  double cores; /* CPU seconds per wall second over the timed steps */
  size_t bytes;
  double loss0, loss1;
  int ok;
} result;

/* `steps` timed steps after one warm-up step, from fresh parameters. */
static result run_c(float dropout, int n_threads, int steps, const float *x, const int *labels,
                    const float *teacher) {
  result r = {0};
  student_config c = student_config_default();
  c.dropout = dropout;
  size_t n = 0;
  student_layout(&c, NULL, &n);
  float *params = malloc(n * sizeof *params), *grads = malloc(n * sizeof *grads);
  float *m = calloc(n, sizeof *m), *v = calloc(n, sizeof *v);
  const loss_options lo = {2.0f, 0.3f, 3.0f, 1, 0.1f, 0.9f, 0.0f};
  const adamw_options ao = {3e-4f, 0.9f, 0.999f, 1e-8f, 1e-5f};
  worker w[MAX_THREADS];
  memset(w, 0, sizeof w);
  const int per = (BATCH + n_threads - 1) / n_threads;
  int bad = !params || !grads || !m || !v;
  for (int k = 0; k < n_threads && !bad; k++) {
    const int lo_w = k * per, hi_w = lo_w + per < BATCH ? lo_w + per : BATCH;
    w[k].trainer = student_trainer_create(&c, per, FRAMES);
    w[k].grads = malloc(n * sizeof *w[k].grads);
    w[k].params = params;
    w[k].x = x + (size_t)lo_w * FRAMES * c.n_bins;
    w[k].labels = labels + (size_t)lo_w * FRAMES;
    w[k].teacher = teacher + (size_t)lo_w * FRAMES * c.n_classes;
    w[k].b = hi_w - lo_w;
    w[k].n_floats = n;
    w[k].o = &lo;
    bad |= !w[k].trainer || !w[k].grads;
    if (w[k].trainer) r.bytes += student_trainer_bytes(w[k].trainer);
  }
  if (bad) {
    fprintf(stderr, "bench_trainer: out of memory\n");
    goto done;
  }
  student_init(&c, params, 1);
  double *t_all = malloc((size_t)steps * sizeof *t_all), *t_fb = malloc((size_t)steps * sizeof *t_fb),
         *t_opt = malloc((size_t)steps * sizeof *t_opt);
  double cpu0 = 0, wall0 = 0;
  for (int s = 0; s <= steps; s++) {
    if (s == 1) cpu0 = cpu_seconds(), wall0 = bench_now();
    const double t0 = bench_now();
    pthread_t tid[MAX_THREADS];
    int started[MAX_THREADS] = {0};
    for (int k = 0; k < n_threads; k++) {
      w[k].seed = 0x100000001B3ull + (unsigned long long)s * MAX_THREADS + (unsigned long long)k;
      started[k] = k > 0 && pthread_create(&tid[k], NULL, worker_run, &w[k]) == 0;
      if (k > 0 && !started[k]) worker_run(&w[k]);
    }
    worker_run(&w[0]);
    for (int k = 1; k < n_threads; k++)
      if (started[k]) pthread_join(tid[k], NULL);
    const double t1 = bench_now();
    long frames = 0;
    double loss = 0;
    for (int k = 0; k < n_threads; k++) frames += w[k].report.frames;
    memset(grads, 0, n * sizeof *grads);
    for (int k = 0; k < n_threads; k++) {
      const double share = (double)w[k].report.frames / (double)frames;
      const float f = (float)share;
      for (size_t i = 0; i < n; i++) grads[i] += f * w[k].grads[i];
      loss += share * w[k].loss;
    }
    clip_grad_norm(grads, n, 1.0);
    adamw_step(params, grads, m, v, n, s + 1, &ao);
    const double t2 = bench_now();
    if (s == 0) r.loss0 = loss;
    r.loss1 = loss;
    if (s > 0) {
      t_all[s - 1] = t2 - t0;
      t_fb[s - 1] = t1 - t0;
      t_opt[s - 1] = t2 - t1;
    }
  }
  r.cores = (cpu_seconds() - cpu0) / (bench_now() - wall0);
  r.ms = median(t_all, steps) * 1e3;
  r.ms_fb = median(t_fb, steps) * 1e3;
  r.ms_opt = median(t_opt, steps) * 1e3;
  r.fps = BATCH * FRAMES / (r.ms * 1e-3);
  r.ok = 1;
  free(t_all);
  free(t_fb);
  free(t_opt);
done:
  for (int k = 0; k < n_threads; k++) {
    student_trainer_free(w[k].trainer);
    free(w[k].grads);
  }
  free(params);
  free(grads);
  free(m);
  free(v);
  return r;
}

/* The PyTorch baseline: frames/s and ms/step, or 0 with the reason in why. */
static char TORCH_VERSION_TEXT[64] = "";

static int run_torch(int threads, float dropout, int steps, double *fps, double *ms, double *cores, char *why,
                     size_t n_why) {
  if (access(PYTHON, X_OK) != 0) {
    snprintf(why, n_why, "%s is missing", PYTHON);
    return 0;
  }
  if (access(TORCH_SCRIPT, R_OK) != 0) {
    snprintf(why, n_why, "%s is missing (run from the repository root)", TORCH_SCRIPT);
    return 0;
  }
  char cmd[512];
  /* Debian's torch does its matrix products in OpenBLAS, whose own thread
   * pool ignores torch.set_num_threads: pin it to one thread per torch thread
   * (as the C trainer pins it), or "1 thread" runs on every core and "2"
   * oversubscribes them. */
  snprintf(cmd, sizeof cmd,
           "OMP_NUM_THREADS=%d OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 %s %s --threads %d --batch %d --frames %d "
           "--steps %d --dropout %g",
           threads, PYTHON, TORCH_SCRIPT, threads, BATCH, FRAMES, steps, (double)dropout);
  fflush(stdout);
  FILE *p = popen(cmd, "r");
  if (!p) {
    snprintf(why, n_why, "cannot run %s", PYTHON);
    return 0;
  }
  char line[512];
  int have = 0;
  snprintf(why, n_why, "%s printed no frames_per_second", TORCH_SCRIPT);
  while (fgets(line, sizeof line, p)) {
    if (sscanf(line, "frames_per_second %lf", fps) == 1) have |= 1;
    else if (sscanf(line, "ms_per_step %lf", ms) == 1) have |= 2;
    else if (sscanf(line, "torch_version %63s", TORCH_VERSION_TEXT) == 1) have |= 4;
    else if (sscanf(line, "cpu_per_wall %lf", cores) == 1) have |= 8;
    else if (strncmp(line, "skipped ", 8) == 0) {
      line[strcspn(line, "\n")] = 0;
      snprintf(why, n_why, "torch is not importable (%.200s)", line + 8);
    }
  }
  int status = pclose(p);
  if ((have & 3) != 3 || status != 0) return 0;
  return 1;
}

static void read_loadavg(char *out, size_t n) {
  FILE *f = fopen("/proc/loadavg", "r");
  out[0] = 0;
  if (f) {
    if (fgets(out, (int)n, f)) out[strcspn(out, " ")] = 0;
    fclose(f);
  }
}

int main(int argc, char **argv) {
  const int steps = argc > 1 && atoi(argv[1]) > 0 ? atoi(argv[1]) : 3;
  openblas_set_num_threads(1);
  const student_config c = student_config_default();
  const size_t nx = (size_t)BATCH * FRAMES * c.n_bins, nl = (size_t)BATCH * FRAMES,
               nt = (size_t)BATCH * FRAMES * c.n_classes;
  float *x = malloc(nx * sizeof *x), *teacher = malloc(nt * sizeof *teacher);
  int *labels = malloc(nl * sizeof *labels);
  if (!x || !teacher || !labels) {
    fprintf(stderr, "bench_trainer: out of memory\n");
    return 1;
  }
  for (size_t i = 0; i < nx; i++) x[i] = (float)(-11.5 + 13.5 * uniform01());
  for (size_t i = 0; i < nl; i++) labels[i] = (int)(uniform01() * c.n_classes);
  for (size_t f = 0; f < nl; f++) {
    float *a = teacher + f * c.n_classes;
    for (int k = 0; k < c.n_classes; k++) a[k] = (float)(2.0 * gauss());
    a[(int)(uniform01() * c.n_classes)] = 15.0f;
  }
  char load[64];
  read_loadavg(load, sizeof load);
  printf("chordlet bench (student trainer): batch %d x %d frames = %d frames per step, student_config_default(), "
         "focal gamma 2 + selective KD alpha 0.3; median of %d steps after 1 warm-up step; %ld cores online, "
         "load average %s at start\n\n",
         BATCH, FRAMES, BATCH * FRAMES, steps, sysconf(_SC_NPROCESSORS_ONLN), load);

  struct {
    int threads;
    float dropout;
    result r;
  } rows[3];
  const int n_rows = 3, row_threads[3] = {1, 2, 2};
  const float row_dropout[3] = {0.3f, 0.3f, 0.0f};
  memset(rows, 0, sizeof rows);
  for (int i = 0; i < n_rows; i++) rows[i].threads = row_threads[i], rows[i].dropout = row_dropout[i];
  for (int i = 0; i < n_rows; i++) {
    rows[i].r = run_c(rows[i].dropout, rows[i].threads, steps, x, labels, teacher);
    if (!rows[i].r.ok) return 1;
  }
  /* PyTorch on 1 and on 2 threads: torch's OpenMP threads meet at every
   * operator, so on a busy machine 2 threads can be slower than 1. */
  double t_fps[3] = {0}, t_ms[3] = {0}, t_cores[3] = {0};
  char why[256] = "";
  int have_torch[3] = {0};
  for (int th = 1; th <= 2; th++) {
    have_torch[th] = run_torch(th, 0.3f, steps, &t_fps[th], &t_ms[th], &t_cores[th], why, sizeof why);
    if (!have_torch[th]) break;
  }

  printf("| implementation | threads | dropout | ms/step | of which fwd+bwd | of which combine+clip+AdamW | "
         "cores used | frames/s | vs PyTorch (same threads, dropout 0.3) |\n");
  printf("|---|---|---|---|---|---|---|---|---|\n");
  for (int i = 0; i < n_rows; i++) {
    const result *r = &rows[i].r;
    const int th = rows[i].threads;
    char ratio[64];
    if (!have_torch[th]) snprintf(ratio, sizeof ratio, "-");
    else if (rows[i].dropout != 0.3f) snprintf(ratio, sizeof ratio, "(%.2fx; dropout differs)", r->fps / t_fps[th]);
    else snprintf(ratio, sizeof ratio, "%.2fx", r->fps / t_fps[th]);
    printf("| chordlet C trainer | %d | %.1f | %.0f | %.0f | %.1f | %.2f | %.0f | %s |\n", th, (double)rows[i].dropout,
           r->ms, r->ms_fb, r->ms_opt, r->cores, r->fps, ratio);
  }
  for (int th = 1; th <= 2; th++) {
    if (have_torch[th])
      printf("| baseline: PyTorch %s float32 (torch_student.py) | %d | 0.3 | %.0f | - | - | %.2f | %.0f | 1.00x |\n",
             TORCH_VERSION_TEXT, th, t_ms[th], t_cores[th], t_fps[th]);
    else
      printf("| baseline: PyTorch (torch_student.py) | %d | 0.3 | skipped | - | - | - | - | - |\n", th);
  }
  printf("\n");
  for (int i = 0; i < n_rows; i++)
    printf("C trainer, %d thread%s, dropout %.1f: activations %.0f MB; loss %.4f at the warm-up step, %.4f at the last\n",
           rows[i].threads, rows[i].threads > 1 ? "s" : "", (double)rows[i].dropout, rows[i].r.bytes / 1e6,
           rows[i].r.loss0, rows[i].r.loss1);
  if (have_torch[2]) {
    const double ratio = rows[1].r.fps / t_fps[2];
    printf("target: >= %.0fx PyTorch on 2 threads (both dropout 0.3): %.2fx -> %s\n", TARGET_RATIO, ratio,
           ratio >= TARGET_RATIO ? "met" : "NOT met");
    const int best = t_fps[1] > t_fps[2] ? 1 : 2;
    if (best == 1) {
      const double r2 = rows[1].r.fps / t_fps[1];
      printf("note: PyTorch ran slower on 2 threads than on 1 (%.0f vs %.0f frames/s): its OpenMP threads synchronise "
             "at every operator and were preempted by other processes here, so the 2-thread baseline is unreliable on "
             "this machine. Against PyTorch's faster run (1 thread), C on 2 threads is %.2fx -> %s; C on 1 thread is "
             "%.2fx PyTorch on 1 thread\n",
             t_fps[2], t_fps[1], r2, r2 >= TARGET_RATIO ? "met" : "NOT met", rows[0].r.fps / t_fps[1]);
    }
  } else {
    printf("PyTorch baseline skipped: %s; target (>= %.0fx PyTorch on 2 threads) not checked\n", why, TARGET_RATIO);
  }
  if (rows[1].r.fps < 1.3 * rows[0].r.fps)
    printf("note: the C trainer gained only %.2fx from a second thread (it got %.2f cores' worth of CPU time): the "
           "cores were busy with other processes\n",
           rows[1].r.fps / rows[0].r.fps, rows[1].r.cores);
  read_loadavg(load, sizeof load);
  printf("load average %s at the end (other processes share the cores: 2-thread rows suffer most)\n", load);
  free(x);
  free(teacher);
  free(labels);
  return 0;
}
