import ArgumentParser
import Crypto
import Foundation
import Imaging
import Recognition
import ResNet

/// `resnet18 train DIR --output HEAD`: a head for the user's own categories from a folder of examples.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a head for your own categories from a folder with one sub-folder of example images per category.",
        discussion: """
            Every image (and, by default, its mirror image and two 85% crops) is embedded by the network; a \
            multinomial logistic regression with an L2 penalty is fitted on the 512 features, its strength (C) chosen \
            by stratified k-fold cross-validation. The report (per-category precision and recall, confusion matrix) \
            comes from the held-out folds. The head file is written atomically; use it with --head.
            """)

    @Argument(help: "A folder with one sub-folder per category (at least 2), each holding its example images.")
    var folder: String

    @Option(name: .shortAndLong, help: ArgumentHelp("The head file to write (JSON).", valueName: "file"))
    var output: String

    @Option(help: "The head's name in answers and rules (HEAD/CATEGORY). Default: the output file's name.")
    var name: String?

    @Option(help: "Cross-validation folds (each category needs at least 2 images; fewer folds if it has fewer).")
    var folds = 5

    @Option(name: .customLong("c"), help: ArgumentHelp(
        "Use this regularisation strength (scikit-learn's C) instead of choosing it by cross-validation.", valueName: "c"))
    var fixedC: Double?

    @Option(help: "Augmentations added to each image: flip, crops (two 85% crops), both (flip,crops) or none.")
    var augment = "flip,crops"

    @Flag(help: "Print the training report as JSON instead of tables.")
    var json = false

    @Option(name: .customLong("features-out"), help: ArgumentHelp(
        "Also write every training sample's features, category and fold as JSON lines (to check the fit elsewhere).", valueName: "file"))
    var featuresOut: String?

    @OptionGroup var engine: EngineOptionGroup

    var augmentations: [Augmentation] {
        get throws {
            if augment == "none" { return [] }
            return try augment.split(separator: ",").map { part in
                guard let value = Augmentation(rawValue: part.trimmingCharacters(in: .whitespaces)) else {
                    throw ValidationError("--augment takes flip, crops, flip,crops or none, not \(augment)")
                }
                return value
            }
        }
    }

    func validate() throws {
        guard (2...20).contains(folds) else { throw ValidationError("--folds must be from 2 to 20, not \(folds)") }
        if let fixedC, !(fixedC.isFinite && fixedC > 0 && fixedC <= 1e6) {
            throw ValidationError("--c must be a number above 0 and at most 1000000, not \(fixedC)")
        }
        _ = try augmentations
        let headName = name ?? URL(fileURLWithPath: output).deletingPathExtension().lastPathComponent
        if let problem = LinearHead.problem(withCategory: headName) {
            throw ValidationError((name == nil ? "the head's name (from --output; give --name)" : "--name") + ": "
                                  + problem.replacingOccurrences(of: "category", with: "the name"))
        }
    }

    struct Example {
        let file: String
        let category: Int
        let bytes: [UInt8]
    }

    func run() throws {
        let (categories, examples, skipped) = try collect()
        let augmentations = try self.augmentations
        let recognizer = try engine.loadRecognizer(winograd: examples.count * (1 + augmentations.count) >= Classify.winogradFromImages)
        warnAboutDuplicates(examples, categories: categories)

        // Embedding: each image and its variants, a batch at a time.
        var samples: [TrainingSample] = []
        var unreadable = skipped
        var files: [String] = []
        let progress = ProgressBar(total: examples.count, title: "embedding", stepLines: false)
        var batch: [(image: Int, category: Int, original: Bool, prepared: PreparedImage)] = []
        let embeddingStarted = ContinuousClock.now
        func flush() throws {
            guard !batch.isEmpty else { return }
            let results = try recognizer.classify(batch.map(\.prepared), topK: 1, includeFeatures: true)
            for (item, result) in zip(batch, results) {
                samples.append(TrainingSample(features: (result.features ?? []).map(Double.init), category: item.category,
                                              image: item.image, isOriginal: item.original))
            }
            batch.removeAll()
        }
        for (position, example) in examples.enumerated() {
            do {
                let image = try ImageDecoder.decode(example.bytes, options: recognizer.decodeOptions)
                let index = files.count
                files.append(example.file)
                batch.append((index, example.category, true, recognizer.prepare(image)))
                for variant in Augmentation.variants(of: image, augmentations) {
                    batch.append((index, example.category, false, recognizer.prepare(variant)))
                }
                if batch.count >= 8 { try flush() }
            } catch {
                unreadable.append("\(example.file): \(error)")
                progress.around { printError("skipped \(example.file): \(error)") }
            }
            progress.update(position + 1)
        }
        try flush()
        progress.finish()
        let embeddingSeconds = (ContinuousClock.now - embeddingStarted).milliseconds / 1000
        let counts = categories.indices.map { category in Set(samples.filter { $0.category == category }.map(\.image)).count }
        if let empty = counts.firstIndex(where: { $0 < 2 }) {
            throw CommandFailure("category \(categories[empty]) has \(counts[empty]) readable image\(counts[empty] == 1 ? "" : "s"): each needs at least 2 (a few dozen train a useful head); nothing was written")
        }
        let folds = min(self.folds, counts.min() ?? 2)

        // Cross-validation over the grid (or at the one C given), then the fit at the chosen C.
        let trainingStarted = ContinuousClock.now
        let grid = fixedC.map { [$0] } ?? HeadTrainer.defaultGrid
        let outcome = HeadTrainer.train(samples, categories: categories.count, folds: folds, grid: grid) { done, total, message in
            if !json, done < total { printError(message) }
        }
        let trainingSeconds = (ContinuousClock.now - trainingStarted).milliseconds / 1000
        if !json {
            printError(String(format: "embedded %d images (%d samples) in %.2f s; cross-validated %d values of C × %d folds and fitted in %.2f s",
                              files.count, samples.count, embeddingSeconds, grid.count, folds, trainingSeconds))
        }

        let report = TrainingReport(categories: categories, counts: counts, augmentations: augmentations.map(\.rawValue),
                                    samples: samples.count, folds: folds, c: outcome.c,
                                    grid: outcome.grid, heldOut: outcome.heldOut, files: files, skipped: unreadable, weights: recognizer.weights,
                                    embeddingSeconds: embeddingSeconds, trainingSeconds: trainingSeconds)
        let reportData = try JSONEncoder.sorted.encode(report)
        let headName = name ?? URL(fileURLWithPath: output).deletingPathExtension().lastPathComponent
        let head = LinearHead(name: headName, categories: categories, parameters: outcome.parameters, backbone: recognizer.weights,
                              c: outcome.c, reportJSON: String(decoding: reportData, as: UTF8.self))
        if let featuresOut { try writeFeatures(samples, files: files, categories: categories, folds: folds, to: featuresOut) }
        try head.write(to: output)
        if json {
            print(String(decoding: reportData, as: UTF8.self))
        } else {
            print(report.table())
            print("wrote \(output): head \(headName), \(categories.count) categories, C = \(outcome.c)")
        }
        if !recognizer.weights.trained || recognizer.weights.name != WeightsLocation.officialFileName {
            printError("note: trained on the features of \(recognizer.weights.resultLabel), not torchvision's ImageNet weights: these features are not semantic, and a head learns only what sets its examples apart visually")
        }
    }

    /// The categories (sub-folders, sorted) and their images; unreadable entries for the report.
    func collect() throws -> ([String], [Example], [String]) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CommandFailure("\(folder) is not a folder: give a folder with one sub-folder of images per category")
        }
        let entries = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
        let categories = entries.filter {
            var directory: ObjCBool = false
            return FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent($0), isDirectory: &directory) && directory.boolValue
        }
        guard categories.count <= 256 else {
            throw CommandFailure("\(folder) has \(categories.count) sub-folders: a head takes at most 256 categories")
        }
        guard categories.count >= 2 else {
            throw CommandFailure("\(folder) has \(categories.count) sub-folder\(categories.count == 1 ? "" : "s"): a head needs at least 2 categories, one sub-folder of example images each")
        }
        for category in categories {
            if let problem = LinearHead.problem(withCategory: category) { throw CommandFailure("\(folder): \(problem): rename the folder") }
        }
        var examples: [Example] = []
        var skipped: [String] = []
        for (index, category) in categories.enumerated() {
            let files = ImageFiles.expand([(folder as NSString).appendingPathComponent(category)])
            guard !files.isEmpty else {
                throw CommandFailure("category \(category) is empty (\(ImageFiles.readDescription)): add example images or remove the folder")
            }
            for file in files {
                do {
                    examples.append(Example(file: file, category: index, bytes: try ImageFiles.read(file)))
                } catch {
                    skipped.append("\(file): \(error)")
                }
            }
        }
        return (categories, examples, skipped)
    }

    /// Says which images appear in more than one category (the same bytes): they teach the head nothing but
    /// confusion.
    func warnAboutDuplicates(_ examples: [Example], categories: [String]) {
        var seen: [String: Example] = [:]
        for example in examples {
            let digest = SHA256.hash(data: example.bytes).map { String(format: "%02x", $0) }.joined()
            if let first = seen[digest], first.category != example.category {
                printError("warning: the same image is in \(categories[first.category]) and \(categories[example.category]): \(first.file), \(example.file)")
            } else if seen[digest] == nil {
                seen[digest] = example
            }
        }
    }

    func writeFeatures(_ samples: [TrainingSample], files: [String], categories: [String], folds: Int, to path: String) throws {
        let foldOf = HeadTrainer.fold(of: samples, folds: folds)
        var text = ""
        for sample in samples {
            let object: [String: Any] = ["file": files[sample.image], "category": categories[sample.category],
                                         "label": sample.category, "image": sample.image, "original": sample.isOriginal,
                                         "fold": foldOf[sample.image] ?? 0, "features": sample.features]
            text += String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self) + "\n"
        }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    static func percent(_ value: Double) -> String { String(format: "%.1f %%", value * 100) }
}

extension TrainingReport {
    /// The report as a person reads it.
    func table() -> String {
        let width = max(10, categories.map { DisplayWidth.of($0.name) }.max() ?? 0)
        var lines = ["held-out (\(folds)-fold) accuracy \(Train.percent(accuracy)), C = \(c), \(samples) samples"
                     + " (\(augmentations.isEmpty ? "no augmentation" : "each image and its " + augmentations.joined(separator: ", ")))"]
        lines.append("  " + DisplayWidth.padded("category", to: width) + "  images  precision  recall")
        for score in categories {
            lines.append("  " + DisplayWidth.padded(score.name, to: width) + String(format: "  %6d  %8.1f %%  %5.1f %%", score.images,
                                                                                   score.precision * 100, score.recall * 100))
        }
        lines.append("confusion (rows: true category, columns: predicted, in the order above):")
        for (index, row) in confusion.enumerated() {
            lines.append("  " + DisplayWidth.padded(categories[index].name, to: width) + "  " + row.map { String(format: "%5d", $0) }.joined())
        }
        if !skipped.isEmpty { lines.append("skipped \(skipped.count) unreadable: " + skipped.joined(separator: "; ")) }
        return lines.joined(separator: "\n")
    }
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
