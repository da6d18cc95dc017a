import ArgumentParser
import Foundation
import Recognition
import Server

/// `resnet18 config check FILE`: the config file of `serve --config`, checked without serving.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Check the YAML file `serve --config` reads.",
        subcommands: [Check.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a config file as `serve --config` would at start-up (keys, values, labels, sources), without serving.",
            discussion: "Exit status 0 and a summary when it is good; 1 and FILE:LINE: what is wrong, otherwise. Labels are ImageNet's.")

        @Argument(help: "The YAML file.")
        var file: String

        func run() throws {
            let config: ConfigFile
            do {
                config = try ConfigFile.load(path: file)
                try config.check(labels: Labels.imageNet, heads: try config.loadHeads())
            } catch {
                throw CommandFailure(error.description)
            }
            var options: [String] = []
            if let host = config.host { options.append("host \(host)") }
            if let port = config.port { options.append("port \(port)") }
            if config.database != nil { options.append("db") }
            if let maxStreams = config.maxStreams { options.append("max_streams \(maxStreams)") }
            if let backoff = config.streamMaxBackoffSeconds { options.append("stream_max_backoff \(backoff)") }
            if let thumbnails = config.thumbnails { options.append("thumbnails \(thumbnails ? "on" : "off")") }
            if let level = config.logLevel { options.append("log_level \(level)") }
            let cameras = config.cameras.map(\.name)
            print("\(file): OK: \(cameras.count) camera\(cameras.count == 1 ? "" : "s")\(cameras.isEmpty ? "" : " (\(cameras.joined(separator: ", ")))")"
                  + (options.isEmpty ? "" : "; serve options: \(options.joined(separator: ", "))"))
        }
    }
}
