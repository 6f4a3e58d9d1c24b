/* quant/quants.c — reference (scalar) quantization and dequantization of ggml's block formats.
 * Byte layouts follow ggml exactly; the quantizers use ggml's reference search algorithms
 * (spec gguf-falcon-h1.md §2.3) so the round-trip error is the same as llama-quantize's without
 * an importance matrix. The SIMD kernels of every backend must agree with these. */
#include "blocks.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>

#define GROUP_MAX_EPS 1e-15f
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* round half to even for |x| < 2^22, as ggml's nearest_int (add 1.5·2^23, read the mantissa) */
static inline int nearest_int(float x) {
    float v = x + 12582912.f;
    int i;
    memcpy(&i, &v, sizeof(int));
    return (i & 0x007fffff) - 0x00400000;
}

/* ---- legacy 32-element formats ------------------------------------------------------------ */

static void quantize_q4_0(const float *x, block_q4_0 *y, int64_t n) {
    for (int64_t i = 0; i < n / 32; i++, x += 32) {
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < 32; j++)
            if (amax < fabsf(x[j])) { amax = fabsf(x[j]); max = x[j]; }
        const float d = max / -8;
        const float id = d ? 1.0f / d : 0.0f;
        y[i].d = fh1_float_to_half(d);
        for (int j = 0; j < 16; j++) {
            const uint8_t a = (uint8_t)MIN(15, (int8_t)(x[j] * id + 8.5f));
            const uint8_t b = (uint8_t)MIN(15, (int8_t)(x[j + 16] * id + 8.5f));
            y[i].qs[j] = (uint8_t)(a | (b << 4));
        }
    }
}

static void quantize_q4_1(const float *x, block_q4_1 *y, int64_t n) {
    for (int64_t i = 0; i < n / 32; i++, x += 32) {
        float mn = x[0], mx = x[0];
        for (int j = 1; j < 32; j++) { mn = x[j] < mn ? x[j] : mn; mx = x[j] > mx ? x[j] : mx; }
        const float d = (mx - mn) / 15;
        const float id = d ? 1.0f / d : 0.0f;
        y[i].d = fh1_float_to_half(d);
        y[i].m = fh1_float_to_half(mn);
        for (int j = 0; j < 16; j++) {
            const uint8_t a = (uint8_t)MIN(15, (int8_t)((x[j] - mn) * id + 0.5f));
            const uint8_t b = (uint8_t)MIN(15, (int8_t)((x[j + 16] - mn) * id + 0.5f));
            y[i].qs[j] = (uint8_t)(a | (b << 4));
        }
    }
}

static void quantize_q5_0(const float *x, block_q5_0 *y, int64_t n) {
    for (int64_t i = 0; i < n / 32; i++, x += 32) {
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < 32; j++)
            if (amax < fabsf(x[j])) { amax = fabsf(x[j]); max = x[j]; }
        const float d = max / -16;
        const float id = d ? 1.0f / d : 0.0f;
        y[i].d = fh1_float_to_half(d);
        uint32_t qh = 0;
        for (int j = 0; j < 16; j++) {
            const uint8_t a = (uint8_t)MIN(31, (int8_t)(x[j] * id + 16.5f));
            const uint8_t b = (uint8_t)MIN(31, (int8_t)(x[j + 16] * id + 16.5f));
            y[i].qs[j] = (uint8_t)((a & 15) | ((b & 15) << 4));
            qh |= ((uint32_t)(a >> 4) & 1u) << j;
            qh |= ((uint32_t)(b >> 4) & 1u) << (j + 16);
        }
        memcpy(y[i].qh, &qh, 4);
    }
}

static void quantize_q5_1(const float *x, block_q5_1 *y, int64_t n) {
    for (int64_t i = 0; i < n / 32; i++, x += 32) {
        float mn = x[0], mx = x[0];
        for (int j = 1; j < 32; j++) { mn = x[j] < mn ? x[j] : mn; mx = x[j] > mx ? x[j] : mx; }
        const float d = (mx - mn) / 31;
        const float id = d ? 1.0f / d : 0.0f;
        y[i].d = fh1_float_to_half(d);
        y[i].m = fh1_float_to_half(mn);
        uint32_t qh = 0;
        for (int j = 0; j < 16; j++) {
            const uint8_t a = (uint8_t)((x[j] - mn) * id + 0.5f);
            const uint8_t b = (uint8_t)((x[j + 16] - mn) * id + 0.5f);
            y[i].qs[j] = (uint8_t)((a & 15) | ((b & 15) << 4));
            qh |= ((uint32_t)(a >> 4) & 1u) << j;
            qh |= ((uint32_t)(b >> 4) & 1u) << (j + 16);
        }
        memcpy(y[i].qh, &qh, 4);
    }
}

/* Q8_0: d = amax/127, q = roundf(x / d) (half away from zero). */
static void quantize_q8_0(const float *x, block_q8_0 *y, int64_t n) {
    for (int64_t i = 0; i < n / QK8_0; i++) {
        float amax = 0.0f;
        for (int j = 0; j < QK8_0; j++) {
            const float v = fabsf(x[i * QK8_0 + j]);
            if (v > amax) amax = v;
        }
        const float d = amax / 127.0f;
        const float id = d ? 1.0f / d : 0.0f;
        y[i].d = fh1_float_to_half(d);
        for (int j = 0; j < QK8_0; j++) y[i].qs[j] = (int8_t)roundf(x[i * QK8_0 + j] * id);
    }
}

/* ---- K-quant search helpers ------------------------------------------------------------------ */

