import CDNNL
import Foundation

/// The rate oneDNN reaches on one direct 64→64 3x3 convolution at 56×56 (batch 1) in a precision's data types
/// (f32; bf16; u8 activations with s8 weights), the reference against which `bench` reports how much of the
/// machine the whole network uses. The int8 figure counts a multiply-add as two operations, as the fp32 one.
public enum ConvolutionPeak {
    /// Median GFLOP/s (GOP/s in int8) over `runs` executions on `threads` threads.
    public static func measure(threads: Int, precision: Precision = .fp32, runs: Int = 50) throws(ResNetError) -> Double {
        DNNLEngine.setThreads(threads)
        let engine = try DNNLEngine()
        let (activations, weightType) = switch precision {
        case .fp32: (dnnl_f32, dnnl_f32)
        case .bf16: (dnnl_bf16, dnnl_bf16)
        case .int8: (dnnl_u8, dnnl_s8)
        }
        let src = try MemoryDesc(dims: [1, 64, 56, 56], type: activations, tag: dnnl_format_tag_any)
        let weights = try MemoryDesc(dims: [64, 64, 3, 3], type: weightType, tag: dnnl_format_tag_any)
        let bias = try MemoryDesc(dims: [64], type: dnnl_f32, tag: dnnl_a)
        var desc = dnnl_convolution_desc_t()
        var s = src.raw, w = weights.raw, b = bias.raw, d = src.raw
        let strides: [Int64] = [1, 1], padding: [Int64] = [1, 1]
        try dnnlCheck(dnnl_convolution_forward_desc_init(&desc, dnnl_forward_inference, dnnl_convolution_direct,
                                                         &s, &w, &b, &d, strides, padding, padding), "peak convolution")
        let attr = try DNNLAttributes(userScratchpad: false)
        var pd: dnnl_primitive_desc_t?
        try dnnlCheck(dnnl_primitive_desc_create(&pd, &desc, attr.handle, engine.engine, nil), "peak convolution")
        let primitiveDesc = DNNLPrimitiveDesc(pd!)
        let primitive = try DNNLPrimitive(primitiveDesc)
        let memories = [
            (DNNLArg.src, try DNNLMemory(primitiveDesc.src, engine: engine)),
            (DNNLArg.weights, try DNNLMemory(primitiveDesc.weights, engine: engine)),
            (DNNLArg.bias, try DNNLMemory(bias, engine: engine)),
            (DNNLArg.dst, try DNNLMemory(primitiveDesc.dst, engine: engine)),
        ]
        for (arg, memory) in memories {
            memset(memory.pointer, 0, memory.desc.byteCount)
            primitive.bind(arg, memory)
        }
        let flops = 2.0 * 64 * 64 * 9 * 56 * 56
        var rates: [Double] = []
        for run in 0..<(runs + 5) {
            let start = ContinuousClock.now
            try primitive.execute(on: engine)
            try engine.wait()
            let elapsed = ContinuousClock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            if run >= 5 { rates.append(flops / seconds / 1e9) }
        }
        return rates.sorted()[rates.count / 2]
    }
}
