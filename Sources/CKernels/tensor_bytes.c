// A tensor from the wire (KServe binary FP32, gRPC raw_input_contents: 600 kB an image) in one pass: each value
// copied and its exponent looked at on the way, instead of a copy and then a second pass over the copy to find
// NaN or infinity. The loop does not stop at the first one, so that it vectorises.
#include <stdint.h>
#include <string.h>
#include "tensor_bytes.h"

int resnet18_copy_finite_f32le(float *dst, const void *src, size_t count) {
    const unsigned char *from = src;
    uint32_t *to = (uint32_t *)dst;
    uint32_t exponent_all_ones = 0;
    for (size_t i = 0; i < count; i++) {
        uint32_t bits;
        memcpy(&bits, from + i * 4, 4);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        bits = __builtin_bswap32(bits);
#endif
        // Sets the top bit exactly when the exponent's eight bits are all ones.
        exponent_all_ones |= (bits & 0x7F800000u) + 0x00800000u;
        to[i] = bits;
    }
    return (exponent_all_ones & 0x80000000u) == 0;
}