/* Symmetric: signed codes in [-nmax, nmax-1], scale refined over 19 candidate iscales (weights x²). */
static float search_symmetric(int n, int nmax, const float *x, int8_t *L) {
    float max = 0, amax = 0;
    for (int i = 0; i < n; ++i)
        if (fabsf(x[i]) > amax) { amax = fabsf(x[i]); max = x[i]; }
    if (amax < GROUP_MAX_EPS) {
        for (int i = 0; i < n; ++i) L[i] = 0;
        return 0.f;
    }
    float iscale = -nmax / max;
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; ++i) {
        int l = MAX(-nmax, MIN(nmax - 1, nearest_int(iscale * x[i])));
        L[i] = (int8_t)(l + nmax);
        const float w = x[i] * x[i];
        sumlx += w * x[i] * l;
        suml2 += w * l * l;
    }
    float scale = suml2 ? sumlx / suml2 : 0.0f;
    float best = scale * sumlx;
    for (int is = -9; is <= 9; ++is) {
        if (is == 0) continue;
        iscale = -(nmax + 0.1f * is) / max;
        sumlx = suml2 = 0;
        for (int i = 0; i < n; ++i) {
            const int l = MAX(-nmax, MIN(nmax - 1, nearest_int(iscale * x[i])));
            const float w = x[i] * x[i];
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        if (suml2 > 0 && sumlx * sumlx > best * suml2) {
            for (int i = 0; i < n; ++i) L[i] = (int8_t)(nmax + MAX(-nmax, MIN(nmax - 1, nearest_int(iscale * x[i]))));
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    return scale;
}

/* 3-bit symmetric search with iterative per-element refinement (Q3_K). Codes in L are signed until
 * the end, then offset by nmax. */
static float search_q3(int n, int nmax, const float *x, int8_t *L) {
    float max = 0, amax = 0;
    for (int i = 0; i < n; ++i)
        if (fabsf(x[i]) > amax) { amax = fabsf(x[i]); max = x[i]; }
    if (amax < GROUP_MAX_EPS) {
        for (int i = 0; i < n; ++i) L[i] = 0;
        return 0.f;
    }
    const float iscale = -nmax / max;
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; ++i) {
        const int l = MAX(-nmax, MIN(nmax - 1, nearest_int(iscale * x[i])));
        L[i] = (int8_t)l;
        const float w = x[i] * x[i];
        sumlx += w * x[i] * l;
        suml2 += w * l * l;
    }
    for (int itry = 0; itry < 5; ++itry) {
        int changed = 0;
        for (int i = 0; i < n; ++i) {
            const float w = x[i] * x[i];
            float slx = sumlx - w * x[i] * L[i];
            if (slx > 0) {
                float sl2 = suml2 - w * L[i] * L[i];
                const int nl = MAX(-nmax, MIN(nmax - 1, nearest_int(x[i] * sl2 / slx)));
                if (nl != L[i]) {
                    slx += w * x[i] * nl;
                    sl2 += w * nl * nl;
                    if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
                        L[i] = (int8_t)nl;
                        sumlx = slx;
                        suml2 = sl2;
                        ++changed;
                    }
                }
            }
        }
        if (!changed) break;
    }
    for (int i = 0; i < n; ++i) L[i] = (int8_t)(L[i] + nmax);
    return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

/* Asymmetric (scale, min) search: codes in [0, nmax], weighted least squares over nstep+1
 * candidate iscales; returns the scale and writes the (positive) min. */
static float search_scale_min(int n, int nmax, const float *x, const float *w, uint8_t *L, float *the_min, uint8_t *Laux, float rmin,
                              float rdelta, int nstep, int use_mad) {
    float mn = x[0], mx = x[0];
    float sum_w = w[0], sum_x = sum_w * x[0];
    for (int i = 1; i < n; ++i) {
        if (x[i] < mn) mn = x[i];
        if (x[i] > mx) mx = x[i];
        sum_w += w[i];
        sum_x += w[i] * x[i];
    }
    if (mn > 0) mn = 0;
    if (mx == mn) {
        for (int i = 0; i < n; ++i) L[i] = 0;
        *the_min = -mn;
        return 0.f;
    }
    float iscale = nmax / (mx - mn);
    float scale = 1 / iscale;
    float best = 0;
    for (int i = 0; i < n; ++i) {
        L[i] = (uint8_t)MAX(0, MIN(nmax, nearest_int(iscale * (x[i] - mn))));
        float diff = scale * L[i] + mn - x[i];
        diff = use_mad ? fabsf(diff) : diff * diff;
        best += w[i] * diff;
    }
    for (int is = 0; is <= nstep; ++is) {
        iscale = (rmin + rdelta * is + nmax) / (mx - mn);
        float sum_l = 0, sum_l2 = 0, sum_xl = 0;
        for (int i = 0; i < n; ++i) {
            const int l = MAX(0, MIN(nmax, nearest_int(iscale * (x[i] - mn))));
            Laux[i] = (uint8_t)l;
            sum_l += w[i] * l;
            sum_l2 += w[i] * l * l;
            sum_xl += w[i] * l * x[i];
        }
        const float D = sum_w * sum_l2 - sum_l * sum_l;
        if (D > 0) {
            float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
            float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
            if (this_min > 0) {
                this_min = 0;
                this_scale = sum_xl / sum_l2;
            }
            float err = 0;
            for (int i = 0; i < n; ++i) {
                float diff = this_scale * Laux[i] + this_min - x[i];
                diff = use_mad ? fabsf(diff) : diff * diff;
                err += w[i] * diff;
            }
            if (err < best) {
                memcpy(L, Laux, (size_t)n);
                best = err;
                scale = this_scale;
                mn = this_min;
            }
        }
    }
    *the_min = -mn;
    return scale;
}

/* search_scale_min for 8 sub-blocks at once, one per AVX2 lane. The scalar search is bound by
 * its sequential sums; here every lane performs exactly the scalar operations in the scalar order
 * (no reassociation, no FMA), so the results are bit-identical, 8 searches per instruction
 * stream. x and w are lane-minor: xt[i*8 + j] is element i of sub-block j. */
#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define X8_TARGET __attribute__((target("avx2")))
static X8_TARGET __m256i nearest_int8(__m256 v) {
    const __m256i bits = _mm256_castps_si256(_mm256_add_ps(v, _mm256_set1_ps(12582912.f)));
    return _mm256_sub_epi32(_mm256_and_si256(bits, _mm256_set1_epi32(0x007fffff)), _mm256_set1_epi32(0x00400000));
}
static X8_TARGET void search_scale_min_x8(int n, int nmax, const float *xt, const float *wt, uint8_t *L, int ldl, float *scale_out, float *min_out,
                                          float rmin, float rdelta, int nstep, int use_mad) {
    int32_t Lt[32 * 8] __attribute__((aligned(32))), La[32 * 8] __attribute__((aligned(32)));
    const __m256 zero = _mm256_setzero_ps(), sign = _mm256_set1_ps(-0.0f);
    const __m256i lo = _mm256_setzero_si256(), hi = _mm256_set1_epi32(nmax);
    __m256 mn = _mm256_loadu_ps(xt), mx = mn, sum_w = _mm256_loadu_ps(wt), sum_x = _mm256_mul_ps(sum_w, mn);
    for (int i = 1; i < n; ++i) {
        const __m256 x = _mm256_loadu_ps(xt + 8 * i), w = _mm256_loadu_ps(wt + 8 * i);
        mn = _mm256_min_ps(x, mn); /* x < mn ? x : mn */
        mx = _mm256_max_ps(x, mx); /* x > mx ? x : mx */
        sum_w = _mm256_add_ps(sum_w, w);
        sum_x = _mm256_add_ps(sum_x, _mm256_mul_ps(w, x));
    }
    mn = _mm256_blendv_ps(mn, zero, _mm256_cmp_ps(mn, zero, _CMP_GT_OQ));
    const __m256 flat = _mm256_cmp_ps(mx, mn, _CMP_EQ_OQ);
    __m256 iscale = _mm256_div_ps(_mm256_set1_ps((float)nmax), _mm256_sub_ps(mx, mn));
    __m256 scale = _mm256_div_ps(_mm256_set1_ps(1.0f), iscale);
    __m256 best = zero;
    for (int i = 0; i < n; ++i) {
        const __m256 x = _mm256_loadu_ps(xt + 8 * i), w = _mm256_loadu_ps(wt + 8 * i);
        const __m256i l = _mm256_max_epi32(lo, _mm256_min_epi32(hi, nearest_int8(_mm256_mul_ps(iscale, _mm256_sub_ps(x, mn)))));
        _mm256_store_si256((__m256i *)(Lt + 8 * i), l);
        __m256 diff = _mm256_sub_ps(_mm256_add_ps(_mm256_mul_ps(scale, _mm256_cvtepi32_ps(l)), mn), x);
        diff = use_mad ? _mm256_andnot_ps(sign, diff) : _mm256_mul_ps(diff, diff);
        best = _mm256_add_ps(best, _mm256_mul_ps(w, diff));
    }
    for (int is = 0; is <= nstep; ++is) {
        /* as in the scalar search, mn is the best candidate's min so far */
        iscale = _mm256_div_ps(_mm256_set1_ps(rmin + rdelta * is + nmax), _mm256_sub_ps(mx, mn));
        __m256 sum_l = zero, sum_l2 = zero, sum_xl = zero;
        for (int i = 0; i < n; ++i) {
            const __m256 x = _mm256_loadu_ps(xt + 8 * i), w = _mm256_loadu_ps(wt + 8 * i);
            const __m256i l = _mm256_max_epi32(lo, _mm256_min_epi32(hi, nearest_int8(_mm256_mul_ps(iscale, _mm256_sub_ps(x, mn)))));
            _mm256_store_si256((__m256i *)(La + 8 * i), l);
            const __m256 lf = _mm256_cvtepi32_ps(l), wl = _mm256_mul_ps(w, lf);
            sum_l = _mm256_add_ps(sum_l, wl);
            sum_l2 = _mm256_add_ps(sum_l2, _mm256_mul_ps(wl, lf));
            sum_xl = _mm256_add_ps(sum_xl, _mm256_mul_ps(wl, x));
        }
        const __m256 D = _mm256_sub_ps(_mm256_mul_ps(sum_w, sum_l2), _mm256_mul_ps(sum_l, sum_l));
        const __m256 dpos = _mm256_cmp_ps(D, zero, _CMP_GT_OQ);
        if (!_mm256_movemask_ps(dpos)) continue;
        __m256 this_scale = _mm256_div_ps(_mm256_sub_ps(_mm256_mul_ps(sum_w, sum_xl), _mm256_mul_ps(sum_x, sum_l)), D);
        __m256 this_min = _mm256_div_ps(_mm256_sub_ps(_mm256_mul_ps(sum_l2, sum_x), _mm256_mul_ps(sum_l, sum_xl)), D);
        const __m256 pos_min = _mm256_cmp_ps(this_min, zero, _CMP_GT_OQ);
        this_scale = _mm256_blendv_ps(this_scale, _mm256_div_ps(sum_xl, sum_l2), pos_min);
        this_min = _mm256_blendv_ps(this_min, zero, pos_min);
        __m256 err = zero;
        for (int i = 0; i < n; ++i) {
            const __m256 x = _mm256_loadu_ps(xt + 8 * i), w = _mm256_loadu_ps(wt + 8 * i);
            __m256 diff = _mm256_sub_ps(_mm256_add_ps(_mm256_mul_ps(this_scale, _mm256_cvtepi32_ps(_mm256_load_si256((const __m256i *)(La + 8 * i)))), this_min), x);
            diff = use_mad ? _mm256_andnot_ps(sign, diff) : _mm256_mul_ps(diff, diff);
            err = _mm256_add_ps(err, _mm256_mul_ps(w, diff));
        }
        const __m256 upd = _mm256_and_ps(dpos, _mm256_cmp_ps(err, best, _CMP_LT_OQ));
        if (!_mm256_movemask_ps(upd)) continue;
        const __m256i updi = _mm256_castps_si256(upd);
        for (int i = 0; i < n; ++i) {
            const __m256i a = _mm256_load_si256((const __m256i *)(Lt + 8 * i)), b = _mm256_load_si256((const __m256i *)(La + 8 * i));
            _mm256_store_si256((__m256i *)(Lt + 8 * i), _mm256_blendv_epi8(a, b, updi));
        }
        best = _mm256_blendv_ps(best, err, upd);
        scale = _mm256_blendv_ps(scale, this_scale, upd);
        mn = _mm256_blendv_ps(mn, this_min, upd);
    }
    /* flat sub-blocks (max == min): codes 0, scale 0 */
    scale = _mm256_blendv_ps(scale, zero, flat);
    float sc[8], m[8], fl[8];
    _mm256_storeu_ps(sc, scale);
    _mm256_storeu_ps(m, mn);
    _mm256_storeu_ps(fl, flat);
    for (int j = 0; j < 8; j++) {
        scale_out[j] = sc[j];
        min_out[j] = -m[j];
        for (int i = 0; i < n; i++) L[j * ldl + i] = fl[j] != 0.0f ? 0 : (uint8_t)Lt[8 * i + j];
    }
}
static int have_avx2(void) {
    static int state = -1;
    if (state < 0) {
        __builtin_cpu_init();
        state = __builtin_cpu_supports("avx2") && !getenv("FALCON_H1_QUANT_SCALAR");
    }
    return state;
}
#else
static int have_avx2(void) { return 0; }
static void search_scale_min_x8(int n, int nmax, const float *xt, const float *wt, uint8_t *L, int ldl, float *scale_out, float *min_out,
                                float rmin, float rdelta, int nstep, int use_mad) { (void)n, (void)nmax, (void)xt, (void)wt, (void)L, (void)ldl, (void)scale_out, (void)min_out, (void)rmin, (void)rdelta, (void)nstep, (void)use_mad; }
#endif


static void pack_fh1_k4_scale_min(uint8_t *scales, const float *sc, const float *mins, float max_scale, float max_min) {
    const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
    const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
    for (int j = 0; j < 8; ++j) {
        const uint8_t ls = (uint8_t)MIN(63, (uint8_t)nearest_int(inv_scale * sc[j]));
        const uint8_t lm = (uint8_t)MIN(63, (uint8_t)nearest_int(inv_min * mins[j]));
        if (j < 4) {
            scales[j] = ls;
            scales[j + 4] = lm;
        } else {
            scales[j + 4] = (uint8_t)((ls & 0xF) | ((lm & 0xF) << 4));
            scales[j - 4] |= (uint8_t)((ls >> 4) << 6);
            scales[j] |= (uint8_t)((lm >> 4) << 6);
        }
    }
}

/* ---- K-quants ------------------------------------------------------------------------------ */

static void quantize_q2_K(const float *x, block_q2_K *y, int64_t n) {
    uint8_t L[QK_K], Laux[16];
    float w[16], mins[16], sc[16];
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        float max_scale = 0, max_min = 0;
        if (have_avx2()) {
            for (int h = 0; h < 2; ++h) {
                float xt[16 * 8], wt[16 * 8];
                for (int j = 0; j < 8; ++j)
                    for (int l = 0; l < 16; ++l) xt[8 * l + j] = x[16 * (8 * h + j) + l], wt[8 * l + j] = fabsf(x[16 * (8 * h + j) + l]);
                search_scale_min_x8(16, 3, xt, wt, L + 128 * h, 16, sc + 8 * h, mins + 8 * h, -0.5f, 0.1f, 15, 1);
            }
        } else {
            for (int j = 0; j < 16; ++j) {
                for (int l = 0; l < 16; ++l) w[l] = fabsf(x[16 * j + l]);
                sc[j] = search_scale_min(16, 3, x + 16 * j, w, L + 16 * j, &mins[j], Laux, -0.5f, 0.1f, 15, 1);
            }
        }
        for (int j = 0; j < 16; ++j) {
            if (sc[j] > max_scale) max_scale = sc[j];
            if (mins[j] > max_min) max_min = mins[j];
        }
        if (max_scale > 0) {
            const float iscale = 15.f / max_scale;
            for (int j = 0; j < 16; ++j) y[i].scales[j] = (uint8_t)nearest_int(iscale * sc[j]);
            y[i].d = fh1_float_to_half(max_scale / 15.f);
        } else {
            memset(y[i].scales, 0, 16);
            y[i].d = fh1_float_to_half(0.f);
        }
        if (max_min > 0) {
            const float iscale = 15.f / max_min;
            for (int j = 0; j < 16; ++j) y[i].scales[j] |= (uint8_t)(nearest_int(iscale * mins[j]) << 4);
            y[i].dmin = fh1_float_to_half(max_min / 15.f);
        } else {
            y[i].dmin = fh1_float_to_half(0.f);
        }
        for (int j = 0; j < 16; ++j) {
            const float d = fh1_half_to_float(y[i].d) * (y[i].scales[j] & 0xF);
            if (!d) continue;
            const float dm = fh1_half_to_float(y[i].dmin) * (y[i].scales[j] >> 4);
            for (int ii = 0; ii < 16; ++ii) L[16 * j + ii] = (uint8_t)MAX(0, MIN(3, nearest_int((x[16 * j + ii] + dm) / d)));
        }
        for (int j = 0; j < QK_K; j += 128)
            for (int l = 0; l < 32; ++l)
                y[i].qs[j / 4 + l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
    }
}

static void quantize_q3_K(const float *x, block_q3_K *y, int64_t n) {
    int8_t L[QK_K];
    float sc[16];
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        float max_scale = 0, amax = 0;
        for (int j = 0; j < 16; ++j) {
            sc[j] = search_q3(16, 4, x + 16 * j, L + 16 * j);
            if (fabsf(sc[j]) > amax) { amax = fabsf(sc[j]); max_scale = sc[j]; }
        }
        memset(y[i].scales, 0, 12);
        if (max_scale) {
            const float iscale = -32.f / max_scale;
            for (int j = 0; j < 16; ++j) {
                int8_t l = (int8_t)nearest_int(iscale * sc[j]);
                l = (int8_t)(MAX(-32, MIN(31, l)) + 32);
                if (j < 8) y[i].scales[j] = (uint8_t)(l & 0xF);
                else y[i].scales[j - 8] |= (uint8_t)((l & 0xF) << 4);
                l >>= 4;
                y[i].scales[j % 4 + 8] |= (uint8_t)(l << (2 * (j / 4)));
            }
            y[i].d = fh1_float_to_half(1 / iscale);
        } else {
            y[i].d = fh1_float_to_half(0.f);
        }
        for (int j = 0; j < 16; ++j) {
            const float d = fh1_half_to_float(y[i].d) * fh1_q3_K_scale(j, y[i].scales);
            if (!d) continue;
            for (int ii = 0; ii < 16; ++ii) L[16 * j + ii] = (int8_t)(MAX(-4, MIN(3, nearest_int(x[16 * j + ii] / d))) + 4);
        }
        memset(y[i].hmask, 0, 32);
        int m = 0;
        uint8_t hm = 1;
        for (int j = 0; j < QK_K; ++j) {
            if (L[j] > 3) {
                y[i].hmask[m] |= hm;
                L[j] = (int8_t)(L[j] - 4);
            }
            if (++m == 32) { m = 0; hm = (uint8_t)(hm << 1); }
        }
        for (int j = 0; j < QK_K; j += 128)
            for (int l = 0; l < 32; ++l)
                y[i].qs[j / 4 + l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
    }
}

/* Q4_K and Q5_K share the scale/min search (nmax 15 or 31) and the 6-bit packing. */
static void quantize_k_scale_min(const float *x, int nmax, float rmin, int nstep, uint16_t *d, uint16_t *dmin, uint8_t *scales, uint8_t *L) {
    uint8_t Laux[32];
    float w[32], mins[8], sc[8];
    float max_scale = 0, max_min = 0;
    float av[8]; /* weights of the search: av_j + |x|, av_j the sub-block's RMS */
    for (int j = 0; j < 8; ++j) {
        float sum_x2 = 0;
        for (int l = 0; l < 32; ++l) sum_x2 += x[32 * j + l] * x[32 * j + l];
        av[j] = sqrtf(sum_x2 / 32);
    }
    if (have_avx2()) {
        float xt[32 * 8], wt[32 * 8];
        for (int j = 0; j < 8; ++j)
            for (int l = 0; l < 32; ++l) xt[8 * l + j] = x[32 * j + l], wt[8 * l + j] = av[j] + fabsf(x[32 * j + l]);
        search_scale_min_x8(32, nmax, xt, wt, L, 32, sc, mins, rmin, 0.1f, nstep, 0);
    } else {
        for (int j = 0; j < 8; ++j) {
            for (int l = 0; l < 32; ++l) w[l] = av[j] + fabsf(x[32 * j + l]);
            sc[j] = search_scale_min(32, nmax, x + 32 * j, w, L + 32 * j, &mins[j], Laux, rmin, 0.1f, nstep, 0);
        }
    }
    for (int j = 0; j < 8; ++j) {
        if (sc[j] > max_scale) max_scale = sc[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    memset(scales, 0, 12);
    pack_fh1_k4_scale_min(scales, sc, mins, max_scale, max_min);
    *d = fh1_float_to_half(max_scale / 63.f);
    *dmin = fh1_float_to_half(max_min / 63.f);
    for (int j = 0; j < 8; ++j) {
        uint8_t s, m;
        fh1_k4_scale_min(j, scales, &s, &m);
        const float dd = fh1_half_to_float(*d) * s;
        if (!dd) continue;
        const float dm = fh1_half_to_float(*dmin) * m;
        for (int ii = 0; ii < 32; ++ii) L[32 * j + ii] = (uint8_t)MAX(0, MIN(nmax, nearest_int((x[32 * j + ii] + dm) / dd)));
    }
}

static void quantize_q4_K(const float *x, block_q4_K *y, int64_t n) {
    uint8_t L[QK_K];
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        quantize_k_scale_min(x, 15, -1.f, 20, &y[i].d, &y[i].dmin, y[i].scales, L);
        uint8_t *q = y[i].qs;
        for (int j = 0; j < QK_K; j += 64, q += 32)
            for (int l = 0; l < 32; ++l) q[l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 4));
    }
}

static void quantize_q5_K(const float *x, block_q5_K *y, int64_t n) {
    uint8_t L[QK_K];
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        quantize_k_scale_min(x, 31, -0.5f, 15, &y[i].d, &y[i].dmin, y[i].scales, L);
        uint8_t *qh = y[i].qh, *ql = y[i].qs;
        memset(qh, 0, 32);
        uint8_t m1 = 1, m2 = 2;
        for (int k = 0; k < QK_K; k += 64, ql += 32) {
            for (int j = 0; j < 32; ++j) {
                int l1 = L[k + j], l2 = L[k + j + 32];
                if (l1 > 15) { l1 -= 16; qh[j] |= m1; }
                if (l2 > 15) { l2 -= 16; qh[j] |= m2; }
                ql[j] = (uint8_t)(l1 | (l2 << 4));
            }
            m1 = (uint8_t)(m1 << 2);
            m2 = (uint8_t)(m2 << 2);
        }
    }
}

