import ArgumentParser
import Recognition

@main
struct ResNet18Command: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resnet18",
        abstract: "Offline ResNet-18 image recognition: torchvision's network on oneDNN.",
        version: ProductVersion.current,
        subcommands: [Classify.self, Embed.self, Train.self, Bench.self, Eval.self, Weights.self, Quantize.self, Serve.self, Watch.self, User.self,
                      LabelsCommand.self, ConfigCommand.self])

    static func main() async {
        LoadTimeEnvironment.setUnlessChosen()
        ProcessMemory.keepLargeBuffersMapped()
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
