import Imaging
import Testing
import TestSupport

/// The whole pipeline (decode → Resize(256) → CenterCrop(224) → ToTensor → Normalize) against the tensors
/// torchvision wrote for the fixture photos, and against Pillow on synthetic images of awkward sizes.
@Suite struct TorchvisionTensorTests {
    /// What torchvision sees: it never applies EXIF orientation.
    static let asTorchvision = DecodeOptions(applyEXIFOrientation: false)

    @Test(arguments: Fixtures.photoNames)
    func fixturePhotoIsWithinOneMillionthOfTorchvision(photo: String) throws {
        let tensor = Preprocess.tensor(from: try ImageDecoder.decode(TestFiles.fixture(photo), options: Self.asTorchvision))
        let reference = try Fixtures.inputTensor(for: photo)
        try #require(tensor.count == reference.count)
        let maxDifference = zip(tensor, reference).map { abs($0 - $1) }.max()!
        #expect(maxDifference <= 1e-6, "max |Δ| = \(maxDifference)")
    }

    @Test(arguments: Fixtures.photoNames)
    func fixturePhotoIsBitIdenticalToTorchvision(photo: String) throws {
        let tensor = Preprocess.tensor(from: try ImageDecoder.decode(TestFiles.fixture(photo), options: Self.asTorchvision))
        let reference = try Fixtures.inputTensor(for: photo)
        let differing = zip(tensor, reference).filter { $0.bitPattern != $1.bitPattern }.count
        #expect(differing == 0, "\(differing) of \(reference.count) floats differ")
    }

    @Test("the 224×224 crop, normalised later into a batch slot, is torchvision's tensor bit for bit", arguments: Fixtures.photoNames)
    func cropNormalisedLaterIsBitIdenticalToTorchvision(photo: String) throws {
        let crop = Preprocess.crop(try ImageDecoder.decode(TestFiles.fixture(photo), options: Self.asTorchvision))
        #expect(crop.width == 224 && crop.height == 224)
        var tensor = [Float](repeating: .nan, count: Preprocess.floatCount)
        tensor.withUnsafeMutableBufferPointer { Preprocess.normalize(crop, into: $0) }
        let reference = try Fixtures.inputTensor(for: photo)
        let differing = zip(tensor, reference).filter { $0.bitPattern != $1.bitPattern }.count
        #expect(differing == 0, "\(differing) of \(reference.count) floats differ")
    }

    @Test func writingIntoABatchSlotGivesTheSameTensor() throws {
        let image = try ImageDecoder.decode(TestFiles.fixture("rocket.jpg"), options: Self.asTorchvision)
        var batch = [Float](repeating: .nan, count: 3 * Preprocess.floatCount)
        batch.withUnsafeMutableBufferPointer { batch in
            Preprocess.write(image, into: UnsafeMutableBufferPointer(rebasing: batch[Preprocess.floatCount...]))
        }
        let slot = Array(batch[Preprocess.floatCount..<(2 * Preprocess.floatCount)])
        let untouched = batch[..<Preprocess.floatCount] + batch[(2 * Preprocess.floatCount)...]
        #expect(slot == Preprocess.tensor(from: image))
        #expect(untouched.filter { !$0.isNaN }.isEmpty)
    }

    struct SyntheticCase: CustomTestStringConvertible, Sendable {
        let width: Int
        let height: Int
        /// FNV-1a 64 of the float32 tensor bytes Pillow 13 + torch arithmetic give for `pattern(width, height)`
        /// (`tests/reference/pillow_tensor_hashes.py` prints them).
        let tensorFNV1a: UInt64
        var testDescription: String { "\(width)×\(height)" }
    }

    /// Upscaling, no resize at all (short side already 256), one axis only, a 1-pixel-wide image, a crop offset
    /// that rounds half to even (385 → 80.5 → 80), strong downscaling, and portraits over twice as tall as wide
    /// (257×1000, 400×900, 600×1300, 500×2400), for which Pillow 13 runs the vertical pass first; a 1080p camera
    /// frame and a 6-megapixel photo (about 9 and 16 filter taps a pixel: the vector code's long loops).
    @Test(arguments: [
        SyntheticCase(width: 100, height: 60, tensorFNV1a: 0xebe3_ba78_f29e_7eaa),
        SyntheticCase(width: 224, height: 224, tensorFNV1a: 0x2b22_4fd9_ba29_9707),
        SyntheticCase(width: 256, height: 300, tensorFNV1a: 0xa9a5_e42e_fd27_b114),
        SyntheticCase(width: 385, height: 256, tensorFNV1a: 0x0203_aa7c_f5ae_571b),
        SyntheticCase(width: 257, height: 1000, tensorFNV1a: 0x5da5_a25f_ef10_7cec),
        SyntheticCase(width: 1, height: 500, tensorFNV1a: 0x7a77_dd08_66c1_6fe5),
        SyntheticCase(width: 500, height: 3, tensorFNV1a: 0x720a_2d23_6ed4_968f),
        SyntheticCase(width: 640, height: 427, tensorFNV1a: 0xd98e_de89_af09_afc3),
        SyntheticCase(width: 1500, height: 257, tensorFNV1a: 0x5ff1_51be_c57f_4990),
        SyntheticCase(width: 400, height: 900, tensorFNV1a: 0x46c1_28b8_64c9_0aeb),
        SyntheticCase(width: 600, height: 1300, tensorFNV1a: 0xa899_c46a_0b73_1c11),
        SyntheticCase(width: 500, height: 2400, tensorFNV1a: 0x3483_9212_a57f_de10),
        SyntheticCase(width: 1920, height: 1080, tensorFNV1a: 0xb121_f032_d925_a9b6),
        SyntheticCase(width: 3000, height: 2000, tensorFNV1a: 0x8719_d19d_c5d7_8867),
    ])
    func syntheticImageMatchesPillowBitForBit(_ example: SyntheticCase) {
        let image = RGBImage(width: example.width, height: example.height,
                             pixels: Self.pattern(width: example.width, height: example.height))
        let tensor = Preprocess.tensor(from: image)
        #expect(Self.fnv1a(tensor) == example.tensorFNV1a)
    }

    /// xorshift32 noise: every pixel differs from its neighbours, so any wrong filter tap shows.
    static func pattern(width: Int, height: Int) -> [UInt8] {
        var state = UInt32(0x9E37_79B9) ^ UInt32(width * 65536 + height)
        return (0..<(width * height * 3)).map { _ in
            state ^= state << 13
            state ^= state >> 17
            state ^= state << 5
            return UInt8(state & 0xFF)
        }
    }

    static func fnv1a(_ floats: [Float]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for value in floats {
            var bits = value.bitPattern.littleEndian
            for _ in 0..<4 {
                hash = (hash ^ UInt64(bits & 0xFF)) &* 0x100_0000_01b3
                bits >>= 8
            }
        }
        return hash
    }
}
