import ArgumentParser
import Foundation
import Recognition

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Top-1 / top-5 accuracy over an ImageNet-style folder (one sub-folder per WordNet id, e.g. n01440764/).")

    @Argument(help: "The folder of class folders.")
    var directory: String

    @Option(help: "Images per engine call.")
    var batch = 8

    @Flag(help: "Print the result as JSON.")
    var json = false

    @OptionGroup var engine: EngineOptionGroup

    func run() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else {
            throw CommandFailure("\(directory): no such folder")
        }
        guard isDirectory.boolValue else {
            throw CommandFailure("\(directory) is a file: eval takes a folder of class folders named by WordNet id (such as n01440764/)")
        }
        let folders: [String]
        do {
            folders = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        } catch {
            throw CommandFailure("\(directory): cannot be read (\(error.localizedDescription))")
        }
        let recognizer = try engine.loadRecognizer()
        let root = URL(fileURLWithPath: directory)
        var samples: [(file: String, label: Int)] = []
        var unknown: [String] = []
        for folder in folders {
            var isDirectory: ObjCBool = false
            let path = root.appendingPathComponent(folder).path
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
            guard let label = recognizer.labels.index(ofWnid: folder) else {
                unknown.append(folder)
                continue
            }
            samples += ImageFiles.expand([path]).map { ($0, label) }
        }
        if !unknown.isEmpty {
            printError("skipped \(counted(unknown.count, "folder")) not named by a WordNet id of the labels in use: \(unknown.prefix(5).joined(separator: ", "))")
        }
        guard !samples.isEmpty else {
            throw CommandFailure("\(directory) has no images in class folders named by WordNet id (such as n01440764/); "
                                 + ImageFiles.readDescription)
        }
        try recognizer.engine.finishPreparing(batches: [min(batch, samples.count), samples.count % batch])
        let progress = ProgressBar(total: samples.count, title: "evaluating")
        var top1 = 0, top5 = 0, failed = 0, done = 0
        for start in stride(from: 0, to: samples.count, by: batch) {
            let chunk = samples[start..<min(start + batch, samples.count)]
            var prepared: [(label: Int, image: PreparedImage)] = []
            for sample in chunk {
                do {
                    prepared.append((sample.label, try recognizer.prepare(try ImageFiles.read(sample.file))))
                } catch {
                    failed += 1
                    progress.around { printError("\(sample.file): \(error)") }
                }
            }
            let results = prepared.isEmpty ? [] : try recognizer.classify(prepared.map(\.image), topK: 5)
            for (item, result) in zip(prepared, results) {
                if result.top.first?.index == item.label { top1 += 1 }
                if result.top.contains(where: { $0.index == item.label }) { top5 += 1 }
            }
            done += chunk.count
            progress.update(done)
        }
        progress.finish()
        let scored = samples.count - failed
        let top1Share = Double(top1) / Double(max(scored, 1)), top5Share = Double(top5) / Double(max(scored, 1))
        if json {
            let object: [String: Any] = ["images": scored, "failed": failed, "top1": top1Share, "top5": top5Share,
                                         "weights": recognizer.weights.resultLabel]
            print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
        } else {
            print("\(counted(scored, "image")): top-1 \(String(format: "%.2f", top1Share * 100)) %, top-5 \(String(format: "%.2f", top5Share * 100)) % (weights: \(recognizer.weights.resultLabel))")
            if failed > 0 { print("\(counted(failed, "image")) could not be read and \(failed == 1 ? "is" : "are") not counted") }
        }
        if !recognizer.weights.trained {
            printError("these figures come from untrained weights and mean nothing")
        }
        if failed > 0 { throw ExitCode(1) }
    }
}
