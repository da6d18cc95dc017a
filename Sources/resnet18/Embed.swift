import ArgumentParser
import Foundation
import Recognition
import Server

/// `resnet18 embed`: each image's 512 pooled features, the description of an image that nearest-neighbour search
/// and heads trained on a user's own categories work on.
struct Embed: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print each image's 512 features (the network's global average pooling, the input of its classifier).",
        discussion: """
            Without --json, one line per image: the file, a tab, then the 512 numbers separated by spaces (numpy.loadtxt \
            and awk read it). With --json, one object per line: {"file", "weights", "features": [512 numbers], "norm"}. \
            These are torchvision's avgpool output, flattened; cosine similarity between them says how alike two \
            images look to the network.
            """)

    @Argument(help: "Image files, or folders searched recursively.")
    var paths: [String]

    @Flag(help: "One JSON object per line instead of text.")
    var json = false

    @Option(help: "Images per engine call.")
    var batch = 8

    @OptionGroup var engine: EngineOptionGroup

    func validate() throws {
        guard (1...ServerConfiguration.largestBatch).contains(batch) else {
            throw ValidationError("--batch must be from 1 to \(ServerConfiguration.largestBatch), not \(batch)")
        }
    }

    func run() throws {
        let (files, emptyFolders) = ImageFiles.collect(paths)
        guard !files.isEmpty else { throw ExitCode(1) }
        let recognizer = try engine.loadRecognizer(winograd: files.count >= Classify.winogradFromImages)
        let progress = files.count > 3 ? ProgressBar(total: files.count, title: "embedding", stepLines: false) : nil
        let emit: (() -> Void) -> Void = { body in if let progress { progress.around(body) } else { body() } }
        var failures = 0
        var done = 0
        for start in stride(from: 0, to: files.count, by: batch) {
            let chunk = files[start..<min(start + batch, files.count)]
            var prepared: [(file: String, image: PreparedImage)] = []
            for file in chunk {
                do {
                    prepared.append((file, try recognizer.prepare(try ImageFiles.read(file))))
                } catch {
                    failures += 1
                    emit { printError("\(file): \(error)") }
                }
            }
            if !prepared.isEmpty {
                let results = try recognizer.classify(prepared.map(\.image), topK: 1, includeFeatures: true)
                emit {
                    for (item, result) in zip(prepared, results) {
                        print(Self.line(file: item.file, result, json: json))
                    }
                }
            }
            done += chunk.count
            progress?.update(done)
        }
        progress?.finish()
        if failures > 0 { printError("\(failures) of \(counted(files.count, "file")) could not be embedded") }
        if failures > 0 || emptyFolders > 0 { throw ExitCode(1) }
    }

    static func line(file: String, _ result: Classification, json: Bool) -> String {
        let features = result.features ?? []
        guard json else {
            return file + "\t" + features.map { "\($0)" }.joined(separator: " ")
        }
        let norm = features.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
        let object: [String: Any] = ["file": file, "weights": result.weights.resultLabel,
                                     "features": features.map(Double.init), "norm": norm]
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }
}
