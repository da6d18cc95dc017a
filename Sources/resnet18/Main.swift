import ArgumentParser

@main
struct ResNet18Command: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resnet18",
        abstract: "Offline ResNet-18 image recognition: torchvision's network on oneDNN.",
        subcommands: [Classify.self, Bench.self, Eval.self, Weights.self, Serve.self])
}
