import ArgumentParser
import Foundation
import Recognition
import ResNet

struct Quantize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Calibrate int8: measure each activation's range on photos and write NAME.int8.json beside the weights.",
        discussion: "Without --calibration, the built-in public photos are used. The file is tied to the weights by their SHA-256 prefix; a stale one is refused at start-up.")

    @Option(help: "A folder of photos to calibrate on (searched recursively; a few hundred typical images is plenty).")
    var calibration: String?

    @Option(help: "Where to write the parameters (default: beside the weights file).")
    var output: String?

    @OptionGroup var model: ModelOptions

    func run() throws {
        let location = WeightsLocation(explicitPath: model.weights)
        guard let (weightsURL, _) = location.resolve() else {
            throw ValidationError("no weights file to calibrate (--weights, RESNET18_WEIGHTS or \(location.cachedOfficialFile.path)); "
                                  + "int8 on the untrained weights calibrates itself at start-up")
        }
        let weights = try Recognizer.loadWeights(weightsURL)
        var images: [[Float]] = []
        if let calibration {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: calibration, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw CommandFailure("--calibration \(calibration): no such folder")
            }
            let files = ImageFiles.expand([calibration])
            guard !files.isEmpty else { throw CommandFailure("\(calibration) holds no photos (\(ImageFiles.readDescription))") }
            let progress = ProgressBar(total: files.count, title: "reading photos", unit: "photos")
            for (done, file) in files.enumerated() {
                do {
                    let bytes = try ImageFiles.read(file)
                    images.append(try Recognizer.tensor(bytes))
                } catch {
                    progress.around { printError("\(file): \(error) (skipped)") }
                }
                progress.update(done + 1)
            }
            progress.finish()
        } else {
            images = try Recognizer.builtInCalibrationImages()
            printError("calibrating on the \(images.count) built-in photos (pass --calibration DIR to use your own)")
        }
        let started = ContinuousClock.now
        let parameters = try Recognizer.calibrate(weights: weights, images: images, threads: model.threads)
        let destination = output.map { URL(fileURLWithPath: $0) } ?? QuantizationParameters.url(besideWeights: weightsURL)
        try parameters.save(to: destination)
        let points = parameters.winogradPointMax?.count ?? 0
        print("wrote \(destination.path): ranges of \(counted(parameters.activationMax.count, "activation")) (and of \(points) Winograd inputs' "
              + "transform points) over \(counted(images.count, "photo")) "
              + "in \(String(format: "%.1f", (ContinuousClock.now - started).milliseconds / 1000)) s, for weights sha256:\(parameters.weightsSHA256Prefix)")
    }
}
