import CKernels
import Testing

/// The int8 Winograd F(2x2, 3x3) kernel against a float convolution of the same u8 input, bias, residual and ReLU.
@Suite struct Int8WinogradKernelTests {
    /// A small deterministic generator, so a failure can be replayed.
    struct Generator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 33
        }
        mutating func uniform() -> Float { Float(next() % 1_000_000) / 1_000_000 }
    }

    /// A copy of `values` at an address that stays valid until it is deallocated: a C struct holds its pointers
    /// past the call that fills it, which an array's implicit pointer does not outlive. `alignment` for kernels that
    /// load whole vectors from aligned addresses.
    static func pinned<T>(_ values: [T], alignment: Int = MemoryLayout<T>.alignment) -> UnsafeMutableBufferPointer<T> {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(values.count, 1) * MemoryLayout<T>.stride,
                                                            alignment: max(alignment, MemoryLayout<T>.alignment))
            .bindMemory(to: T.self)
        _ = buffer.initialize(from: values)
        return buffer
    }

    /// A convolution's test case from `seed`: u8 input (about half of it zero like a ReLU output, the rest anywhere
    /// up to 255), OIHW 3x3 weights, bias, and the residual (u8, s8 or none) as stored bytes.
    static func testCase(seed: UInt64, batch: Int, side: Int, channelsIn: Int, channelsOut: Int, signedResidual: Bool?)
        -> (source: [UInt8], weights: [Float], bias: [Float], residual: [UInt8]?) {
        var random = Generator(state: seed)
        let source = (0..<(batch * side * side * channelsIn)).map { _ in random.uniform() < 0.5 ? UInt8(0) : UInt8(random.next() % 256) }
        let weights = (0..<(channelsOut * channelsIn * 9)).map { _ in (random.uniform() - 0.5) * 0.06 }
        let bias = (0..<channelsOut).map { _ in (random.uniform() - 0.5) * 4 }
        let residual: [UInt8]? = signedResidual.map { signed in
            (0..<(batch * side * side * channelsOut)).map { _ in
                signed ? UInt8(bitPattern: Int8(Int(random.next() % 255) - 127)) : UInt8(random.next() % 256)
            }
        }
        return (source, weights, bias, residual)
    }

    /// Runs the kernel and the reference on one shape; returns (max, mean) absolute difference in output levels.
    static func compare(batch: Int, side: Int, channelsIn: Int, channelsOut: Int, signedResidual: Bool?) throws -> (Int, Double) {
        let (source, weights, bias, residual) = testCase(seed: UInt64(side * 1000 + channelsIn), batch: batch, side: side,
                                                         channelsIn: channelsIn, channelsOut: channelsOut,
                                                         signedResidual: signedResidual)
        let inputScale: Float = 20, outputScale: Float = 12, residualScale: Float = 10

        // Each transform point's largest value over this input, in levels (calibration measures it in real units).
        let tilesAlong = (side + 1) / 2
        var pointMax = [Float](repeating: 0, count: 16)
        for n in 0..<batch {
            for c in 0..<channelsIn {
                for ty in 0..<tilesAlong {
                    for tx in 0..<tilesAlong {
                        var d = [[Float]](repeating: [Float](repeating: 0, count: 4), count: 4)
                        for a in 0..<4 {
                            for b in 0..<4 {
                                let y = ty * 2 - 1 + a, x = tx * 2 - 1 + b
                                if (0..<side).contains(y) && (0..<side).contains(x) {
                                    d[a][b] = Float(source[((n * side + y) * side + x) * channelsIn + c])
                                }
                            }
                        }
                        let bt: [[Float]] = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]
                        for i in 0..<4 {
                            for j in 0..<4 {
                                var v: Float = 0
                                for a in 0..<4 { for b in 0..<4 { v += bt[i][a] * d[a][b] * bt[j][b] } }
                                pointMax[i * 4 + j] = max(pointMax[i * 4 + j], abs(v))
                            }
                        }
                    }
                }
            }
        }
        let multipliers = pointMax.map { Int16(max(1, min(32767, $0 > 0 ? (4096 * 127 / $0).rounded() : 32767))) }

        var transformed = [Int8](repeating: 0, count: 16 * channelsIn * channelsOut)
        var compensation = [Int32](repeating: 0, count: 16 * channelsOut)
        var weightScales = [Float](repeating: 0, count: 16 * channelsOut)
        resnet18_winograd_int8_transform_weights(weights, Int32(channelsIn), Int32(channelsOut), &transformed, &compensation, &weightScales)
        var dequantize = [Float](repeating: 0, count: 16 * channelsOut)
        for p in 0..<16 {
            for o in 0..<channelsOut {
                dequantize[p * channelsOut + o] = outputScale / (inputScale * Float(multipliers[p]) / 4096 * weightScales[p * channelsOut + o])
            }
        }
        let levelsBias = bias.map { $0 * outputScale }
        var output = residual ?? [UInt8](repeating: 0, count: batch * side * side * channelsOut)
        let scratchBytes = resnet18_winograd_int8_scratch_bytes(Int32(batch), Int32(channelsIn), Int32(channelsOut), Int32(side), 2)
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: scratchBytes, alignment: 64)
        defer { scratch.deallocate() }
        let (src, u, c, dq, pm, b) = (Self.pinned(source), Self.pinned(transformed), Self.pinned(compensation),
                                      Self.pinned(dequantize), Self.pinned(multipliers), Self.pinned(levelsBias))
        defer { src.deallocate(); u.deallocate(); c.deallocate(); dq.deallocate(); pm.deallocate(); b.deallocate() }
        let status = output.withUnsafeMutableBufferPointer { out in
            (residual ?? []).withUnsafeBufferPointer { identity in
                var conv = resnet18_winograd_int8_conv(
                    batch: Int32(batch), channels_in: Int32(channelsIn), channels_out: Int32(channelsOut), side: Int32(side),
                    src: src.baseAddress, dst: out.baseAddress, weights: u.baseAddress, compensation: c.baseAddress,
                    dequantize: dq.baseAddress, point_multipliers: pm.baseAddress, bias: b.baseAddress,
                    residual: residual == nil ? nil : UnsafeRawPointer(identity.baseAddress),
                    residual_signed: signedResidual == true ? 1 : 0, residual_scale: outputScale / residualScale,
                    scratch: scratch, threads: 2)
                return resnet18_winograd_int8_run(&conv)
            }
        }
        try #require(status == 0)

        return Self.levelsOff(output, source: source, batch: batch, side: side, channelsIn: channelsIn, channelsOut: channelsOut,
                              weights: weights, bias: bias, inputScale: inputScale, outputScale: outputScale,
                              residual: residual.map { ($0, signedResidual == true, residualScale) })
    }

    /// How far `output` (u8 nhwc, at `outputScale`) is from a float convolution of the u8 `source` (at `inputScale`)
    /// with `weights` (OIHW) and `bias`, plus the residual, after the ReLU: (max, mean) in output levels.
    static func levelsOff(_ output: [UInt8], source: [UInt8], batch: Int, side: Int, channelsIn: Int, channelsOut: Int,
                          weights: [Float], bias: [Float], inputScale: Float, outputScale: Float,
                          residual: (levels: [UInt8], signed: Bool, scale: Float)?) -> (Int, Double) {
        var largest = 0, total = 0
        for n in 0..<batch {
            for y in 0..<side {
                for x in 0..<side {
                    for o in 0..<channelsOut {
                        var sum = Double(bias[o])
                        for ky in 0..<3 {
                            for kx in 0..<3 {
                                let iy = y + ky - 1, ix = x + kx - 1
                                guard (0..<side).contains(iy), (0..<side).contains(ix) else { continue }
                                let base = ((n * side + iy) * side + ix) * channelsIn
                                for c in 0..<channelsIn where source[base + c] != 0 {
                                    sum += Double(source[base + c]) / Double(inputScale) * Double(weights[((o * channelsIn + c) * 3 + ky) * 3 + kx])
                                }
                            }
                        }
                        let at = ((n * side + y) * side + x) * channelsOut + o
                        if let residual {
                            let level = residual.signed ? Double(Int8(bitPattern: residual.levels[at])) : Double(residual.levels[at])
                            sum += level / Double(residual.scale)
                        }
                        let expected = Int(max(0, min(255, (max(0, sum) * Double(outputScale)).rounded())))
                        let difference = abs(expected - Int(output[at]))
                        largest = max(largest, difference)
                        total += difference
                    }
                }
            }
        }
        return (largest, Double(total) / Double(output.count))
    }

    @Test("F(2x2) int8 matches a float convolution within a few levels: odd and even maps, u8 and s8 residuals",
          .enabled(if: resnet18_winograd_int8_supported() != 0, "needs AVX-512 VNNI"), arguments: [(3, 7, Bool?.none), (2, 6, Bool?.some(false)), (1, 14, Bool?.some(true))])
    func matchesFloatConvolution(batch: Int, side: Int, signedResidual: Bool?) throws {
        let (largest, mean) = try Self.compare(batch: batch, side: side, channelsIn: 64, channelsOut: 128, signedResidual: signedResidual)
        print("int8 Winograd batch \(batch), \(side)x\(side), residual \(signedResidual.map { $0 ? "s8" : "u8" } ?? "none"): max \(largest) levels, mean \(mean)")
        // Measured: at most 2 levels off, 0.12-0.19 on average (the 8-bit requantization of each transform point).
        #expect(largest <= 4, "max \(largest) levels")
        #expect(mean < 0.4, "mean \(mean) levels")
    }
}