static void quantize_q6_K(const float *x, block_q6_K *y, int64_t n) {
    int8_t L[QK_K];
    float sc[16];
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        float max_scale = 0, max_abs = 0;
        for (int ib = 0; ib < 16; ++ib) {
            sc[ib] = search_symmetric(16, 32, x + 16 * ib, L + 16 * ib);
            if (fabsf(sc[ib]) > max_abs) { max_abs = fabsf(sc[ib]); max_scale = sc[ib]; }
        }
        if (max_abs < GROUP_MAX_EPS) {
            memset(&y[i], 0, sizeof(block_q6_K));
            continue;
        }
        const float iscale = -128.f / max_scale;
        y[i].d = fh1_float_to_half(1 / iscale);
        for (int ib = 0; ib < 16; ++ib) y[i].scales[ib] = (int8_t)MIN(127, nearest_int(iscale * sc[ib]));
        for (int j = 0; j < 16; ++j) {
            const float d = fh1_half_to_float(y[i].d) * y[i].scales[j];
            if (!d) continue;
            for (int ii = 0; ii < 16; ++ii) L[16 * j + ii] = (int8_t)(MAX(-32, MIN(31, nearest_int(x[16 * j + ii] / d))) + 32);
        }
        uint8_t *ql = y[i].ql, *qh = y[i].qh;
        for (int j = 0; j < QK_K; j += 128, ql += 64, qh += 32) {
            for (int l = 0; l < 32; ++l) {
                const uint8_t q1 = L[j + l] & 0xF, q2 = L[j + l + 32] & 0xF, q3 = L[j + l + 64] & 0xF, q4 = L[j + l + 96] & 0xF;
                ql[l] = (uint8_t)(q1 | (q3 << 4));
                ql[l + 32] = (uint8_t)(q2 | (q4 << 4));
                qh[l] = (uint8_t)((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) | ((L[j + l + 64] >> 4) << 4) | ((L[j + l + 96] >> 4) << 6));
            }
        }
    }
}

