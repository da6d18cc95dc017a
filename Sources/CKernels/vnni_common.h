// What the project's int8 kernels share: the CPU check and the u8 output epilogue.
#ifndef RESNET18_VNNI_COMMON_H
#define RESNET18_VNNI_COMMON_H

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

#define VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))

static inline int resnet18_cpu_has_vnni(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
}

// 16 output channels `z` (dst units) at element `at`: + the residual there (u8, or s8 when `residual_signed`; none
// when NULL) x `residual_scale`, ReLU, rounded to u8 into `dst`.
VNNI static inline void resnet18_store_u8(__m512 z, const void *residual, int residual_signed, __m512 residual_scale,
                                          uint8_t *dst, size_t at) {
    if (residual) {
        __m128i identity = _mm_loadu_si128((const void *)((const uint8_t *)residual + at));
        __m512i wide = residual_signed ? _mm512_cvtepi8_epi32(identity) : _mm512_cvtepu8_epi32(identity);
        z = _mm512_fmadd_ps(_mm512_cvtepi32_ps(wide), residual_scale, z);
    }
    z = _mm512_max_ps(z, _mm512_setzero_ps());
    _mm_storeu_si128((void *)(dst + at), _mm512_cvtusepi32_epi8(_mm512_cvtps_epi32(z)));
}

#endif
