import Foundation
import Imaging
import ResNet

/// The augmentations training adds to each example image.
public enum Augmentation: String, CaseIterable, Sendable {
    case flip, crops

    /// The augmented variants of an image: its mirror image; its top-left and bottom-right 85% crops.
    public static func variants(of image: RGBImage, _ augmentations: [Augmentation]) -> [RGBImage] {
        var variants: [RGBImage] = []
        if augmentations.contains(.flip) { variants.append(mirrored(image)) }
        if augmentations.contains(.crops) {
            let width = max(1, image.width * 85 / 100), height = max(1, image.height * 85 / 100)
            variants.append(cropped(image, x: 0, y: 0, width: width, height: height))
            variants.append(cropped(image, x: image.width - width, y: image.height - height, width: width, height: height))
        }
        return variants
    }

    public static func mirrored(_ image: RGBImage) -> RGBImage {
        var pixels = [UInt8](repeating: 0, count: image.pixels.count)
        for y in 0..<image.height {
            for x in 0..<image.width {
                let from = (y * image.width + x) * 3, to = (y * image.width + image.width - 1 - x) * 3
                pixels[to] = image.pixels[from]
                pixels[to + 1] = image.pixels[from + 1]
                pixels[to + 2] = image.pixels[from + 2]
            }
        }
        return RGBImage(width: image.width, height: image.height, pixels: pixels)
    }

    public static func cropped(_ image: RGBImage, x: Int, y: Int, width: Int, height: Int) -> RGBImage {
        var pixels: [UInt8] = []
        pixels.reserveCapacity(width * height * 3)
        for row in y..<(y + height) {
            let start = (row * image.width + x) * 3
            pixels += image.pixels[start..<(start + width * 3)]
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }
}

/// What training (`resnet18 train`, the heads page) learnt about the user's data, from the held-out folds at the chosen C.
public struct TrainingReport: Codable, Sendable {
    public struct GridPoint: Codable, Sendable {
        public let c: Double
        public let logLoss: Double
        public let accuracy: Double

        enum CodingKeys: String, CodingKey { case c, accuracy, logLoss = "log_loss" }

        public init(c: Double, logLoss: Double, accuracy: Double) {
            self.c = c
            self.logLoss = logLoss
            self.accuracy = accuracy
        }
    }

    public struct CategoryScore: Codable, Sendable {
        public let name: String
        public let images: Int
        public let precision: Double
        public let recall: Double
    }

    public struct Prediction: Codable, Sendable {
        public let file: String
        public let category: String
        public let fold: Int
        public let probabilities: [Double]
    }

    public let categories: [CategoryScore]
    /// confusion[true][predicted], held-out images.
    public let confusion: [[Int]]
    public let accuracy: Double
    public let c: Double
    public let folds: Int
    public let grid: [GridPoint]
    public let augmentations: [String]
    public let samples: Int
    public let heldOut: [Prediction]
    public let skipped: [String]
    public let weights: String
    public let method: String
    /// Seconds spent embedding the images (and variants), and cross-validating and fitting on the features.
    public let embeddingSeconds: Double
    public let trainingSeconds: Double

    enum CodingKeys: String, CodingKey {
        case categories, confusion, accuracy, c, folds, grid, augmentations, samples, skipped, weights, method
        case heldOut = "held_out", embeddingSeconds = "embedding_seconds", trainingSeconds = "training_seconds"
    }

    public init(categories names: [String], counts: [Int], augmentations: [String], samples: Int, folds: Int, c: Double,
         grid: [GridPoint], heldOut: [HeadTrainer.HeldOut], files: [String], skipped: [String], weights: WeightsIdentity,
         embeddingSeconds: Double, trainingSeconds: Double) {
        self.embeddingSeconds = embeddingSeconds
        self.trainingSeconds = trainingSeconds
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: names.count), count: names.count)
        for prediction in heldOut {
            let predicted = prediction.probabilities.indices.max { prediction.probabilities[$0] < prediction.probabilities[$1] } ?? 0
            confusion[prediction.category][predicted] += 1
        }
        self.confusion = confusion
        categories = names.indices.map { index in
            let predictedAs = confusion.map { $0[index] }.reduce(0, +)
            let actual = confusion[index].reduce(0, +)
            return CategoryScore(name: names[index], images: counts[index],
                                 precision: predictedAs == 0 ? 0 : Double(confusion[index][index]) / Double(predictedAs),
                                 recall: actual == 0 ? 0 : Double(confusion[index][index]) / Double(actual))
        }
        accuracy = HeadTrainer.accuracy(heldOut)
        self.c = c
        self.folds = folds
        self.grid = grid
        self.augmentations = augmentations
        self.samples = samples
        self.heldOut = heldOut.map {
            Prediction(file: files[$0.image], category: names[$0.category], fold: $0.fold, probabilities: $0.probabilities)
        }
        self.skipped = skipped
        self.weights = weights.resultLabel
        method = "multinomial logistic regression, L2 (scikit-learn's objective), L-BFGS; C by stratified \(folds)-fold cross-validation (held-out log-loss)"
    }
}
