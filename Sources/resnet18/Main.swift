import ArgumentParser

@main
struct ResNet18Command: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resnet18", abstract: "Offline ResNet-18 image recognition.")
}
