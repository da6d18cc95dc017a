#ifndef RESNET18_WINOGRAD_INT8_H
#define RESNET18_WINOGRAD_INT8_H

#include <stddef.h>
#include <stdint.h>

/// One 3x3 stride-1 pad-1 convolution by Winograd F(2x2, 3x3) in int8 (AVX-512 VNNI), u8 nhwc in and out, with
/// the bias, the residual sum and the ReLU. The 16 transform points each have their own scale: input tiles are
/// transformed exactly (integers in [-510, 1020]) and requantized to s8 by `point_multipliers`; weights are
/// transformed and quantized per point and output channel beforehand (`resnet18_winograd_int8_transform_weights`).
typedef struct {
    int batch, channels_in, channels_out, side;
    const uint8_t *src;                 ///< nhwc u8: [batch][side][side][channels_in]
    uint8_t *dst;                       ///< nhwc u8: [batch][side][side][channels_out] (may be `residual`)
    const int8_t *weights;              ///< [16][channels_in / 4][channels_out][4] s8
    const int32_t *compensation;        ///< [16][channels_out]: 128 x the sum over input channels of the weights
    const float *dequantize;            ///< [16][channels_out]: product units to dst units, per point and channel
    const int16_t *point_multipliers;   ///< [16]: input transform to s8, x / 4096 (a Q12 multiplier, 1-32767)
    const float *bias;                  ///< [channels_out], in dst units
    const void *residual;               ///< nhwc identity added before the ReLU (u8, or s8 when residual_signed), or NULL
    int residual_signed;
    float residual_scale;               ///< identity units to dst units
    void *scratch;                      ///< resnet18_winograd_int8_scratch_bytes(...) bytes, 64-byte aligned
    int threads;                        ///< OpenMP threads (libgomp's team, shared with oneDNN)
} resnet18_winograd_int8_conv;

/// Whether this CPU runs the kernel (AVX-512 VNNI).
int resnet18_winograd_int8_supported(void);

/// Whether a shape is one the kernel takes: input channels a multiple of 32, output channels of 64.
int resnet18_winograd_int8_accepts(int channels_in, int channels_out);

/// Scratch bytes for one convolution of this shape on `threads` threads.
size_t resnet18_winograd_int8_scratch_bytes(int batch, int channels_in, int channels_out, int side, int threads);

/// Transforms OIHW f32 weights (G g G^T per output and input channel) and quantizes them per transform point and
/// output channel to s8 in the kernel's layout; writes `weights` (16 x channels_in x channels_out bytes),
/// `compensation` and `scales` ([16][channels_out]: s8 value = scale x transformed weight).
void resnet18_winograd_int8_transform_weights(const float *oihw, int channels_in, int channels_out,
                                               int8_t *weights, int32_t *compensation, float *scales);

/// Runs the convolution; returns 0, or -1 when the CPU or the shape is not supported (nothing written).
int resnet18_winograd_int8_run(const resnet18_winograd_int8_conv *conv);

#endif
