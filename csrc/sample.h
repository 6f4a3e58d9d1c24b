/* csrc/sample.h — what the context needs from the sampler to run its chain on a GPU. */
#ifndef FH1_SAMPLE_H
#define FH1_SAMPLE_H

#include "falcon_h1.h"
#include "cuda/backend.h"

/* Fills the GPU sampler's arguments for the next choice and draws its uniform number (the same
 * draw fh1_sampler_sample would make). Returns 0, drawing nothing, when the penalty window has
 * more distinct tokens than the GPU takes; the caller then samples on the CPU. */
int fh1_sampler_gpu_args(fh1_sampler *s, fh1_gpu_sample *a);
/* Undoes the draw of the last fh1_sampler_gpu_args (the GPU could not decide; the CPU redraws). */
void fh1_sampler_undo_draw(fh1_sampler *s);

#endif