/* Q8_K (activation side of K-quant dot products): d = max/-127 of the signed max, bsums of 16. */
static void quantize_q8_K(const float *x, block_q8_K *y, int64_t n) {
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        float max = 0, amax = 0;
        for (int j = 0; j < QK_K; ++j)
            if (fabsf(x[j]) > amax) { amax = fabsf(x[j]); max = x[j]; }
        if (!amax) {
            memset(&y[i], 0, sizeof(block_q8_K));
            continue;
        }
        const float iscale = -127.f / max;
        for (int j = 0; j < QK_K; ++j) y[i].qs[j] = (int8_t)MIN(127, nearest_int(iscale * x[j]));
        for (int j = 0; j < 16; ++j) {
            int s = 0;
            for (int ii = 0; ii < 16; ++ii) s += y[i].qs[j * 16 + ii];
            y[i].bsums[j] = (int16_t)s;
        }
        y[i].d = 1 / iscale;
    }
}

/* ---- dequantization ------------------------------------------------------------------------ */

void fh1_dequantize_row(int type, const void *src, float *dst, int64_t n) {
    switch (type) {
    case GGML_TYPE_F32:
        memcpy(dst, src, (size_t)n * sizeof(float));
        return;
    case GGML_TYPE_F16:
        for (int64_t i = 0; i < n; i++) dst[i] = fh1_half_to_float(((const uint16_t *)src)[i]);
        return;
    case GGML_TYPE_BF16:
        for (int64_t i = 0; i < n; i++) dst[i] = fh1_bf16_to_float(((const uint16_t *)src)[i]);
        return;
    case GGML_TYPE_Q8_0: {
        const block_q8_0 *b = src;
        for (int64_t i = 0; i < n / 32; i++) {
            const float d = fh1_half_to_float(b[i].d);
            for (int j = 0; j < 32; j++) dst[i * 32 + j] = (float)b[i].qs[j] * d;
        }
        return;
    }
    case GGML_TYPE_Q4_0: {
        const block_q4_0 *b = src;
        for (int64_t i = 0; i < n / 32; i++, dst += 32) {
            const float d = fh1_half_to_float(b[i].d);
            for (int j = 0; j < 16; j++) {
                dst[j] = ((b[i].qs[j] & 0x0F) - 8) * d;
                dst[j + 16] = ((b[i].qs[j] >> 4) - 8) * d;
            }
        }
        return;
    }
    case GGML_TYPE_Q4_1: {
        const block_q4_1 *b = src;
        for (int64_t i = 0; i < n / 32; i++, dst += 32) {
            const float d = fh1_half_to_float(b[i].d), m = fh1_half_to_float(b[i].m);
            for (int j = 0; j < 16; j++) {
                dst[j] = (b[i].qs[j] & 0x0F) * d + m;
                dst[j + 16] = (b[i].qs[j] >> 4) * d + m;
            }
        }
        return;
    }
    case GGML_TYPE_Q5_0: {
        const block_q5_0 *b = src;
        for (int64_t i = 0; i < n / 32; i++, dst += 32) {
            const float d = fh1_half_to_float(b[i].d);
            uint32_t qh;
            memcpy(&qh, b[i].qh, 4);
            for (int j = 0; j < 16; j++) {
                const uint8_t h0 = (uint8_t)(((qh >> j) << 4) & 0x10), h1 = (uint8_t)((qh >> (j + 12)) & 0x10);
                dst[j] = ((int32_t)((b[i].qs[j] & 0x0F) | h0) - 16) * d;
                dst[j + 16] = ((int32_t)((b[i].qs[j] >> 4) | h1) - 16) * d;
            }
        }
        return;
    }
    case GGML_TYPE_Q5_1: {
        const block_q5_1 *b = src;
        for (int64_t i = 0; i < n / 32; i++, dst += 32) {
            const float d = fh1_half_to_float(b[i].d), m = fh1_half_to_float(b[i].m);
            uint32_t qh;
            memcpy(&qh, b[i].qh, 4);
            for (int j = 0; j < 16; j++) {
                const uint8_t h0 = (uint8_t)(((qh >> j) << 4) & 0x10), h1 = (uint8_t)((qh >> (j + 12)) & 0x10);
                dst[j] = (float)((b[i].qs[j] & 0x0F) | h0) * d + m;
                dst[j + 16] = (float)((b[i].qs[j] >> 4) | h1) * d + m;
            }
        }
        return;
    }
    case GGML_TYPE_Q2_K: {
        const block_q2_K *b = src;
        for (int64_t i = 0; i < n / QK_K; i++) {
            const float d = fh1_half_to_float(b[i].d), mn = fh1_half_to_float(b[i].dmin);
            const uint8_t *q = b[i].qs;
            int is = 0;
            for (int k = 0; k < QK_K; k += 128, q += 32) {
                for (int shift = 0; shift < 8; shift += 2) {
                    uint8_t sc = b[i].scales[is++];
                    float dl = d * (sc & 0xF), ml = mn * (sc >> 4);
                    for (int l = 0; l < 16; ++l) *dst++ = dl * ((int8_t)((q[l] >> shift) & 3)) - ml;
                    sc = b[i].scales[is++];
                    dl = d * (sc & 0xF);
                    ml = mn * (sc >> 4);
                    for (int l = 0; l < 16; ++l) *dst++ = dl * ((int8_t)((q[l + 16] >> shift) & 3)) - ml;
                }
            }
        }
        return;
    }
    case GGML_TYPE_Q3_K: {
        const block_q3_K *b = src;
        for (int64_t i = 0; i < n / QK_K; i++) {
            const float d_all = fh1_half_to_float(b[i].d);
            int8_t sc[16];
            for (int j = 0; j < 16; ++j) sc[j] = fh1_q3_K_scale(j, b[i].scales);
            const uint8_t *q = b[i].qs, *hm = b[i].hmask;
            uint8_t m = 1;
            int is = 0;
            for (int k = 0; k < QK_K; k += 128, q += 32) {
                for (int shift = 0; shift < 8; shift += 2) {
                    float dl = d_all * sc[is++];
                    for (int l = 0; l < 16; ++l) *dst++ = dl * ((int8_t)((q[l] >> shift) & 3) - ((hm[l] & m) ? 0 : 4));
                    dl = d_all * sc[is++];
                    for (int l = 0; l < 16; ++l) *dst++ = dl * ((int8_t)((q[l + 16] >> shift) & 3) - ((hm[l + 16] & m) ? 0 : 4));
                    m = (uint8_t)(m << 1);
                }
            }
        }
        return;
    }
    case GGML_TYPE_Q4_K: {
        const block_q4_K *b = src;
        for (int64_t i = 0; i < n / QK_K; i++) {
            const float d = fh1_half_to_float(b[i].d), mn = fh1_half_to_float(b[i].dmin);
            const uint8_t *q = b[i].qs;
            int is = 0;
            for (int j = 0; j < QK_K; j += 64, q += 32) {
                uint8_t sc, m;
                fh1_k4_scale_min(is, b[i].scales, &sc, &m);
                const float d1 = d * sc, m1 = mn * m;
                fh1_k4_scale_min(is + 1, b[i].scales, &sc, &m);
                const float d2 = d * sc, m2 = mn * m;
                for (int l = 0; l < 32; ++l) *dst++ = d1 * (q[l] & 0xF) - m1;
                for (int l = 0; l < 32; ++l) *dst++ = d2 * (q[l] >> 4) - m2;
                is += 2;
            }
        }
        return;
    }
    case GGML_TYPE_Q5_K: {
        const block_q5_K *b = src;
        for (int64_t i = 0; i < n / QK_K; i++) {
            const float d = fh1_half_to_float(b[i].d), mn = fh1_half_to_float(b[i].dmin);
            const uint8_t *ql = b[i].qs, *qh = b[i].qh;
            uint8_t u1 = 1, u2 = 2;
            int is = 0;
            for (int j = 0; j < QK_K; j += 64, ql += 32) {
                uint8_t sc, m;
                fh1_k4_scale_min(is, b[i].scales, &sc, &m);
                const float d1 = d * sc, m1 = mn * m;
                fh1_k4_scale_min(is + 1, b[i].scales, &sc, &m);
                const float d2 = d * sc, m2 = mn * m;
                for (int l = 0; l < 32; ++l) *dst++ = d1 * ((ql[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) - m1;
                for (int l = 0; l < 32; ++l) *dst++ = d2 * ((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
                is += 2;
                u1 = (uint8_t)(u1 << 2);
                u2 = (uint8_t)(u2 << 2);
            }
        }
        return;
    }
    case GGML_TYPE_Q6_K: {
        const block_q6_K *b = src;
        for (int64_t i = 0; i < n / QK_K; i++) {
            const float d = fh1_half_to_float(b[i].d);
            const uint8_t *ql = b[i].ql, *qh = b[i].qh;
            const int8_t *sc = b[i].scales;
            for (int k = 0; k < QK_K; k += 128, dst += 128, ql += 64, qh += 32, sc += 8) {
                for (int l = 0; l < 32; ++l) {
                    const int is = l / 16;
                    const int8_t q1 = (int8_t)((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                    const int8_t q2 = (int8_t)((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                    const int8_t q3 = (int8_t)((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                    const int8_t q4 = (int8_t)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                    dst[l] = d * sc[is] * q1;
                    dst[l + 32] = d * sc[is + 2] * q2;
                    dst[l + 64] = d * sc[is + 4] * q3;
                    dst[l + 96] = d * sc[is + 6] * q4;
                }
            }
        }
        return;
    }
    case GGML_TYPE_Q8_K: {
        const block_q8_K *b = src;
        for (int64_t i = 0; i < n / QK_K; i++)
            for (int j = 0; j < QK_K; j++) *dst++ = b[i].d * b[i].qs[j];
        return;
    }
    default:
        return;
    }
}

size_t fh1_quantize_row(int type, const float *src, void *dst, int64_t n) {
    const int bs = fh1_type_block_size(type);
    if (!bs || n % bs) return 0;
    switch (type) {
    case GGML_TYPE_F32: memcpy(dst, src, (size_t)n * 4); break;
    case GGML_TYPE_F16:
        for (int64_t i = 0; i < n; i++) ((uint16_t *)dst)[i] = fh1_float_to_half(src[i]);
        break;
    case GGML_TYPE_BF16:
        for (int64_t i = 0; i < n; i++) {
            uint32_t u;
            memcpy(&u, &src[i], 4);
            ((uint16_t *)dst)[i] = (u & 0x7fffffff) > 0x7f800000 ? (uint16_t)((u >> 16) | 64) : (uint16_t)((u + 0x7fff + ((u >> 16) & 1)) >> 16);
        }
        break;
    case GGML_TYPE_Q8_0: quantize_q8_0(src, dst, n); break;
    case GGML_TYPE_Q4_0: quantize_q4_0(src, dst, n); break;
    case GGML_TYPE_Q4_1: quantize_q4_1(src, dst, n); break;
    case GGML_TYPE_Q5_0: quantize_q5_0(src, dst, n); break;
    case GGML_TYPE_Q5_1: quantize_q5_1(src, dst, n); break;
    case GGML_TYPE_Q2_K: quantize_q2_K(src, dst, n); break;
    case GGML_TYPE_Q3_K: quantize_q3_K(src, dst, n); break;
    case GGML_TYPE_Q4_K: quantize_q4_K(src, dst, n); break;
    case GGML_TYPE_Q5_K: quantize_q5_K(src, dst, n); break;
    case GGML_TYPE_Q6_K: quantize_q6_K(src, dst, n); break;
    case GGML_TYPE_Q8_K: quantize_q8_K(src, dst, n); break;
    default: return 0;
    }
    return (size_t)(n / bs) * (size_t)fh1_type_size(type);
}

typedef struct {
    int type;
    const float *src;
    uint8_t *dst;
    int64_t r0, r1, ncols;
    size_t row_bytes;
} quant_job;

static void *quant_worker(void *arg) {
    quant_job *j = arg;
    for (int64_t r = j->r0; r < j->r1; r++) fh1_quantize_row(j->type, j->src + r * j->ncols, j->dst + (size_t)r * j->row_bytes, j->ncols);
    return NULL;
}

size_t fh1_quantize_rows(int type, const float *src, void *dst, int64_t nrows, int64_t ncols, int n_threads) {
    const int bs = fh1_type_block_size(type);
    if (!bs || ncols % bs || nrows < 0) return 0;
    const size_t row_bytes = (size_t)(ncols / bs) * (size_t)fh1_type_size(type);
    if (n_threads < 1) n_threads = 1;
    if (n_threads > 64) n_threads = 64;
    if (nrows < n_threads) n_threads = nrows > 0 ? (int)nrows : 1;
    pthread_t th[64];
    quant_job jobs[64];
    for (int t = 0; t < n_threads; t++) {
        jobs[t] = (quant_job){type, src, dst, nrows * t / n_threads, nrows * (t + 1) / n_threads, ncols, row_bytes};
        if (t > 0 && pthread_create(&th[t], NULL, quant_worker, &jobs[t]) != 0) quant_worker(&jobs[t]), th[t] = 0;
    }
    quant_worker(&jobs[0]);
    for (int t = 1; t < n_threads; t++)
        if (th[t]) pthread_join(th[t], NULL);
    return row_bytes * (size_t)nrows;
}
