import ArgumentParser
import Foundation
import Recognition

struct Classify: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Classify image files or folders (JPEG, PNG, WebP).")

    @Argument(help: "Image files, or folders searched recursively.")
    var paths: [String]

    @Option(help: "How many classes to show per image.")
    var top = 5

    @Flag(help: "One JSON object per line instead of a table.")
    var json = false

    @Flag(help: "Include all logits in the JSON output.")
    var logits = false

    @Option(help: "Images per engine call.")
    var batch = 1

    @Option(name: .customLong("group"), help: ArgumentHelp(
        "Also report the probability of a class or WordNet category (\"dog\": its 118 breeds summed); repeatable.",
        valueName: "name"))
    var groups: [String] = []

    @OptionGroup var engine: EngineOptionGroup

    @OptionGroup var headOptions: HeadOptions

    static let winogradFromImages = 128

    func validate() throws {
        guard top >= 1 else { throw ValidationError("--top must be at least 1") }
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
    }

    func run() throws {
        let (files, emptyFolders) = ImageFiles.collect(paths)
        guard !files.isEmpty else { throw ExitCode(1) }
        // Winograd's weight transforms and first runs cost about 0.6 s and save about 4.5 ms an image:
        // worth it from about 130 images on. Below that, direct convolutions give the first result sooner.
        // Groups are resolved against the labels the recognizer will load, before the weights: a misspelt name
        // fails at once.
        let resolver = LabelResolver(labels: try engine.labels.map { try Labels(contentsOf: URL(fileURLWithPath: $0)) } ?? .imageNet)
        let groups = try groups.map { name in
            let match = try resolver.resolve(name)
            if let note = match.note { printError("--group \(name): \(note)") }
            return match.group
        }
        let recognizer = try engine.loadRecognizer(winograd: files.count >= Self.winogradFromImages)
        let heads = try headOptions.load(for: recognizer)
        try recognizer.engine.finishPreparing(batches: [min(batch, files.count), files.count % batch])
        let progress = files.count > 3 ? ProgressBar(total: files.count, title: "classifying", stepLines: false) : nil
        let emit: (() -> Void) -> Void = { body in if let progress { progress.around(body) } else { body() } }
        var failures = 0
        var done = 0
        for chunk in stride(from: 0, to: files.count, by: batch).map({ Array(files[$0..<min($0 + batch, files.count)]) }) {
            var prepared: [(file: String, image: PreparedImage)] = []
            for file in chunk {
                do {
                    let bytes = try ImageFiles.read(file)
                    prepared.append((file, try recognizer.prepare(bytes)))
                } catch {
                    failures += 1
                    emit { printError("\(file): \(error)") }
                }
            }
            if !prepared.isEmpty {
                let results = try recognizer.classify(prepared.map(\.image), topK: top, includeLogits: logits || !groups.isEmpty,
                                                      includeFeatures: !heads.isEmpty)
                emit {
                    for (item, var result) in zip(prepared, results) {
                        let probabilities = groups.isEmpty ? [] : softmaxProbabilities(result.logits ?? [])
                        let groupProbabilities = groups.map { (group: $0, probability: $0.probability(in: probabilities)) }
                        if !logits { result.logits = nil }
                        let custom = heads.map { head in (head: head.name, top: head.top(features: result.features ?? [])) }
                        print(json ? ResultFormat.jsonLine(file: item.file, result, groups: groupProbabilities, custom: custom)
                                   : ResultFormat.table(file: item.file, result, groups: groupProbabilities, custom: custom))
                    }
                }
            }
            done += chunk.count
            progress?.update(done)
        }
        progress?.finish()
        if failures > 0 {
            printError("\(failures) of \(counted(files.count, "file")) could not be classified")
        }
        if failures > 0 || emptyFolders > 0 { throw ExitCode(1) }
    }
}

/// Finding and reading the images a command was given.
enum ImageFiles {
    static let extensions: Set<String> = ["jpg", "jpeg", "png", "webp"]

    /// What folders are searched for, for messages.
    static let readDescription = "folders are searched recursively for .jpg, .jpeg, .png and .webp files, in any case"

