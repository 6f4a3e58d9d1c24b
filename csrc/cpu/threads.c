/* csrc/cpu/threads.c — worker pool with a sense-reversing spin barrier.
 * Spinning is bounded: after a while a waiter yields, so oversubscribed machines still progress. */
#include "threads.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define CPU_RELAX() __asm__ __volatile__("yield")
#else
#define CPU_RELAX() ((void)0)
#endif

struct fh1_pool {
    int n;
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_int generation; /* bumped for each job */
    atomic_int stop;
    fh1_job_fn fn;
    void *arg;
    atomic_int done;       /* workers finished with the current job */
    /* barrier */
    atomic_int bar_count;
    atomic_int bar_sense;
};

typedef struct {
    fh1_pool *p;
    int ith;
} worker_arg;

static void spin_wait(atomic_int *v, int until) {
    for (int i = 0; atomic_load_explicit(v, memory_order_acquire) != until; i++) {
        if (i < 20000) CPU_RELAX();
        else sched_yield();
    }
}

void fh1_barrier(fh1_pool *p) {
    if (p->n == 1) return;
    const int sense = atomic_load_explicit(&p->bar_sense, memory_order_relaxed);
    if (atomic_fetch_add_explicit(&p->bar_count, 1, memory_order_acq_rel) == p->n - 1) {
        atomic_store_explicit(&p->bar_count, 0, memory_order_relaxed);
        atomic_store_explicit(&p->bar_sense, !sense, memory_order_release);
    } else {
        spin_wait(&p->bar_sense, !sense);
    }
}

static void *worker(void *a) {
    worker_arg *wa = a;
    fh1_pool *p = wa->p;
    const int ith = wa->ith;
    free(wa);
    int seen = 0;
    for (;;) {
        /* spin briefly for the next job (decode loops come back quickly), then sleep */
        int gen;
        int spins = 0;
        while ((gen = atomic_load_explicit(&p->generation, memory_order_acquire)) == seen && !atomic_load(&p->stop)) {
            if (++spins < 50000) {
                CPU_RELAX();
                continue;
            }
            pthread_mutex_lock(&p->mu);
            while (atomic_load(&p->generation) == seen && !atomic_load(&p->stop)) pthread_cond_wait(&p->cv, &p->mu);
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load(&p->stop)) return NULL;
        seen = gen;
        p->fn(p->arg, ith, p->n);
        atomic_fetch_add_explicit(&p->done, 1, memory_order_acq_rel);
    }
}

fh1_pool *fh1_pool_new(int n) {
    if (n < 1) n = 1;
    fh1_pool *p = calloc(1, sizeof(*p));
    if (!p) return NULL;
    p->n = n;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->threads = calloc((size_t)n, sizeof(pthread_t));
    if (!p->threads) { free(p); return NULL; }
    for (int i = 1; i < n; i++) {
        worker_arg *wa = malloc(sizeof(*wa));
        wa->p = p;
        wa->ith = i;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 8u << 20);
        if (pthread_create(&p->threads[i], &attr, worker, wa) != 0) {
            free(wa);
            p->n = i; /* run with what we have */
            pthread_attr_destroy(&attr);
            break;
        }
        pthread_attr_destroy(&attr);
    }
    return p;
}

int fh1_pool_size(const fh1_pool *p) { return p->n; }

void fh1_pool_run(fh1_pool *p, fh1_job_fn fn, void *arg) {
    if (p->n == 1) {
        fn(arg, 0, 1);
        return;
    }
    p->fn = fn;
    p->arg = arg;
    atomic_store(&p->done, 0);
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add_explicit(&p->generation, 1, memory_order_acq_rel);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    fn(arg, 0, p->n);
    spin_wait(&p->done, p->n - 1);
}

void fh1_pool_free(fh1_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->stop, 1);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->n; i++) pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p->threads);
    free(p);
}
