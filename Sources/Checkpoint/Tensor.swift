/// A named array of numbers from a checkpoint: its shape, element type, and values.
public struct Tensor: Sendable {
    public let shape: [Int]
    public let dtype: DType
    /// Row-major, little-endian element bytes; usually a view of the file's buffer, so loading copies nothing.
    let bytesLittleEndian: ArraySlice<UInt8>

    init(shape: [Int], dtype: DType, bytesLittleEndian: ArraySlice<UInt8>) {
        self.shape = shape
        self.dtype = dtype
        self.bytesLittleEndian = bytesLittleEndian
    }

    /// Number of elements (the product of `shape`; 1 for a scalar).
    var elementCount: Int { bytesLittleEndian.count / dtype.byteCount }

    /// Values converted to Float (float16/bfloat16/float64/ints converted); empty for bool.
    public var floats: [Float] {
        let count = elementCount
        if dtype == .bool || count == 0 { return [] }
        return [Float](unsafeUninitializedCapacity: count) { out, initialized in
            bytesLittleEndian.withUnsafeBytes { raw in
                Self.convert(raw, dtype: dtype, count: count, into: out)
            }
            initialized = count
        }
    }

    private static func convert(
        _ raw: UnsafeRawBufferPointer, dtype: DType, count: Int, into out: UnsafeMutableBufferPointer<Float>
    ) {
        switch dtype {
        case .float32:
            #if _endian(little)
            // The hot path: 11.7 M weights are a single copy.
            UnsafeMutableRawBufferPointer(out).copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[0..<count * 4]))
            #else
            for i in 0..<count {
                out[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)))
            }
            #endif
        case .float16:
            for i in 0..<count {
                out[i] = floatFromHalf(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)))
            }
        case .bfloat16:
            for i in 0..<count {
                let bits = UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))
                out[i] = Float(bitPattern: UInt32(bits) << 16)
            }
        case .float64:
            for i in 0..<count {
                out[i] = Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))))
            }
        case .int64:
            for i in 0..<count {
                out[i] = Float(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: Int64.self)))
            }
        case .int32:
            for i in 0..<count {
                out[i] = Float(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: Int32.self)))
            }
        case .uint8:
            for i in 0..<count { out[i] = Float(raw[i]) }
        case .int8:
            for i in 0..<count { out[i] = Float(Int8(bitPattern: raw[i])) }
        case .bool:
            break
        }
    }

    /// IEEE 754 binary16 to binary32, by bits: Float16 is unavailable on some platforms the package targets.
    static func floatFromHalf(_ half: UInt16) -> Float {
        let sign: UInt32 = UInt32(half & 0x8000) << 16
        let exponent = UInt32(half >> 10) & 0x1f
        let mantissa = UInt32(half & 0x3ff)
        switch exponent {
        case 0:
            let magnitude = Float(mantissa) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        case 31:
            return Float(bitPattern: sign | 0x7f80_0000 | (mantissa << 13))
        default:
            return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
        }
    }
}