    /// Files as given (a missing one too: reading it then fails with a message), folders walked recursively for
    /// image extensions, sorted within each folder.
    static func expand(_ paths: [String]) -> [String] {
        var files: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                let found = (FileManager.default.enumerator(atPath: path)?.allObjects as? [String] ?? [])
                    .filter { extensions.contains(($0 as NSString).pathExtension.lowercased()) }
                    .sorted()
                    .map { (path as NSString).appendingPathComponent($0) }
                files += found
            } else {
                files.append(path)
            }
        }
        return files
    }

    /// The files of `paths` (as `expand`), saying on stderr which paths held no image: a missing path is one failure
    /// line, as an unreadable file is; a folder without images is one too. Also how many paths held none.
    static func collect(_ paths: [String]) -> (files: [String], emptyPaths: Int) {
        var files: [String] = []
        var empty = 0
        for path in paths {
            let found = expand([path])
            if found.isEmpty {
                empty += 1
                printError("\(path): no images found (\(readDescription))")
            }
            files += found
        }
        return (files, empty)
    }

    static func read(_ path: String) throws -> [UInt8] {
        guard FileManager.default.fileExists(atPath: path) else {
            throw RecognitionError.unreadable(path: path, problem: "no such file or folder")
        }
        do {
            return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw RecognitionError.unreadable(path: path, problem: "cannot be read (\(error.localizedDescription))")
        }
    }
}

/// How classify prints a result.
enum ResultFormat {
    /// A head's answer: its categories by probability.
    typealias Custom = (head: String, top: [(label: String, probability: Double)])

    static func jsonLine(file: String, _ result: Classification,
                         groups: [(group: LabelGroup, probability: Double)] = [], custom: [Custom] = []) -> String {
        var object: [String: Any] = [
            "file": file,
            "weights": result.weights.resultLabel,
            "top": result.top.map { prediction -> [String: Any] in
                ["index": prediction.index, "wnid": prediction.wnid ?? NSNull(), "label": prediction.label,
                 "probability": prediction.probability]
            },
            "milliseconds": (result.timings.total * 1000).rounded() / 1000,
        ]
        if let logits = result.logits { object["logits"] = logits.map(Double.init) }
        if !groups.isEmpty {
            object["groups"] = groups.map { group, probability -> [String: Any] in
                ["name": group.name, "wnid": group.wnid ?? NSNull(), "classes": group.classes.count, "probability": probability]
            }
        }
        if !custom.isEmpty {
            object["custom"] = custom.map { answer -> [String: Any] in
                ["head": answer.head, "top": answer.top.map { ["label": $0.label, "probability": $0.probability] }]
            }
        }
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    static func table(file: String, _ result: Classification, groups: [(group: LabelGroup, probability: Double)] = [],
                      custom: [Custom] = []) -> String {
        var lines = ["\(file)  (\(String(format: "%.1f", result.timings.total)) ms, weights: \(result.weights.resultLabel))"]
        if !result.weights.trained {
            lines.append("   UNTRAINED WEIGHTS: these labels are meaningless")
        }
        // Aligned by terminal columns: a CJK label is twice as wide as its character count.
        let width = max(12, (result.top.map { DisplayWidth.of($0.label) } + groups.map { DisplayWidth.of($0.group.name) }).max() ?? 0)
        for (rank, prediction) in result.top.enumerated() {
            let label = DisplayWidth.padded(prediction.label, to: width)
            let percent = String(format: "%6.2f", prediction.probability * 100)
            lines.append("  \(String(format: "%2d", rank + 1)). \(label) \(percent) %  (class \(prediction.index))")
        }
        for (group, probability) in groups {
            let label = group.name.padding(toLength: width, withPad: " ", startingAt: 0)
            let percent = String(format: "%6.2f", probability * 100)
            let members = group.kind == .category ? "category \(group.wnid ?? ""), \(group.classes.count) classes"
                : "class \(group.classes.map(String.init).joined(separator: ", "))"
            lines.append("   +  \(label) \(percent) %  (\(members))")
        }
        for answer in custom {
            lines.append("   \(answer.head): " + answer.top.prefix(3).map { "\($0.label) \(String(format: "%.2f", $0.probability * 100)) %" }
                .joined(separator: ", "))
        }
        return lines.joined(separator: "\n")
    }
}
