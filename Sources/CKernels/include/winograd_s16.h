#ifndef RESNET18_WINOGRAD_S16_H
#define RESNET18_WINOGRAD_S16_H

#include <stddef.h>
#include <stdint.h>

/// One 3x3 stride-1 pad-1 convolution by Winograd F(4x4, 3x3) in 16-bit integers (AVX-512 VNNI's vpdpwssd, or AVX2's
/// vpmaddwd), u8 nhwc in and out, with the bias, the residual sum and the ReLU. The u8 input tiles are transformed
/// exactly (integers within ±25500, no rounding and no calibration); the weights, transformed beforehand, are rounded
/// per transform point and output channel to as many bits as keep every sum inside int32
/// (`resnet18_winograd_s16_transform_weights`).
typedef struct {
    int batch, channels_in, channels_out, side;
    const uint8_t *src;                 ///< nhwc u8: [batch][side][side][channels_in]
    uint8_t *dst;                       ///< nhwc u8: [batch][side][side][channels_out] (may be `residual`)
    const int16_t *weights;             ///< from resnet18_winograd_s16_transform_weights on this CPU (its layout is the form's)
    const float *dequantize;            ///< [36][channels_out]: product units to dst units, per point and channel
    const float *bias;                  ///< [channels_out], in dst units
    const void *residual;               ///< nhwc identity added before the ReLU (u8, or s8 when residual_signed), or NULL
    int residual_signed;
    float residual_scale;               ///< identity units to dst units
    void *scratch;                      ///< resnet18_winograd_s16_scratch_bytes(...) bytes, 64-byte aligned
    int threads;                        ///< OpenMP threads (libgomp's team, shared with oneDNN)
} resnet18_winograd_s16_conv;

/// The kernel's form on this CPU: 2 with AVX-512 VNNI (vpdpwssd), 1 with AVX2 and FMA alone (vpmaddwd + vpaddd, the
/// same integers and the same output), 0 where it cannot run.
int resnet18_winograd_s16_form(void);

/// Whether this CPU runs the kernel in either form.
int resnet18_winograd_s16_supported(void);

/// Whether a shape is one the kernel takes: input channels a multiple of 32, output channels of 64.
int resnet18_winograd_s16_accepts(int channels_in, int channels_out);

/// Scratch bytes for one convolution of this shape on `threads` threads.
size_t resnet18_winograd_s16_scratch_bytes(int batch, int channels_in, int channels_out, int side, int threads);

/// Transforms OIHW f32 weights (G g G^T per output and input channel) and rounds them per transform point and output
/// channel to 16-bit integers in the kernel's layout; writes `weights` (36 x channels_in x channels_out int16) and
/// `scales` ([36][channels_out]: integer = scale x transformed weight).
void resnet18_winograd_s16_transform_weights(const float *oihw, int channels_in, int channels_out, int16_t *weights,
                                             float *scales);

/// Where `resnet18_winograd_s16_transform_weights` puts the weight of point p, input channel c and output channel o
/// for the kernel's `form` (`resnet18_winograd_s16_form()`).
size_t resnet18_winograd_s16_weight_index(int form, int p, int c, int o, int channels_in, int channels_out);

/// Runs the convolution; returns 0, or -1 when the CPU or the shape is not supported (nothing written).
int resnet18_winograd_s16_run(const resnet18_winograd_s16_conv *conv);

#endif
