/* lv2_host_util.h: the pieces of a small LV2 host that tests/test_lv2_host.c
 * and bench/bench_lv2.c share: a URID map (a table; the host's main thread
 * maps, the plugin maps at instantiate), and the worker (lv2:worker), whose
 * jobs go from run() to a worker thread through a lock-free ring (a host's
 * schedule_work must not lock: it is called on the audio thread) and whose
 * responses come back through another, delivered after run(), as jalv does.
 * A worker may also run jobs inline, inside schedule_work, as a host does
 * when freewheeling, or (job_delay_us) late: each job waits that long first,
 * as a worker that cannot keep up with a host running run() flat out. Header-only (static functions): one includer per
 * program. */
#ifndef CHORDLET_TESTS_LV2_HOST_UTIL_H
#define CHORDLET_TESTS_LV2_HOST_UTIL_H

#include <lilv/lilv.h>
#include <lv2/urid/urid.h>
#include <lv2/worker/worker.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "spsc.h"

/* ------------------------------------------------------------- urid:map */

enum { HOST_MAX_URIS = 512 };
static char *host_uri_table[HOST_MAX_URIS];
static int host_n_uris = 0;

static LV2_URID map_uri(LV2_URID_Map_Handle h, const char *uri) {
  (void)h;
  for (int i = 0; i < host_n_uris; i++)
    if (strcmp(host_uri_table[i], uri) == 0) return (LV2_URID)(i + 1);
  if (host_n_uris == HOST_MAX_URIS) return 0;
  host_uri_table[host_n_uris] = strdup(uri);
  return (LV2_URID)++host_n_uris;
}

static inline const char *unmap_uri(LV2_URID_Unmap_Handle h, LV2_URID urid) {
  (void)h;
  return urid >= 1 && (int)urid <= host_n_uris ? host_uri_table[urid - 1] : NULL;
}

static inline void host_free_uris(void) {
  for (int i = 0; i < host_n_uris; i++) free(host_uri_table[i]);
  host_n_uris = 0;
}

/* --------------------------------------------------------------- worker */

enum { HOST_MSG_BYTES = 2048, HOST_RING = 64 };
typedef struct host_message {
  uint32_t size;
  unsigned char data[HOST_MSG_BYTES];
} host_message;

typedef struct host_worker {
  LilvInstance *instance;
  const LV2_Worker_Interface *iface;
  int threaded; /* 0: jobs run inline in schedule_work */
  spsc_ring jobs, responses;
  host_message *job_slots, *response_slots;
  pthread_t thread;
  atomic_int stop;
  atomic_int busy;     /* a job is being worked on */
  atomic_int refuse_responses; /* > 0: the next responses fail as if the ring were full (tests) */
  atomic_int job_delay_us;     /* > 0: the worker thread waits this long before each job (tests) */
  double busy_seconds; /* time inside work() (worker thread only) */
} host_worker;

static inline double host_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static LV2_Worker_Status host_respond(LV2_Worker_Respond_Handle h, uint32_t size, const void *data) {
  host_worker *w = h;
  if (atomic_load(&w->refuse_responses) > 0) {
    atomic_fetch_sub(&w->refuse_responses, 1);
    return LV2_WORKER_ERR_NO_SPACE;
  }
  host_message *m = spsc_write_slot(&w->responses);
  if (!m || size > HOST_MSG_BYTES) return LV2_WORKER_ERR_NO_SPACE;
  m->size = size;
  memcpy(m->data, data, size);
  spsc_write_commit(&w->responses);
  return LV2_WORKER_SUCCESS;
}

static LV2_Worker_Status host_schedule(LV2_Worker_Schedule_Handle h, uint32_t size, const void *data) {
  host_worker *w = h;
  if (!w->threaded) return w->iface->work(lilv_instance_get_handle(w->instance), host_respond, w, size, data);
  host_message *m = spsc_write_slot(&w->jobs);
  if (!m || size > HOST_MSG_BYTES) return LV2_WORKER_ERR_NO_SPACE;
  m->size = size;
  memcpy(m->data, data, size);
  spsc_write_commit(&w->jobs);
  return LV2_WORKER_SUCCESS;
}

static void *host_worker_main(void *arg) {
  host_worker *w = arg;
  for (;;) {
    const host_message *m = spsc_read_slot(&w->jobs);
    if (!m) {
      if (atomic_load(&w->stop)) break;
      nanosleep(&(struct timespec){0, 100000}, NULL);
      continue;
    }
    atomic_store(&w->busy, 1);
    const int delay_us = atomic_load(&w->job_delay_us);
    if (delay_us > 0) nanosleep(&(struct timespec){delay_us / 1000000, (long)(delay_us % 1000000) * 1000}, NULL);
    const double t0 = host_now();
    w->iface->work(lilv_instance_get_handle(w->instance), host_respond, w, m->size, m->data);
    w->busy_seconds += host_now() - t0;
    spsc_read_commit(&w->jobs);
    atomic_store(&w->busy, 0);
  }
  return NULL;
}

/* Sets the worker up for an instance (iface may be NULL: no worker). */
static inline void host_worker_start(host_worker *w, LilvInstance *instance, int threaded) {
  w->instance = instance;
  w->iface = lilv_instance_get_extension_data(instance, LV2_WORKER__interface);
  w->threaded = threaded;
  w->job_slots = calloc(HOST_RING, sizeof(host_message));
  w->response_slots = calloc(HOST_RING, sizeof(host_message));
  spsc_init(&w->jobs, w->job_slots, HOST_RING, sizeof(host_message));
  spsc_init(&w->responses, w->response_slots, HOST_RING, sizeof(host_message));
  atomic_init(&w->stop, 0);
  atomic_init(&w->busy, 0);
  atomic_init(&w->refuse_responses, 0);
  atomic_init(&w->job_delay_us, 0);
  w->busy_seconds = 0;
  if (threaded && w->iface) pthread_create(&w->thread, NULL, host_worker_main, w);
}

/* Hands the worker's responses to the plugin (after run()). */
static inline void host_deliver_responses(host_worker *w) {
  const host_message *m;
  while (w->iface && (m = spsc_read_slot(&w->responses))) {
    w->iface->work_response(lilv_instance_get_handle(w->instance), m->size, m->data);
    spsc_read_commit(&w->responses);
  }
}

/* Waits until the worker has nothing left to do. */
static inline void host_worker_idle(host_worker *w) {
  while (w->threaded && w->iface && (spsc_count(&w->jobs) > 0 || atomic_load(&w->busy)))
    nanosleep(&(struct timespec){0, 100000}, NULL);
}

/* Finishes the jobs, stops the thread, frees the rings. */
static inline void host_worker_stop(host_worker *w) {
  host_worker_idle(w);
  if (w->threaded && w->iface) {
    atomic_store(&w->stop, 1);
    pthread_join(w->thread, NULL);
  }
  host_deliver_responses(w);
  free(w->job_slots);
  free(w->response_slots);
  w->job_slots = w->response_slots = NULL;
}

#endif
