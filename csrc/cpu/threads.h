/* csrc/cpu/threads.h — a persistent worker pool. A job runs fn(arg, ith, nth) on every thread
 * (the caller is thread 0); inside a job, threads meet at spin barriers. Idle workers sleep. */
#ifndef FH1_THREADS_H
#define FH1_THREADS_H

typedef struct fh1_pool fh1_pool;
typedef void (*fh1_job_fn)(void *arg, int ith, int nth);

fh1_pool *fh1_pool_new(int n_threads);
void fh1_pool_free(fh1_pool *p);
int fh1_pool_size(const fh1_pool *p);
void fh1_pool_run(fh1_pool *p, fh1_job_fn fn, void *arg);
void fh1_barrier(fh1_pool *p);

/* The [begin, end) share of n items for thread ith of nth. */
static inline void fh1_split(int n, int ith, int nth, int *begin, int *end) {
    int per = n / nth, rem = n % nth;
    *begin = ith * per + (ith < rem ? ith : rem);
    *end = *begin + per + (ith < rem ? 1 : 0);
}

#endif
