import ArgumentParser

public struct PFSCommand: ParsableCommand {
    public init() {}
    public static let configuration = CommandConfiguration(commandName: "pfs")
}
